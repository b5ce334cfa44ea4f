package xrp

import (
	"context"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

type txVector struct {
	Kind, Name, Secret, Address, SerializedTransaction, TxBlob, Hash, SigningData string
	Node                                                                          *struct {
		Sequence             uint32
		Fee                  string
		ValidatedLedgerIndex uint32
	}
}

func loadVectors(t testing.TB) []txVector {
	t.Helper()
	b, err := os.ReadFile("../../testdata/xrp/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Transactions []txVector }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Transactions
}

// fakeNode answers with fixed values and counts the calls.
type fakeNode struct {
	seq, ledger uint32
	fee         uint64
	calls       int
	err         error
}

func (n *fakeNode) AccountSequence(context.Context, string) (uint32, error) {
	n.calls++
	return n.seq, n.err
}
func (n *fakeNode) FeeDrops(context.Context) (uint64, error) { n.calls++; return n.fee, n.err }
func (n *fakeNode) ValidatedLedgerIndex(context.Context) (uint32, error) {
	n.calls++
	return n.ledger, n.err
}

func nodeFor(t *testing.T, v txVector) *fakeNode {
	if v.Node == nil {
		return nil
	}
	var fee uint64
	if err := json.Unmarshal([]byte(v.Node.Fee), &fee); err != nil {
		t.Fatal(err)
	}
	return &fakeNode{seq: v.Node.Sequence, ledger: v.Node.ValidatedLedgerIndex, fee: fee}
}

// Every pending transaction signs to the tx_blob xrpl 2.14.1 produced
// (through @tatumio/xrp's kms.sign), byte for byte; the signature verifies
// with a verifier that does not share our code; the blob decodes to what
// was asked.
func TestVectorsByteIdentical(t *testing.T) {
	vs := loadVectors(t)
	kinds := map[string]int{}
	for _, v := range vs {
		kinds[v.Kind]++
		key, err := wallet.XRPKeyFromSecret(v.Secret)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		p := Params{}
		if n := nodeFor(t, v); n != nil {
			p.Node = n
		}
		blob, err := Sign(context.Background(), v.SerializedTransaction, key, p)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		if blob != v.TxBlob {
			t.Errorf("%s:\n got %s\nwant %s", v.Name, blob, v.TxBlob)
			continue
		}
		verifyIndependently(t, v, key)
	}
	for _, k := range []string{"native", "token", "memo", "trustset", "accountset", "autofill"} {
		if kinds[k] < 10 {
			t.Errorf("only %d %s vectors", kinds[k], k)
		}
	}
}

func verifyIndependently(t *testing.T, v txVector, key *wallet.XRPKey) {
	t.Helper()
	dec, err := Decode(v.TxBlob)
	if err != nil {
		t.Fatalf("%s: decode: %v", v.Name, err)
	}
	sig, _ := hex.DecodeString(dec["TxnSignature"].(string))
	pub, _ := hex.DecodeString(dec["SigningPubKey"].(string))
	delete(dec, "TxnSignature")
	data, err := SigningData(dec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ToUpper(hex.EncodeToString(data)) != v.SigningData {
		t.Errorf("%s: signing data differs from ripple-binary-codec's encodeForSigning", v.Name)
	}
	// Verify with the bare libraries.
	ok := false
	if pub[0] == 0xed {
		ok = ed25519.Verify(pub[1:], data, sig)
	} else {
		pk, err1 := btcec.ParsePubKey(pub)
		s, err2 := ecdsa.ParseDERSignature(sig)
		h := sha512.Sum512(data)
		ok = err1 == nil && err2 == nil && s.Verify(h[:32], pk)
	}
	if !ok {
		t.Errorf("%s: signature does not verify against SigningPubKey", v.Name)
	}
	if wallet.XRPAddress(pub) != v.Address || dec["Account"] != v.Address {
		t.Errorf("%s: signer is not the wallet", v.Name)
	}
	// The decoded fields equal what the pending transaction asked.
	var asked map[string]any
	d := json.NewDecoder(strings.NewReader(v.SerializedTransaction))
	d.UseNumber()
	if err := d.Decode(&asked); err != nil {
		t.Fatal(err)
	}
	for k, want := range asked {
		got := dec[k]
		if !sameValue(got, want) {
			t.Errorf("%s: %s decoded as %v, asked %v", v.Name, k, got, want)
		}
	}
	for k := range dec {
		if _, ok := asked[k]; !ok && k != "SigningPubKey" && !(v.Node != nil && (k == "Sequence" || k == "Fee" || k == "LastLedgerSequence")) {
			t.Errorf("%s: blob carries %s, which was not asked", v.Name, k)
		}
	}
}

// sameValue compares decoded and asked JSON values; IOU values compare as
// decimals (the blob holds a normalized mantissa and exponent), hex case
// is ignored.
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		if _, isAmt := w["value"]; isAmt {
			gb, _, _, e1 := iouBits(g["value"].(string))
			wb, _, _, e2 := iouBits(w["value"].(string))
			return e1 == nil && e2 == nil && gb == wb && g["currency"] == w["currency"] && g["issuer"] == w["issuer"]
		}
		if len(g) != len(w) {
			return false
		}
		for k := range w {
			if !sameValue(g[k], w[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameValue(g[i], w[i]) {
				return false
			}
		}
		return true
	case string:
		g, ok := got.(string)
		return ok && strings.EqualFold(g, w)
	case json.Number:
		return got == w
	}
	return false
}

func vectorByKind(t *testing.T, kind string) (txVector, *wallet.XRPKey) {
	for _, v := range loadVectors(t) {
		if v.Kind == kind {
			k, err := wallet.XRPKeyFromSecret(v.Secret)
			if err != nil {
				t.Fatal(err)
			}
			return v, k
		}
	}
	t.Fatalf("no %s vector", kind)
	return txVector{}, nil
}

func edit(t *testing.T, js string, f func(m map[string]any)) string {
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(js))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The attacker controls the pending transaction: each case must be refused
// with ErrRefused, before any signature is made.
func TestRefusals(t *testing.T) {
	v, key := vectorByKind(t, "native")
	other, _ := wallet.XRPKeyFromSecret(loadVectors(t)[1].Secret)
	memo, _ := vectorByKind(t, "memo")
	mk := memo.SerializedTransaction
	cases := []struct {
		name, js, want string
	}{
		{"another account", edit(t, v.SerializedTransaction, func(m map[string]any) { m["Account"] = other.Address() }), "is not the address of the signing wallet"},
		{"fee above the limit", edit(t, v.SerializedTransaction, func(m map[string]any) { m["Fee"] = "2000001" }), "exceeds the limit"},
		{"unknown field", edit(t, v.SerializedTransaction, func(m map[string]any) { m["Paths"] = []any{} }), `"Paths" is not one gokms knows`},
		{"field of another type", edit(t, v.SerializedTransaction, func(m map[string]any) { m["SetFlag"] = json.Number("1") }), `"SetFlag"`},
		{"unsupported type", edit(t, v.SerializedTransaction, func(m map[string]any) { m["TransactionType"] = "AccountDelete" }), "signs only Payment, TrustSet and AccountSet"},
		{"already signed", edit(t, v.SerializedTransaction, func(m map[string]any) { m["TxnSignature"] = "00" }), "already carries TxnSignature"},
		{"multisig", edit(t, v.SerializedTransaction, func(m map[string]any) { m["Signers"] = []any{} }), "already carries Signers"},
		{"X-address destination", edit(t, v.SerializedTransaction, func(m map[string]any) { m["Destination"] = "XVLhHMPHU98es4dbozjVtdWzVrDjtV18pX8yuPT7y4xaEHi" }), "X-addresses are not accepted"},
		{"negative drops", edit(t, v.SerializedTransaction, func(m map[string]any) { m["Amount"] = "-5" }), "whole drops"},
		{"decimal drops", edit(t, v.SerializedTransaction, func(m map[string]any) { m["Amount"] = "1.5" }), "whole drops"},
		{"drops above supply", edit(t, v.SerializedTransaction, func(m map[string]any) { m["Amount"] = "100000000000000001" }), "exceeds 10^17"},
		{"number drops", edit(t, v.SerializedTransaction, func(m map[string]any) { m["Amount"] = json.Number("5") }), "want drops as a string"},
		{"IOU fee", edit(t, v.SerializedTransaction, func(m map[string]any) {
			m["Fee"] = map[string]any{"currency": "USD", "issuer": v.Address, "value": "1"}
		}), "fee must be XRP"},
		{"IOU with XRP currency", edit(t, v.SerializedTransaction, func(m map[string]any) {
			m["Amount"] = map[string]any{"currency": "XRP", "issuer": v.Address, "value": "1"}
		}), "currency XRP"},
		{"lower-case hex currency", edit(t, v.SerializedTransaction, func(m map[string]any) {
			m["Amount"] = map[string]any{"currency": strings.Repeat("ab", 20), "issuer": v.Address, "value": "1"}
		}), "upper-case hex"},
		{"17 digits", edit(t, v.SerializedTransaction, func(m map[string]any) {
			m["Amount"] = map[string]any{"currency": "USD", "issuer": v.Address, "value": "12345678901234567"}
		}), "more than 16 significant digits"},
		{"exponent too large", edit(t, v.SerializedTransaction, func(m map[string]any) {
			m["Amount"] = map[string]any{"currency": "USD", "issuer": v.Address, "value": "1e97"}
		}), "out of XRPL's range"},
		{"extra IOU key", edit(t, v.SerializedTransaction, func(m map[string]any) {
			m["Amount"] = map[string]any{"currency": "USD", "issuer": v.Address, "value": "1", "x": "y"}
		}), "exactly currency, issuer and value"},
		{"tag too large", edit(t, v.SerializedTransaction, func(m map[string]any) { m["DestinationTag"] = json.Number("4294967296") }), "0..4294967295"},
		{"tag as string", edit(t, v.SerializedTransaction, func(m map[string]any) { m["DestinationTag"] = "5" }), "want a JSON number"},
		{"DeliverMin without partial payment", edit(t, v.SerializedTransaction, func(m map[string]any) { m["DeliverMin"] = "5" }), "tfPartialPayment"},
		{"memo not hex", edit(t, mk, func(m map[string]any) {
			m["Account"] = v.Address
			m["Memos"] = []any{map[string]any{"Memo": map[string]any{"MemoData": "zz"}}}
		}), "not hex"},
		{"memo odd hex", edit(t, mk, func(m map[string]any) {
			m["Account"] = v.Address
			m["Memos"] = []any{map[string]any{"Memo": map[string]any{"MemoData": "abc"}}}
		}), "not hex"},
		{"memo unknown key", edit(t, mk, func(m map[string]any) {
			m["Account"] = v.Address
			m["Memos"] = []any{map[string]any{"Memo": map[string]any{"MemoText": "00"}}}
		}), "MemoText"},
		{"duplicate key", strings.Replace(v.SerializedTransaction, `"Amount":"1"`, `"Amount":"1","Amount":"1000000000"`, 1), "appears twice"},
		{"not JSON", "{", "not a JSON object"},
		{"trailing data", v.SerializedTransaction + "{}", "data after"},
		{"missing sequence, no node", edit(t, v.SerializedTransaction, func(m map[string]any) { delete(m, "Sequence") }), "no XRPL node is configured"},
		{"no Destination", edit(t, v.SerializedTransaction, func(m map[string]any) { delete(m, "Destination") }), "without Destination"},
	}
	for _, c := range cases {
		ks := &countingKey{Key: key}
		_, err := Sign(context.Background(), c.js, ks, Params{})
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want a refusal saying %q", c.name, err, c.want)
		}
		if ks.n != 0 {
			t.Errorf("%s: a signature was made before the refusal", c.name)
		}
	}
}

type countingKey struct {
	Key
	n int
}

func (k *countingKey) Sign(b []byte) ([]byte, error) { k.n++; return k.Key.Sign(b) }

func TestMaxFeeConfigurable(t *testing.T) {
	v, key := vectorByKind(t, "native") // Fee "10"
	if _, err := Sign(context.Background(), v.SerializedTransaction, key, Params{MaxFeeDrops: 9}); !errors.Is(err, ErrRefused) {
		t.Fatalf("fee 10 with limit 9: %v", err)
	}
	if _, err := Sign(context.Background(), v.SerializedTransaction, key, Params{MaxFeeDrops: 10}); err != nil {
		t.Fatalf("fee 10 with limit 10: %v", err)
	}
	// A node's fee is held to the same limit.
	a, _ := vectorByKind(t, "autofill")
	n := nodeFor(t, a)
	n.fee = 3_000_000
	if _, err := Sign(context.Background(), a.SerializedTransaction, key, Params{Node: n}); !errors.Is(err, ErrRefused) {
		t.Fatalf("node fee above the limit: %v", err)
	}
}

func TestNodeErrors(t *testing.T) {
	a, key := vectorByKind(t, "autofill")
	n := nodeFor(t, a)
	n.err = errors.New("connection refused")
	_, err := Sign(context.Background(), a.SerializedTransaction, key, Params{Node: n})
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("node error: %v", err)
	}
	n = nodeFor(t, a)
	n.ledger = 1<<32 - 5
	if _, err := Sign(context.Background(), a.SerializedTransaction, key, Params{Node: n}); err == nil {
		t.Fatal("LastLedgerSequence overflow accepted")
	}
	// A complete transaction never asks the node.
	v, key2 := vectorByKind(t, "native")
	n = nodeFor(t, a)
	if _, err := Sign(context.Background(), v.SerializedTransaction, key2, Params{Node: n}); err != nil || n.calls != 0 {
		t.Fatalf("complete tx: %v, %d node calls", err, n.calls)
	}
}

// Errors name fields and values of the transaction, never the secret.
func TestErrorsCarryNoSecret(t *testing.T) {
	v, key := vectorByKind(t, "native")
	_, err := Sign(context.Background(), edit(t, v.SerializedTransaction, func(m map[string]any) { m["Account"] = "rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe" }), key, Params{})
	if err == nil || strings.Contains(err.Error(), v.Secret) || strings.Contains(err.Error(), key.PrivateKeyHex()[2:]) {
		t.Fatalf("error: %v", err)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	v, _ := vectorByKind(t, "memo")
	for _, b := range []string{"zz", v.TxBlob[:len(v.TxBlob)-2], v.TxBlob + "00", "0F"} {
		if _, err := Decode(b); err == nil {
			t.Errorf("Decode(%.20s...) accepted", b)
		}
	}
}

type mapKeys map[string]*wallet.XRPKey

func (m mapKeys) XRPKey(_ context.Context, id string) (Key, error) {
	k, ok := m[id]
	if !ok {
		return nil, errors.New("not found")
	}
	return k, nil
}

func TestSignerRequest(t *testing.T) {
	v, key := vectorByKind(t, "memo")
	s := &Signer{Keys: mapKeys{"id-1": key}}
	req := signing.Request{ID: "p1", Chain: "XRP", SerializedTransaction: v.SerializedTransaction, Hashes: []string{"id-1"}}
	blob, err := s.Sign(context.Background(), req)
	if err != nil || blob != v.TxBlob {
		t.Fatalf("Signer.Sign: %v", err)
	}
	if blob2, err := s.ForRegistry().Sign(context.Background(), req, nil); err != nil || blob2 != v.TxBlob {
		t.Fatalf("ForRegistry: %v", err)
	}
	idx := uint32(1)
	for name, r := range map[string]signing.Request{
		"other chain": {Chain: "XLM", SerializedTransaction: v.SerializedTransaction, Hashes: []string{"id-1"}},
		"two hashes":  {Chain: "XRP", SerializedTransaction: v.SerializedTransaction, Hashes: []string{"id-1", "id-1"}},
		"no hash":     {Chain: "XRP", SerializedTransaction: v.SerializedTransaction},
		"index":       {Chain: "XRP", SerializedTransaction: v.SerializedTransaction, Hashes: []string{"id-1"}, Index: &idx},
	} {
		if _, err := s.Sign(context.Background(), r); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := s.Sign(context.Background(), signing.Request{Chain: "XRP", SerializedTransaction: v.SerializedTransaction, Hashes: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown id: %v", err)
	}
}

// Amount encodings alone against ripple-binary-codec 1.11.0, including
// values it refuses (gokms must refuse them too).
func TestAmountVectors(t *testing.T) {
	b, err := os.ReadFile("../../testdata/xrp/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Amounts []struct {
			Amount     json.RawMessage
			Hex, Error string
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Amounts) < 50 {
		t.Fatalf("only %d amount vectors", len(f.Amounts))
	}
	for _, a := range f.Amounts {
		var v any
		if err := json.Unmarshal(a.Amount, &v); err != nil {
			t.Fatal(err)
		}
		got, err := encodeAmount(v)
		if a.Error != "" {
			if err == nil {
				t.Errorf("%s: encoded, ripple-binary-codec refuses (%s)", a.Amount, a.Error)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", a.Amount, err)
			continue
		}
		if want := strings.TrimPrefix(a.Hex, "61"); strings.ToUpper(hex.EncodeToString(got)) != want {
			t.Errorf("%s: %X, want %s", a.Amount, got, want)
		}
	}
}
