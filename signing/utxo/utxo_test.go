package utxo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/signing"
)

// The pending transaction from DESIGN.md (Tatum's KMS guide).
const designExample = `{"hash":"81e62bdfbfc7bcb66c2a2f17335d033fd98b84c1188a7bb379a2dce9f1cda989","version":2,"inputs":[{"prevTxId":"121702fd7acd1b2cca6bd19658009140730ba26ca67cd222c00f952a111e11f4","outputIndex":0,"sequenceNumber":4294967295,"script":"","scriptString":"","output":{"satoshis":2000,"script":"76a914c8e668ee829837a2355c1e234a41f53f86b8156c88ac"}}],"outputs":[{"satoshis":1000,"script":"001487c70889f0a1d2f632d216a01472dde71f062aa7"}],"nLockTime":0}`

func testKey(label string) *btcec.PrivateKey {
	h := sha256.Sum256([]byte("gokms utxo test " + label))
	k, _ := btcec.PrivKeyFromBytes(h[:])
	return k
}

// bitcoreJSON builds a bitcore-shaped unsigned transaction; hash is filled
// in from the contents unless badHash.
type tin struct {
	txid   string
	vout   uint32
	script string
	sat    any
}

func bitcoreJSON(t *testing.T, ins []tin, outs []tin, badHash bool) string {
	t.Helper()
	obj := map[string]any{"version": 2, "nLockTime": 0}
	var inputs, outputs []map[string]any
	for _, in := range ins {
		inputs = append(inputs, map[string]any{"prevTxId": in.txid, "outputIndex": in.vout, "sequenceNumber": 4294967295,
			"script": "", "scriptString": "", "output": map[string]any{"satoshis": in.sat, "script": in.script}})
	}
	for _, o := range outs {
		outputs = append(outputs, map[string]any{"satoshis": o.sat, "script": o.script})
	}
	obj["inputs"], obj["outputs"] = inputs, outputs
	b, _ := json.Marshal(obj)
	p, err := parseBitcore(btcInfo, string(b))
	if err == nil {
		h := p.tx.TxHash().String()
		if badHash {
			h = strings.Repeat("0", 64)
		}
		obj["hash"] = h
		b, _ = json.Marshal(obj)
	}
	return string(b)
}

func txidOf(label string) string {
	h := sha256.Sum256([]byte(label))
	return hex.EncodeToString(h[:])
}

func scriptsOf(k *btcec.PrivateKey) (p2pkh, p2wpkh, nested string) {
	kk := newKey(k, k.PubKey(), "")
	return hex.EncodeToString(p2pkhScript(kk.hc)), hex.EncodeToString(append([]byte{0, 20}, kk.hc...)),
		hex.EncodeToString(append(append([]byte{0xa9, 20}, kk.nested...), 0x87))
}

func TestDesignExampleParses(t *testing.T) {
	p, err := parseBitcore(btcInfo, designExample)
	if err != nil {
		t.Fatalf("the DESIGN.md example must parse and its hash match: %v", err)
	}
	if got := p.tx.TxHash().String(); got != "81e62bdfbfc7bcb66c2a2f17335d033fd98b84c1188a7bb379a2dce9f1cda989" {
		t.Fatal(got)
	}
	// We do not hold its key: signing must fail naming the owner's address.
	ks := newMapKeys()
	ks.pk["b8eb99cd-ba04-4031-a65f-11d6420ebdd1"] = testKey("other")
	_, err = signers.Sign(context.Background(), signing.Request{ID: "61fe7c68cf2fbc595cbb89dd", Chain: "BTC",
		SerializedTransaction: designExample, Hashes: []string{"b8eb99cd-ba04-4031-a65f-11d6420ebdd1"}}, ks)
	if err == nil || !strings.Contains(err.Error(), "controlled by none of the keys of signatureId b8eb99cd-ba04-4031-a65f-11d6420ebdd1") ||
		!strings.Contains(err.Error(), "input 0") {
		t.Fatalf("err = %v", err)
	}
}

