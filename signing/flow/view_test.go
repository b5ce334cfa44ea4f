package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// prepared signs vector v through the Tatum and access node stand-ins and
// returns what the signer journals.
func prepared(t *testing.T, vs *vectors, v *vector) string {
	t.Helper()
	st := &standIns{t: t, vs: vs, v: v}
	tc, ac := st.clients(t)
	in, err := ParseIntent(v.Pending.SerializedTransaction, v.Testnet, true)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keySource{map[string]string{"w": v.PrivateKey}}.Key(context.Background(), "w", nil)
	if err != nil {
		t.Fatal(err)
	}
	prep, err := Prepare(context.Background(), in, k, tc, ac)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := prep.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Every committed fcl vector, prepared as the signer prepares it, decodes
// to the transfer its pending transaction asked for (read here from the
// pending JSON: to, amount × 1e8, currency); custom Cadence is Unknown.
func TestDecodeViewVectors(t *testing.T) {
	vs := load(t)
	for i := range vs.Pending {
		v := &vs.Pending[i]
		t.Run(fmt.Sprint(v.Kind, i), func(t *testing.T) {
			raw := prepared(t, &vs, v)
			dv, err := DecodeView("FLOW", v.Testnet, v.Pending.SerializedTransaction, raw)
			if err != nil {
				t.Fatal(err)
			}
			var p struct {
				Type int
				Body struct{ Account, To, Amount, Currency string }
			}
			if err := json.Unmarshal([]byte(v.Pending.SerializedTransaction), &p); err != nil {
				t.Fatal(err)
			}
			if !dv.Signed || dv.TxID != v.TxID || dv.Inputs[0].Address != p.Body.Account || dv.Fee == nil || dv.Fee.Sign() != 0 {
				t.Errorf("view %+v", dv)
			}
			if p.Type != 2 {
				if dv.Complete() || dv.Method != "call" || len(dv.Outputs) != 0 {
					t.Errorf("custom: %+v", dv)
				}
				return
			}
			whole, frac, _ := strings.Cut(p.Body.Amount, ".")
			want := strings.TrimLeft(whole+(frac + "00000000")[:8], "0")
			if len(dv.Outputs) != 1 || dv.Outputs[0].Address != p.Body.To || dv.Outputs[0].Amount.String() != want {
				t.Fatalf("outputs %+v, asked %s × 1e-8 to %s", dv.Outputs, want, p.Body.To)
			}
			if !dv.Complete() || (p.Body.Currency == "FUSD") != (dv.Outputs[0].Token != "") {
				t.Errorf("%s: token %q unknown %v", p.Body.Currency, dv.Outputs[0].Token, dv.Unknown)
			}
			u, err := DecodeView("FLOW", v.Testnet, v.Pending.SerializedTransaction, "")
			if err != nil || u.Signed || fmt.Sprint(u.Outputs) != fmt.Sprint(dv.Outputs) {
				t.Errorf("before signing: %+v %v", u, err)
			}
		})
	}
}

// A journaled transaction whose recipient or amount was changed no longer
// hashes to its id: refused. Arguments that are not exactly what the
// template takes make it a custom (Unknown) transaction.
func TestDecodeViewTampered(t *testing.T) {
	vs := load(t)
	var v *vector
	for i := range vs.Pending {
		if vs.Pending[i].Kind == "native" {
			v = &vs.Pending[i]
			break
		}
	}
	raw := prepared(t, &vs, v)
	var j journaled
	if err := json.Unmarshal([]byte(raw), &j); err != nil {
		t.Fatal(err)
	}
	for i := range j.Transaction.Arguments {
		k := j
		k.Transaction.Arguments = append([]string(nil), j.Transaction.Arguments...)
		k.Transaction.Arguments[i] = k.Transaction.Arguments[(i+1)%2]
		b, _ := json.Marshal(k)
		if dv, err := DecodeView("FLOW", v.Testnet, "", string(b)); err == nil {
			t.Errorf("argument %d changed: %+v", i, dv)
		}
	}
	in, _ := ParseIntent(v.Pending.SerializedTransaction, v.Testnet, true)
	c := mainnet
	if v.Testnet {
		c = testnet
	}
	if _, _, _, ok := transferOf(c, in.Script, [][]byte{[]byte(`{"type":"UFix64","value":"1.0"}`), in.Arguments[1]}); ok {
		t.Error("an amount not in UFix64's fixed form read as a transfer")
	}
	if _, _, _, ok := transferOf(c, append(append([]byte(nil), in.Script...), ' '), in.Arguments); ok {
		t.Error("another script read as a transfer")
	}
	if _, _, _, ok := transferOf(c, in.Script, in.Arguments); !ok {
		t.Error("the template itself is not a transfer")
	}
}

func TestDecodeViewMalformed(t *testing.T) {
	for _, s := range []string{"{", "{}", `{"flowTxId":"00","transaction":{}}`, "[]"} {
		if _, err := DecodeView("FLOW", false, "", s); err == nil {
			t.Errorf("%q decoded", s)
		}
	}
}

func FuzzDecodeView(f *testing.F) {
	f.Add(`{"flowTxId":"00","transaction":{"script":"","arguments":[]}}`)
	f.Fuzz(func(t *testing.T, s string) { _, _ = DecodeView("FLOW", false, s, s) })
}
