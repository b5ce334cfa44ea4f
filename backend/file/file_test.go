package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/backendtest"
)

var testPassword = []byte("correct horse battery staple")

func testOptions() Options { return Options{KDF: &InsecureTestKDF} }

func newTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Create(filepath.Join(t.TempDir(), "wallet.dat"), testPassword, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.SecretBackend { return newTestStore(t) })
}

// TestConformanceViaRegistry runs the suite through backend.Open, as the CLI
// does: the first open creates the store, with GOKMS_KDF from cfg.Getenv.
func TestConformanceViaRegistry(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.SecretBackend {
		path := filepath.Join(t.TempDir(), "sub", "wallet.dat")
		b, err := registry.Open(context.Background(), path, backend.OpenConfig{
			Create:      true,
			NewPassword: func(context.Context, string) ([]byte, error) { return bytes.Clone(testPassword), nil },
			Password: func(context.Context, string) ([]byte, error) {
				t.Fatal("asked for the password of a new store")
				return nil, nil
			},
			Testnet: true, // GOKMS_KDF=test is refused for mainnet
			Getenv:  func(k string) string { return map[string]string{KDFEnv: "test"}[k] },
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := b.(*Store).KDF(); got != InsecureTestKDF {
			t.Fatalf("store created with %v, want the GOKMS_KDF=test costs", got)
		}
		return b
	})
}

func ctxT(t testing.TB) context.Context { return context.Background() }

func keyRec(id, secret string) backend.Record {
	return backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "ETH", Secret: []byte(secret), Address: "0x" + strings.Repeat("ab", 20)}
}

func mnemonicRec(id, words string) backend.Record {
	return backend.Record{ID: id, Kind: backend.Mnemonic, Chain: "BTC", Testnet: true, Secret: []byte(words), Xpub: "tpubTESTXPUB" + id}
}

func mustPut(t testing.TB, b backend.SecretBackend, r backend.Record) {
	t.Helper()
	if err := b.Put(ctxT(t), r); err != nil {
		t.Fatalf("Put %s: %v", r.ID, err)
	}
}

func mustGetSecret(t testing.TB, b backend.SecretBackend, id string) string {
	t.Helper()
	r, err := b.Get(ctxT(t), id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return string(r.Secret)
}

func TestFileModesAndDirs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "wallet.dat")
	s, err := Create(path, testPassword, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustPut(t, s, keyRec("k1", "secret-one"))
	for _, c := range []struct {
		p    string
		mode fs.FileMode
	}{{path, 0o600}, {dir, 0o700}, {filepath.Dir(dir), 0o700}} {
		fi, err := os.Stat(c.p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.mode {
			t.Errorf("%s has mode %o, want %o", c.p, got, c.mode)
		}
	}
	// Nothing but the store is left in the directory (no temp files).
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only the store", len(ents))
	}
	if _, err := Create(path, testPassword, testOptions()); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create over an existing store = %v, want fs.ErrExist", err)
	}
}

// TestNoPlaintextOnDisk writes secrets and metadata and greps every file in
// the directory for them.
func TestNoPlaintextOnDisk(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wallet.dat")
	s, err := Create(path, testPassword, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	words := "legal winner thank year wave sausage worth useful legal winner thank yellow"
	key := "L1uyy5qTuGrVXrmrsvHWHgVzW9kKdrp27wBC7Vs6nZDTF2BRUVwy"
	m := mnemonicRec("m1", words)
	m.Xpub = "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL"
	mustPut(t, s, m)
	mustPut(t, s, keyRec("k1", key))
	if err := s.ChangePassword([]byte("another password"), nil); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, keyRec("k2", key+"2"))
	if err := s.Delete(ctxT(t), "k2"); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, needle := range []string{words, "legal winner", key, m.Xpub, "ababababab", "another password", string(testPassword), `"chain"`} {
			if bytes.Contains(b, []byte(needle)) {
				t.Errorf("%s contains %.12q... in clear", e.Name(), needle)
			}
		}
	}
}

