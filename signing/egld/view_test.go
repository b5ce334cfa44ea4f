package egld

import (
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

// Every committed erdjs vector's signed transaction decodes to what its
// pending transaction asked: receiver, EGLD value (×1e18), ESDT token and
// amount, read here from the JSON.
func TestDecodeViewVectors(t *testing.T) {
	for _, vec := range load(t) {
		t.Run(vec.Name, func(t *testing.T) {
			var asked struct {
				From, To, Data string
				Value          json.RawMessage
			}
			if err := json.Unmarshal([]byte(vec.SerializedTransaction), &asked); err != nil {
				t.Fatal(err)
			}
			r, ok := new(big.Rat).SetString(strings.Trim(string(asked.Value), `"`))
			if !ok {
				t.Fatalf("value %s", asked.Value)
			}
			wantValue := new(big.Int).Quo(new(big.Int).Mul(r.Num(), new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)), r.Denom())
			var signed struct{ GasPrice, GasLimit int64 }
			_ = json.Unmarshal([]byte(vec.TxData), &signed)

			v, err := DecodeView("EGLD", vec.Testnet, vec.SerializedTransaction, vec.TxData)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Signed || v.Inputs[0].Address != vec.Address || v.Fee.Int64() != signed.GasPrice*signed.GasLimit {
				t.Errorf("view %+v", v)
			}
			if n := v.Sent()[""]; wantValue.Sign() > 0 && (n == nil || n.Cmp(wantValue) != 0) {
				t.Errorf("sent %v, want %s", n, wantValue)
			}
			if got := v.Destinations(); len(got) != 1 || got[0] != asked.To {
				t.Errorf("destinations %v, want %s", got, asked.To)
			}
			if strings.HasPrefix(asked.Data, "ESDTTransfer@") {
				parts := strings.Split(asked.Data, "@")
				id, _ := hex.DecodeString(parts[1])
				amt, _ := new(big.Int).SetString(parts[2], 16)
				if n := v.Sent()[strings.ToLower(string(id))]; n == nil || n.Cmp(amt) != 0 || v.Token != string(id) || !v.Complete() {
					t.Errorf("ESDT %s %s: view %+v", id, amt, v)
				}
			} else if call := strings.Contains(asked.Data, "@"); call == v.Complete() {
				// issue@…, mint@…, ESDTNFTTransfer@…: calls gokms does not
				// decode; a plain note is fine.
				t.Errorf("data %q: unknown %v", asked.Data, v.Unknown)
			}
			u, err := DecodeView("EGLD", vec.Testnet, vec.SerializedTransaction, "")
			if err != nil || u.Signed || u.Fee != nil || u.Destinations()[0] != asked.To {
				t.Errorf("before signing: %+v %v", u, err)
			}
			if _, err := DecodeView("EGLD", !vec.Testnet, "", vec.TxData); err == nil {
				t.Error("decoded for the other network")
			}
		})
	}
}

// A signed transaction with another receiver or value (in the same form)
// has no valid signature; one in another form is refused as such.
func TestDecodeViewTampered(t *testing.T) {
	vec := load(t)[0]
	var s signedJSON
	_ = json.Unmarshal([]byte(vec.TxData), &s)
	other := load(t)[1]
	var o signedJSON
	_ = json.Unmarshal([]byte(other.TxData), &o)
	for name, mod := range map[string]func(*Transaction){
		"value":    func(t *Transaction) { t.Value = new(big.Int).Mul(t.Value, big.NewInt(10)) },
		"receiver": func(t *Transaction) { t.Receiver = s.Sender },
	} {
		val, _ := new(big.Int).SetString(s.Value, 10)
		tx := &Transaction{Nonce: s.Nonce, Value: val, Receiver: s.Receiver, Sender: s.Sender, GasPrice: s.GasPrice, GasLimit: s.GasLimit, Data: s.Data, ChainID: s.ChainID, Version: s.Version}
		mod(tx)
		sig, _ := hex.DecodeString(s.Signature)
		if v, err := DecodeView("EGLD", vec.Testnet, "", string(tx.json(sig))); err == nil || !strings.Contains(err.Error(), "signature is not the sender") {
			t.Errorf("%s changed: %+v %v", name, v, err)
		}
	}
	spaced := strings.Replace(vec.TxData, `,"receiver"`, `, "receiver"`, 1)
	if _, err := DecodeView("EGLD", vec.Testnet, "", spaced); err == nil || !strings.Contains(err.Error(), "form") {
		t.Errorf("another form: %v", err)
	}
}

func TestDecodeViewMalformed(t *testing.T) {
	vec := load(t)[0]
	for _, s := range []string{"{", "[]", "{}", vec.TxData[:len(vec.TxData)-2], vec.TxData + "{}", strings.Replace(vec.TxData, `"version":1`, `"version":1,"extra":1`, 1)} {
		if _, err := DecodeView("EGLD", vec.Testnet, "", s); err == nil {
			t.Errorf("%.40q decoded", s)
		}
	}
}

func FuzzDecodeView(f *testing.F) {
	for _, v := range load(f) {
		f.Add(v.TxData)
	}
	f.Fuzz(func(t *testing.T, s string) { _, _ = DecodeView("EGLD", false, "", s) })
}
