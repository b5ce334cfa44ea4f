// Package backendtest is the one conformance suite every SecretBackend in
// gokms must pass. A backend's tests call Run with a constructor that returns
// a fresh, empty backend for each subtest.
package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokms/gokms/backend"
)

// Run runs the conformance suite. newBackend must return an empty backend;
// the suite closes it.
func Run(t *testing.T, newBackend func(t *testing.T) backend.SecretBackend) {
	t.Helper()
	open := func(t *testing.T) backend.SecretBackend {
		t.Helper()
		b := newBackend(t)
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, b backend.SecretBackend)
	}{
		{"RoundTripMnemonic", testRoundTripMnemonic},
		{"RoundTripPrivateKey", testRoundTripPrivateKey},
		{"RoundTripTatumKMSShapes", testRoundTripShapes},
		{"ExtraKeyIsACopyAndNeverListed", testExtraKey},
		{"ReturnedSecretIsACopy", testCopies},
		{"NotFound", testNotFound},
		{"DuplicateID", testDuplicate},
		{"Delete", testDelete},
		{"ListMetadataOnly", testList},
		{"OddIDs", testOddIDs},
		{"InvalidRecords", testInvalid},
		{"LargeSecret", testLarge},
		{"PutAll", testPutAll},
		{"ThousandRecordsConcurrent", testConcurrent},
		{"ErrorsNeverContainSecrets", testErrorsNoSecrets},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// Secrets used by the suite; each test greps for them in errors and metadata.
const (
	testMnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"
	testKey      = "cTpB4YiyKiBcPxnefsDpbnDxFDffjqJob8wGCEDXxgQ7zQoMXJdH"
)

func mnemonicRecord(id string) backend.Record {
	return backend.Record{
		ID: id, Kind: backend.Mnemonic, Chain: "BTC", Testnet: true,
		Secret: []byte(testMnemonic),
		Xpub:   "tpubDC5FSnBiZDMmhiuCmWAYsLwgLYrrT9rAqvTySfuCCrgsWz8wxMXUS9Tb9iVMvcRbvFcAHGkMD5Kx8koh4GquNGNTfohfk7pgjhaPCdXpoba",
	}
}

func keyRecord(id string) backend.Record {
	return backend.Record{
		ID: id, Kind: backend.PrivateKey, Chain: "ETH", Testnet: false,
		Secret:  []byte(testKey),
		Address: "0x9858effd232b4033e47d90003d41ec34ecaeda94",
	}
}

func mustPut(t *testing.T, b backend.SecretBackend, r backend.Record) {
	t.Helper()
	if err := b.Put(ctx(t), r); err != nil {
		t.Fatalf("Put(%q): %v", r.ID, err)
	}
}

func mustGet(t *testing.T, b backend.SecretBackend, id string) backend.Record {
	t.Helper()
	r, err := b.Get(ctx(t), id)
	if err != nil {
		t.Fatalf("Get(%q): %v", id, err)
	}
	return r
}

// sameRecord compares everything but Created, which the backend may set.
func sameRecord(t *testing.T, got, want backend.Record) {
	t.Helper()
	if got.ID != want.ID || got.Kind != want.Kind || got.Chain != want.Chain || got.Testnet != want.Testnet ||
		got.Xpub != want.Xpub || got.Address != want.Address || !bytes.Equal(got.Secret, want.Secret) ||
		got.Layout != want.Layout || !bytes.Equal(got.ExtraKey, want.ExtraKey) || (got.ExtraKey == nil) != (want.ExtraKey == nil) {
		secretsEqual := bytes.Equal(got.Secret, want.Secret) && bytes.Equal(got.ExtraKey, want.ExtraKey)
		got.Secret, want.Secret, got.ExtraKey, want.ExtraKey = nil, nil, nil, nil // never print secrets, even in tests
		t.Fatalf("record differs (secrets equal: %v):\n got  %+v\n want %+v", secretsEqual, got, want)
	}
	if got.Created.IsZero() {
		t.Errorf("record %q: Created not set by backend", got.ID)
	}
}

func testRoundTripMnemonic(t *testing.T, b backend.SecretBackend) {
	want := mnemonicRecord("8f5f2e53-0b0e-4c6d-9d8e-2b6f9d2a6c11")
	mustPut(t, b, want)
	sameRecord(t, mustGet(t, b, want.ID), want)
}

func testRoundTripPrivateKey(t *testing.T, b backend.SecretBackend) {
	want := keyRecord("26d3883e-4e17-48b3-a0ee-09a3e484ac83")
	mustPut(t, b, want)
	got := mustGet(t, b, want.ID)
	sameRecord(t, got, want)
	if got.Kind != backend.PrivateKey || got.Testnet {
		t.Fatalf("kind/testnet lost: %v %v", got.Kind, got.Testnet)
	}
}

// Secrets used by the tatum-kms shapes; no other test uses them.
const (
	testSolKey  = "3r8sD2bP2M4eU6dNvjJ7mHkXyQpLzWcA9fG1hTbRnKsVqE5uYxZoC7iBwN3aJdMfHg8kLpQrStUvWxYz12345"
	testXrpSeed = "sEdVX4RSB5G1uBizY5LjUN12fNJbT5r"
)

// shapeRecords are records as an import of tatum-kms entries makes them:
// a SOL wallet ({mnemonic, address, privateKey}: a mnemonic with an extra
// key), an XRP wallet ({address, secret}), a batch key ({privateKey}), an
// ETH wallet in its SDK's key order, and a chain gokms does not sign.
func shapeRecords() []backend.Record {
	return []backend.Record{
		{ID: "shape-sol", Kind: backend.Mnemonic, Chain: "SOL", Secret: []byte(testMnemonic), ExtraKey: []byte(testSolKey),
			Address: "9wFFyRfZBsuAha4YcuxcXLKwMxJR43S7fPfQLusDBzvT", Layout: "mnemonic,address,privateKey,chain,testnet"},
		{ID: "shape-xrp", Kind: backend.PrivateKey, Chain: "XRP", Secret: []byte(testXrpSeed),
			Address: "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh", Layout: "address,secret,chain,testnet"},
		{ID: "shape-batch", Kind: backend.PrivateKey, Chain: "XRP", Testnet: true, Secret: []byte(testXrpSeed), Layout: "privateKey,chain,testnet"},
		{ID: "shape-eth", Kind: backend.Mnemonic, Chain: "ETH", Secret: []byte(testMnemonic),
			Xpub: "xpub6EF8jXqFeFEW5bwMU7RpQtHkzE4KJxcqJtvkCjJumzW8CPpacXkb92ek4WzLQXjL93HycJwTPUAcuNxCqFPKKU5m5Z2Vq4nCyh5CyPeBFFr", Layout: "xpub,mnemonic,chain,testnet"},
		{ID: "shape-kcs", Kind: backend.Mnemonic, Chain: "KCS", Secret: []byte(testMnemonic), Xpub: "xpub-of-a-chain-gokms-does-not-sign"},
	}
}

// testRoundTripShapes: every field a tatum-kms entry needs (the extra key
// beside a mnemonic, the layout naming the key's field and the key order)
// comes back from Get, and the layout from List.
func testRoundTripShapes(t *testing.T, b backend.SecretBackend) {
	recs := shapeRecords()
	for _, r := range recs {
		mustPut(t, b, r.Clone())
	}
	for _, want := range recs {
		sameRecord(t, mustGet(t, b, want.ID), want)
	}
	l, err := b.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != len(recs) {
		t.Fatalf("List has %d records, want %d", len(l), len(recs))
	}
	for _, m := range l {
		for _, want := range recs {
			if m.ID == want.ID && (m.Layout != want.Layout || m.Address != want.Address || m.Kind != want.Kind) {
				t.Errorf("List metadata of %q: layout %q address %q kind %s, want %q %q %s", m.ID, m.Layout, m.Address, m.Kind, want.Layout, want.Address, want.Kind)
			}
		}
	}
	// Through a batch write too (the file store writes a batch in one go).
	var batch []backend.Record
	for _, r := range recs {
		r = r.Clone()
		r.ID += "-batch"
		batch = append(batch, r)
	}
	if err := backend.PutAll(ctx(t), b, batch); err != nil {
		t.Fatalf("PutAll: %v", err)
	}
	for _, r := range recs {
		want := r.Clone()
		want.ID += "-batch"
		sameRecord(t, mustGet(t, b, want.ID), want)
	}
	// Records that do not fit their layout, or an extra key beside a
	// private key, are refused and store nothing.
	for _, bad := range []backend.Record{
		{ID: "bad-extra", Kind: backend.PrivateKey, Chain: "SOL", Secret: []byte(testXrpSeed), ExtraKey: []byte(testSolKey)},
		{ID: "bad-empty-extra", Kind: backend.Mnemonic, Chain: "SOL", Secret: []byte(testMnemonic), ExtraKey: []byte{}},
		{ID: "bad-layout", Kind: backend.PrivateKey, Chain: "XRP", Secret: []byte(testXrpSeed), Layout: "address,seed,chain,testnet"},
		{ID: "bad-layout-kind", Kind: backend.PrivateKey, Chain: "XRP", Secret: []byte(testXrpSeed), Layout: "mnemonic,chain,testnet"},
		{ID: "bad-layout-extra", Kind: backend.Mnemonic, Chain: "SOL", Secret: []byte(testMnemonic), Layout: "mnemonic,address,privateKey,chain,testnet"},
		{ID: "bad-layout-twice", Kind: backend.PrivateKey, Chain: "XRP", Secret: []byte(testXrpSeed), Layout: "secret,secret,chain,testnet"},
	} {
		err := b.Put(ctx(t), bad)
		if err == nil {
			t.Errorf("Put(%s) succeeded", bad.ID)
			continue
		}
		if s := err.Error(); strings.Contains(s, testXrpSeed) || strings.Contains(s, testSolKey) || strings.Contains(s, "abandon") {
			t.Errorf("Put(%s): error contains secret material", bad.ID)
		}
		if _, err := b.Get(ctx(t), bad.ID); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("refused record %s was stored (%v)", bad.ID, err)
		}
	}
}

