package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/gokms/gokms/backend"
)

// storeWith creates a store at dir/wallet.dat holding n deterministic records.
func storeWith(t testing.TB, dir string, n int) string {
	t.Helper()
	path := filepath.Join(dir, "wallet.dat")
	s, err := Create(path, testPassword, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rs []backend.Record
	for i := 0; i < n; i++ {
		rs = append(rs, expectedRecord(fmt.Sprintf("rec-%d", i)))
	}
	if n > 0 {
		if err := s.PutBatch(context.Background(), rs); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// pageSize reads the page size of a bbolt file from its first meta page.
func pageSize(b []byte) int { return int(ne.Uint32(b[pageHeaderSize+8:])) }

// currentMeta returns the meta bbolt uses: the valid one with the higher txid.
func currentMeta(t testing.TB, b []byte) boltMeta {
	t.Helper()
	psz := pageSize(b)
	m0, m1 := parseMeta(b[:psz]), parseMeta(b[psz:2*psz])
	if !m0.valid || (m1.valid && m1.txid > m0.txid) {
		m0 = m1
	}
	if !m0.valid {
		t.Fatal("no valid meta")
	}
	return m0
}

// findPage returns the id of the first page with the given type flags.
func findPage(t testing.TB, b []byte, flags uint16) uint64 {
	t.Helper()
	psz := pageSize(b)
	for id := 2; (id+1)*psz <= len(b); id++ {
		p := b[id*psz:]
		if ne.Uint64(p) == uint64(id) && ne.Uint16(p[8:]) == flags {
			return uint64(id)
		}
	}
	t.Fatalf("no page with flags %#x", flags)
	return 0
}

func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range ents {
		n = append(n, e.Name())
	}
	return n
}

// TestOpenErrors: every bad store gives a clear error naming the file, and
// the file (and its directory) are exactly as before.
func TestOpenErrors(t *testing.T) {
	edit := func(n int, f func(t *testing.T, b []byte) []byte) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			path := storeWith(t, dir, n)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, f(t, b), 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}
	}
	write := func(content []byte) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "wallet.dat")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}
	}
	tatum, err := os.ReadFile("testdata/tatum-kms-wallet.dat")
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 100000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	cases := []struct {
		name     string
		setup    func(t *testing.T, dir string) string
		password string
		want     error
		text     string // must appear in the message
	}{
		{"wrong password", func(t *testing.T, dir string) string { return storeWith(t, dir, 3) }, "not the password", backend.ErrBadPassword, "wrong password"},
		{"missing file", func(t *testing.T, dir string) string { return filepath.Join(dir, "nope", "wallet.dat") }, "", fs.ErrNotExist, "does not exist"},
		{"tatum-kms wallet", write(tatum), "", ErrTatumKMSFormat, "gokms import tatum-kms "},
		{"tatum-kms wallet with newline", write(append([]byte("\n"), tatum...)), "", ErrTatumKMSFormat, "tatum-kms"},
		{"empty file", write(nil), "", ErrNotStore, "empty file"},
		{"text file", write([]byte("hello, world\n")), "", ErrNotStore, "not a gokms wallet store"},
		{"json file", write([]byte(`{"8f5f2e53":{"mnemonic":"x"}}`)), "", ErrNotStore, "not a gokms wallet store"},
		{"random bytes", write(random), "", ErrNotStore, "not a gokms wallet store"},
		{"directory", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "wallet.dat")
			os.Mkdir(p, 0o700)
			return p
		}, "", ErrNotStore, "is a directory"},
		{"foreign bbolt database", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "wallet.dat")
			db, err := bolt.Open(p, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
			db.Close()
			return p
		}, "", ErrNotStore, "without the gokms buckets"},
		{"truncated to half", edit(300, func(t *testing.T, b []byte) []byte { return b[:len(b)/2] }), "", backend.ErrCorrupt, "truncated"},
		{"truncated by one page", edit(300, func(t *testing.T, b []byte) []byte {
			return b[:int(currentMeta(t, b).hwm-1)*pageSize(b)] // the last page in use
		}), "", backend.ErrCorrupt, "truncated"},
		{"truncated to 100 bytes", edit(3, func(t *testing.T, b []byte) []byte { return b[:100] }), "", backend.ErrCorrupt, "corrupt"},
		{"both meta pages damaged", edit(3, func(t *testing.T, b []byte) []byte {
			psz := pageSize(b)
			b[pageHeaderSize+50] ^= 0xff
			b[psz+pageHeaderSize+50] ^= 0xff
			return b
		}), "", backend.ErrCorrupt, "corrupt"},
		{"header magic damaged", edit(3, func(t *testing.T, b []byte) []byte {
			i := bytes.Index(b, []byte(magic))
			b[i+3] ^= 0x20
			return b
		}), "", backend.ErrCorrupt, "bad header"},
		{"header KDF cost raised", edit(3, func(t *testing.T, b []byte) []byte {
			i := bytes.Index(b, []byte(magic))
			b[i+len(magic)+2+1+3]++ // time: altering costs must fail the tag
			return b
		}), "", backend.ErrBadPassword, "wrong password"},
		{"header KDF cost absurd", edit(3, func(t *testing.T, b []byte) []byte {
			i := bytes.Index(b, []byte(magic))
			copy(b[i+len(magic)+2+1+4:], []byte{0xff, 0xff, 0xff, 0xff}) // memory: must not be attempted
			return b
		}), "", backend.ErrCorrupt, "out of range"},
		{"data page zeroed", edit(300, func(t *testing.T, b []byte) []byte {
			id := findPage(t, b, flagLeaf)
			psz := pageSize(b)
			clear(b[int(id)*psz : int(id+1)*psz])
			return b
		}), "", backend.ErrCorrupt, "damaged page structure"},
		{"branch page points to itself", edit(300, func(t *testing.T, b []byte) []byte {
			id := findPage(t, b, flagBranch)
			psz := pageSize(b)
			ne.PutUint64(b[int(id)*psz+pageHeaderSize+8:], id) // first child = the page itself
			return b
		}), "", backend.ErrCorrupt, "damaged page structure"},
		{"branch page points past the end", edit(300, func(t *testing.T, b []byte) []byte {
			id := findPage(t, b, flagBranch)
			psz := pageSize(b)
			ne.PutUint64(b[int(id)*psz+pageHeaderSize+8:], 1<<40)
			return b
		}), "", backend.ErrCorrupt, "damaged page structure"},
		{"leaf element out of bounds", edit(300, func(t *testing.T, b []byte) []byte {
			id := findPage(t, b, flagLeaf)
			psz := pageSize(b)
			ne.PutUint32(b[int(id)*psz+pageHeaderSize+12:], 1<<30) // vsize
			return b
		}), "", backend.ErrCorrupt, "damaged page structure"},
		{"freelist damaged", edit(300, func(t *testing.T, b []byte) []byte {
			id := currentMeta(t, b).freelist
			psz := pageSize(b)
			ne.PutUint16(b[int(id)*psz+10:], 0xfff0) // count beyond the page
			return b
		}), "", backend.ErrCorrupt, "damaged page structure"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := c.setup(t, dir)
			before, _ := os.ReadFile(path)
			names := dirNames(t, dir)
			pw := []byte(c.password)
			if c.password == "" {
				pw = testPassword
			}
			s, err := Open(path, pw, testOptions())
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded")
			}
			if !errors.Is(err, c.want) {
				t.Errorf("error %q does not wrap %q", err, c.want)
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.HasPrefix(msg, "open wallet store "+path+": ") || !strings.Contains(msg, c.text) {
				t.Errorf("error %q: want the path and %q", msg, c.text)
			}
			if strings.Contains(msg, string(pw)) {
				t.Errorf("error contains the password")
			}
			// The registry path (what the CLI uses) must not create or
			// overwrite anything either, even with Create set.
			_, err = registry.Open(context.Background(), path, backend.OpenConfig{
				Create:      c.want != fs.ErrNotExist,
				Password:    func(context.Context, string) ([]byte, error) { return bytes.Clone(pw), nil },
				NewPassword: func(context.Context, string) ([]byte, error) { return bytes.Clone(pw), nil },
			})
			if !errors.Is(err, c.want) {
				t.Errorf("backend.Open: %v, want %v", err, c.want)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Errorf("file changed")
			}
			if got := dirNames(t, dir); strings.Join(got, "/") != strings.Join(names, "/") {
				t.Errorf("directory entries changed from %v to %v", names, got)
			}
		})
	}
	if t.Failed() {
		return
	}
	// The exact wording the CLI shows.
	path := storeWith(t, t.TempDir(), 1)
	if _, err := Open(path, []byte("wrong"), testOptions()); err.Error() != "open wallet store "+path+": wrong password" {
		t.Errorf("wrong password message = %q", err)
	}
}

