package vet

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"golang.org/x/crypto/blake2b"

	"github.com/gokms/gokms/signing"
)

// ViewFamily is the signing.View family of VeChain transactions.
const ViewFamily = "vet"

// signedBody is thor-devkit's signed transaction RLP.
type signedBody struct {
	ChainTag   uint64
	BlockRef   []byte
	Expiration uint64
	Clauses    []struct {
		To    []byte
		Value *big.Int
		Data  []byte
	}
	GasPriceCoef uint64
	Gas          uint64
	DependsOn    []byte
	Nonce        uint64
	Reserved     []rlp.RawValue
	Signature    []byte
}

var selTransfer = []byte{0xa9, 0x05, 0x9c, 0xbb} // VIP-180 (ERC-20) transfer(address,uint256)

// DecodeView decodes the raw transaction the Signer returns (Signed.Raw:
// 0x-hex RLP, the txData of /v3/vet/broadcast) into a signing.View for
// policy and audit: the RLP is read, encoded again as Sign encodes it and
// must give the same bytes (one clause, no dependsOn, no reserved
// features); the chain tag must be the network's, and the sender is the
// key recovered from the signature over the signing hash. Without signed
// (before signing), the pending transaction is read with Decode; its
// sender is not known then (Tatum sends from: 0).
//
// The clause's VET value goes to its recipient (wei, 1e-18 VET). Data
// that is a VIP-180 transfer(address,uint256) (exact length, clean
// address word) is the token amount to the token's recipient with Token
// the contract (the policy limits it per token: tokens:, docs/policy.md); other
// data is MethodCall and Unknown. Addresses are lower-case 0x hex. Fee is
// nil: VeChain fees are paid in VTHO (energy), not in VET, so a VET
// maxFee cannot be checked.
func DecodeView(chain string, testnet bool, serialized, signed string) (*signing.View, error) {
	if !strings.EqualFold(strings.TrimSpace(chain), "VET") {
		return nil, fmt.Errorf("chain %q: %w", chain, signing.ErrUnsupportedChain)
	}
	v := &signing.View{Chain: "VET", Family: ViewFamily, Method: signing.MethodTransfer}
	var (
		from  string
		to    [20]byte
		value *big.Int
		data  []byte
	)
	if strings.TrimSpace(signed) == "" {
		p, err := Decode(serialized, nil)
		if err != nil {
			return nil, fmt.Errorf("VET: %w", err)
		}
		to, value, data = p.To, p.Value, p.Data
	} else {
		raw, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(signed), "0x"))
		if err != nil {
			return nil, fmt.Errorf("VET: the signed transaction is not 0x-hex")
		}
		var b signedBody
		if err := rlp.DecodeBytes(raw, &b); err != nil {
			return nil, fmt.Errorf("VET: the signed transaction is not VeChain RLP: %w", err)
		}
		if len(b.Clauses) != 1 || len(b.Clauses[0].To) != 20 || len(b.BlockRef) > 8 || len(b.Signature) != 65 ||
			b.ChainTag > 0xff || b.Expiration > 0xffffffff || b.GasPriceCoef > 0xff {
			return nil, fmt.Errorf("VET: the signed transaction is not one clause to an address with a 65-byte signature, as gokms signs")
		}
		want := map[bool]uint64{false: MainnetChainTag, true: TestnetChainTag}[testnet]
		if b.ChainTag != want {
			return nil, fmt.Errorf("VET: chain tag 0x%02x is not the %s's 0x%02x", b.ChainTag, map[bool]string{false: "mainnet", true: "testnet"}[testnet], want)
		}
		tx := &Transaction{ChainTag: byte(b.ChainTag), Expiration: uint32(b.Expiration), GasPriceCoef: byte(b.GasPriceCoef), Gas: b.Gas, Nonce: b.Nonce,
			Clause: Clause{Value: b.Clauses[0].Value, Data: b.Clauses[0].Data}}
		copy(tx.Clause.To[:], b.Clauses[0].To)
		copy(tx.BlockRef[8-len(b.BlockRef):], b.BlockRef)
		again, err := rlp.EncodeToBytes(append(tx.items(), b.Signature))
		if err != nil || !bytes.Equal(again, raw) {
			return nil, fmt.Errorf("VET: the signed transaction is not in the form gokms signs (dependsOn, reserved features or another encoding)")
		}
		h, err := tx.SigningHash()
		if err != nil {
			return nil, err
		}
		pub, err := crypto.SigToPub(h[:], b.Signature)
		if err != nil {
			return nil, fmt.Errorf("VET: the signature does not recover a key: %w", err)
		}
		origin := crypto.PubkeyToAddress(*pub)
		id := blake2b.Sum256(append(h[:], origin[:]...))
		v.Signed, v.TxID = true, "0x"+hex.EncodeToString(id[:])
		from, to, value, data = strings.ToLower(origin.Hex()), tx.Clause.To, tx.Clause.Value, tx.Clause.Data
	}
	rcpt := "0x" + hex.EncodeToString(to[:])
	v.Outputs = append(v.Outputs, signing.Flow{Address: rcpt, Amount: new(big.Int).Set(value)})
	switch {
	case len(data) == 0:
	case len(data) == 68 && bytes.Equal(data[:4], selTransfer) && bytes.Equal(data[4:16], make([]byte, 12)):
		if value.Sign() == 0 {
			v.Outputs = v.Outputs[:0] // the call to the token contract sends no VET
		}
		v.Token = rcpt
		v.Outputs = append(v.Outputs, signing.Flow{Address: "0x" + hex.EncodeToString(data[16:36]), Amount: new(big.Int).SetBytes(data[36:68]), Token: rcpt})
	default:
		v.Method = signing.MethodCall
		sel := data
		if len(sel) > 4 {
			sel = sel[:4]
		}
		v.Unknown = append(v.Unknown, fmt.Sprintf("VET: call to %s with data %x… that is not a VIP-180 transfer", rcpt, sel))
	}
	v.Inputs = []signing.Flow{{Address: from, Amount: new(big.Int).Set(value)}}
	return v, nil
}
