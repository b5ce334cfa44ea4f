package algo

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gokms/gokms/signing"
)

// ViewFamily is the signing.View family of Algorand transactions.
const ViewFamily = "algo"

// signedTxn is the msgpack of a signed transaction as Sign writes it.
type signedTxn struct {
	Sig []byte `msgpack:"sig"`
	Txn struct {
		Amt  uint64 `msgpack:"amt"`
		Aamt uint64 `msgpack:"aamt"`
		Arcv []byte `msgpack:"arcv"`
		Fee  uint64 `msgpack:"fee"`
		Fv   uint64 `msgpack:"fv"`
		Gen  string `msgpack:"gen"`
		Gh   []byte `msgpack:"gh"`
		Lv   uint64 `msgpack:"lv"`
		Note []byte `msgpack:"note"`
		Rcv  []byte `msgpack:"rcv"`
		Snd  []byte `msgpack:"snd"`
		Type string `msgpack:"type"`
		Xaid uint64 `msgpack:"xaid"`
	} `msgpack:"txn"`
}

// DecodeView decodes the signed transaction the Signer returns (Signed.Raw:
// hex of msgpack {sig, txn}, the txData of /v3/algorand/broadcast) into a
// signing.View for policy and audit. The fields are read with a general
// msgpack decoder, then the transaction is encoded again with this
// package's canonical encoder and must give the same bytes: any field
// gokms does not sign (close-to, rekey, clawback) or a non-canonical form
// is an error, not a field quietly skipped. The signature must be the
// sender's over "TX" || txn, and the genesis the network's. Without signed
// (before signing), the pending transaction is read with Decode.
//
// pay: sender → receiver, amount in microAlgos. axfer: the amount in the
// asset's base units with Token the asset id (decimal; the policy limits
// it per asset: tokens:, docs/policy.md); an opt-in (zero to oneself) is MethodCall and
// Unknown. Fee: the fee field (microAlgos, flat). Notes are ignored.
func DecodeView(chain string, testnet bool, serialized, signed string) (*signing.View, error) {
	if !strings.EqualFold(strings.TrimSpace(chain), "ALGO") {
		return nil, fmt.Errorf("chain %q: %w", chain, signing.ErrUnsupportedChain)
	}
	var (
		tx   *Transaction
		txID string
		err  error
	)
	if strings.TrimSpace(signed) == "" {
		if tx, err = Decode(serialized); err != nil {
			return nil, fmt.Errorf("ALGO: %w", err)
		}
	} else {
		raw, err := hex.DecodeString(strings.TrimSpace(signed))
		if err != nil {
			return nil, fmt.Errorf("ALGO: the signed transaction is not hex")
		}
		var st signedTxn
		if err := msgpack.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("ALGO: the signed transaction is not msgpack {sig, txn}: %w", err)
		}
		t := st.Txn
		tx = &Transaction{Type: t.Type, Sender: t.Snd, Fee: t.Fee, FirstRound: t.Fv, LastRound: t.Lv, Note: t.Note, GenesisID: t.Gen, GenesisHash: t.Gh}
		switch t.Type {
		case "pay":
			tx.Receiver, tx.Amount = t.Rcv, t.Amt
		case "axfer":
			tx.Receiver, tx.Amount, tx.AssetIndex = t.Arcv, t.Aamt, t.Xaid
		default:
			return nil, fmt.Errorf("ALGO: transaction type %q is not one gokms signs (pay, axfer)", t.Type)
		}
		if len(tx.Sender) != ed25519.PublicKeySize || len(tx.Receiver) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("ALGO: the signed transaction's sender or receiver is not a 32-byte key")
		}
		if !bytes.Equal(appendMap(nil, mpMap{{"sig", st.Sig}, {"txn", tx.fields()}}), raw) {
			return nil, fmt.Errorf("ALGO: the signed transaction is not in the canonical form gokms signs (a field it does not sign, or another encoding)")
		}
		if len(st.Sig) != ed25519.SignatureSize || !ed25519.Verify(tx.Sender, tx.BytesToSign(), st.Sig) {
			return nil, fmt.Errorf("ALGO: the signature is not the sender %s's over the transaction", tx.SenderAddress())
		}
		txID = tx.TxID()
	}
	net := networks[testnet]
	if base64.StdEncoding.EncodeToString(tx.GenesisHash) != net.hash || (tx.GenesisID != "" && tx.GenesisID != net.id) {
		return nil, fmt.Errorf("ALGO: the transaction's genesis (%q) is not Algorand %s's", tx.GenesisID, map[bool]string{false: "mainnet", true: "testnet"}[testnet])
	}
	v := &signing.View{Chain: "ALGO", Family: ViewFamily, Signed: txID != "", TxID: txID, Method: signing.MethodTransfer,
		Fee: new(big.Int).SetUint64(tx.Fee)}
	native := new(big.Int)
	amt := new(big.Int).SetUint64(tx.Amount)
	switch {
	case tx.Type == "pay":
		native.Set(amt)
		v.Outputs = []signing.Flow{{Address: tx.ReceiverAddress(), Amount: amt}}
	case tx.Amount == 0 && bytes.Equal(tx.Sender, tx.Receiver):
		v.Method = signing.MethodCall
		v.Unknown = append(v.Unknown, "ALGO: opt-in to asset "+strconv.FormatUint(tx.AssetIndex, 10))
	default:
		v.Token = strconv.FormatUint(tx.AssetIndex, 10)
		v.Outputs = []signing.Flow{{Address: tx.ReceiverAddress(), Amount: amt, Token: v.Token}}
	}
	v.Inputs = []signing.Flow{{Address: tx.SenderAddress(), Amount: native}}
	return v, nil
}
