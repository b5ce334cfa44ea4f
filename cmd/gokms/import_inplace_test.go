package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// import --in-place converts a tatum-kms wallet.dat where it lies, so an
// operator's scripts (default path, TATUM_KMS_PASSWORD) work unchanged.
func TestImportInPlace(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	var manifest struct {
		Fixtures map[string]struct{ Password string } `json:"fixtures"`
	}
	raw, err := os.ReadFile("../../testdata/tatumkms/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	password := manifest.Fixtures["small.dat"].Password
	orig, err := os.ReadFile("../../testdata/tatumkms/small.dat")
	if err != nil {
		t.Fatal(err)
	}
	wantExport, err := os.ReadFile("../../testdata/tatumkms/small.export.txt")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wallet := filepath.Join(dir, "wallet.dat")
	if err := os.WriteFile(wallet, orig, 0o600); err != nil {
		t.Fatal(err)
	}

	// A wrong password changes nothing and leaves nothing behind.
	code, _, errOut := runApp(t, map[string]string{envPassword: "not it"}, "import", "tatum-kms", wallet, "--in-place")
	if code != 1 || !strings.Contains(errOut, "wrong password") {
		t.Fatalf("wrong password: exit %d, %q", code, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("a failed in-place import left files: %v", entries)
	}

	env := map[string]string{envPassword: password}
	code, out, errOut := runApp(t, env, "import", "tatum-kms", wallet, "--in-place")
	if code != 0 {
		t.Fatalf("import --in-place: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `"imported": 12`) || !strings.Contains(out, wallet+".tatum-kms") {
		t.Fatalf("summary: %s", out)
	}
	if kept, _ := os.ReadFile(wallet + ".tatum-kms"); !bytes.Equal(kept, orig) {
		t.Fatal("the original tatum-kms file was not kept byte for byte")
	}
	if _, err := os.Stat(wallet + ".gokms-import"); !os.IsNotExist(err) {
		t.Fatal("the staging store was left behind")
	}
	// The same path and password now open a gokms store with the same wallets,
	// printed as tatum-kms exports them (small.export.txt: its key order).
	code, out, errOut = runApp(t, env, "--path", wallet, "export")
	if code != 0 || out != string(wantExport) {
		t.Fatalf("export after conversion: exit %d, %s\n got %q", code, errOut, out)
	}
	// A second conversion refuses rather than overwrite the kept original.
	code, _, errOut = runApp(t, env, "import", "tatum-kms", wallet, "--in-place")
	if code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("second in-place import: exit %d, %q", code, errOut)
	}
}
