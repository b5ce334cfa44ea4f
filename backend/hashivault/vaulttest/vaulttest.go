// Package vaulttest runs a real HashiCorp Vault server for tests: the binary
// scripts/vault.sh builds into ${GOKMS_CACHE:-~/.cache/gokms}/vault-<Version>/,
// started in dev mode (in memory, KV v2 at secret/) on a free loopback port,
// or with any other arguments for tests that need persistent storage.
//
// Secrets the tests know (the root token) reach the server through its
// environment, never its command line, and Output masks them.
package vaulttest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/vault/api"
)

// Version is the Vault release scripts/vault.sh builds (pinned by tools/vault/go.mod).
const Version = "1.21.0"

// StartTimeout bounds how long StartDev waits for the server to be usable.
const StartTimeout = 2 * time.Minute

// Find returns the cached server binary. Without it, under CI (ci true) it
// runs scripts/vault.sh (found by walking up from the working directory),
// which builds it; otherwise it returns an error saying how to build it.
func Find(ci bool) (string, error) {
	cache := os.Getenv("GOKMS_CACHE")
	if cache == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no GOKMS_CACHE and no home directory: %w", err)
		}
		cache = filepath.Join(h, ".cache", "gokms")
	}
	bin := filepath.Join(cache, "vault-"+Version, "vault")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if !ci {
		return "", fmt.Errorf("no Vault server at %s: run scripts/vault.sh to build it (10-15 minutes), or set CI=true to build it here", bin)
	}
	script, err := findScript()
	if err != nil {
		return "", fmt.Errorf("%s missing and %w", bin, err)
	}
	fmt.Fprintf(os.Stderr, "vaulttest: %s missing; running %s\n", bin, script)
	cmd := exec.Command(script)
	// The script says what it does on stderr and prints the path last on
	// stdout; both go to the test's stderr so a slow build is visible.
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s ran but %s is missing", script, bin)
	}
	return bin, nil
}

func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "vault.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no scripts/vault.sh above the working directory")
		}
		dir = parent
	}
}

// UnsetEnv removes the developer's VAULT_* and GOKMS_VAULT_* variables from
// this process, so that tests choose every Vault setting themselves (the
// Vault API client reads VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, ... from
// the environment). Call it from TestMain.
func UnsetEnv() {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "GOKMS_VAULT_") {
			os.Unsetenv(k)
		}
	}
}

