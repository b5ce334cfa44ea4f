package vet

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/rlp"
)

// Every committed thorify vector's raw transaction decodes to what
// thor-devkit decoded from it (the vector's body): recipient, value, and
// for a VIP-180 transfer the token recipient and amount.
func TestDecodeViewVectors(t *testing.T) {
	for _, vec := range load(t) {
		t.Run(vec.Name, func(t *testing.T) {
			var body struct {
				Clauses []struct {
					To    string
					Value any
					Data  string
				}
			}
			if err := json.Unmarshal(vec.Body, &body); err != nil {
				t.Fatal(err)
			}
			c := body.Clauses[0]
			val := new(big.Int)
			switch x := c.Value.(type) {
			case string:
				val.SetString(strings.TrimPrefix(x, "0x"), 16)
			case float64:
				val.SetInt64(int64(x))
			}
			v, err := DecodeView("VET", vec.Testnet, vec.SerializedTransaction, vec.RawTransaction)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Signed || v.TxID != vec.ID || !strings.EqualFold(v.Inputs[0].Address, vec.Address) || v.Fee != nil {
				t.Errorf("view %+v", v)
			}
			data := strings.TrimPrefix(c.Data, "0x")
			switch {
			case data == "":
				if len(v.Outputs) != 1 || v.Outputs[0].Address != c.To || v.Outputs[0].Amount.Cmp(val) != 0 || !v.Complete() {
					t.Errorf("transfer: %+v", v)
				}
			case strings.HasPrefix(data, "a9059cbb") && len(data) == 136:
				amt, _ := new(big.Int).SetString(data[72:], 16)
				if n := v.Sent()[strings.ToLower(c.To)]; n == nil || n.Cmp(amt) != 0 || v.Destinations()[0] != "0x"+data[32:72] || !v.Complete() {
					t.Errorf("VIP-180 %s to %s: %+v", amt, data[32:72], v)
				}
			default:
				if v.Complete() || v.Outputs[0].Address != c.To || v.Outputs[0].Amount.Cmp(val) != 0 {
					t.Errorf("data: %+v", v)
				}
			}
			u, err := DecodeView("VET", vec.Testnet, vec.SerializedTransaction, "")
			if err != nil || u.Signed || fmt.Sprint(u.Outputs) != fmt.Sprint(v.Outputs) {
				t.Errorf("before signing: %+v %v", u, err)
			}
			if _, err := DecodeView("VET", !vec.Testnet, "", vec.RawTransaction); err == nil {
				t.Error("decoded for the other network")
			}
		})
	}
}

// A raw transaction with another recipient or value recovers another
// sender (the signature covers them): the view differs from the signed one
// in sender, so a policy pinned to the wallet's address (and the network)
// sees it; one with dependsOn or two clauses is refused.
func TestDecodeViewTampered(t *testing.T) {
	vec := load(t)[0]
	raw, _ := hex.DecodeString(strings.TrimPrefix(vec.RawTransaction, "0x"))
	var b signedBody
	if err := rlp.DecodeBytes(raw, &b); err != nil {
		t.Fatal(err)
	}
	good, _ := DecodeView("VET", vec.Testnet, "", vec.RawTransaction)
	for name, mod := range map[string]func(*signedBody){
		"value":     func(b *signedBody) { b.Clauses[0].Value = new(big.Int).Add(b.Clauses[0].Value, big.NewInt(1)) },
		"recipient": func(b *signedBody) { b.Clauses[0].To = make([]byte, 20) },
	} {
		c := b
		c.Clauses = append(c.Clauses[:0:0], b.Clauses...)
		mod(&c)
		out, _ := rlp.EncodeToBytes(c)
		v, err := DecodeView("VET", vec.Testnet, "", "0x"+hex.EncodeToString(out))
		if err != nil {
			continue // a signature that recovers no key
		}
		if v.Inputs[0].Address == good.Inputs[0].Address || v.TxID == good.TxID {
			t.Errorf("%s changed: still from %s", name, v.Inputs[0].Address)
		}
	}
	for name, mod := range map[string]func(*signedBody){
		"dependsOn":   func(b *signedBody) { b.DependsOn = make([]byte, 32) },
		"two clauses": func(b *signedBody) { b.Clauses = append(b.Clauses, b.Clauses[0]) },
	} {
		c := b
		c.Clauses = append(c.Clauses[:0:0], b.Clauses...)
		mod(&c)
		out, _ := rlp.EncodeToBytes(c)
		if _, err := DecodeView("VET", vec.Testnet, "", "0x"+hex.EncodeToString(out)); err == nil {
			t.Errorf("%s decoded", name)
		}
	}
}

func TestDecodeViewMalformed(t *testing.T) {
	vec := load(t)[0]
	for _, s := range []string{"0xzz", "0x", "0xc0", vec.RawTransaction[:len(vec.RawTransaction)-2], vec.RawTransaction + "00"} {
		if _, err := DecodeView("VET", vec.Testnet, "", s); err == nil {
			t.Errorf("%.30q decoded", s)
		}
	}
}

func FuzzDecodeView(f *testing.F) {
	for _, v := range load(f) {
		f.Add(v.RawTransaction)
	}
	f.Fuzz(func(t *testing.T, s string) { _, _ = DecodeView("VET", false, "", s) })
}