// rewrite edits the raw bbolt records of a store, as an attacker with write
// access to the file could.
func rewrite(t *testing.T, path string, f func(rb *bolt.Bucket)) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { f(tx.Bucket(bucketRecords)); return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestRecordTampering: a damaged, swapped, spliced or transplanted record
// fails authentication with ErrCorrupt; it is never returned as a record.
func TestRecordTampering(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := storeWith(t, dir, 4)
	s, err := Open(path, testPassword, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	get := func(id string) (map[string][]byte, error) {
		m := map[string][]byte{}
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			return nil, err
		}
		defer db.Close()
		return m, db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error { m[string(k)] = bytes.Clone(v); return nil })
		})
	}
	raw, err := get("")
	if err != nil {
		t.Fatal(err)
	}
	expectCorrupt := func(id, what string, metaToo bool) {
		t.Helper()
		before, _ := os.ReadFile(path)
		r, err := s.Get(ctx, id)
		if !errors.Is(err, backend.ErrCorrupt) || r.Secret != nil {
			t.Errorf("%s: Get = %v, want ErrCorrupt and no record", what, err)
		}
		// List opens metadata only: it notices damage there, and must not
		// fail on a damaged secret it never decrypts.
		if _, err := s.List(ctx); metaToo != errors.Is(err, backend.ErrCorrupt) {
			t.Errorf("%s: List = %v, want ErrCorrupt: %v", what, err, metaToo)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Errorf("%s: reading changed the file", what)
		}
	}
	// A flipped bit in the secret's ciphertext.
	v := bytes.Clone(raw["rec-1"])
	v[len(v)-20] ^= 1
	rewrite(t, path, func(rb *bolt.Bucket) { rb.Put([]byte("rec-1"), v) })
	expectCorrupt("rec-1", "flipped bit", false)
	if got := mustGetSecret(t, s, "rec-2"); got != string(expectedRecord("rec-2").Secret) {
		t.Fatal("an intact record was affected")
	}
	// Record rec-0 stored under id rec-1.
	rewrite(t, path, func(rb *bolt.Bucket) { rb.Put([]byte("rec-1"), raw["rec-0"]) })
	expectCorrupt("rec-1", "swapped id", true)
	// Metadata of one version spliced with the secret of another, same id.
	rewrite(t, path, func(rb *bolt.Bucket) { rb.Put([]byte("rec-1"), raw["rec-1"]) })
	mustGetSecret(t, s, "rec-1")
	if err := s.Delete(ctx, "rec-1"); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, expectedRecord("rec-1"))
	raw2, _ := get("")
	m1, _, _ := splitRecord(raw["rec-1"])
	_, s2, _ := splitRecord(raw2["rec-1"])
	spliced := append(append(bytes.Clone(raw["rec-1"][:5]), m1...), s2...)
	rewrite(t, path, func(rb *bolt.Bucket) { rb.Put([]byte("rec-1"), spliced) })
	expectCorrupt("rec-1", "spliced versions", false)
	// A record from another store (another data key) under the same id.
	other := storeWith(t, t.TempDir(), 4)
	path0 := path
	path = other
	rawOther, _ := get("")
	path = path0
	rewrite(t, path, func(rb *bolt.Bucket) { rb.Put([]byte("rec-1"), rawOther["rec-1"]) })
	expectCorrupt("rec-1", "transplanted from another store", true)
}

// TestDamagedNewestMetaFallsBack pins bbolt's crash recovery, which the fuzz
// test ran into: when the newest meta page is damaged (a torn write), the
// store opens in the state of the previous transaction — here, before the
// last delete. The record that comes back is the genuine one.
func TestDamagedNewestMetaFallsBack(t *testing.T) {
	dir := t.TempDir()
	path := storeWith(t, dir, 3)
	s, err := Open(path, testPassword, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(context.Background(), "rec-1"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	b, _ := os.ReadFile(path)
	psz := pageSize(b)
	m := currentMeta(t, b)
	b[int(m.txid%2)*psz+pageHeaderSize+50]++ // newest meta's txid: checksum fails
	os.WriteFile(path, b, 0o600)
	s, err = Open(path, testPassword, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Get(context.Background(), "rec-1")
	if err != nil || !sameAsExpected(r) {
		t.Fatalf("previous transaction's record: %v", err)
	}
}