// Server is one `vault server` process.
type Server struct {
	// Addr is the API address, http://127.0.0.1:PORT.
	Addr string
	// RootToken is the dev server's root token (or, for other servers, the
	// one the test set after `vault operator init`).
	RootToken string
	// UnsealKey is the key the dev server printed (to unseal it after a
	// sys/seal); empty for other servers.
	UnsealKey string

	bin    string
	args   []string
	env    []string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

// New describes a server run as `bin args...` with env added to its
// environment and addr as its API address; Start runs it. For servers with a
// configuration file (persistent storage, restarts); dev servers use StartDev.
func New(bin, addr string, args, env []string) *Server {
	return &Server{bin: bin, Addr: addr, args: args, env: env}
}

// StartDev runs `vault server -dev` on a free loopback port with a random
// root token, and returns once it is unsealed, active, and its KV v2 mount at
// secret/ accepts writes.
func StartDev(bin string) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	root := "root-" + randHex(16)
	s := New(bin, fmt.Sprintf("http://127.0.0.1:%d", port),
		// -dev-no-store-token: do not write ~/.vault-token.
		[]string{"server", "-dev", "-dev-no-store-token", "-log-level=warn"},
		[]string{"VAULT_DEV_ROOT_TOKEN_ID=" + root, fmt.Sprintf("VAULT_DEV_LISTEN_ADDRESS=127.0.0.1:%d", port)})
	s.RootToken = root
	if err := s.Start(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	if err := s.WaitActive(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	// The dev server prints its unseal key when it is ready; a seal test
	// needs it to unseal again.
	for s.UnsealKey == "" {
		sc := bufio.NewScanner(strings.NewReader(s.out.String()))
		for sc.Scan() {
			if k, ok := strings.CutPrefix(sc.Text(), "Unseal Key: "); ok {
				s.UnsealKey = strings.TrimSpace(k)
			}
		}
		if s.UnsealKey == "" {
			select {
			case <-ctx.Done():
				s.Stop()
				return nil, errors.New("vault -dev did not print its unseal key")
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	if err := WaitKVReady(ctx, s.Client(s.RootToken), "secret"); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w: %s", err, s.Output())
	}
	return s, nil
}

// Start runs the process (again, after Stop: a restart). The server gets
// this process's environment without any VAULT_* variable, plus its own.
func (s *Server) Start() error {
	s.cmd = exec.Command(s.bin, s.args...)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAULT_") {
			env = append(env, kv)
		}
	}
	s.cmd.Env = append(env, s.env...)
	s.out = &syncBuffer{}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	// Its own process group, so Stop can kill whatever it started.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	s.exited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	return nil
}

// Pid is the server's process id (0 before Start).
func (s *Server) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// WaitHTTP waits until the listener answers sys/health (any status: a
// sealed or uninitialised server counts).
func (s *Server) WaitHTTP(ctx context.Context) error {
	c := s.Client(s.RootToken)
	for {
		if _, err := c.Sys().HealthWithContext(ctx); err == nil || !isTransport(err) {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("vault exited: %s", s.Output())
		case <-ctx.Done():
			return fmt.Errorf("vault did not answer within the deadline: %s", s.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// isTransport reports an error with no HTTP response (refused, reset,
// timeout), as backend/hashivault classifies it.
func isTransport(err error) bool {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return false
	}
	var ue *url.Error
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.As(err, &oe)
}

// WaitActive waits until Vault is initialised, unsealed and active.
func (s *Server) WaitActive(ctx context.Context) error {
	c := s.Client(s.RootToken)
	for {
		h, err := c.Sys().HealthWithContext(ctx)
		if err == nil && h.Initialized && !h.Sealed && !h.Standby {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("vault exited: %s", s.Output())
		case <-ctx.Done():
			return fmt.Errorf("vault not active within the deadline (%v): %s", err, s.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Unseal unseals the server with key and waits until it is active.
func (s *Server) Unseal(ctx context.Context, key string) error {
	if _, err := s.Client("").Sys().UnsealWithContext(ctx, key); err != nil {
		return fmt.Errorf("unseal: %w", err)
	}
	return s.WaitActive(ctx)
}

// WaitKVReady waits out the moment after mounting or unsealing in which a
// KV v2 mount answers "upgrading": it writes (and then destroys) a probe
// secret at MOUNT/gokms-ready-probe until the write succeeds.
func WaitKVReady(ctx context.Context, c *api.Client, mount string) error {
	for {
		_, err := c.KVv2(mount).Put(ctx, "gokms-ready-probe", map[string]interface{}{"x": "y"})
		if err == nil {
			_ = c.KVv2(mount).DeleteMetadata(ctx, "gokms-ready-probe")
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("KV v2 at %s not ready: %v", mount, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var unsealLine = regexp.MustCompile(`(?m)^Unseal Key: .*$`)

// Output is the server's log so far with the known secrets masked.
func (s *Server) Output() string {
	if s.out == nil {
		return ""
	}
	o := s.out.String()
	for _, secret := range []string{s.RootToken, s.UnsealKey} {
		if secret != "" {
			o = strings.ReplaceAll(o, secret, "<redacted>")
		}
	}
	return unsealLine.ReplaceAllString(o, "Unseal Key: <redacted>")
}

// Stop ends the process: SIGTERM, then after 20 seconds SIGKILL to its
// process group. It returns once the process has exited.
func (s *Server) Stop() {
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

// Client returns an API client for this server with the given token and no
// retries (tests want the first answer). It panics only if the Vault API
// refuses its own default configuration.
func (s *Server) Client(token string) *api.Client {
	conf := api.DefaultConfig()
	conf.Address = s.Addr
	conf.MaxRetries = 0
	conf.Timeout = 30 * time.Second
	c, err := api.NewClient(conf)
	if err != nil {
		panic(fmt.Sprintf("vaulttest: api.NewClient: %v", err))
	}
	c.SetToken(token)
	return c
}

// AuditLog is a file audit device of a server: Vault itself writes one JSON
// line per request it handles (and one per response), so counting its lines
// counts the calls that really reached Vault. Tokens and secret values in it
// are HMAC'd by Vault; paths and operations are plain.
type AuditLog struct {
	Path string
}

// EnableAudit turns on a file audit device writing to dir/vault-audit.log.
func (s *Server) EnableAudit(ctx context.Context, dir string) (*AuditLog, error) {
	p := filepath.Join(dir, "vault-audit.log")
	err := s.Client(s.RootToken).Sys().EnableAuditWithOptionsWithContext(ctx, "gokms-test-"+randHex(3),
		&api.EnableAuditOptions{Type: "file", Options: map[string]string{"file_path": p}})
	if err != nil {
		return nil, fmt.Errorf("enable file audit device: %w", err)
	}
	return &AuditLog{Path: p}, nil
}

// Requests counts the requests with the given operation ("read", "list",
// "create", "update", "delete"; "" for any) whose path starts with
// pathPrefix, e.g. "secret/data/gokms/" for the secret reads of one prefix.
func (a *AuditLog) Requests(operation, pathPrefix string) (int, error) {
	b, err := os.ReadFile(a.Path)
	if err != nil {
		return 0, fmt.Errorf("read audit log: %w", err)
	}
	n := 0
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e struct {
			Type    string `json:"type"`
			Request struct {
				Operation string `json:"operation"`
				Path      string `json:"path"`
			} `json:"request"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			return 0, fmt.Errorf("audit log %s line %d: %w", a.Path, i+1, err)
		}
		if e.Type == "request" && (operation == "" || e.Request.Operation == operation) && strings.HasPrefix(e.Request.Path, pathPrefix) {
			n++
		}
	}
	return n, nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// RandHex returns 2n random hex digits (names, prefixes, tokens).
func RandHex(n int) string { return randHex(n) }

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
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
