package vgs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/backendtest"
	"github.com/gokms/gokms/backend/vgs"
	"github.com/gokms/gokms/backend/vgs/vgstest"
)

func newClient(s *vgstest.Server) *vgs.Client {
	return &vgs.Client{BaseURL: s.URL, Username: s.Username, Password: s.Password, HTTP: s.Client(),
		Retries: 3, Backoff: time.Millisecond}
}

func newBackend(t *testing.T, s *vgstest.Server) (*vgs.Backend, string) {
	t.Helper()
	index := filepath.Join(t.TempDir(), "sub", "vgs-index.db")
	b, err := vgs.New(vgs.Options{Client: newClient(s), IndexPath: index})
	if err != nil {
		t.Fatal(err)
	}
	return b, index
}

func TestConformance(t *testing.T) {
	s := vgstest.New()
	defer s.Close()
	backendtest.Run(t, func(t *testing.T) backend.SecretBackend {
		b, _ := newBackend(t, s)
		return b
	})
}

var ctx = context.Background()

const mnemonic = "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title"

func record(id string) backend.Record {
	return backend.Record{ID: id, Kind: backend.Mnemonic, Chain: "BTC", Testnet: true, Secret: []byte(mnemonic), Xpub: "tpubXYZ"}
}

// Nothing secret is kept on our side: the index holds aliases and metadata only.
func TestIndexHoldsNoSecret(t *testing.T) {
	s := vgstest.New()
	defer s.Close()
	b, index := newBackend(t, s)
	if err := b.Put(ctx, record("sig-1")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(index); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("index mode: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Dir(index)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("index dir mode: %v %v", fi.Mode(), err)
	}
	raw, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("legal winner")) || bytes.Contains(raw, []byte("bGVnYWwgd2lubmVy")) { // plain or base64
		t.Fatal("index file contains the mnemonic")
	}
	if !bytes.Contains(raw, []byte("tok_sandbox_")) {
		t.Fatal("index file does not hold the alias")
	}
	if s.Aliases() != 1 {
		t.Fatalf("VGS holds %d aliases, want 1", s.Aliases())
	}
	if err := b.Delete(ctx, "sig-1"); err != nil {
		t.Fatal(err)
	}
	if s.Aliases() != 0 {
		t.Fatalf("Delete left %d aliases in VGS", s.Aliases())
	}
}

func TestBadCredentials(t *testing.T) {
	s := vgstest.New()
	defer s.Close()
	c := newClient(s)
	c.Password = "wrong-password-123"
	b, err := vgs.New(vgs.Options{Client: c, IndexPath: filepath.Join(t.TempDir(), "i.db")})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Put(ctx, record("sig"))
	if !errors.Is(err, vgs.ErrUnauthorized) {
		t.Fatalf("Put with bad credentials = %v, want ErrUnauthorized", err)
	}
	for _, secret := range []string{"wrong-password-123", "legal winner"} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error %q contains a secret", err)
		}
	}
	if !strings.Contains(err.Error(), "401") {
		t.Errorf("error should name the status: %v", err)
	}
	if l, _ := b.List(ctx); len(l) != 0 {
		t.Fatal("failed Put left an index entry")
	}
}

func TestRetriesThrottlingAndServerErrors(t *testing.T) {
	s := vgstest.New()
	defer s.Close()
	b, _ := newBackend(t, s)
	s.Inject(vgstest.Fault{Method: "POST", Status: 429, Times: 2, RetryAfter: "0"})
	if err := b.Put(ctx, record("sig")); err != nil {
		t.Fatalf("Put through two 429s: %v", err)
	}
	if got := s.Requests("POST"); got != 3 {
		t.Fatalf("POST requests = %d, want 3 (two throttled, one accepted)", got)
	}
	s.Inject(vgstest.Fault{Method: "GET", Status: 503, Times: 1})
	if _, err := b.Get(ctx, "sig"); err != nil {
		t.Fatalf("Get through a 503: %v", err)
	}
	// Retries are bounded: a vault that keeps failing gives a clear error.
	s.Inject(vgstest.Fault{Method: "GET", Status: 500, Times: 10})
	_, err := b.Get(ctx, "sig")
	var apiErr *vgs.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 500 {
		t.Fatalf("Get against a failing vault = %v, want APIError 500", err)
	}
}

func TestAliasGone(t *testing.T) {
	s := vgstest.New()
	defer s.Close()
	b, index := newBackend(t, s)
	if err := b.Put(ctx, record("sig")); err != nil {
		t.Fatal(err)
	}
	alias := readAlias(t, index, "sig")
	if err := newClient(s).DeleteAlias(ctx, alias); err != nil { // someone removed it in VGS
		t.Fatal(err)
	}
	_, err := b.Get(ctx, "sig")
	if !errors.Is(err, backend.ErrNotFound) || !strings.Contains(err.Error(), "no longer has its alias") {
		t.Fatalf("Get of a record whose alias is gone = %v", err)
	}
	// Delete still cleans up the index.
	if err := b.Delete(ctx, "sig"); err != nil {
		t.Fatal(err)
	}
}

func readAlias(t *testing.T, index, id string) string {
	t.Helper()
	db, err := bolt.Open(index, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var e struct{ Alias string }
	if err := db.View(func(tx *bolt.Tx) error { return json.Unmarshal(tx.Bucket([]byte("records")).Get([]byte(id)), &e) }); err != nil {
		t.Fatal(err)
	}
	return e.Alias
}

// Swapping aliases in the index must not make gokms hand out another record's key.
func TestSwappedIndexIsDetected(t *testing.T) {
	s := vgstest.New()
	defer s.Close()
	b, index := newBackend(t, s)
	for _, id := range []string{"a", "b"} {
		if err := b.Put(ctx, record(id)); err != nil {
			t.Fatal(err)
		}
	}
	db, err := bolt.Open(index, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte("records"))
		a, bb := append([]byte(nil), bk.Get([]byte("a"))...), append([]byte(nil), bk.Get([]byte("b"))...)
		if err := bk.Put([]byte("a"), bb); err != nil {
			return err
		}
		return bk.Put([]byte("b"), a)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "a"); !errors.Is(err, backend.ErrCorrupt) {
		t.Fatalf("Get after swapping aliases = %v, want ErrCorrupt", err)
	}
}

// The vgs:// address opens the backend the CLI and daemon use.
func TestOpenByAddress(t *testing.T) {
	s := vgstest.New()
	defer s.Close()
	dir := t.TempDir()
	ca, err := s.WriteCACert(dir)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TATUM_KMS_VGS_USERNAME": s.Username, "TATUM_KMS_VGS_PASSWORD": s.Password, "GOKMS_VGS_CACERT": ca}
	host := strings.TrimPrefix(s.URL, "https://")
	addr := "vgs://" + host + "?index=" + filepath.Join(dir, "idx.db")
	b, err := registry.Open(ctx, addr, backend.OpenConfig{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Put(ctx, record("via-address")); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, "via-address")
	if err != nil || string(got.Secret) != mnemonic {
		t.Fatalf("Get via address: %v", err)
	}
	delete(env, "TATUM_KMS_VGS_PASSWORD")
	if _, err := registry.Open(ctx, addr, backend.OpenConfig{Getenv: func(k string) string { return env[k] }}); err == nil ||
		!strings.Contains(err.Error(), "TATUM_KMS_VGS_PASSWORD") {
		t.Fatalf("open without credentials: %v", err)
	}
}
