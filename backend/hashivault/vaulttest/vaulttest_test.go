package vaulttest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

func TestFindWithoutBinary(t *testing.T) {
	t.Setenv("GOKMS_CACHE", t.TempDir())
	_, err := Find(false)
	if err == nil || !strings.Contains(err.Error(), "scripts/vault.sh") || !strings.Contains(err.Error(), "vault-"+Version) {
		t.Fatalf("Find(false) with an empty cache = %v", err)
	}
}

func TestAuditRequests(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.log")
	lines := []string{
		`{"type":"request","request":{"operation":"read","path":"secret/data/p/a"}}`,
		`{"type":"response","request":{"operation":"read","path":"secret/data/p/a"}}`,
		`{"type":"request","request":{"operation":"read","path":"secret/data/p/b"}}`,
		`{"type":"request","request":{"operation":"list","path":"secret/metadata/p/"}}`,
		`{"type":"request","request":{"operation":"read","path":"secret/data/q/a"}}`,
		``,
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &AuditLog{Path: p}
	for _, tc := range []struct {
		op, prefix string
		want       int
	}{
		{"read", "secret/data/p/", 2},
		{"read", "secret/data/p/a", 1},
		{"list", "secret/", 1},
		{"", "secret/", 4},
		{"delete", "", 0},
	} {
		if n, err := a.Requests(tc.op, tc.prefix); err != nil || n != tc.want {
			t.Errorf("Requests(%q, %q) = %d, %v; want %d", tc.op, tc.prefix, n, err, tc.want)
		}
	}
	if err := os.WriteFile(p, []byte(lines[0]+"\nnot json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Requests("read", ""); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("a broken line = %v", err)
	}
}

// TestDevServer runs the real server: root token through the environment
// only, a usable KV v2 at secret/, the audit log counting real requests,
// masked output, and Stop ending the process.
func TestDevServer(t *testing.T) {
	ci := os.Getenv("CI") == "true"
	bin, err := Find(ci)
	if err != nil {
		if ci {
			t.Fatalf("CI=true and no Vault server: %v", err)
		}
		t.Skip(err)
	}
	UnsetEnv()
	s, err := StartDev(bin)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			s.Stop()
		}
	}()
	if !strings.HasPrefix(s.Addr, "http://127.0.0.1:") || s.RootToken == "" || s.UnsealKey == "" {
		t.Fatalf("addr %q, token set %v, unseal key set %v", s.Addr, s.RootToken != "", s.UnsealKey != "")
	}
	argv, err := os.ReadFile("/proc/" + strconv.Itoa(s.Pid()) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(argv, []byte(s.RootToken)) {
		t.Fatal("the root token is on the server's command line")
	}
	environ, err := os.ReadFile("/proc/" + strconv.Itoa(s.Pid()) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(environ, []byte("VAULT_DEV_ROOT_TOKEN_ID="+s.RootToken+"\x00")) {
		t.Fatal("the root token is not in the server's environment")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	audit, err := s.EnableAudit(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	kv := s.Client(s.RootToken).KVv2("secret")
	if _, err := kv.Put(ctx, "vaulttest/x", map[string]interface{}{"v": "1"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if sec, err := kv.Get(ctx, "vaulttest/x"); err != nil || sec.Data["v"] != "1" {
			t.Fatalf("read back: %v %v", sec, err)
		}
	}
	if n, err := audit.Requests("read", "secret/data/vaulttest/"); err != nil || n != 3 {
		t.Fatalf("audit log counts %d reads (%v), want 3", n, err)
	}
	if n, err := audit.Requests("", "secret/data/vaulttest/"); err != nil || n != 4 {
		t.Fatalf("audit log counts %d requests (%v), want 4", n, err)
	}
	if _, err := s.Client("wrong-token").KVv2("secret").Get(ctx, "vaulttest/x"); err == nil {
		t.Fatal("a wrong token read a secret")
	}
	b, _ := os.ReadFile(audit.Path)
	if bytes.Contains(b, []byte(s.RootToken)) {
		t.Fatal("the root token is in the audit log in the clear")
	}

	s.Stop()
	stopped = true
	if out := s.Output(); strings.Contains(out, s.RootToken) || strings.Contains(out, s.UnsealKey) || !strings.Contains(out, "Unseal Key: <redacted>") {
		t.Fatalf("output not masked:\n%s", out)
	}
	_, err = s.Client(s.RootToken).Sys().HealthWithContext(ctx)
	var re *api.ResponseError
	if err == nil || errors.As(err, &re) || !isTransport(err) {
		t.Fatalf("health after Stop = %v", err)
	}
}
