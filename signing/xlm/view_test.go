package xlm

import (
	"crypto/ed25519"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/stellar/go-stellar-sdk/amount"
	"github.com/stellar/go-stellar-sdk/txnbuild"
	"github.com/stellar/go-stellar-sdk/xdr"
)

type xlmMove struct{ to, stroops, asset string }

// askedMoves reads the pending envelope with txnbuild (the SDK's
// transaction builder, not the XDR walk DecodeView does): every payment and
// account creation, amounts in stroops.
func askedMoves(t *testing.T, env string) (moves []xlmMove, feeBumpOfOther, trust bool) {
	t.Helper()
	g, err := txnbuild.TransactionFromXDR(env)
	if err != nil {
		t.Fatal(err)
	}
	tx, ok := g.Transaction()
	if !ok {
		fb, _ := g.FeeBump()
		tx = fb.InnerTransaction()
		feeBumpOfOther = fb.FeeAccount() != tx.SourceAccount().AccountID
	}
	for _, op := range tx.Operations() {
		switch o := op.(type) {
		case *txnbuild.Payment:
			a := "native"
			if !o.Asset.IsNative() {
				a = o.Asset.GetCode() + ":" + o.Asset.GetIssuer()
			}
			s, _ := amount.ParseInt64(o.Amount)
			moves = append(moves, xlmMove{o.Destination, strconv.FormatInt(s, 10), a})
		case *txnbuild.ChangeTrust:
			trust = true
		case *txnbuild.CreateAccount:
			s, _ := amount.ParseInt64(o.Amount)
			moves = append(moves, xlmMove{o.Destination, strconv.FormatInt(s, 10), "native"})
		}
	}
	return moves, feeBumpOfOther, trust
}

// Every committed stellar-sdk vector's signed envelope decodes to the
// payments its pending envelope asks for, on its network.
func TestDecodeViewVectors(t *testing.T) {
	for _, vec := range loadVectors(t).Vectors {
		t.Run(vec.Name, func(t *testing.T) {
			v, err := DecodeView("XLM", vec.Testnet, vec.Pending.SerializedTransaction, vec.TxData)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Signed || v.TxID != vec.Hash || v.Fee == nil || v.Fee.Sign() <= 0 {
				t.Errorf("view %+v", v)
			}
			asked, other, trust := askedMoves(t, vec.Pending.SerializedTransaction)
			var got []xlmMove
			for _, o := range v.Outputs {
				a := o.Token
				if a == "" {
					a = "native"
				}
				got = append(got, xlmMove{o.Address, o.Amount.String(), a})
			}
			if len(got) != len(asked) {
				t.Fatalf("outputs %v, asked %v", got, asked)
			}
			tokens := false
			for i := range got {
				if got[i] != asked[i] {
					t.Errorf("output %d %v, asked %v", i, got[i], asked[i])
				}
				tokens = tokens || asked[i].asset != "native"
			}
			if v.Complete() == (other || trust) {
				t.Errorf("unknown %v (token %v, fee bump of another account %v)", v.Unknown, tokens, other)
			}
			if !other && v.Inputs[0].Address != vec.Address {
				t.Errorf("input %v, want %s", v.Inputs, vec.Address)
			}
			// The other network's hash: the signature does not cover it.
			if _, err := DecodeView("XLM", !vec.Testnet, "", vec.TxData); err == nil {
				t.Error("decoded with the other network's passphrase")
			}
			u, err := DecodeView("XLM", vec.Testnet, vec.Pending.SerializedTransaction, "")
			if err != nil || u.Signed || len(u.Outputs) != len(v.Outputs) {
				t.Errorf("before signing: %+v %v", u, err)
			}
		})
	}
}

// A signed envelope whose destination or amount was changed after signing
// has no valid signature of its source: refused.
func TestDecodeViewTampered(t *testing.T) {
	vec := loadVectors(t).Vectors[0]
	raw, _ := base64.StdEncoding.DecodeString(vec.TxData)
	for name, mut := range map[string]func(*xdr.PaymentOp){
		"amount":      func(p *xdr.PaymentOp) { p.Amount *= 10 },
		"destination": func(p *xdr.PaymentOp) { p.Destination = muxed(ed25519.PublicKey(make([]byte, 32))) },
	} {
		var env xdr.TransactionEnvelope
		if err := xdr.SafeUnmarshal(raw, &env); err != nil {
			t.Fatal(err)
		}
		p := env.V1.Tx.Operations[0].Body.PaymentOp
		mut(p)
		b, _ := env.MarshalBinary()
		if v, err := DecodeView("XLM", vec.Testnet, "", base64.StdEncoding.EncodeToString(b)); err == nil || !strings.Contains(err.Error(), "no signature") {
			t.Errorf("%s changed: %+v %v", name, v, err)
		}
	}
}

func TestDecodeViewMalformed(t *testing.T) {
	vec := loadVectors(t).Vectors[0]
	for _, s := range []string{"@@", "AAAA", vec.TxData[:len(vec.TxData)-8], vec.TxData + "AAAA"} {
		if _, err := DecodeView("XLM", vec.Testnet, "", s); err == nil {
			t.Errorf("%.30q decoded", s)
		}
	}
}

func FuzzDecodeView(f *testing.F) {
	for _, v := range loadVectors(f).Vectors[:12] {
		f.Add(v.TxData, v.Testnet)
	}
	f.Fuzz(func(t *testing.T, s string, testnet bool) { _, _ = DecodeView("XLM", testnet, s, s) })
}