// testExtraKey: the extra key is copied on Put and on Get like Secret, Zero
// wipes it, and List never carries it.
func testExtraKey(t *testing.T, b backend.SecretBackend) {
	r := shapeRecords()[0]
	r.ExtraKey = []byte(testSolKey)
	mustPut(t, b, r)
	for i := range r.ExtraKey {
		r.ExtraKey[i] = 0
	}
	got := mustGet(t, b, r.ID)
	if string(got.ExtraKey) != testSolKey {
		t.Fatal("backend kept a reference to the caller's extra key slice (or lost it)")
	}
	got.Zero()
	for _, c := range got.ExtraKey {
		if c != 0 {
			t.Fatal("Record.Zero left extra key bytes")
		}
	}
	if string(mustGet(t, b, r.ID).ExtraKey) != testSolKey {
		t.Fatal("zeroing a returned extra key changed the stored value")
	}
	l, err := b.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprintf("%+v %#v", l, l); strings.Contains(s, testSolKey) || strings.Contains(s, "abandon") {
		t.Error("List metadata contains the extra key or the mnemonic")
	}
}

func testCopies(t *testing.T, b backend.SecretBackend) {
	r := keyRecord("copy-test")
	r.Secret = []byte(testKey)
	mustPut(t, b, r)
	// The caller zeroes its slice after Put; the stored value must survive.
	for i := range r.Secret {
		r.Secret[i] = 0
	}
	got := mustGet(t, b, "copy-test")
	if string(got.Secret) != testKey {
		t.Fatal("backend kept a reference to the caller's secret slice")
	}
	got.Zero()
	if string(mustGet(t, b, "copy-test").Secret) != testKey {
		t.Fatal("zeroing a returned secret changed the stored value")
	}
}

