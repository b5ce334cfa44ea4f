package tron

import (
	"context"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/signing"
)

// SignDetailed gives the journal the txID and policy/audit what the
// checked transaction does.
func TestSignDetailed(t *testing.T) {
	s := NewSigner(Params{})
	var _ signing.DetailedSigner = s
	for _, kind := range []string{"native", "trc10", "trc20"} {
		v := byKind(t, kind)
		keys := &fakeKeys{keys: map[string]*btcec.PrivateKey{"w": keyOf(t, v)}}
		sd, err := s.SignDetailed(context.Background(), signing.Request{Chain: "TRON", Testnet: true, SerializedTransaction: v.SerializedTransaction, Hashes: []string{"w"}}, keys)
		if err != nil || sd.Raw != v.TxData || sd.TxID != v.TxID {
			t.Fatalf("%s: %v", kind, err)
		}
		tx, _ := Decode(v.SerializedTransaction, Params{})
		if sd.View.From != v.Address || sd.View.To != EncodeAddress(tx.To) || !sd.View.Testnet {
			t.Errorf("%s: view %+v", kind, sd.View)
		}
		switch kind {
		case "native":
			if sd.View.Value == nil || sd.View.Value.Cmp(big.NewInt(tx.Amount)) != 0 {
				t.Errorf("native: Value %v, want %d sun", sd.View.Value, tx.Amount)
			}
		case "trc10":
			if sd.View.Value != nil {
				t.Error("a TRC-10 amount is not TRX")
			}
		case "trc20":
			if len(sd.View.Data) != 68 {
				t.Errorf("trc20: %d bytes of call data", len(sd.View.Data))
			}
		}
	}
}
