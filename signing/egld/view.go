package egld

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/onejson"
	"github.com/gokms/gokms/wallet"
)

// ViewFamily is the signing.View family of MultiversX transactions.
const ViewFamily = "egld"

type signedJSON struct {
	Nonce     uint64 `json:"nonce"`
	Value     string `json:"value"`
	Receiver  string `json:"receiver"`
	Sender    string `json:"sender"`
	GasPrice  uint64 `json:"gasPrice"`
	GasLimit  uint64 `json:"gasLimit"`
	Data      []byte `json:"data"` // base64
	ChainID   string `json:"chainID"`
	Version   uint64 `json:"version"`
	Signature string `json:"signature"`
}

// esdtTransfer is the data of a fungible ESDT transfer as Tatum's SDK
// writes it: ESDTTransfer@<token id hex>@<amount hex>.
var esdtTransfer = regexp.MustCompile(`^ESDTTransfer@([0-9a-f]{2,64})@([0-9a-f]{1,64})$`)

// callData looks like a built-in function or contract call (name@args).
var callData = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*@`)

// DecodeView decodes the signed transaction the Signer returns (Signed.Raw:
// erdjs's sendable JSON, the txData of /v3/egld/broadcast) into a
// signing.View for policy and audit: the JSON is read, written again with
// this package's encoder and must give the same bytes (no field gokms does
// not sign, no other form); the signature must be the sender's over the
// signing bytes and the chain id the network's. Without signed (before
// signing), the pending transaction is read with Decode (the node fills
// nonce and gas then, so Fee is nil).
//
// value: sender → receiver, in the smallest unit (1e-18 EGLD). data
// ESDTTransfer@token@amount: the token amount to the receiver with Token
// the ESDT id (the policy limits it per token: tokens:, docs/policy.md). Other
// data that reads as a function call (name@…), or any data to a smart
// contract address, is MethodCall and Unknown; other data is a note and
// ignored. Fee: gasLimit × gasPrice, the most it can pay.
func DecodeView(chain string, testnet bool, serialized, signed string) (*signing.View, error) {
	if !strings.EqualFold(strings.TrimSpace(chain), "EGLD") {
		return nil, fmt.Errorf("chain %q: %w", chain, signing.ErrUnsupportedChain)
	}
	v := &signing.View{Chain: "EGLD", Family: ViewFamily, Method: signing.MethodTransfer}
	var (
		from, to string
		value    *big.Int
		data     []byte
	)
	if strings.TrimSpace(signed) == "" {
		p, err := Decode(serialized)
		if err != nil {
			return nil, fmt.Errorf("EGLD: %w", err)
		}
		from, to, value, data = p.From, p.To, p.Value, p.Data
	} else {
		signed = strings.TrimSpace(signed)
		var s signedJSON
		if err := onejson.Into(signed, &s, true); err != nil {
			return nil, fmt.Errorf("EGLD: the signed transaction is not erdjs's sendable JSON: %v", err)
		}
		val, ok := new(big.Int).SetString(s.Value, 10)
		if !ok || val.Sign() < 0 {
			return nil, fmt.Errorf("EGLD: value %q is not a whole amount", s.Value)
		}
		sig, err := hex.DecodeString(s.Signature)
		if err != nil || len(sig) != ed25519.SignatureSize {
			return nil, fmt.Errorf("EGLD: the signature is not 64 bytes of hex")
		}
		tx := &Transaction{Nonce: s.Nonce, Value: val, Receiver: s.Receiver, Sender: s.Sender, GasPrice: s.GasPrice,
			GasLimit: s.GasLimit, Data: s.Data, ChainID: s.ChainID, Version: s.Version}
		if !bytes.Equal(tx.json(sig), []byte(signed)) {
			return nil, fmt.Errorf("EGLD: the signed transaction is not in the form gokms signs (field order, escapes or extra fields)")
		}
		if !chainIDAllowed(s.ChainID, testnet) {
			return nil, fmt.Errorf("EGLD: chain id %q is not the %s's", s.ChainID, map[bool]string{false: "mainnet", true: "testnet"}[testnet])
		}
		pub, err := wallet.ParseEGLDAddress(s.Sender)
		if err != nil {
			return nil, fmt.Errorf("EGLD: sender: %w", err)
		}
		if _, err := wallet.ParseEGLDAddress(s.Receiver); err != nil {
			return nil, fmt.Errorf("EGLD: receiver: %w", err)
		}
		if !ed25519.Verify(pub, tx.SigningBytes(), sig) {
			return nil, fmt.Errorf("EGLD: the signature is not the sender %s's over the transaction", s.Sender)
		}
		v.Signed = true
		v.Fee = new(big.Int).Mul(new(big.Int).SetUint64(s.GasLimit), new(big.Int).SetUint64(s.GasPrice))
		from, to, value, data = s.Sender, s.Receiver, val, s.Data
	}
	// The receiver is a destination even of a zero-value transaction (a
	// note, a call); an ESDT transfer's is its token output.
	if value.Sign() > 0 || esdtTransfer.Find(data) == nil {
		v.Outputs = append(v.Outputs, signing.Flow{Address: to, Amount: new(big.Int).Set(value)})
	}
	if len(data) > 0 {
		rcv, _ := wallet.ParseEGLDAddress(to)
		if m := esdtTransfer.FindSubmatch(data); m != nil {
			id, _ := hex.DecodeString(string(m[1]))
			amt, _ := new(big.Int).SetString(string(m[2]), 16)
			v.Token = string(id)
			v.Outputs = append(v.Outputs, signing.Flow{Address: to, Amount: amt, Token: v.Token})
		} else if callData.Match(data) || isContract(rcv) {
			v.Method = signing.MethodCall
			name, _, _ := bytes.Cut(data, []byte("@"))
			v.Unknown = append(v.Unknown, fmt.Sprintf("EGLD: data %.40q to %s: a call or ESDT operation gokms does not decode", name, to))
		}
	}
	v.Inputs = []signing.Flow{{Address: from, Amount: new(big.Int).Set(value)}}
	return v, nil
}

// isContract: MultiversX smart contract addresses begin with eight zero
// bytes.
func isContract(pub ed25519.PublicKey) bool {
	return len(pub) == 32 && bytes.Equal(pub[:8], make([]byte, 8))
}