func TestSignErrors(t *testing.T) {
	a, b := testKey("a"), testKey("b")
	aP2PKH, aP2WPKH, _ := scriptsOf(a)
	bP2PKH, _, _ := scriptsOf(b)
	dest := aP2WPKH
	ks := newMapKeys()
	ks.pk["pk-a"] = a
	ks.pk["pk-b"] = b
	ks.mn["mn"] = map[uint32]*btcec.PrivateKey{0: b}

	good := bitcoreJSON(t, []tin{{txidOf("1"), 0, aP2PKH, 5000}}, []tin{{script: dest, sat: 4000}}, false)
	cases := []struct {
		name string
		req  signing.Request
		want string
	}{
		{"unsigned input", signing.Request{Chain: "BTC", Hashes: []string{"pk-a"}, SerializedTransaction: bitcoreJSON(t,
			[]tin{{txidOf("1"), 0, aP2PKH, 5000}, {txidOf("2"), 1, bP2PKH, 5000}}, []tin{{script: dest, sat: 9000}}, false)},
			"input 1 (" + txidOf("2") + ":1): P2PKH output to 1"},
		{"hash mismatch", signing.Request{Chain: "BTC", Hashes: []string{"pk-a"}, SerializedTransaction: bitcoreJSON(t,
			[]tin{{txidOf("1"), 0, aP2PKH, 5000}}, []tin{{script: dest, sat: 4000}}, true)}, "does not match its contents"},
		{"outputs exceed inputs", signing.Request{Chain: "BTC", Hashes: []string{"pk-a"}, SerializedTransaction: bitcoreJSON(t,
			[]tin{{txidOf("1"), 0, aP2PKH, 5000}}, []tin{{script: dest, sat: 5001}}, false)}, "outputs spend 5001 satoshis but the inputs hold only 5000"},
		{"fractional amount", signing.Request{Chain: "BTC", Hashes: []string{"pk-a"}, SerializedTransaction: bitcoreJSON(t,
			[]tin{{txidOf("1"), 0, aP2PKH, 50.5}}, []tin{{script: dest, sat: 40}}, false)}, "not a whole number"},
		{"too much money", signing.Request{Chain: "BTC", Hashes: []string{"pk-a"}, SerializedTransaction: bitcoreJSON(t,
			[]tin{{txidOf("1"), 0, aP2PKH, int64(21e14 + 1)}}, []tin{{script: dest, sat: 40}}, false)}, "exceeds the BTC maximum"},
		{"duplicate input", signing.Request{Chain: "BTC", Hashes: []string{"pk-a"}, SerializedTransaction: bitcoreJSON(t,
			[]tin{{txidOf("1"), 0, aP2PKH, 5000}, {txidOf("1"), 0, aP2PKH, 5000}}, []tin{{script: dest, sat: 40}}, false)}, "as input 0 already does"},
		{"no previous output", signing.Request{Chain: "BTC", Hashes: []string{"pk-a"}, SerializedTransaction: strings.Replace(good, `"output":{"satoshis":5000,"script":"`+aP2PKH+`"}`, `"output":null`, 1)},
			"no previous output"},
		{"not json", signing.Request{Chain: "BTC", Hashes: []string{"pk-a"}, SerializedTransaction: "{nope"}, "parse serializedTransaction"},
		{"empty", signing.Request{Chain: "BTC", Hashes: []string{"pk-a"}}, "empty serializedTransaction"},
		{"unknown script type", signing.Request{Chain: "BTC", Hashes: []string{"pk-a"}, SerializedTransaction: bitcoreJSON(t,
			[]tin{{txidOf("1"), 0, "5120" + strings.Repeat("ab", 32), 5000}}, []tin{{script: dest, sat: 40}}, false)}, "is not P2PKH, P2WPKH or P2SH-P2WPKH"},
		{"segwit on DOGE", signing.Request{Chain: "DOGE", Hashes: []string{"pk-a"}, SerializedTransaction: bitcoreJSON(t,
			[]tin{{txidOf("1"), 0, aP2WPKH, 5000}}, []tin{{script: dest, sat: 40}}, false)}, "DOGE has no segwit"},
		{"segwit on BCH", signing.Request{Chain: "BCH", Hashes: []string{"pk-a"}, SerializedTransaction: bitcoreJSON(t,
			[]tin{{txidOf("1"), 0, aP2WPKH, 5000}}, []tin{{script: dest, sat: 40}}, false)}, "BCH has no segwit"},
		{"unknown signatureId", signing.Request{Chain: "BTC", Hashes: []string{"nope"}, SerializedTransaction: good}, "no wallet for signatureId nope"},
		{"mnemonic without index", signing.Request{Chain: "BTC", Hashes: []string{"mn"}, SerializedTransaction: good}, "mnemonic wallet but no index"},
		{"private key with index", signing.Request{Chain: "BTC", Signatures: []signing.SignatureRef{{ID: "pk-a", Index: u32(1)}}, SerializedTransaction: good}, "private-key wallet but an index"},
		{"no signatureIds", signing.Request{Chain: "BTC", SerializedTransaction: good}, "names no signatureId"},
		{"offchain without hashes", signing.Request{Chain: "BTC", WithdrawalID: "w1", SerializedTransaction: good,
			WithdrawalResponses: json.RawMessage(`[{"vIn":"x","address":{"derivationKey":0}}]`)}, "names no wallet signatureId"},
		{"offchain without responses", signing.Request{Chain: "BTC", WithdrawalID: "w1", Hashes: []string{"mn"}, SerializedTransaction: good}, "has no withdrawalResponses"},
		{"offchain only pool entry", signing.Request{Chain: "BTC", WithdrawalID: "w1", Hashes: []string{"mn"}, SerializedTransaction: good,
			WithdrawalResponses: json.RawMessage(`[{"vIn":"-1"}]`)}, "name no input to sign"},
		{"offchain negative index", signing.Request{Chain: "BTC", WithdrawalID: "w1", Hashes: []string{"mn"}, SerializedTransaction: good,
			WithdrawalResponses: json.RawMessage(`[{"vIn":"ab","address":{"derivationKey":-3}}]`)}, "not a valid non-hardened index"},
		{"offchain wrong key", signing.Request{Chain: "BTC", WithdrawalID: "w1", Hashes: []string{"mn"}, SerializedTransaction: good,
			WithdrawalResponses: json.RawMessage(`[{"vIn":"ab","address":{}}]`)}, "controlled by none of the keys of signatureId mn index 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := signers.Sign(context.Background(), c.req, ks)
			if err == nil {
				t.Fatalf("signed %s, want error containing %q", out, c.want)
			}
			if out != "" {
				t.Fatalf("returned a transaction with the error: %s", out)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, c.want)
			}
			for _, k := range []*btcec.PrivateKey{a, b} {
				if strings.Contains(err.Error(), hex.EncodeToString(k.Serialize())) {
					t.Fatal("private key in error")
				}
			}
		})
	}
}

