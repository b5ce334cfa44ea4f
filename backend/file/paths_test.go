package file

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/gokms/gokms/backend"
)

func TestAddressPath(t *testing.T) {
	for _, tc := range []struct {
		addr, want string
		file       bool
	}{
		{"w.dat", "w.dat", true},
		{"./rel/w.dat", "rel/w.dat", true},
		{"file://./rel/w.dat", "rel/w.dat", true},
		{"file://w.dat", "w.dat", true},
		{"file:///abs/w.dat", "/abs/w.dat", true},
		{"file://localhost/abs/w.dat", "/abs/w.dat", true},
		{"file://../up/w.dat", "../up/w.dat", true},
		{"vault://host:8200/secret/gokms", "", false},
	} {
		p, ok, err := AddressPath(tc.addr)
		if err != nil || ok != tc.file || filepath.Clean(p) != filepath.Clean(tc.want) && tc.file {
			t.Errorf("AddressPath(%q) = %q, %v, %v; want %q, %v", tc.addr, p, ok, err, tc.want, tc.file)
		}
	}
	if _, _, err := AddressPath("file:///w.dat?x=1"); err == nil {
		t.Error("a query in a file address was accepted")
	}
}

// TestSameFileForms spells one store's path every way an operator (or an
// attacker planting links) could, for a store that exists and for one that
// does not exist yet; every spelling must be recognised, and other files not.
func TestSameFileForms(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "kms")
	sub := filepath.Join(dir, "sub")
	other := filepath.Join(root, "other")
	for _, d := range []string{sub, other} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(dir, filepath.Join(other, "dirlink")))                   // a link to the store's directory
	must(os.Symlink(filepath.Join(dir, "w.dat"), filepath.Join(other, "l"))) // a link to the store (dangling while it is missing)
	must(os.Symlink("l", filepath.Join(other, "l2")))                        // a relative link to that link
	must(os.Symlink(filepath.Join(dir, "missing"), filepath.Join(other, "m")))
	must(os.Symlink("loop2", filepath.Join(other, "loop1")))
	must(os.Symlink("loop1", filepath.Join(other, "loop2")))
	t.Chdir(sub)

	store := filepath.Join(dir, "w.dat")
	same := []string{
		store,
		"../w.dat",
		"./../w.dat",
		"../sub/../w.dat",
		dir + "//w.dat",
		filepath.Join(other, "dirlink", "w.dat"),
		"../../other/dirlink/w.dat",
		filepath.Join(other, "dirlink", "sub", "..", "w.dat"),
		filepath.Join(other, "l"),
		filepath.Join(other, "l2"),
	}
	differ := []string{
		"w.dat", // sub/w.dat
		filepath.Join(dir, "w.dat.new"),
		filepath.Join(dir, ".w.dat.tmp"),
		filepath.Join(other, "w.dat"),
		filepath.Join(other, "m"),
		filepath.Join(root, "nodir", "w.dat"),
	}
	check := func(phase string) {
		for _, p := range same {
			if ok, err := SameFile(store, p); err != nil || !ok {
				t.Errorf("%s: SameFile(store, %q) = %v, %v; want true", phase, p, ok, err)
			}
			if ok, err := SameFile(p, store); err != nil || !ok {
				t.Errorf("%s: SameFile(%q, store) = %v, %v; want true", phase, p, ok, err)
			}
		}
		for _, p := range differ {
			if ok, err := SameFile(store, p); err != nil || ok {
				t.Errorf("%s: SameFile(store, %q) = %v, %v; want false", phase, p, ok, err)
			}
		}
		if ok, err := SameFile(store, filepath.Join(other, "loop1")); ok || err == nil {
			t.Errorf("%s: a symlink loop: %v, %v; want an error", phase, ok, err)
		}
	}
	check("store missing")
	must(os.WriteFile(store, []byte("store"), 0o600))
	check("store exists")
	// A hard link is the same file under another name.
	hard := filepath.Join(other, "hard")
	must(os.Link(store, hard))
	if ok, err := SameFile(store, hard); err != nil || !ok {
		t.Errorf("hard link: %v, %v", ok, err)
	}
}

