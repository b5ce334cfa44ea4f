package hashivault

// Test harness: a real Vault server in dev mode (vaulttest, the binary built
// by scripts/vault.sh), started once for the package, plus a helper for
// servers with persistent storage started by individual tests.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/gokms/gokms/backend/hashivault/vaulttest"
)

var (
	vaultBin string // path of the server binary, "" if unavailable
	skipWhy  string // why, when vaultBin is ""
	dev      *vaulttest.Server
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	ci := os.Getenv("CI") == "true"
	bin, err := vaulttest.Find(ci)
	// The tests choose every Vault setting themselves: none of the
	// developer's VAULT_* variables or ~/.vault-token may leak in.
	vaulttest.UnsetEnv()
	home, herr := os.MkdirTemp("", "gokms-vault-home-")
	if herr != nil {
		fmt.Fprintln(os.Stderr, herr)
		return 1
	}
	defer os.RemoveAll(home)
	os.Setenv("HOME", home)

	if err != nil {
		if ci {
			fmt.Fprintf(os.Stderr, "FAIL: backend/hashivault needs a Vault server and CI=true: %v\n", err)
			return 1
		}
		skipWhy = err.Error()
		return m.Run()
	}
	vaultBin = bin
	dev, err = vaulttest.StartDev(bin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: start vault server -dev: %v\n", err)
		return 1
	}
	defer dev.Stop()
	return m.Run()
}

func requireVault(t testing.TB) {
	t.Helper()
	if dev == nil {
		t.Skip(skipWhy)
	}
}

func randHex(n int) string { return vaulttest.RandHex(n) }

// startFileServer runs a non-dev server with file storage in dir (so data
// survives a restart), initialises and unseals it, and mounts KV v2 at
// secret/. It returns the server and its unseal key.
func startFileServer(t *testing.T, dir string) (*vaulttest.Server, string) {
	t.Helper()
	requireVault(t)
	port, err := vaulttest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "vault.hcl")
	hcl := fmt.Sprintf(`storage "file" { path = %q }
listener "tcp" {
  address = "127.0.0.1:%d"
  tls_disable = true
}
disable_mlock = true
api_addr = "http://127.0.0.1:%d"
`, filepath.Join(dir, "data"), port, port)
	if err := os.WriteFile(cfg, []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	s := vaulttest.New(vaultBin, fmt.Sprintf("http://127.0.0.1:%d", port), []string{"server", "-config=" + cfg, "-log-level=warn"}, nil)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("vault server output:\n%s", s.Output())
		}
	})
	ctx := testCtx(t)
	if err := s.WaitHTTP(ctx); err != nil {
		t.Fatal(err)
	}
	initResp, err := s.Client("").Sys().InitWithContext(ctx, &api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	s.RootToken = initResp.RootToken
	key := initResp.Keys[0]
	unseal(t, s, key)
	root := s.Client(s.RootToken)
	if err := root.Sys().MountWithContext(ctx, "secret", &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatalf("mount kv-v2: %v", err)
	}
	waitKVReady(t, root, "secret")
	return s, key
}

func unseal(t *testing.T, s *vaulttest.Server, key string) {
	t.Helper()
	if err := s.Unseal(testCtx(t), key); err != nil {
		t.Fatal(err)
	}
}

// waitKVReady waits out the moment after mounting or unsealing in which a
// KV v2 mount answers "upgrading".
func waitKVReady(t *testing.T, c *api.Client, mount string) {
	t.Helper()
	if err := vaulttest.WaitKVReady(testCtx(t), c, mount); err != nil {
		t.Fatal(err)
	}
}

func testCtx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}
