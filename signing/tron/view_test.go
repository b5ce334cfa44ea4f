package tron

import (
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/gokms/gokms/signing"
)

// expectTRON reads what a vector's pending transaction asks, straight from
// its JSON (not through the codec): recipient, amount, token.
func expectTRON(t *testing.T, ser string) (to, amount, token string, feeLimit int64) {
	t.Helper()
	var tx struct {
		Visible bool
		RawData struct {
			FeeLimit int64 `json:"fee_limit"`
			Contract []struct {
				Type      string
				Parameter struct {
					Value map[string]any
				}
			}
		} `json:"raw_data"`
	}
	if err := json.Unmarshal([]byte(ser), &tx); err != nil {
		t.Fatal(err)
	}
	addr := func(s string) string {
		if tx.Visible {
			return s
		}
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 21 {
			t.Fatalf("address %q", s)
		}
		return base58.CheckEncode(b[1:], b[0])
	}
	c := tx.RawData.Contract[0]
	val := c.Parameter.Value
	switch c.Type {
	case "TransferContract":
		return addr(val["to_address"].(string)), big.NewFloat(val["amount"].(float64)).Text('f', 0), "", tx.RawData.FeeLimit
	case "TransferAssetContract":
		name, _ := hex.DecodeString(val["asset_name"].(string))
		if tx.Visible {
			name = []byte(val["asset_name"].(string))
		}
		return addr(val["to_address"].(string)), big.NewFloat(val["amount"].(float64)).Text('f', 0), string(name), tx.RawData.FeeLimit
	case "TriggerSmartContract":
		d := val["data"].(string)
		if d[:8] != "a9059cbb" {
			t.Fatalf("vector calls %s", d[:8])
		}
		rcpt, _ := hex.DecodeString("41" + d[8+24:8+64])
		amt, _ := new(big.Int).SetString(d[8+64:8+128], 16)
		return base58.CheckEncode(rcpt[1:], rcpt[0]), amt.String(), addr(val["contract_address"].(string)), tx.RawData.FeeLimit
	}
	t.Fatalf("contract type %s", c.Type)
	return
}

// Every committed tronweb vector's signed txData decodes to what its
// pending transaction asked.
func TestDecodeViewVectors(t *testing.T) {
	for _, vec := range loadVectors(t).Transactions {
		t.Run(vec.Name, func(t *testing.T) {
			v, err := DecodeView("TRON", true, vec.SerializedTransaction, vec.TxData)
			if err != nil {
				t.Fatal(err)
			}
			to, amount, token, fee := expectTRON(t, vec.SerializedTransaction)
			if len(v.Outputs) != 1 {
				t.Fatalf("outputs %+v", v.Outputs)
			}
			o := v.Outputs[0]
			if o.Address != to || o.Amount.String() != amount || o.Token != token || v.Token != token {
				t.Errorf("output %s %s %q (token %q), want %s %s %q", o.Address, o.Amount, o.Token, v.Token, to, amount, token)
			}
			if got := v.Destinations(); len(got) != 1 || got[0] != to {
				t.Errorf("destinations %v", got)
			}
			if v.Inputs[0].Address != vec.Address || !v.Signed || v.TxID != vec.TxID || v.Fee.Int64() != fee || v.Method != signing.MethodTransfer {
				t.Errorf("view %+v", v)
			}
			u, err := DecodeView("TRON", true, vec.SerializedTransaction, "")
			if err != nil || u.Signed || u.Outputs[0].Address != to || u.Outputs[0].Amount.String() != amount || u.Outputs[0].Token != token {
				t.Errorf("before signing: %+v, %v", u, err)
			}
			if !v.Complete() {
				t.Errorf("unknown %v: a TRX, TRC-10 or TRC-20 transfer is complete (the policy limits tokens per token)", v.Unknown)
			}
		})
	}
}

// A signed transaction whose recipient or amount was changed after signing
// is refused (the signature no longer covers it); one re-signed by another
// key than the owner too.
func TestDecodeViewTampered(t *testing.T) {
	vec := byKind(t, "native")
	_, amount, _, _ := expectTRON(t, vec.SerializedTransaction)
	mod := strings.Replace(vec.TxData, `"amount":`+amount, `"amount":`+amount+`0`, 1)
	if mod == vec.TxData {
		t.Fatal("amount not found")
	}
	if _, err := DecodeView("TRON", true, "", mod); err == nil {
		t.Fatal("a changed amount decoded")
	}
	// A well-formed transaction signed by someone else than its owner.
	other := byKind(t, "trc20")
	forged := vec.TxData[:strings.Index(vec.TxData, `"signature":["`)+14] + other.TxData[strings.Index(other.TxData, `"signature":["`)+14:]
	if _, err := DecodeView("TRON", true, "", forged); err == nil || !strings.Contains(err.Error(), "not by owner") {
		t.Fatalf("signature of another transaction: %v", err)
	}
}

// Malformed input is an error.
func TestDecodeViewMalformed(t *testing.T) {
	vec := byKind(t, "native")
	for _, s := range []string{"", "{}", "[]", `{"signature":[]}`, vec.SerializedTransaction, strings.Replace(vec.TxData, `"signature":["`, `"signature":["00`, 1), vec.TxData[:len(vec.TxData)/2]} {
		if _, err := DecodeView("TRON", false, "", s); err == nil {
			t.Errorf("%.60q decoded", s)
		}
	}
	if _, err := DecodeView("ETH", false, "", vec.TxData); err == nil {
		t.Error("another chain decoded")
	}
}

func FuzzDecodeView(f *testing.F) {
	for _, v := range loadVectors(f).Transactions {
		f.Add(v.TxData)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := DecodeView("TRON", false, "", s)
		if err == nil && (v == nil || len(v.Inputs) != 1) {
			t.Fatalf("view %+v", v)
		}
	})
}
