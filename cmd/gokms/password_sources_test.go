package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokms/gokms/backend/vgs/vgstest"
)

// runApp runs the real app in-process with an isolated environment.
func runApp(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	for _, k := range []string{envPassword, "TATUM_KMS_VGS_ALIAS", "TATUM_KMS_VGS_USERNAME", "TATUM_KMS_VGS_PASSWORD",
		"TATUM_KMS_VGS_URL", "GOKMS_VGS_CACERT", "TATUM_KMS_AZURE_VAULTURL", "TATUM_KMS_AZURE_SECRETNAME"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("GOKMS_KDF", "test")
	for k, v := range env {
		t.Setenv(k, v)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	var out, errb bytes.Buffer
	code := runMain(append([]string{"gokms"}, args...), devnull, &out, &errb)
	return code, out.String(), errb.String()
}

// --vgs takes the store password from a VGS alias, as tatum-kms does.
func TestVGSPasswordSource(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	s := vgstest.New()
	defer s.Close()
	dir := t.TempDir()
	ca, err := s.WriteCACert(dir)
	if err != nil {
		t.Fatal(err)
	}
	const password = "correct horse battery staple 42"
	alias := s.Put(password)
	store := filepath.Join(dir, "wallet.dat")

	code, out, errOut := runApp(t, map[string]string{envPassword: password}, "--path", store, "--testnet", "generatemanagedwallet", "BTC")
	if code != 0 {
		t.Fatalf("generatemanagedwallet: exit %d: %s", code, errOut)
	}
	var w struct{ SignatureID string }
	if err := json.Unmarshal([]byte(out), &w); err != nil || w.SignatureID == "" {
		t.Fatalf("output %q: %v", out, err)
	}
	vgsEnv := map[string]string{"TATUM_KMS_VGS_ALIAS": alias, "TATUM_KMS_VGS_USERNAME": s.Username,
		"TATUM_KMS_VGS_PASSWORD": s.Password, "TATUM_KMS_VGS_URL": s.URL, "GOKMS_VGS_CACERT": ca}

	code, out, errOut = runApp(t, vgsEnv, "getaddress", w.SignatureID, "0", "--path", store, "--testnet", "--vgs")
	if code != 0 || !strings.Contains(out, `"address"`) {
		t.Fatalf("getaddress --vgs: exit %d, out %q, err %q", code, out, errOut)
	}
	before, _ := os.ReadFile(store)

	// A wrong alias: a clear error, exit 1, nothing changed, no secret shown.
	vgsEnv["TATUM_KMS_VGS_ALIAS"] = "tok_sandbox_unknown"
	code, out, errOut = runApp(t, vgsEnv, "--vgs", "--path", store, "--testnet", "generatemanagedwallet", "BTC")
	if code != 1 || !strings.Contains(errOut, "--vgs") || !strings.Contains(errOut, "does not exist") {
		t.Fatalf("unknown alias: exit %d, out %q, err %q", code, out, errOut)
	}
	// Rejected credentials.
	vgsEnv["TATUM_KMS_VGS_ALIAS"] = alias
	vgsEnv["TATUM_KMS_VGS_PASSWORD"] = "not-the-vault-password"
	code, _, errOut2 := runApp(t, vgsEnv, "--vgs", "--path", store, "getaddress", w.SignatureID, "1")
	if code != 1 || !strings.Contains(errOut2, "credentials") {
		t.Fatalf("bad VGS credentials: exit %d, err %q", code, errOut2)
	}
	after, _ := os.ReadFile(store)
	if !bytes.Equal(before, after) {
		t.Fatal("a failed --vgs command changed the store")
	}
	for _, o := range []string{out, errOut, errOut2} {
		for _, secret := range []string{password, s.Password, "not-the-vault-password"} {
			if strings.Contains(o, secret) {
				t.Fatalf("output contains a secret: %q", o)
			}
		}
	}
}

// --azure needs its variables; without them it says which.
func TestAzurePasswordSourceNeedsConfig(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	store := filepath.Join(t.TempDir(), "wallet.dat")
	code, _, errOut := runApp(t, nil, "--azure", "--path", store, "generatemanagedwallet", "BTC")
	if code != 1 || !strings.Contains(errOut, "TATUM_KMS_AZURE_VAULTURL") {
		t.Fatalf("--azure without config: exit %d, err %q", code, errOut)
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Fatal("a failed --azure command created a store")
	}
}

// --aws needs its secret name; without it it says which variable.
func TestAWSPasswordSourceNeedsConfig(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"TATUM_KMS_AWS_SECRET_NAME", "TATUM_KMS_AWS_SECRET_KEY", "TATUM_KMS_AWS_REGION"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	store := filepath.Join(t.TempDir(), "wallet.dat")
	code, _, errOut := runApp(t, nil, "--aws", "--path", store, "generatemanagedwallet", "BTC")
	if code != 1 || !strings.Contains(errOut, "--aws") || !strings.Contains(errOut, "TATUM_KMS_AWS_") {
		t.Fatalf("--aws without config: exit %d, err %q", code, errOut)
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Fatal("a failed --aws command created a store")
	}
}

// gokms migrate moves a file store into VGS and back through the real
// vgs:// address (the stand-in, trusted through GOKMS_VGS_CACERT).
func TestMigrateFileToVGSAndBack(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	s := vgstest.New()
	defer s.Close()
	dir := t.TempDir()
	ca, err := s.WriteCACert(dir)
	if err != nil {
		t.Fatal(err)
	}
	src, back := filepath.Join(dir, "src.dat"), filepath.Join(dir, "back.dat")
	env := map[string]string{envPassword: "store password", "TATUM_KMS_VGS_USERNAME": s.Username,
		"TATUM_KMS_VGS_PASSWORD": s.Password, "GOKMS_VGS_CACERT": ca}
	var ids []string
	for _, chain := range []string{"BTC", "ETH", "TRON"} {
		code, out, errOut := runApp(t, env, "--path", src, "--testnet", "generatemanagedwallet", chain)
		if code != 0 {
			t.Fatalf("generatemanagedwallet: %s", errOut)
		}
		var w struct{ SignatureID string }
		_ = json.Unmarshal([]byte(out), &w)
		ids = append(ids, w.SignatureID)
	}
	vgsAddr := "vgs://" + strings.TrimPrefix(s.URL, "https://") + "?index=" + filepath.Join(dir, "vgs-index.db")
	if code, _, errOut := runApp(t, env, "migrate", "--from", "file://"+src, "--to", vgsAddr); code != 0 {
		t.Fatalf("migrate file -> vgs: %s", errOut)
	}
	if s.Aliases() != len(ids) {
		t.Fatalf("VGS holds %d aliases, want %d", s.Aliases(), len(ids))
	}
	if code, _, errOut := runApp(t, env, "migrate", "--from", vgsAddr, "--to", "file://"+back); code != 0 {
		t.Fatalf("migrate vgs -> file: %s", errOut)
	}
	for _, id := range ids {
		_, want, _ := runApp(t, env, "--path", src, "getmanagedwallet", id)
		code, got, errOut := runApp(t, env, "--path", back, "getmanagedwallet", id)
		if code != 0 || got != want {
			t.Fatalf("wallet %s differs after file -> vgs -> file (exit %d, %s)", id, code, errOut)
		}
		// The daemon-facing address works directly on VGS too.
		if code, _, errOut := runApp(t, env, "--backend", vgsAddr, "getaddress", id, "3"); code != 0 {
			t.Fatalf("getaddress through vgs://: %s", errOut)
		}
	}
}
