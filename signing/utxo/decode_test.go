package utxo

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/wire"

	"github.com/gokms/gokms/signing"
)

// TestDecodeDesignExample: the DESIGN.md transaction decodes to one P2WPKH
// output of 1000 satoshis and a fee of 1000 (2000 in, 1000 out).
func TestDecodeDesignExample(t *testing.T) {
	v, err := Decode("BTC", false, designExample, "")
	if err != nil {
		t.Fatal(err)
	}
	if v.Signed || !v.Complete() || v.Method != signing.MethodTransfer {
		t.Fatalf("view %+v", v)
	}
	h, _ := hex.DecodeString("87c70889f0a1d2f632d216a01472dde71f062aa7")
	dest, _ := btcutil.NewAddressWitnessPubKeyHash(h, &chaincfg.MainNetParams)
	h, _ = hex.DecodeString("c8e668ee829837a2355c1e234a41f53f86b8156c")
	from, _ := btcutil.NewAddressPubKeyHash(h, &chaincfg.MainNetParams)
	if len(v.Outputs) != 1 || v.Outputs[0].Address != dest.EncodeAddress() || v.Outputs[0].Amount.Int64() != 1000 {
		t.Fatalf("outputs %+v", v.Outputs)
	}
	if v.Fee.Int64() != 1000 || v.Inputs[0].Address != from.EncodeAddress() {
		t.Fatalf("fee %v inputs %+v", v.Fee, v.Inputs)
	}
}

// TestDecodeSigned: the view of a signed transaction comes from its bytes;
// change back to the input's address is not a destination; a signed
// transaction spending other outpoints, or outputs changed after signing,
// are seen as such.
func TestDecodeSigned(t *testing.T) {
	a := testKey("a")
	aP2PKH, _, _ := scriptsOf(a)
	_, bP2WPKH, _ := scriptsOf(testKey("b"))
	ks := newMapKeys()
	ks.pk["pk-a"] = a
	for _, chain := range []string{"BTC", "LTC", "DOGE", "BCH"} {
		t.Run(chain, func(t *testing.T) {
			dest, change := bP2WPKH, aP2PKH
			if chain == "DOGE" || chain == "BCH" {
				bP2PKH, _, _ := scriptsOf(testKey("b"))
				dest = bP2PKH
			}
			ser := bitcoreJSON(t, []tin{{txidOf("1"), 0, aP2PKH, 50000}}, []tin{{script: dest, sat: 30000}, {script: change, sat: 15000}}, false)
			raw, err := signers.Sign(context.Background(), signing.Request{Chain: chain, Testnet: true, SerializedTransaction: ser, Hashes: []string{"pk-a"}}, ks)
			if err != nil {
				t.Fatal(err)
			}
			v, err := Decode(chain, true, ser, raw)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Signed || v.TxID == "" || v.Fee.Int64() != 5000 || !v.Complete() {
				t.Fatalf("view %+v", v)
			}
			d := v.Destinations()
			if len(d) != 1 || d[0] != v.Outputs[0].Address || !v.Outputs[1].Change || v.Outputs[1].Address != v.Inputs[0].Address {
				t.Fatalf("destinations %v outputs %+v inputs %+v", d, v.Outputs, v.Inputs)
			}
			if s := v.Sent()[""]; s.Int64() != 30000 {
				t.Fatalf("sent %v", s)
			}
			// An output rewritten after signing (the signature no longer
			// matters to a decoder): the view shows the bytes, not the JSON.
			tampered := strings.Replace(raw, "3075000000000000", "3175000000000000", 1) // 30000 -> 30001 sat
			if tampered == raw {
				t.Fatal("test did not find the output amount in the raw transaction")
			}
			if v2, err := Decode(chain, true, ser, tampered); err != nil || v2.Outputs[0].Amount.Int64() != 30001 {
				t.Fatalf("tampered view %v, %v", v2, err)
			}
			// Signed bytes that spend another outpoint are refused.
			other := bitcoreJSON(t, []tin{{txidOf("2"), 0, aP2PKH, 50000}}, []tin{{script: dest, sat: 30000}}, false)
			if _, err := Decode(chain, true, other, raw); err == nil || !strings.Contains(err.Error(), "spends") {
				t.Fatalf("other outpoint: %v", err)
			}
		})
	}
}

