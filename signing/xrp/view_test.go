package xrp

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// Every committed xrpl.js vector's tx_blob decodes to the payment its
// pending transaction's JSON asks for (read here with encoding/json, not
// the codec).
func TestDecodeViewVectors(t *testing.T) {
	for _, vec := range loadVectors(t) {
		t.Run(vec.Name, func(t *testing.T) {
			var asked struct {
				TransactionType, Account, Destination, Fee string
				Amount                                     json.RawMessage
			}
			if err := json.Unmarshal([]byte(vec.SerializedTransaction), &asked); err != nil {
				t.Fatal(err)
			}
			v, err := DecodeView("XRP", false, vec.SerializedTransaction, vec.TxBlob)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Signed || v.TxID != vec.Hash || v.Inputs[0].Address != vec.Address {
				t.Errorf("view %+v", v)
			}
			fee := asked.Fee
			if vec.Node != nil {
				fee = vec.Node.Fee
			}
			if v.Fee == nil || v.Fee.String() != fee {
				t.Errorf("fee %v, want %s", v.Fee, fee)
			}
			if asked.TransactionType != "Payment" {
				if v.Complete() || len(v.Outputs) != 0 {
					t.Errorf("%s: %+v", asked.TransactionType, v)
				}
				return
			}
			if len(v.Outputs) != 1 || v.Outputs[0].Address != asked.Destination {
				t.Fatalf("outputs %+v, want one to %s", v.Outputs, asked.Destination)
			}
			var drops string
			if json.Unmarshal(asked.Amount, &drops) == nil {
				if v.Outputs[0].Amount.String() != drops || v.Sent()[""].String() != drops || !v.Complete() {
					t.Errorf("amount %v, want %s drops (unknown %v)", v.Outputs[0].Amount, drops, v.Unknown)
				}
			} else {
				var iou struct{ Currency, Issuer string }
				_ = json.Unmarshal(asked.Amount, &iou)
				if v.Outputs[0].Token != iou.Currency+"."+iou.Issuer || v.Complete() || v.Sent()[""] != nil {
					t.Errorf("IOU output %+v (unknown %v)", v.Outputs[0], v.Unknown)
				}
			}
			u, err := DecodeView("XRP", false, vec.SerializedTransaction, "")
			if err != nil || u.Signed || u.Outputs[0].Address != asked.Destination {
				t.Errorf("before signing: %+v %v", u, err)
			}
		})
	}
}

// A blob whose Destination or Amount was changed after signing no longer
// verifies: refused, never viewed.
func TestDecodeViewTampered(t *testing.T) {
	var vec txVector
	for _, v := range loadVectors(t) {
		if v.Kind == "native" {
			vec = v
			break
		}
	}
	tx, _ := Decode(vec.TxBlob)
	for _, mut := range []func(map[string]any){
		func(m map[string]any) { m["Amount"] = "1000000000" },
		func(m map[string]any) { m["Destination"] = "rrsbgCpGgm5wycD93JivzwwjDz1Uh5AiJx" },
	} {
		m := map[string]any{}
		for k, x := range tx {
			m[k] = x
		}
		mut(m)
		var b strings.Builder
		blob, err := encodeBlob(m)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(blob)
		if v, err := DecodeView("XRP", false, "", b.String()); err == nil || !strings.Contains(err.Error(), "TxnSignature does not verify") {
			t.Errorf("tampered blob: %+v, %v", v, err)
		}
	}
}

func TestDecodeViewMalformed(t *testing.T) {
	vec := loadVectors(t)[0]
	for _, s := range []string{"zz", "12", vec.TxBlob[:len(vec.TxBlob)-2], vec.TxBlob + "00", vec.SigningData} {
		if _, err := DecodeView("XRP", false, "", s); err == nil {
			t.Errorf("%.40q decoded", s)
		}
	}
	if _, err := DecodeView("XRP", false, `{"TransactionType":"OfferCreate"}`, ""); err == nil {
		t.Error("an OfferCreate decoded")
	}
}

func FuzzDecodeView(f *testing.F) {
	for _, v := range loadVectors(f)[:12] {
		f.Add(v.TxBlob)
	}
	f.Fuzz(func(t *testing.T, s string) { _, _ = DecodeView("XRP", false, "", s) })
}

func encodeBlob(m map[string]any) (string, error) {
	var buf bytesBuffer
	if err := encodeObject(&buf.Buffer, m, false); err != nil {
		return "", err
	}
	return strings.ToUpper(hexEncode(buf.Bytes())), nil
}

type bytesBuffer struct{ bytes.Buffer }

func hexEncode(b []byte) string { return hex.EncodeToString(b) }
