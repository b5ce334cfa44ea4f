package kms

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// WriteNewFile never replaces a file without force, even one that appears
// between the caller's check and the write, and leaves no temporary file.
func TestWriteNewFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.dat")
	if err := WriteNewFile(p, []byte("one"), false); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	err := WriteNewFile(p, []byte("two"), false)
	if err == nil || !strings.Contains(err.Error(), "not overwriting") {
		t.Fatalf("second write: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Fatalf("replaced without force: %q", b)
	}
	if err := WriteNewFile(p, []byte("three"), true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "three" {
		t.Fatalf("force: %q", b)
	}
	if l, _ := os.ReadDir(dir); len(l) != 1 {
		t.Fatalf("left behind: %v", l)
	}
}

// SwapIn keeps the original under its backup name and puts the new store
// in its place; with a backup already there it changes nothing.
func TestSwapIn(t *testing.T) {
	dir := t.TempDir()
	src, staging, backup := filepath.Join(dir, "wallet.dat"), filepath.Join(dir, "staging"), filepath.Join(dir, "wallet.dat.tatum-kms")
	os.WriteFile(src, []byte("tatum-kms"), 0o600)
	os.WriteFile(staging, []byte("gokms"), 0o600)
	os.WriteFile(backup, []byte("earlier"), 0o600)
	if err := SwapIn(src, staging, backup); err == nil {
		t.Fatal("swapped over an existing backup")
	}
	for p, want := range map[string]string{src: "tatum-kms", staging: "gokms", backup: "earlier"} {
		if b, _ := os.ReadFile(p); string(b) != want {
			t.Fatalf("%s = %q after a refused swap", p, b)
		}
	}
	os.Remove(backup)
	if err := SwapIn(src, staging, backup); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{src: "gokms", backup: "tatum-kms"} {
		if b, _ := os.ReadFile(p); !bytes.Equal(b, []byte(want)) {
			t.Fatalf("%s = %q", p, b)
		}
	}
}

// RefuseOntoStore sees the store through a symlink and a relative spelling.
func TestRefuseOntoStore(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "wallet.dat")
	os.WriteFile(store, []byte("x"), 0o600)
	link := filepath.Join(dir, "link.dat")
	if err := os.Symlink(store, link); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{store, link, filepath.Join(dir, "sub", "..", "wallet.dat")} {
		if err := RefuseOntoStore("export --out", target, FileAddr(store)); err == nil || !strings.Contains(err.Error(), "is the wallet store") {
			t.Errorf("%s: %v", target, err)
		}
	}
	if err := RefuseOntoStore("export --out", filepath.Join(dir, "other.dat"), FileAddr(store)); err != nil {
		t.Fatal(err)
	}
	if err := RefuseOntoStore("export --out", store, "vault://h/secret"); err != nil {
		t.Fatalf("a remote store has no file to protect: %v", err)
	}
	same, err := SameAddress(FileAddr(store), link)
	if err != nil || !same {
		t.Fatalf("SameAddress through a link: %v %v", same, err)
	}
}