func testNotFound(t *testing.T, b backend.SecretBackend) {
	mustPut(t, b, keyRecord("present"))
	if _, err := b.Get(ctx(t), "absent"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Get(absent) = %v, want ErrNotFound", err)
	}
	if err := b.Delete(ctx(t), "absent"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Delete(absent) = %v, want ErrNotFound", err)
	}
	if _, err := b.Get(ctx(t), "presen"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Get(prefix of id) = %v, want ErrNotFound", err)
	}
}

func testDuplicate(t *testing.T, b backend.SecretBackend) {
	first := keyRecord("dup")
	mustPut(t, b, first)
	second := mnemonicRecord("dup")
	err := b.Put(ctx(t), second)
	if !errors.Is(err, backend.ErrExists) {
		t.Fatalf("second Put(dup) = %v, want ErrExists", err)
	}
	sameRecord(t, mustGet(t, b, "dup"), first)
	l, err := b.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 1 {
		t.Fatalf("List after duplicate Put has %d entries, want 1", len(l))
	}
}

func testDelete(t *testing.T, b backend.SecretBackend) {
	mustPut(t, b, keyRecord("del-1"))
	mustPut(t, b, keyRecord("del-2"))
	if err := b.Delete(ctx(t), "del-1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := b.Get(ctx(t), "del-1"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := b.Delete(ctx(t), "del-1"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("second Delete = %v, want ErrNotFound", err)
	}
	mustGet(t, b, "del-2")
	l, err := b.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 1 || l[0].ID != "del-2" {
		t.Fatalf("List after Delete = %v, want [del-2]", ids(l))
	}
	// A deleted id can be stored again.
	again := mnemonicRecord("del-1")
	mustPut(t, b, again)
	sameRecord(t, mustGet(t, b, "del-1"), again)
}