func TestLongLivedStoreSeesOtherHandles(t *testing.T) {
	a := newTestStore(t)
	b, err := Open(a.Path(), testPassword, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustPut(t, b, keyRec("from-b", "secret-b"))
	if got := mustGetSecret(t, a, "from-b"); got != "secret-b" {
		t.Fatalf("a sees %q", got)
	}
	mustPut(t, a, keyRec("from-a", "secret-a"))
	if l, err := b.List(ctxT(t)); err != nil || len(l) != 2 {
		t.Fatalf("b lists %v, %v", l, err)
	}
	if err := a.Delete(ctxT(t), "from-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctxT(t), "from-b"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("b still sees a deleted record: %v", err)
	}
}

func TestChangePassword(t *testing.T) {
	s := newTestStore(t)
	var want []backend.Record
	for i := 0; i < 30; i++ {
		r := keyRec(fmt.Sprintf("id-%02d", i), fmt.Sprintf("secret-%02d", i))
		if i%2 == 0 {
			r = mnemonicRec(r.ID, fmt.Sprintf("words %02d", i))
		}
		mustPut(t, s, r)
		want = append(want, r)
	}
	other, err := Open(s.Path(), testPassword, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	newPW := []byte("a new password")
	stronger := KDFParams{Time: 2, MemoryKiB: 128, Threads: 2}
	if err := s.ChangePassword(newPW, &stronger); err != nil {
		t.Fatal(err)
	}
	if s.KDF() != stronger {
		t.Fatalf("KDF after change = %v", s.KDF())
	}
	// The handle that changed it keeps working.
	mustPut(t, s, keyRec("after", "secret-after"))
	// The old password no longer opens the store.
	if _, err := Open(s.Path(), testPassword, testOptions()); !errors.Is(err, backend.ErrBadPassword) {
		t.Fatalf("old password after change: %v", err)
	}
	// A handle unlocked before the change must not write with the old key.
	if err := other.Put(ctxT(t), keyRec("stale", "x")); !errors.Is(err, backend.ErrBadPassword) || !strings.Contains(err.Error(), "password was changed") {
		t.Fatalf("stale handle Put = %v", err)
	}
	n, err := Open(s.Path(), newPW, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.KDF() != stronger {
		t.Fatalf("reopened KDF = %v", n.KDF())
	}
	for _, r := range want {
		got, err := n.Get(ctxT(t), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Secret) != string(r.Secret) || got.Kind != r.Kind || got.Xpub != r.Xpub {
			t.Fatalf("%s changed in re-encryption", r.ID)
		}
	}
	if l, _ := n.List(ctxT(t)); len(l) != len(want)+1 {
		t.Fatalf("List has %d records after change, want %d", len(l), len(want)+1)
	}
	// nil params keep the current costs.
	if err := n.ChangePassword(testPassword, nil); err != nil {
		t.Fatal(err)
	}
	if n.KDF() != stronger {
		t.Fatalf("nil params changed KDF to %v", n.KDF())
	}
	if err := n.ChangePassword(nil, nil); err == nil {
		t.Fatal("empty new password accepted")
	}
}

// TestGroupCommitKeepsBatchesSeparate: concurrent PutBatch calls share
// transactions, but each stays all or nothing: of many batches racing for
// one id, exactly one is stored, whole, and no part of the others.
func TestGroupCommitKeepsBatchesSeparate(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	for round := 0; round < 20; round++ {
		const n = 8
		errs := make(chan error, n)
		start := make(chan struct{})
		for g := 0; g < n; g++ {
			go func(g int) {
				<-start
				errs <- s.PutBatch(ctx, []backend.Record{
					keyRec(fmt.Sprintf("r%d-own-%d-a", round, g), "a"),
					keyRec(fmt.Sprintf("r%d-shared", round), fmt.Sprintf("from %d", g)),
					keyRec(fmt.Sprintf("r%d-own-%d-b", round, g), "b"),
				})
			}(g)
		}
		close(start)
		won := 0
		for g := 0; g < n; g++ {
			if err := <-errs; err == nil {
				won++
			} else if !errors.Is(err, backend.ErrExists) {
				t.Fatal(err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d batches stored the shared id", round, won)
		}
		winner := mustGetSecret(t, s, fmt.Sprintf("r%d-shared", round))
		for g := 0; g < n; g++ {
			_, errA := s.Get(ctx, fmt.Sprintf("r%d-own-%d-a", round, g))
			_, errB := s.Get(ctx, fmt.Sprintf("r%d-own-%d-b", round, g))
			mine := winner == fmt.Sprintf("from %d", g)
			if (errA == nil) != mine || (errB == nil) != mine {
				t.Fatalf("round %d: batch %d partly stored (winner: %v)", round, g, mine)
			}
		}
	}
}

func TestChangePasswordThroughSymlink(t *testing.T) {
	s := newTestStore(t)
	mustPut(t, s, keyRec("k", "secret-k"))
	link := filepath.Join(t.TempDir(), "link.dat")
	if err := os.Symlink(s.Path(), link); err != nil {
		t.Fatal(err)
	}
	ls, err := Open(link, testPassword, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	if err := ls.ChangePassword([]byte("new one"), nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v", err)
	}
	n, err := Open(s.Path(), []byte("new one"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if mustGetSecret(t, n, "k") != "secret-k" {
		t.Fatal("record lost")
	}
	if names := dirNames(t, filepath.Dir(link)); len(names) != 1 {
		t.Fatalf("temporary files next to the link: %v", names)
	}
}

func TestPathFromURL(t *testing.T) {
	for in, want := range map[string]string{
		"/abs/wallet.dat":            "/abs/wallet.dat",
		"wallet.dat":                 "wallet.dat",
		"./rel/wallet.dat":           "./rel/wallet.dat",
		"file:///abs/wallet.dat":     "/abs/wallet.dat",
		"file://localhost/abs/w.dat": "/abs/w.dat",
		"file://./rel/w.dat":         "./rel/w.dat",
		"file://../up/w.dat":         "../up/w.dat",
		"file://w.dat":               "w.dat",
		"file://dir/w.dat":           "dir/w.dat",
		"file:///a%20b/w%3F.dat":     "/a b/w?.dat",
	} {
		u, err := backend.ParseAddress(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got, err := PathFromURL(u)
		if err != nil || got != filepath.FromSlash(want) {
			t.Errorf("PathFromURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := PathFromURL(&url.URL{Scheme: "file", Opaque: "w%20x.dat"}); err != nil || got != "w x.dat" {
		t.Errorf("opaque file URL: %q, %v", got, err)
	}
	// What the CLI builds from --path must come back unchanged.
	for _, p := range []string{"/tmp/a b/w#1?.dat", "/tmp/100%/w.dat"} {
		u, _ := backend.ParseAddress((&url.URL{Scheme: "file", Path: p}).String())
		if got, err := PathFromURL(u); err != nil || got != p {
			t.Errorf("round trip of %q: %q, %v", p, got, err)
		}
	}
	for _, bad := range []string{"file:///w.dat?x=1", "file:///w.dat#frag", "file://"} {
		u, err := backend.ParseAddress(bad)
		if err != nil {
			continue
		}
		if _, err := PathFromURL(u); err == nil {
			t.Errorf("PathFromURL(%q) accepted", bad)
		}
	}
}
