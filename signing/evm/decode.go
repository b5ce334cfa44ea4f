package evm

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/gokms/gokms/signing"
)

// ERC-20 function selectors (the first four bytes of keccak256 of the
// signature), as every ERC-20 token and the Tatum SDK encode them.
var (
	selTransfer     = [4]byte{0xa9, 0x05, 0x9c, 0xbb} // transfer(address,uint256)
	selTransferFrom = [4]byte{0x23, 0xb8, 0x72, 0xdd} // transferFrom(address,address,uint256)
	selApprove      = [4]byte{0x09, 0x5e, 0xa7, 0xb3} // approve(address,uint256)
)

// Decode builds the signing.View of an EVM transaction for policy and
// audit. With signedHex (the raw transaction the Signer returned) the View
// is read from those bytes, the ones that are broadcast: recipient, value,
// calldata, gas limit and price or fee cap, and the sender recovered from
// the signature; the chain id must be the chain's on that network, and
// recipient, value and calldata must be what serialized (the pending
// transaction) asked for. Without signedHex the unsigned transaction is
// decoded and the fee is known only if it names its gas limit and price.
//
// Calldata is decoded for ERC-20 transfer, transferFrom and approve, with
// exact ABI lengths and clean address words; any other calldata to a
// contract is MethodCall and listed in View.Unknown. A transaction without
// recipient is MethodDeploy.
func Decode(chain string, testnet bool, serialized, signedHex string) (*signing.View, error) {
	c, ok := Lookup(chain)
	if !ok {
		return nil, fmt.Errorf("chain %q: %w", chain, signing.ErrUnsupportedChain)
	}
	t, err := parseTx(c, serialized)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Code, err)
	}
	v := &signing.View{Chain: c.Code, Family: signing.ViewEVM}
	var (
		to    = t.to
		value = t.value
		data  = t.data
		from  = t.from
	)
	switch signedHex = strings.TrimSpace(signedHex); {
	case signedHex != "":
		b, err := hexutil.Decode(signedHex)
		if err != nil {
			return nil, fmt.Errorf("%s: signed transaction is not 0x-hex: %w", c.Code, err)
		}
		var tx types.Transaction
		if err := tx.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("%s: decode signed transaction: %w", c.Code, err)
		}
		want := new(big.Int).SetUint64(c.ID(testnet))
		if tx.ChainId().Cmp(want) != 0 {
			return nil, fmt.Errorf("%s: signed transaction is for chain id %s, not %s", c.Code, tx.ChainId(), c.Network(testnet))
		}
		sender, err := types.Sender(types.LatestSignerForChainID(want), &tx)
		if err != nil {
			return nil, fmt.Errorf("%s: recover the signer of the signed transaction: %w", c.Code, err)
		}
		if !sameAddr(tx.To(), t.to) || tx.Value().Cmp(t.value) != 0 || !bytes.Equal(tx.Data(), t.data) {
			return nil, fmt.Errorf("%s: the signed transaction's recipient, value or data differ from the pending transaction's", c.Code)
		}
		to, value, data, from = tx.To(), tx.Value(), tx.Data(), &sender
		price := tx.GasPrice()
		if tx.Type() == types.DynamicFeeTxType {
			price = tx.GasFeeCap()
		}
		v.Fee = new(big.Int).Mul(new(big.Int).SetUint64(tx.Gas()), price)
		v.Signed = true
		v.TxID = tx.Hash().Hex()
	case t.hasGas && (t.gasPrice != nil || t.maxFee != nil):
		price := t.gasPrice
		if price == nil {
			price = t.maxFee
		}
		v.Fee = new(big.Int).Mul(new(big.Int).SetUint64(t.gas), price)
	}
	addr := func(a common.Address) string { return FormatAddress(c.Code, a) }
	in := signing.Flow{Amount: new(big.Int).Set(value)}
	if from != nil {
		in.Address = addr(*from)
	}
	v.Inputs = []signing.Flow{in}
	if to == nil {
		v.Method = signing.MethodDeploy
		if value.Sign() > 0 {
			v.Outputs = append(v.Outputs, signing.Flow{Amount: new(big.Int).Set(value)})
		}
		return v, nil
	}
	if value.Sign() > 0 || len(data) == 0 {
		v.Outputs = append(v.Outputs, signing.Flow{Address: addr(*to), Amount: new(big.Int).Set(value)})
	}
	if len(data) == 0 {
		v.Method = signing.MethodTransfer
		return v, nil
	}
	v.Token = addr(*to)
	method, args, ok := decodeERC20(data)
	if !ok {
		v.Method = signing.MethodCall
		v.Token = ""
		sel := data
		if len(sel) > 4 {
			sel = sel[:4]
		}
		v.Unknown = append(v.Unknown, fmt.Sprintf("call to contract %s with calldata gokms does not decode (selector 0x%s, %d bytes)", addr(*to), hex.EncodeToString(sel), len(data)))
		return v, nil
	}
	v.Method = method
	switch method {
	case signing.MethodERC20Transfer, signing.MethodERC20Approve:
		v.Outputs = append(v.Outputs, signing.Flow{Address: addr(args.to), Amount: args.amount, Token: v.Token})
	case signing.MethodERC20TransferFrom:
		v.Inputs = append(v.Inputs, signing.Flow{Address: addr(args.from), Amount: new(big.Int).Set(args.amount), Token: v.Token})
		v.Outputs = append(v.Outputs, signing.Flow{Address: addr(args.to), Amount: args.amount, Token: v.Token})
	}
	return v, nil
}

type erc20Args struct {
	from, to common.Address
	amount   *big.Int
}

// decodeERC20 decodes ERC-20 transfer, transferFrom and approve calldata:
// exactly the selector and its 32-byte words, address words with twelve
// zero bytes in front. Anything else is not an ERC-20 call gokms
// understands.
func decodeERC20(data []byte) (string, erc20Args, bool) {
	var a erc20Args
	if len(data) < 4 {
		return "", a, false
	}
	var sel [4]byte
	copy(sel[:], data[:4])
	words := data[4:]
	word := func(i int) []byte { return words[32*i : 32*(i+1)] }
	address := func(w []byte) (common.Address, bool) {
		for _, b := range w[:12] {
			if b != 0 {
				return common.Address{}, false
			}
		}
		return common.BytesToAddress(w[12:]), true
	}
	var (
		method string
		n      int
	)
	switch sel {
	case selTransfer:
		method, n = signing.MethodERC20Transfer, 2
	case selApprove:
		method, n = signing.MethodERC20Approve, 2
	case selTransferFrom:
		method, n = signing.MethodERC20TransferFrom, 3
	default:
		return "", a, false
	}
	if len(words) != 32*n {
		return "", a, false
	}
	i := 0
	if n == 3 {
		f, ok := address(word(0))
		if !ok {
			return "", a, false
		}
		a.from, i = f, 1
	}
	t, ok := address(word(i))
	if !ok {
		return "", a, false
	}
	a.to = t
	a.amount = new(big.Int).SetBytes(word(i + 1))
	return method, a, true
}

func sameAddr(a, b *common.Address) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