func ids(l []backend.Meta) []string {
	var s []string
	for _, m := range l {
		s = append(s, m.ID)
	}
	sort.Strings(s)
	return s
}

func testList(t *testing.T, b backend.SecretBackend) {
	l, err := b.List(ctx(t))
	if err != nil {
		t.Fatalf("List on empty backend: %v", err)
	}
	if len(l) != 0 {
		t.Fatalf("empty backend lists %d records", len(l))
	}
	m := mnemonicRecord("list-m")
	k := keyRecord("list-k")
	mustPut(t, b, m)
	mustPut(t, b, k)
	l, err = b.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(l); !reflect.DeepEqual(got, []string{"list-k", "list-m"}) {
		t.Fatalf("List ids = %v", got)
	}
	for _, meta := range l {
		want := m
		if meta.ID == k.ID {
			want = k
		}
		if meta.Kind != want.Kind || meta.Chain != want.Chain || meta.Testnet != want.Testnet ||
			meta.Xpub != want.Xpub || meta.Address != want.Address {
			// Only the id: a broken backend may have put secret material in the metadata.
			t.Errorf("List metadata of %q does not match the stored record (kind/chain/testnet/xpub/address)", meta.ID)
		}
		if meta.Created.IsZero() {
			t.Errorf("List meta %q: Created not set", meta.ID)
		}
		if s := fmt.Sprintf("%+v %#v", meta, meta); strings.Contains(s, testMnemonic) || strings.Contains(s, testKey) ||
			strings.Contains(s, "abandon") {
			t.Errorf("List metadata contains secret material")
		}
	}
}

// OddIDs: whatever the backend's naming rules (Azure allows only letters,
// digits and '-'), distinct ids must map to distinct records.
func testOddIDs(t *testing.T, b backend.SecretBackend) {
	odd := []string{
		"a-b", "a_b", "a.b", "A-B", "a/b", "a//b", "/leading", "trailing/", "..", "with space",
		"ünïcødé-ключ", "%2F", "a%2Fb", "x?y=1&z#frag", "tab\tin", `quote"s'`, "*",
		strings.Repeat("z", backend.MaxIDLen),
	}
	for i, id := range odd {
		r := keyRecord(id)
		r.Secret = []byte(fmt.Sprintf("%s-%d", testKey, i))
		mustPut(t, b, r)
	}
	for i, id := range odd {
		got := mustGet(t, b, id)
		if got.ID != id || string(got.Secret) != fmt.Sprintf("%s-%d", testKey, i) {
			t.Errorf("id %q came back as %q or with another record's secret", id, got.ID)
		}
	}
	l, err := b.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string(nil), odd...)
	sort.Strings(want)
	if got := ids(l); !reflect.DeepEqual(got, want) {
		t.Fatalf("List ids = %q\nwant %q", got, want)
	}
	if err := b.Delete(ctx(t), "a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx(t), "a//b"); err != nil {
		t.Fatalf("deleting a/b affected a//b: %v", err)
	}
}

func testInvalid(t *testing.T, b backend.SecretBackend) {
	bad := []backend.Record{
		{ID: "", Kind: backend.PrivateKey, Chain: "ETH", Secret: []byte(testKey)},
		{ID: "no-secret", Kind: backend.PrivateKey, Chain: "ETH"},
		{ID: "bad-kind", Kind: "weird", Chain: "ETH", Secret: []byte(testKey)},
		{ID: "no-chain", Kind: backend.PrivateKey, Secret: []byte(testKey)},
		{ID: strings.Repeat("y", backend.MaxIDLen+1), Kind: backend.PrivateKey, Chain: "ETH", Secret: []byte(testKey)},
	}
	for _, r := range bad {
		err := b.Put(ctx(t), r)
		if err == nil {
			t.Errorf("Put(%.20q) of an invalid record succeeded", r.ID)
			continue
		}
		if strings.Contains(err.Error(), testKey) {
			t.Errorf("error for invalid record contains the secret")
		}
	}
	l, err := b.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 0 {
		t.Fatalf("invalid records were stored: %v", ids(l))
	}
}

