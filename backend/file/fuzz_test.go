package file

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/gokms/gokms/backend"
)

// fuzzFixture is what every FuzzDecode input is checked against: the
// committed v1 vectors (store.dat, and many.dat with branch pages and a
// freelist). Fuzz workers are separate processes, so it must be committed,
// not generated.
type fuzzFixture struct {
	password []byte
	headers  [][]byte          // genuine headers
	sealed   map[string][]byte // id -> genuine sealed value (vector store)
	records  map[string]backend.Record
	files    [][]byte
	keys     [][]byte // data keys of the genuine stores
	keks     [][]byte // password keys of the genuine headers
}

var (
	fixtureOnce sync.Once
	fixture     fuzzFixture
	fixtureErr  error
)

func loadFuzzFixture() (*fuzzFixture, error) {
	fixtureOnce.Do(func() {
		fixtureErr = func() error {
			raw, err := os.ReadFile(filepath.Join(vectorDir, "vectors.json"))
			if err != nil {
				return err
			}
			var v vectorFile
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			f := fuzzFixture{password: []byte(v.Password), sealed: map[string][]byte{}, records: map[string]backend.Record{}}
			hb, _ := hex.DecodeString(v.HeaderHex)
			key, _ := hex.DecodeString(v.DataKeyHex)
			f.headers = append(f.headers, hb)
			f.keys = append(f.keys, key)
			for _, vr := range v.Records {
				f.sealed[vr.ID], _ = hex.DecodeString(vr.SealedHex)
				f.records[vr.ID] = vr.record(&testing.T{})
			}
			for _, name := range []string{"store.dat", "many.dat"} {
				b, err := os.ReadFile(filepath.Join(vectorDir, name))
				if err != nil {
					return err
				}
				f.files = append(f.files, b)
			}
			hb, _ = hex.DecodeString(v.Many.HeaderHex)
			key, _ = hex.DecodeString(v.Many.DataKeyHex)
			f.headers = append(f.headers, hb)
			f.keys = append(f.keys, key)
			for _, hb := range f.headers {
				h, err := decodeHeader(hb)
				if err != nil {
					return err
				}
				f.keks = append(f.keks, h.passwordKey(f.password))
			}
			fixture = f
			return nil
		}()
	})
	return &fixture, fixtureErr
}

// genuine reports whether r is, byte for byte, a record that was really
// stored in one of the seed files.
func (f *fuzzFixture) genuine(r backend.Record) bool {
	if w, ok := f.records[r.ID]; ok {
		return r.Kind == w.Kind && r.Chain == w.Chain && r.Testnet == w.Testnet && bytes.Equal(r.Secret, w.Secret) &&
			r.Xpub == w.Xpub && r.Address == w.Address && r.Created.Equal(w.Created)
	}
	var n int
	// manyDeleted counts as genuine: it was stored, and damage to the newest
	// meta page makes bbolt fall back to the previous transaction (its crash
	// recovery), which still holds it. Rollback is not forgery.
	if _, err := fmt.Sscanf(r.ID, "rec-%d", &n); err == nil && n >= 0 && n < manyRecords && r.ID == fmt.Sprintf("rec-%d", n) {
		return sameAsExpected(r)
	}
	return false
}

// FuzzDecode feeds arbitrary bytes to every decoder of the format: as a
// header, as a sealed record under each genuine id, and as a whole store
// file opened with the right password. Nothing may panic (a panic recovered
// inside the package also fails the test: the layout check is meant to stop
// damage before bbolt trips on it), and nothing may yield a record that was
// not genuinely stored.
//
//	go test -fuzz=FuzzDecode ./backend/file/
func FuzzDecode(f *testing.F) {
	fx, err := loadFuzzFixture()
	if err != nil {
		f.Fatal(err)
	}
	for _, h := range fx.headers {
		f.Add(h)
	}
	for _, v := range fx.sealed {
		f.Add(v)
	}
	for _, b := range fx.files {
		f.Add(b)
	}
	tatum, _ := os.ReadFile("testdata/tatum-kms-wallet.dat")
	f.Add(tatum)
	f.Add([]byte{})
	dir := f.TempDir()
	path := filepath.Join(dir, "fuzz.dat")
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, data []byte) {
		// 1. Header.
		if h, err := decodeHeader(data); err == nil {
			if len(h.Salt) < minSaltLen || len(h.Wrapped) != wrappedLen || h.KDF.Validate() != nil {
				t.Fatalf("decodeHeader accepted an invalid header")
			}
			// A forged header must not unwrap. Only headers with a genuine
			// salt and costs are tried (others derive an unrelated key, and
			// each try would cost a KDF run).
			for i, g := range fx.headers {
				gh, _ := decodeHeader(g)
				if h.KDF == gh.KDF && bytes.Equal(h.Salt, gh.Salt) {
					if _, err := h.unwrapWith(fx.keks[i]); err == nil && !bytes.Equal(data, g) {
						t.Fatalf("a forged header unwrapped")
					}
				}
			}
		}
		// 2. Sealed record, under every genuine id and key.
		for id := range fx.sealed {
			for _, key := range fx.keys {
				aead, _ := chacha20poly1305.NewX(key)
				r, err := openRecord(aead, id, data)
				if err == nil && !(bytes.Equal(data, fx.sealed[id]) && fx.genuine(r)) {
					t.Fatalf("openRecord yielded a record from forged bytes")
				}
				if _, err := openMeta(aead, id, data, nil); err == nil && !bytes.Equal(data, fx.sealed[id]) {
					// Only the metadata part must be genuine for openMeta.
					m, _, _ := splitRecord(data)
					gm, _, _ := splitRecord(fx.sealed[id])
					if !bytes.Equal(m, gm) {
						t.Fatalf("openMeta yielded metadata from forged bytes")
					}
				}
			}
		}
		// 3. Whole file.
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// MaxKDF: a mutated header may ask for gigabytes and hours of
		// Argon2id; the costs are bounded (tested in TestOpenErrors), not cheap.
		s, err := Open(path, fx.password, Options{LockTimeout: 1e9, MaxKDF: &KDFParams{Time: 4, MemoryKiB: 4096, Threads: 4}})
		if err != nil {
			if errors.Is(err, errPanic) {
				t.Fatalf("Open recovered a panic: %v", err)
			}
			return
		}
		defer s.Close()
		l, err := s.List(ctx)
		if errors.Is(err, errPanic) {
			t.Fatalf("List recovered a panic: %v", err)
		}
		ids := []string{"rec-0", manyDeleted, "3f1c8a8e-2f43-4d5a-9c3b-0d7e2f6a1b10"}
		for i, m := range l {
			if i%16 == 0 { // a sample keeps executions fast
				ids = append(ids, m.ID)
			}
		}
		for _, id := range ids {
			r, err := s.Get(ctx, id)
			if errors.Is(err, errPanic) {
				t.Fatalf("Get recovered a panic: %v", err)
			}
			if err == nil && !fx.genuine(r) {
				t.Fatalf("Get(%q) yielded a record that was never stored", id)
			}
		}
		// Writes go through the same checks; they must not panic either.
		// (Each costs an fsync, so only on some inputs.)
		if len(data)%4 == 0 {
			if err := s.Put(ctx, expectedRecord("fuzz-1")); errors.Is(err, errPanic) {
				t.Fatalf("Put recovered a panic: %v", err)
			}
		}
	})
}
