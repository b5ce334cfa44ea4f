package hashivault

// Test harness: a real Vault server (built by scripts/vault.sh) in dev mode,
// started once for the package, plus helpers for servers with persistent
// storage started by individual tests.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

const vaultVersion = "1.21.0"

var (
	vaultBin  string // path of the server binary, "" if unavailable
	skipWhy   string // why, when vaultBin is ""
	dev       *server
	devUnseal string
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	ci := os.Getenv("CI") == "true"
	bin, err := findVault(ci)
	// The tests choose every Vault setting themselves: none of the
	// developer's VAULT_* variables or ~/.vault-token may leak in.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "GOKMS_VAULT_") {
			os.Unsetenv(k)
		}
	}
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
	dev, err = startDev(bin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: start vault server -dev: %v\n", err)
		return 1
	}
	defer dev.stop()
	return m.Run()
}

// findVault returns the cached server binary; under CI it builds it with
// scripts/vault.sh when absent.
func findVault(ci bool) (string, error) {
	cache := os.Getenv("GOKMS_CACHE")
	if cache == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(h, ".cache", "gokms")
	}
	bin := filepath.Join(cache, "vault-"+vaultVersion, "vault")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if !ci {
		return "", fmt.Errorf("no Vault server at %s: run scripts/vault.sh to build it (10-15 minutes), or set CI=true to build it here", bin)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "vault.sh"))
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "backend/hashivault: %s missing; running %s\n", bin, script)
	cmd := exec.Command(script)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s ran but %s is missing", script, bin)
	}
	return bin, nil
}

func requireVault(t testing.TB) {
	t.Helper()
	if dev == nil {
		t.Skip(skipWhy)
	}
}

// server is one running `vault server` process.
type server struct {
	bin, addr, root string
	args            []string
	env             []string
	cmd             *exec.Cmd
	out             *syncBuffer
	exited          chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the process. Secrets (the dev root token) go through the
// environment, never the command line.
func (s *server) start() error {
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Env = append(os.Environ(), s.env...)
	s.out = &syncBuffer{}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	return nil
}

// waitHTTP waits until the listener answers sys/health (any status).
func (s *server) waitHTTP(ctx context.Context) error {
	c := s.client(s.root)
	for {
		if _, err := c.Sys().HealthWithContext(ctx); err == nil || !isTransport(err) {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("vault exited: %s", s.output())
		case <-ctx.Done():
			return fmt.Errorf("vault did not answer within the deadline: %s", s.output())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitActive waits until Vault is unsealed and active.
func (s *server) waitActive(ctx context.Context) error {
	c := s.client(s.root)
	for {
		h, err := c.Sys().HealthWithContext(ctx)
		if err == nil && h.Initialized && !h.Sealed && !h.Standby {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("vault exited: %s", s.output())
		case <-ctx.Done():
			return fmt.Errorf("vault not active within the deadline (%v): %s", err, s.output())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// output is the server's log with the known secrets masked.
func (s *server) output() string {
	o := s.out.String()
	if s.root != "" {
		o = strings.ReplaceAll(o, s.root, "<root-token>")
	}
	return regexp.MustCompile(`(?m)^Unseal Key: .*$`).ReplaceAllString(o, "Unseal Key: <redacted>")
}

func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
}

// client returns a client for this server with the given token and no
// retries (tests want the first answer).
func (s *server) client(token string) *api.Client {
	conf := api.DefaultConfig()
	conf.Address = s.addr
	conf.MaxRetries = 0
	conf.Timeout = 30 * time.Second
	c, err := api.NewClient(conf)
	if err != nil {
		panic(err)
	}
	c.SetToken(token)
	return c
}

func startDev(bin string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{
		bin: bin, addr: fmt.Sprintf("http://127.0.0.1:%d", port), root: "root-" + randHex(16),
		// -dev-no-store-token: do not write ~/.vault-token.
		args: []string{"server", "-dev", "-dev-no-store-token", "-log-level=warn"},
	}
	s.env = []string{"VAULT_DEV_ROOT_TOKEN_ID=" + s.root, fmt.Sprintf("VAULT_DEV_LISTEN_ADDRESS=127.0.0.1:%d", port)}
	if err := s.start(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.waitActive(ctx); err != nil {
		s.stop()
		return nil, err
	}
	// The dev server prints its unseal key when it is ready; the seal test
	// needs it to unseal again.
	for devUnseal == "" {
		sc := bufio.NewScanner(strings.NewReader(s.out.String()))
		for sc.Scan() {
			if k, ok := strings.CutPrefix(sc.Text(), "Unseal Key: "); ok {
				devUnseal = strings.TrimSpace(k)
			}
		}
		if devUnseal == "" {
			select {
			case <-ctx.Done():
				s.stop()
				return nil, errors.New("vault -dev did not print its unseal key")
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return s, nil
}

// startFileServer runs a non-dev server with file storage in dir (so data
// survives a restart), initialises and unseals it, and mounts KV v2 at
// secret/. It returns the server and its unseal key.
func startFileServer(t *testing.T, dir string) (*server, string) {
	t.Helper()
	requireVault(t)
	port, err := freePort()
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
	s := &server{bin: vaultBin, addr: fmt.Sprintf("http://127.0.0.1:%d", port), args: []string{"server", "-config=" + cfg, "-log-level=warn"}}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("vault server output:\n%s", s.output())
		}
	})
	ctx := testCtx(t)
	if err := s.waitHTTP(ctx); err != nil {
		t.Fatal(err)
	}
	initResp, err := s.client("").Sys().InitWithContext(ctx, &api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	s.root = initResp.RootToken
	key := initResp.Keys[0]
	s.unseal(t, key)
	root := s.client(s.root)
	if err := root.Sys().MountWithContext(ctx, "secret", &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatalf("mount kv-v2: %v", err)
	}
	waitKVReady(t, root, "secret")
	return s, key
}

func (s *server) unseal(t *testing.T, key string) {
	t.Helper()
	ctx := testCtx(t)
	if _, err := s.client("").Sys().UnsealWithContext(ctx, key); err != nil {
		t.Fatalf("unseal: %v", err)
	}
	if err := s.waitActive(ctx); err != nil {
		t.Fatal(err)
	}
}

// waitKVReady waits out the moment after mounting or unsealing in which a
// KV v2 mount answers "upgrading".
func waitKVReady(t *testing.T, c *api.Client, mount string) {
	t.Helper()
	ctx := testCtx(t)
	for {
		_, err := c.KVv2(mount).Put(ctx, "gokms-ready-probe", map[string]interface{}{"x": "y"})
		if err == nil {
			_ = c.KVv2(mount).DeleteMetadata(ctx, "gokms-ready-probe")
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("KV v2 at %s not ready: %v", mount, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func testCtx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}
