package file

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/gokms/gokms/backend"
)

// The committed vectors pin format version 1 forever: a gokms that cannot
// open testdata/v1/store.dat with the records below has broken every
// existing store. Regenerate only for a new format version (new directory):
//
//	go test ./backend/file -run TestFormatVectors -update-vectors
var updateVectors = flag.Bool("update-vectors", false, "rewrite testdata/v1 (only when introducing a format version)")

const vectorDir = "testdata/v1"

type vectorRecord struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Chain     string    `json:"chain"`
	Testnet   bool      `json:"testnet"`
	SecretHex string    `json:"secret_hex"`
	Xpub      string    `json:"xpub,omitempty"`
	Address   string    `json:"address,omitempty"`
	Created   time.Time `json:"created"`
	SealedHex string    `json:"sealed_hex"` // the value in the records bucket
}

type vectorFile struct {
	Comment    string         `json:"comment"`
	Password   string         `json:"password"`
	KDF        KDFParams      `json:"kdf"`
	HeaderHex  string         `json:"header_hex"`
	DataKeyHex string         `json:"data_key_hex"`
	Records    []vectorRecord `json:"records"`
	// Many describes many.dat: records rec-0..rec-59 (content from
	// expectedRecord in helper_test.go) but rec-7, deleted; same password.
	// Several leaf pages under a branch page, and a freelist: the fuzz seed.
	Many struct {
		HeaderHex  string `json:"header_hex"`
		DataKeyHex string `json:"data_key_hex"`
	} `json:"many"`
}

const manyRecords, manyDeleted = 60, "rec-7"

func (v vectorRecord) record(t testing.TB) backend.Record {
	secret, err := hex.DecodeString(v.SecretHex)
	if err != nil {
		t.Fatal(err)
	}
	return backend.Record{ID: v.ID, Kind: backend.Kind(v.Kind), Chain: v.Chain, Testnet: v.Testnet, Secret: secret, Xpub: v.Xpub, Address: v.Address, Created: v.Created}
}

func vectorRecords() []backend.Record {
	binary := bytes.Repeat([]byte{0, 1, 2, 0xfe, 0xff}, 1000) // 5,000 bytes: spills onto an overflow page
	return []backend.Record{
		{ID: "3f1c8a8e-2f43-4d5a-9c3b-0d7e2f6a1b10", Kind: backend.Mnemonic, Chain: "BTC", Testnet: true,
			Secret:  []byte("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"),
			Xpub:    "tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M",
			Created: time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.UTC)},
		{ID: "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d", Kind: backend.PrivateKey, Chain: "ETH",
			Secret:  []byte("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"),
			Address: "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23",
			Created: time.Date(2026, 11, 25, 12, 0, 1, 0, time.UTC)},
		{ID: "ünïcødé/id?with=odd#chars", Kind: backend.PrivateKey, Chain: "TRON", Testnet: true,
			Secret: binary, Created: time.Date(2026, 11, 25, 12, 0, 2, 0, time.UTC)},
	}
}