func TestWrongChain(t *testing.T) {
	_, err := (&Signer{c: btcInfo}).Sign(context.Background(), signing.Request{Chain: "LTC", Hashes: []string{"x"}, SerializedTransaction: designExample}, newMapKeys())
	if err == nil || !strings.Contains(err.Error(), "BTC signer given a LTC transaction") {
		t.Fatal(err)
	}
}

func u32(v uint32) *uint32 { return &v }

func TestStringSatoshisAccepted(t *testing.T) {
	a := testKey("a")
	aP2PKH, aP2WPKH, _ := scriptsOf(a)
	ks := newMapKeys()
	ks.pk["pk-a"] = a
	s := bitcoreJSON(t, []tin{{txidOf("1"), 0, aP2PKH, "5000"}}, []tin{{script: aP2WPKH, sat: "4000"}}, false)
	if _, err := signers.Sign(context.Background(), signing.Request{Chain: "BTC", Hashes: []string{"pk-a"}, SerializedTransaction: s}, ks); err != nil {
		t.Fatal(err)
	}
}

// TestKeysResolvedOnce: a key named by several inputs and by both hashes and
// signatures is asked of the KeySource once per (id, index).
func TestKeysResolvedOnce(t *testing.T) {
	a := testKey("a")
	aP2PKH, aP2WPKH, aNested := scriptsOf(a)
	ks := newMapKeys()
	ks.pk["pk-a"] = a
	s := bitcoreJSON(t, []tin{{txidOf("1"), 0, aP2PKH, 5000}, {txidOf("2"), 0, aP2WPKH, 5000}, {txidOf("3"), 0, aNested, 5000}},
		[]tin{{script: aP2WPKH, sat: 14000}}, false)
	if _, err := signers.Sign(context.Background(), signing.Request{Chain: "LTC", Hashes: []string{"pk-a", "pk-a"}, SerializedTransaction: s}, ks); err != nil {
		t.Fatal(err)
	}
	if ks.calls != 1 {
		t.Fatalf("KeySource called %d times", ks.calls)
	}
}