// TestDecodeUnknownScript: an output paying to a script with no address is
// listed as not understood; an OP_RETURN of zero value is data.
func TestDecodeUnknownScript(t *testing.T) {
	aP2PKH, _, _ := scriptsOf(testKey("a"))
	bare := "51" // OP_TRUE: anyone can spend
	ser := bitcoreJSON(t, []tin{{txidOf("1"), 0, aP2PKH, 50000}}, []tin{{script: bare, sat: 1000}, {script: "6a0568656c6c6f", sat: 0}}, false)
	v, err := Decode("BTC", false, ser, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Unknown) != 1 || !strings.Contains(v.Unknown[0], "output 0 pays 1000") {
		t.Fatalf("unknown %v", v.Unknown)
	}
	if _, err := Decode("BTC", false, "{nope", ""); err == nil {
		t.Fatal("malformed transaction decoded")
	}
	if _, err := Decode("ETH", false, ser, ""); err == nil {
		t.Fatal("ETH decoded as UTXO")
	}
}

// TestPendingViewsShareNothingWrong: one Pending gives the view before
// signing and the view of signed bytes (the scripts' addresses are
// remembered, process-wide); signed bytes that pay another script show that script's
// address, and a view for the other network shows that network's.
func TestPendingViewsShareNothingWrong(t *testing.T) {
	aP2PKH, _, _ := scriptsOf(testKey("a"))
	_, bP2WPKH, _ := scriptsOf(testKey("b"))
	_, cP2WPKH, _ := scriptsOf(testKey("c"))
	ks := newMapKeys()
	ks.pk["pk-a"] = testKey("a")
	ser := bitcoreJSON(t, []tin{{txidOf("1"), 0, aP2PKH, 50000}}, []tin{{script: bP2WPKH, sat: 30000}, {script: aP2PKH, sat: 15000}}, false)
	raw, err := signers.Sign(context.Background(), signing.Request{Chain: "BTC", Testnet: true, SerializedTransaction: ser, Hashes: []string{"pk-a"}}, ks)
	if err != nil {
		t.Fatal(err)
	}
	pd, err := ParsePending("BTC", ser)
	if err != nil {
		t.Fatal(err)
	}
	addr := func(script string, net *chaincfg.Params) string {
		b, _ := hex.DecodeString(script)
		a, err := btcutil.NewAddressWitnessPubKeyHash(b[2:], net)
		if err != nil {
			t.Fatal(err)
		}
		return a.EncodeAddress()
	}
	before, err := pd.View(true, "")
	if err != nil || before.Outputs[0].Address != addr(bP2WPKH, &chaincfg.TestNet3Params) {
		t.Fatalf("before signing: %+v, %v", before, err)
	}
	swapped := strings.Replace(raw, bP2WPKH, cP2WPKH, 1)
	if swapped == raw {
		t.Fatal("test did not find the output script in the raw transaction")
	}
	after, err := pd.View(true, swapped)
	if err != nil || after.Outputs[0].Address != addr(cP2WPKH, &chaincfg.TestNet3Params) || after.Outputs[0].Script != cP2WPKH {
		t.Fatalf("signed bytes paying c: %+v, %v", after.Outputs, err)
	}
	mainnet, err := pd.View(false, "")
	if err != nil || mainnet.Outputs[0].Address != addr(bP2WPKH, &chaincfg.MainNetParams) {
		t.Fatalf("mainnet view: %+v, %v", mainnet.Outputs, err)
	}
}