// inflateKDF rewrites the KDF costs in the header of the store at path (the
// attacker who can write the file); the rest of the header stays as it was.
func inflateKDF(t testing.TB, path string, p KDFParams) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		h := bytes.Clone(b.Get(keyHeader))
		off := len(magic) + 2 + 1
		binary.BigEndian.PutUint32(h[off:], p.Time)
		binary.BigEndian.PutUint32(h[off+4:], p.MemoryKiB)
		h[off+8] = p.Threads
		return b.Put(keyHeader, h)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOpenRefusesInflatedKDF: a header demanding t=1000, 4 GiB, p=255 (within
// the format's bounds) is refused before the KDF runs; were it run, this
// test would take minutes and 4 GiB. BenchmarkOpenInflatedKDF shows the time.
func TestOpenRefusesInflatedKDF(t *testing.T) {
	for _, p := range []KDFParams{
		{Time: 1000, MemoryKiB: 4 << 20, Threads: 255},
		{Time: 11, MemoryKiB: 64, Threads: 1},
		{Time: 1, MemoryKiB: 1<<20 + 1, Threads: 1},
		{Time: 1, MemoryKiB: 1024, Threads: 17},
	} {
		path := filepath.Join(t.TempDir(), "w.dat")
		s, err := Create(path, []byte("pw"), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		inflateKDF(t, path, p)
		_, err = Open(path, []byte("pw"), Options{})
		if err == nil || !errors.Is(err, backend.ErrCorrupt) || !strings.Contains(err.Error(), p.String()) || !strings.Contains(err.Error(), DefaultMaxKDF.String()) {
			t.Fatalf("header %v: %v; want ErrCorrupt naming the header's and the allowed costs", p, err)
		}
	}
	// At the bound (cheap in time and memory but p=16) it still opens.
	path := filepath.Join(t.TempDir(), "w.dat")
	bound := KDFParams{Time: 1, MemoryKiB: 8 * 16, Threads: 16}
	s, err := Create(path, []byte("pw"), Options{KDF: &bound})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path, []byte("pw"), Options{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func BenchmarkOpenInflatedKDF(b *testing.B) {
	path := filepath.Join(b.TempDir(), "w.dat")
	s, err := Create(path, []byte("pw"), testOptions())
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	b.Run("test-kdf-open", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s, err := Open(path, []byte("pw"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
	inflateKDF(b, path, KDFParams{Time: 1000, MemoryKiB: 4 << 20, Threads: 255})
	b.Run("inflated-refused", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := Open(path, []byte("pw"), Options{}); err == nil {
				b.Fatal("opened")
			}
		}
	})
}

func TestCreateRefusesCostsAboveBound(t *testing.T) {
	p := KDFParams{Time: 11, MemoryKiB: 64, Threads: 1}
	if _, err := Create(filepath.Join(t.TempDir(), "w.dat"), []byte("pw"), Options{KDF: &p}); err == nil {
		t.Fatal("created a store gokms would not open")
	}
}

func TestNewStoreKDF(t *testing.T) {
	defer func(v bool) { AllowTestKDFOnMainnet = v }(AllowTestKDFOnMainnet)
	AllowTestKDFOnMainnet = false
	for _, tc := range []struct {
		setting string
		testnet bool
		ok      bool
	}{
		{"", false, true},
		{"default", false, true},
		{"test", true, true},
		{"test", false, false},        // the test setting on mainnet
		{"t=1,m=8,p=1", true, false},  // weaker than the default: only "test" makes that
		{"t=1,m=8,p=1", false, false}, // the planted-.env attack
		{"t=3,m=65536,p=1", false, true},
		{"t=4,m=131072,p=4", false, true},
		{"t=11,m=65536,p=4", false, false}, // above what Open runs
		{"t=3,m=2097152,p=4", false, false},
	} {
		_, err := NewStoreKDF(tc.setting, tc.testnet)
		if (err == nil) != tc.ok {
			t.Errorf("NewStoreKDF(%q, testnet=%v) = %v; want ok=%v", tc.setting, tc.testnet, err, tc.ok)
		}
	}
	AllowTestKDFOnMainnet = true
	if _, err := NewStoreKDF("test", false); err != nil {
		t.Errorf("test binaries: %v", err)
	}
}