func TestFormatVectors(t *testing.T) {
	if *updateVectors {
		writeVectors(t)
	}
	raw, err := os.ReadFile(filepath.Join(vectorDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	// Work on a copy so that nothing can touch the committed file.
	orig, err := os.ReadFile(filepath.Join(vectorDir, "store.dat"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "store.dat")
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}

	// 1. The header decodes to the documented fields and unwraps the data key.
	hb, _ := hex.DecodeString(v.HeaderHex)
	h, err := decodeHeader(hb)
	if err != nil {
		t.Fatal(err)
	}
	if h.KDF != v.KDF {
		t.Fatalf("header KDF %v, vectors say %v", h.KDF, v.KDF)
	}
	key, err := h.unwrap([]byte(v.Password))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(key) != v.DataKeyHex {
		t.Fatal("header unwraps to another data key")
	}
	if _, err := h.unwrap([]byte(v.Password + "x")); !errors.Is(err, backend.ErrBadPassword) {
		t.Fatalf("wrong password unwraps: %v", err)
	}
	// 2. Each sealed record opens under the data key to its documented content.
	aead, _ := chacha20poly1305.NewX(key)
	for _, vr := range v.Records {
		sealed, _ := hex.DecodeString(vr.SealedHex)
		got, err := openRecord(aead, vr.ID, sealed)
		if err != nil {
			t.Fatalf("%s: %v", vr.ID, err)
		}
		sameVectorRecord(t, got, vr.record(t))
	}
	// 3. The committed file holds exactly that header and those records,
	// and opens through the public API.
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		if !bytes.Equal(tx.Bucket(bucketMeta).Get(keyHeader), hb) {
			t.Error("store.dat header differs from header_hex")
		}
		n := 0
		tx.Bucket(bucketRecords).ForEach(func(k, val []byte) error { n++; return nil })
		if n != len(v.Records) {
			t.Errorf("store.dat holds %d records, want %d", n, len(v.Records))
		}
		for _, vr := range v.Records {
			if hex.EncodeToString(tx.Bucket(bucketRecords).Get([]byte(vr.ID))) != vr.SealedHex {
				t.Errorf("store.dat record %q differs from sealed_hex", vr.ID)
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, []byte(v.Password), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	l, err := s.List(ctx)
	if err != nil || len(l) != len(v.Records) {
		t.Fatalf("List: %d, %v", len(l), err)
	}
	for _, vr := range v.Records {
		got, err := s.Get(ctx, vr.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameVectorRecord(t, got, vr.record(t))
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, orig) {
		t.Error("reading changed the file")
	}

	// 4. many.dat: the fuzz seed with branch pages and a freelist.
	many, err := os.ReadFile(filepath.Join(vectorDir, "many.dat"))
	if err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(t.TempDir(), "many.dat")
	os.WriteFile(mpath, many, 0o600)
	ms, err := Open(mpath, []byte(v.Password), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	if hex.EncodeToString(ms.hdr) != v.Many.HeaderHex || hex.EncodeToString(ms.key) != v.Many.DataKeyHex {
		t.Fatal("many.dat header or data key differs from vectors.json")
	}
	ml, err := ms.List(ctx)
	if err != nil || len(ml) != manyRecords-1 {
		t.Fatalf("many.dat List: %d records, %v", len(ml), err)
	}
	for _, meta := range ml {
		r, err := ms.Get(ctx, meta.ID)
		if err != nil || !sameAsExpected(r) || meta.ID == manyDeleted {
			t.Fatalf("many.dat %s: %v", meta.ID, err)
		}
	}
	if branch, free := countPages(many, flagBranch), currentMeta(t, many).freelist; branch == 0 || free == noFreelist {
		t.Fatalf("many.dat has %d branch pages, freelist %d: not the seed the fuzz test needs", branch, free)
	}
}

func countPages(b []byte, flags uint16) int {
	psz, n := pageSize(b), 0
	for id := 2; (id+1)*psz <= len(b); id++ {
		if p := b[id*psz:]; ne.Uint64(p) == uint64(id) && ne.Uint16(p[8:]) == flags {
			n++
		}
	}
	return n
}

func sameVectorRecord(t testing.TB, got, want backend.Record) {
	t.Helper()
	if got.ID != want.ID || got.Kind != want.Kind || got.Chain != want.Chain || got.Testnet != want.Testnet ||
		!bytes.Equal(got.Secret, want.Secret) || got.Xpub != want.Xpub || got.Address != want.Address || !got.Created.Equal(want.Created) {
		t.Fatalf("record %q differs from the vector", want.ID)
	}
}

func writeVectors(t *testing.T) {
	pw := "gokms format v1 test vector"
	kdf := KDFParams{Time: 2, MemoryKiB: 256, Threads: 2}
	os.MkdirAll(vectorDir, 0o755)
	path := filepath.Join(vectorDir, "store.dat")
	os.Remove(path)
	s, err := Create(path, []byte(pw), Options{KDF: &kdf})
	if err != nil {
		t.Fatal(err)
	}
	recs := vectorRecords()
	if err := s.PutBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	v := vectorFile{
		Comment:    "gokms file store format v1 (docs/file-format.md): store.dat opened with password gives these records",
		Password:   pw,
		KDF:        kdf,
		HeaderHex:  hex.EncodeToString(s.hdr),
		DataKeyHex: hex.EncodeToString(s.key),
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error {
		for _, r := range recs {
			v.Records = append(v.Records, vectorRecord{ID: r.ID, Kind: string(r.Kind), Chain: r.Chain, Testnet: r.Testnet,
				SecretHex: hex.EncodeToString(r.Secret), Xpub: r.Xpub, Address: r.Address, Created: r.Created,
				SealedHex: hex.EncodeToString(tx.Bucket(bucketRecords).Get([]byte(r.ID)))})
		}
		return nil
	})
	db.Close()
	os.Chmod(path, 0o644)

	mpath := filepath.Join(vectorDir, "many.dat")
	os.Remove(mpath)
	m, err := Create(mpath, []byte(pw), Options{KDF: &kdf})
	if err != nil {
		t.Fatal(err)
	}
	var rs []backend.Record
	for i := 0; i < manyRecords; i++ {
		rs = append(rs, expectedRecord(fmt.Sprintf("rec-%d", i)))
	}
	if err := m.PutBatch(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(context.Background(), manyDeleted); err != nil {
		t.Fatal(err)
	}
	v.Many.HeaderHex, v.Many.DataKeyHex = hex.EncodeToString(m.hdr), hex.EncodeToString(m.key)
	m.Close()
	os.Chmod(mpath, 0o644)
	b, _ := json.MarshalIndent(v, "", "  ")
	if err := os.WriteFile(filepath.Join(vectorDir, "vectors.json"), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