func testLarge(t *testing.T, b backend.SecretBackend) {
	r := keyRecord("large")
	r.Secret = bytes.Repeat([]byte("0123456789abcdef"), 4096/16) // 4 KiB
	r.Secret[0] = 0                                              // binary-safe
	r.Secret[len(r.Secret)-1] = 0xff
	mustPut(t, b, r)
	sameRecord(t, mustGet(t, b, "large"), r)
}

func testPutAll(t *testing.T, b backend.SecretBackend) {
	var rs []backend.Record
	for i := 0; i < 50; i++ {
		rs = append(rs, keyRecord(fmt.Sprintf("batch-%03d", i)))
	}
	if err := backend.PutAll(ctx(t), b, rs); err != nil {
		t.Fatalf("PutAll: %v", err)
	}
	for _, r := range rs {
		sameRecord(t, mustGet(t, b, r.ID), r)
	}
	if _, ok := b.(backend.BatchPutter); !ok {
		return
	}
	// A batch with a taken id stores nothing.
	clash := []backend.Record{keyRecord("batch-new-1"), keyRecord("batch-007"), keyRecord("batch-new-2")}
	if err := backend.PutAll(ctx(t), b, clash); !errors.Is(err, backend.ErrExists) {
		t.Fatalf("PutBatch with a taken id = %v, want ErrExists", err)
	}
	for _, id := range []string{"batch-new-1", "batch-new-2"} {
		if _, err := b.Get(ctx(t), id); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("PutBatch failed but stored %q (%v)", id, err)
		}
	}
	// Duplicate ids inside one batch are refused too.
	if err := backend.PutAll(ctx(t), b, []backend.Record{keyRecord("twice"), keyRecord("twice")}); err == nil {
		t.Errorf("PutBatch with the same id twice succeeded")
	}
}

// testConcurrent stores 1,000 records from 8 goroutines that also Get and
// List while they write, then checks every record.
func testConcurrent(t *testing.T, b backend.SecretBackend) {
	const workers, total = 8, 1000
	c := ctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < total; i += workers {
				id := fmt.Sprintf("conc-%04d", i)
				r := keyRecord(id)
				r.Secret = []byte(fmt.Sprintf("secret-%04d", i))
				if err := b.Put(c, r); err != nil {
					errs <- fmt.Errorf("Put %s: %w", id, err)
					return
				}
				got, err := b.Get(c, id)
				if err != nil {
					errs <- fmt.Errorf("Get %s: %w", id, err)
					return
				}
				if string(got.Secret) != string(r.Secret) {
					errs <- fmt.Errorf("Get %s returned another record's secret", id)
					return
				}
				if i%100 == w {
					if _, err := b.List(c); err != nil {
						errs <- fmt.Errorf("List: %w", err)
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	l, err := b.List(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != total {
		t.Fatalf("List has %d records, want %d", len(l), total)
	}
	seen := map[string]bool{}
	for _, m := range l {
		if seen[m.ID] {
			t.Fatalf("List returned %q twice", m.ID)
		}
		seen[m.ID] = true
	}
	for i := 0; i < total; i += 37 {
		id := fmt.Sprintf("conc-%04d", i)
		if got := mustGet(t, b, id); string(got.Secret) != fmt.Sprintf("secret-%04d", i) {
			t.Fatalf("%s has the wrong secret", id)
		}
	}
}

func testErrorsNoSecrets(t *testing.T, b backend.SecretBackend) {
	r := keyRecord("secret-in-errors")
	mustPut(t, b, r)
	var errs []error
	errs = append(errs, b.Put(ctx(t), r)) // duplicate, carries the secret
	m := mnemonicRecord("secret-in-errors")
	errs = append(errs, b.Put(ctx(t), m))
	bad := keyRecord("x")
	bad.Kind = "nope"
	errs = append(errs, b.Put(ctx(t), bad))
	tooLong := keyRecord(strings.Repeat("q", backend.MaxIDLen+1))
	errs = append(errs, b.Put(ctx(t), tooLong))
	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: expected an error", i)
			continue
		}
		msg := fmt.Sprintf("%v %+v", err, err)
		for _, s := range []string{testKey, testMnemonic, "abandon abandon"} {
			if strings.Contains(msg, s) {
				t.Errorf("case %d: error contains secret material: it must not echo secrets or secret-looking ids", i)
			}
		}
	}
}
