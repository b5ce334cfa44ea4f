package algo

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/gokms/gokms/wallet"
)

// Every committed algosdk vector's signed transaction decodes to what
// algosdk itself decoded from it (the vector's "decoded"): receiver,
// amount, asset, fee.
func TestDecodeViewVectors(t *testing.T) {
	for _, vec := range load(t).Transactions {
		t.Run(vec.Name, func(t *testing.T) {
			v, err := DecodeView("ALGO", vec.Testnet, vec.SerializedTransaction, vec.TxData)
			if err != nil {
				t.Fatal(err)
			}
			txn := vec.Decoded["txn"].(map[string]any)
			bin := func(k string) string {
				b, _ := hex.DecodeString(txn[k].(map[string]any)["bin"].(string))
				return wallet.AlgoAddress(b)
			}
			num := func(k string) string {
				if x, ok := txn[k].(float64); ok {
					return strconv.FormatFloat(x, 'f', -1, 64)
				}
				return "0"
			}
			if !v.Signed || v.TxID != vec.TxID || v.Fee.String() != num("fee") || v.Inputs[0].Address != vec.Address {
				t.Errorf("view %+v", v)
			}
			switch {
			case txn["type"] == "pay":
				if len(v.Outputs) != 1 || v.Outputs[0].Address != bin("rcv") || v.Outputs[0].Amount.String() != num("amt") || v.Outputs[0].Token != "" || !v.Complete() {
					t.Errorf("pay: %+v", v)
				}
			case num("aamt") == "0":
				if len(v.Outputs) != 0 || v.Complete() {
					t.Errorf("opt-in: %+v", v)
				}
			default:
				if len(v.Outputs) != 1 || v.Outputs[0].Address != bin("arcv") || v.Outputs[0].Amount.String() != num("aamt") || v.Outputs[0].Token != num("xaid") || !v.Complete() {
					t.Errorf("axfer: %+v", v)
				}
			}
			u, err := DecodeView("ALGO", vec.Testnet, vec.SerializedTransaction, "")
			if err != nil || u.Signed || fmt.Sprint(u.Outputs) != fmt.Sprint(v.Outputs) {
				t.Errorf("before signing: %+v %v", u, err)
			}
			if _, err := DecodeView("ALGO", !vec.Testnet, "", vec.TxData); err == nil {
				t.Error("decoded for the other network")
			}
		})
	}
}

// Changing the receiver or the amount of a signed transaction (re-encoded
// canonically) breaks the signature; adding a field gokms does not sign
// (close-to) is refused.
func TestDecodeViewTampered(t *testing.T) {
	vec := load(t).Transactions[0]
	raw, _ := hex.DecodeString(vec.TxData)
	amt := strings.Index(string(raw), "amt") + 3
	for name, mod := range map[string]func([]byte){
		"amount":   func(b []byte) { b[amt] ^= 0x01 },
		"receiver": func(b []byte) { i := strings.Index(string(b), "rcv") + 5; b[i] ^= 0x80 },
	} {
		b := append([]byte(nil), raw...)
		mod(b)
		if v, err := DecodeView("ALGO", vec.Testnet, "", hex.EncodeToString(b)); err == nil {
			t.Errorf("%s changed: %+v", name, v)
		}
	}
	// A close-to (all the rest of the balance to someone else) is not in
	// the canonical form gokms signs.
	tx, _ := Decode(vec.SerializedTransaction)
	f := append(tx.fields(), mpField{"close", []byte(tx.Receiver)})
	stx := appendMap(nil, mpMap{{"sig", make([]byte, 64)}, {"txn", f}})
	if _, err := DecodeView("ALGO", vec.Testnet, "", hex.EncodeToString(stx)); err == nil || !strings.Contains(err.Error(), "canonical") {
		t.Errorf("close-to: %v", err)
	}
}

func TestDecodeViewMalformed(t *testing.T) {
	vec := load(t).Transactions[0]
	for _, s := range []string{"zz", "80", "c0", vec.TxData[:len(vec.TxData)-4], vec.TxData + "00"} {
		if _, err := DecodeView("ALGO", vec.Testnet, "", s); err == nil {
			t.Errorf("%.30q decoded", s)
		}
	}
}

func FuzzDecodeView(f *testing.F) {
	for _, v := range load(f).Transactions {
		f.Add(v.TxData)
	}
	f.Fuzz(func(t *testing.T, s string) { _, _ = DecodeView("ALGO", false, "", s) })
}
