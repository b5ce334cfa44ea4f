package ada

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

type adaMove struct {
	addr   string
	amount string
	change bool
}

// askedMoves reads the pending operations with encoding/json: every
// output, change being an output to an input's address.
func askedMoves(t *testing.T, ser string) (ins map[string]bool, outs []adaMove) {
	t.Helper()
	var ops []struct {
		Type    string
		Account struct{ Address string }
		Amount  struct{ Value string }
	}
	if err := json.Unmarshal([]byte(ser), &ops); err != nil {
		t.Fatal(err)
	}
	ins = map[string]bool{}
	for _, o := range ops {
		if o.Type == "input" {
			ins[o.Account.Address] = true
		}
	}
	for _, o := range ops {
		if o.Type == "output" {
			outs = append(outs, adaMove{o.Account.Address, o.Amount.Value, ins[o.Account.Address]})
		}
	}
	return ins, outs
}

// Every committed vector's signed transaction (what cardano-rosetta's
// combine returned, signed by the Cardano SDK keys) decodes to the outputs
// and fee its pending operations asked for.
func TestDecodeViewVectors(t *testing.T) {
	var raw struct {
		Pending []struct {
			Fee uint64
		}
	}
	b, _ := jsonFile(t)
	_ = json.Unmarshal(b, &raw)
	for i, vec := range load(t).Pending {
		t.Run(fmt.Sprint(vec.Kind, i), func(t *testing.T) {
			v, err := DecodeView("ADA", vec.Testnet, vec.Pending.SerializedTransaction, vec.SignedTransaction)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Signed || v.TxID != vec.BodyHash || v.Fee.Uint64() != raw.Pending[i].Fee || !v.Complete() {
				t.Errorf("view %+v", v)
			}
			ins, asked := askedMoves(t, vec.Pending.SerializedTransaction)
			var got []adaMove
			for _, o := range v.Outputs {
				got = append(got, adaMove{o.Address, o.Amount.String(), o.Change})
			}
			if fmt.Sprint(got) != fmt.Sprint(asked) {
				t.Errorf("outputs %v, asked %v", got, asked)
			}
			for _, in := range v.Inputs {
				if !ins[in.Address] {
					t.Errorf("input %s is not one the operations spend", in.Address)
				}
			}
			u, err := DecodeView("ADA", vec.Testnet, vec.Pending.SerializedTransaction, "")
			if err != nil || u.Signed || fmt.Sprint(u.Outputs) != fmt.Sprint(v.Outputs) || u.Fee.Cmp(v.Fee) != 0 {
				t.Errorf("before signing: %+v %v", u, err)
			}
		})
	}
}

func jsonFile(t *testing.T) ([]byte, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "ada", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b, nil
}

// rewrap rebuilds cardano-rosetta's wrapper around a changed transaction.
func rewrap(t *testing.T, signed string, edit func(txHex string) string) string {
	t.Helper()
	outer, _ := hex.DecodeString(signed)
	var pair []cbor.RawMessage
	if err := cbor.Unmarshal(outer, &pair); err != nil {
		t.Fatal(err)
	}
	var txHex string
	_ = cbor.Unmarshal(pair[0], &txHex)
	b, err := cbor.Marshal([]any{edit(txHex), pair[1]})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// A signed transaction whose output amount or address was changed no
// longer carries a valid witness: refused.
func TestDecodeViewTampered(t *testing.T) {
	vec := load(t).Pending[0]
	_, asked := askedMoves(t, vec.Pending.SerializedTransaction)
	n, _ := strconv.ParseUint(asked[0].amount, 10, 32)
	amt := fmt.Sprintf("1a%08x", n)
	for name, edit := range map[string]func(string) string{
		"amount": func(s string) string {
			if !strings.Contains(s, amt) {
				t.Fatalf("amount %s not in the transaction", amt)
			}
			return strings.Replace(s, amt, fmt.Sprintf("1a%08x", n*10), 1)
		},
		"address": func(s string) string {
			i := strings.Index(s, "581d61") + 10 // the first output's address bytes
			return s[:i] + "00" + s[i+2:]
		},
	} {
		if v, err := DecodeView("ADA", vec.Testnet, vec.Pending.SerializedTransaction, rewrap(t, vec.SignedTransaction, edit)); err == nil || !strings.Contains(err.Error(), "witness") {
			t.Errorf("%s changed: %+v %v", name, v, err)
		}
	}
}

func TestDecodeViewMalformed(t *testing.T) {
	vec := load(t).Pending[0]
	for _, s := range []string{"zz", "80", "8200", vec.SignedTransaction[:len(vec.SignedTransaction)-4], vec.UnsignedTransaction} {
		if _, err := DecodeView("ADA", vec.Testnet, vec.Pending.SerializedTransaction, s); err == nil {
			t.Errorf("%.30q decoded", s)
		}
	}
	if _, err := DecodeView("ADA", vec.Testnet, "[]", ""); err == nil {
		t.Error("no operations decoded")
	}
}

func FuzzDecodeView(f *testing.F) {
	for _, v := range load(f).Pending {
		f.Add(v.SignedTransaction, v.Pending.SerializedTransaction)
	}
	f.Fuzz(func(t *testing.T, s, ser string) { _, _ = DecodeView("ADA", false, ser, s) })
}