// TestSignedViewIsTheFullDecode: the view of signed bytes that pay the
// pending transaction's outputs is a copy of the unsigned view (View's
// shortcut); it must equal what decoding those bytes in full gives, on
// every chain and in BCH's hex form (no previous scripts: the full decode
// reads the inputs from the signatures). Bytes that pay anything else are
// decoded in full, from the same Pending.
func TestSignedViewIsTheFullDecode(t *testing.T) {
	k := testKey("full")
	ks := newMapKeys()
	ks.pk["k"] = k
	// form: the chain whose request benchRequest builds (DOGE's P2PKH
	// bitcore JSON for BCH's JSON form; "BCH" is Tatum's hex form).
	for _, c := range []struct{ name, chain, form string }{
		{"BTC", "BTC", "BTC"}, {"LTC", "LTC", "LTC"}, {"DOGE", "DOGE", "DOGE"}, {"BCH", "BCH", "DOGE"}, {"BCH-hex", "BCH", "BCH"},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := c.chain
			req := benchRequest(t, c.form, k, 2)
			req.Chain, req.Testnet = name, true
			raw, err := signers.Sign(context.Background(), req, ks)
			if err != nil {
				t.Fatal(err)
			}
			pd, err := ParsePending(name, req.SerializedTransaction)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pd.View(true, ""); err != nil { // memoised
				t.Fatal(err)
			}
			got, err := pd.View(true, raw)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := hex.DecodeString(raw)
			st := wire.NewMsgTx(wire.TxVersion)
			if err := st.Deserialize(bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
			want, err := pd.build(true, st, st.TxHash().String())
			if err != nil {
				t.Fatal(err)
			}
			if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
				t.Fatalf("signed view\n got %s\nwant %s", g, w)
			}
			if short := pd.paysAsPending(st); short != (c.name != "BCH-hex") {
				t.Fatalf("shortcut taken: %v (the BCH hex form has no previous scripts: its signed view is not the unsigned one's)", short)
			}
			// One satoshi more to the output, after signing: decoded in full.
			tampered := *st.Copy()
			tampered.TxOut[0].Value++
			var buf bytes.Buffer
			if err := tampered.Serialize(&buf); err != nil {
				t.Fatal(err)
			}
			tv, err := pd.View(true, hex.EncodeToString(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if tv.Outputs[0].Amount.Cmp(big.NewInt(st.TxOut[0].Value+1)) != 0 || tv.Fee.Cmp(new(big.Int).Sub(got.Fee, big.NewInt(1))) != 0 {
				t.Fatalf("tampered bytes: outputs %+v fee %v", tv.Outputs, tv.Fee)
			}
		})
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDecodeChangeAmongManyInputs: change is an output to any input's
// address, past the few the decoder scans as well (a map from the 17th
// on), and the amounts are each output's own.
func TestDecodeChangeAmongManyInputs(t *testing.T) {
	for _, n := range []int{1, 16, 17, 40} {
		var ins []tin
		for i := range n {
			p2pkh, _, _ := scriptsOf(testKey(strings.Repeat("k", i+1)))
			ins = append(ins, tin{txidOf(string(rune('a'+i%26)) + strings.Repeat("x", i)), uint32(i), p2pkh, 1000})
		}
		_, foreign, _ := scriptsOf(testKey("foreign"))
		outs := []tin{{script: ins[0].script, sat: 100}, {script: foreign, sat: 200}, {script: ins[n-1].script, sat: 300}}
		v, err := Decode("BTC", true, bitcoreJSON(t, ins, outs, false), "")
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, f := range v.Inputs {
			sum += f.Amount.Int64()
		}
		if !v.Outputs[0].Change || v.Outputs[1].Change || !v.Outputs[2].Change || sum != int64(1000*n) ||
			v.Outputs[0].Amount.Int64() != 100 || v.Outputs[1].Amount.Int64() != 200 || v.Outputs[2].Amount.Int64() != 300 ||
			v.Fee.Int64() != int64(1000*n-600) {
			t.Fatalf("%d inputs: outputs %+v fee %v", n, v.Outputs, v.Fee)
		}
	}
}
