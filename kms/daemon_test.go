package kms

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/all"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// TestNewDaemonChecksBeforeOpening: a configuration mistake stops the
// daemon before it asks for a password (OpenBackend) and before it creates
// a journal or an audit log.
func TestNewDaemonChecksBeforeOpening(t *testing.T) {
	dir := t.TempDir()
	badPolicy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(badPolicy, []byte("chains: [not: a: policy\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := func(dir string) DaemonConfig {
		return DaemonConfig{
			Testnet:     true,
			Period:      5,
			Concurrency: 8, NonceWindow: DefaultNonceWindow,
			API:         APIConfig{Key: "k", URL: "http://127.0.0.1:1"},
			Signers:     func() (*signing.Set, func(), error) { return Signers(SignerConfig{}) },
			Journal:     filepath.Join(dir, "journal.db"),
			Audit:       filepath.Join(dir, "audit.log"),
			BackendAddr: FileAddr(filepath.Join(dir, "wallet.dat")),
			StorePath:   filepath.Join(dir, "wallet.dat"),
			Registry:    all.Registry(),
			OpenBackend: func() (backend.SecretBackend, error) {
				t.Error("OpenBackend (the password prompt) called before the configuration was checked")
				return nil, errors.New("no")
			},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}
	}
	cases := []struct {
		name string
		mod  func(*DaemonConfig)
		want string
	}{
		{"mainnet without four-eye", func(c *DaemonConfig) { c.Testnet = false }, daemon.ErrNoExternalURL.Error()},
		{"period", func(c *DaemonConfig) { c.Period = 0 }, "--period 0"},
		{"concurrency", func(c *DaemonConfig) { c.Concurrency = 0 }, "--concurrency 0"},
		{"cache ttl", func(c *DaemonConfig) { c.CacheTTL = -1 }, "--cache-ttl"},
		{"no api key", func(c *DaemonConfig) { c.API.Key = " " }, "Required TATUM_API_KEY is not set"},
		{"bad policy", func(c *DaemonConfig) { c.Policy = badPolicy }, "policy"},
		{"lease", func(c *DaemonConfig) { c.Lease, c.LeaseSet = 1, true }, "--lease"},
		{"state not a URL", func(c *DaemonConfig) { c.StateEnv = "journal.db" }, "postgres:// or postgresql://"},
		{"journal and state", func(c *DaemonConfig) { c.StateSet, c.State = true, "postgres://u@127.0.0.1:1/db" }, "exclude each other"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir() // each case its own: what one wrongly created does not fail the next
			cfg := base(dir)
			tc.mod(&cfg)
			d, err := NewDaemon(context.Background(), cfg)
			if err == nil {
				d.Close()
				t.Fatal("NewDaemon accepted the configuration")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to say %q", err, tc.want)
			}
			for _, f := range []string{"journal.db", "audit.log", "wallet.dat"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
					t.Fatalf("%s was created before the configuration was checked", f)
				}
			}
		})
	}
}

// TestRunRaisesGOMAXPROCSOnce: gokms daemon runs with daemon.SyncProcs
// more processors than the runtime's default, once per process, and leaves
// GOMAXPROCS alone when the operator set it (KeepGOMAXPROCS).
func TestRunRaisesGOMAXPROCSOnce(t *testing.T) {
	start := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(start) })
	srv := tatumtest.New(tatumtest.Options{})
	t.Cleanup(srv.Close)
	run := func(keep bool) {
		t.Helper()
		dir := t.TempDir()
		d, err := NewDaemon(context.Background(), DaemonConfig{
			Testnet: true, Period: 5, Concurrency: 8, NonceWindow: DefaultNonceWindow,
			API:            APIConfig{Key: srv.APIKey, URL: srv.URL},
			Signers:        func() (*signing.Set, func(), error) { return Signers(SignerConfig{}) },
			Journal:        filepath.Join(dir, "journal.db"),
			Audit:          "off",
			BackendAddr:    FileAddr(filepath.Join(dir, "wallet.dat")),
			StorePath:      filepath.Join(dir, "wallet.dat"),
			Registry:       all.Registry(),
			OpenBackend:    func() (backend.SecretBackend, error) { return memory.New(), nil },
			Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
			KeepGOMAXPROCS: keep,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := d.Run(context.Background(), true); err != nil {
			t.Fatal(err)
		}
	}
	run(true)
	if n := runtime.GOMAXPROCS(0); n != start {
		t.Fatalf("GOMAXPROCS %d after a run with it kept, want %d", n, start)
	}
	run(false)
	if n := runtime.GOMAXPROCS(0); n != start+daemon.SyncProcs {
		t.Fatalf("GOMAXPROCS %d after a run, want %d + %d", n, start, daemon.SyncProcs)
	}
	run(false)
	if n := runtime.GOMAXPROCS(0); n != start+daemon.SyncProcs {
		t.Fatalf("GOMAXPROCS %d after a second run, want it raised once: %d", n, start+daemon.SyncProcs)
	}
}