func TestBCHHexErrors(t *testing.T) {
	var bchHex string
	for _, v := range loadVectors(t) {
		if v.Name == "BCH hex form two P2PKH inputs mainnet" {
			bchHex = v.Request.SerializedTransaction
		}
	}
	h, _, _ := strings.Cut(bchHex, ":")
	ks := newMapKeys()
	ks.pk["a"], ks.pk["b"], ks.pk["c"] = testKey("a"), testKey("b"), testKey("c")
	for _, c := range []struct {
		name, tx string
		hashes   []string
		want     string
	}{
		{"amount count", h + ":[1000]", []string{"a", "b"}, "has 2 inputs but 1 amounts"},
		{"no amounts", h, []string{"a", "b"}, "neither bitcore JSON"},
		{"bad hex", "zz" + h + ":[1,2]", []string{"a", "b"}, "not hex"},
		{"three keys for two inputs", h + ":[80000,120000]", []string{"a", "b", "c"}, "has 2 inputs but 3 keys"},
		{"outputs exceed", h + ":[1,2]", []string{"a", "b"}, "inputs hold only 3"},
		{"trailing bytes", h + "00:[80000,120000]", []string{"a", "b"}, "bytes after the transaction"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := signers.Sign(context.Background(), signing.Request{Chain: "BCH", Hashes: c.hashes, SerializedTransaction: c.tx}, ks)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	// One key signs every input.
	out, err := signers.Sign(context.Background(), signing.Request{Chain: "BCH", Hashes: []string{"a"}, SerializedTransaction: h + ":[80000,120000]"}, ks)
	if err != nil || out == "" {
		t.Fatalf("single key: %v", err)
	}
}

func TestRegistered(t *testing.T) {
	for _, c := range []string{"BTC", "LTC", "DOGE", "BCH"} {
		if _, err := signers.For(c); err != nil {
			t.Error(err)
		}
	}
	if s, ok := For("ltc"); !ok || s.c != ltcInfo {
		t.Error("For(ltc)")
	}
	if _, ok := For("ETH"); ok {
		t.Error("For(ETH)")
	}
}

// SignDetailed returns what Sign returns, and the view of those bytes:
// inputs with the values the pending transaction gave them, outputs with
// addresses, the fee, the txid.
func TestSignDetailedView(t *testing.T) {
	a, b := testKey("a"), testKey("b")
	_, aP2WPKH, _ := scriptsOf(a)
	_, bP2WPKH, _ := scriptsOf(b)
	ks := newMapKeys()
	ks.pk["pk-a"] = a
	s := bitcoreJSON(t, []tin{{txidOf("1"), 1, aP2WPKH, 7000}, {txidOf("2"), 0, aP2WPKH, 5000}},
		[]tin{{script: bP2WPKH, sat: 9000}, {script: aP2WPKH, sat: 2500}}, false)
	req := signing.Request{Chain: "BTC", Testnet: true, Hashes: []string{"pk-a"}, SerializedTransaction: s}
	raw, err := signers.Sign(context.Background(), req, ks)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := signers.SignDetailed(context.Background(), req, ks)
	if err != nil {
		t.Fatal(err)
	}
	if sd.Raw != raw {
		t.Fatalf("SignDetailed signed %s, Sign %s", sd.Raw, raw)
	}
	v := sd.View
	want, err := Decode("BTC", true, s, raw) // the policy's decoder, from the bytes
	if err != nil {
		t.Fatal(err)
	}
	if sd.TxID != want.TxID || v.Fee == nil || v.Fee.Int64() != 500 || len(v.Inputs) != 2 || len(v.Outputs) != 2 {
		t.Fatalf("view %+v, txid %s (want %s), fee %v", v, sd.TxID, want.TxID, v.Fee)
	}
	for i, in := range v.Inputs {
		if in.Value == nil || in.Value.Cmp(want.Inputs[i].Amount) != 0 {
			t.Errorf("input %d value %v, want %v", i, in.Value, want.Inputs[i].Amount)
		}
	}
	for i, o := range v.Outputs {
		if o.Address != want.Outputs[i].Address || o.Value.Cmp(want.Outputs[i].Amount) != 0 {
			t.Errorf("output %d %s %v, want %s %v", i, o.Address, o.Value, want.Outputs[i].Address, want.Outputs[i].Amount)
		}
	}
}
