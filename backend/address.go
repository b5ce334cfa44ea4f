package backend

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// An address names a backend the same way in every command and in the daemon:
//
//	file:///home/me/.tatumrc/wallet.dat   encrypted local file (the default)
//	vault://vault.example:8200/secret/gokms
//	azure://myvault.vault.azure.net
//	vgs://...
//
// A bare path (no scheme) means a file store.

// OpenConfig carries what an opener may need besides the address. Secrets
// come through callbacks so they are fetched only by the backends that need them.
type OpenConfig struct {
	// Password returns the store password (file backend). purpose is a short
	// human description for the prompt, e.g. "wallet store /path".
	Password func(ctx context.Context, purpose string) ([]byte, error)
	// NewPassword asks for a password for a store being created (prompted twice on a TTY).
	NewPassword func(ctx context.Context, purpose string) ([]byte, error)
	// Create allows the backend to initialise an empty store if none exists.
	Create bool
	// Testnet is the network the caller works on; backends may refuse unsafe
	// settings on mainnet (e.g. TLS verification off).
	Testnet bool
	// Getenv reads configuration from the environment (os.Getenv by default).
	Getenv func(string) string
	// Logger receives diagnostics; never secrets.
	Logger *slog.Logger
}

// Env returns cfg.Getenv(key) or "" when unset.
func (cfg OpenConfig) Env(key string) string {
	if cfg.Getenv == nil {
		return ""
	}
	return cfg.Getenv(key)
}

// Opener opens the backend an address names.
type Opener func(ctx context.Context, addr *url.URL, cfg OpenConfig) (SecretBackend, error)

var (
	openersMu sync.RWMutex
	openers   = map[string]Opener{}
)

// Register makes a backend available under a URL scheme. Implementations call
// it from init, like database/sql drivers; the binary imports them for effect.
func Register(scheme string, open Opener) {
	openersMu.Lock()
	defer openersMu.Unlock()
	if _, dup := openers[scheme]; dup {
		panic("backend: Register called twice for scheme " + scheme)
	}
	openers[scheme] = open
}

// Schemes lists the registered schemes, sorted.
func Schemes() []string {
	openersMu.RLock()
	defer openersMu.RUnlock()
	var s []string
	for k := range openers {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// ParseAddress parses a backend address. A string without "scheme://" is a
// file path.
func ParseAddress(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("empty backend address")
	}
	if !strings.Contains(s, "://") {
		return &url.URL{Scheme: "file", Path: s}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parse backend address %q: %w", redact(s), err)
	}
	if u.User != nil {
		// Credentials in an address would end up in shell history and ps output.
		return nil, fmt.Errorf("backend address %q must not contain credentials; use the environment", redact(s))
	}
	return u, nil
}

// Open opens the backend named by addr.
func Open(ctx context.Context, addr string, cfg OpenConfig) (SecretBackend, error) {
	u, err := ParseAddress(addr)
	if err != nil {
		return nil, err
	}
	openersMu.RLock()
	open, ok := openers[u.Scheme]
	openersMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown backend scheme %q in %q (known: %s)", u.Scheme, redact(addr), strings.Join(Schemes(), ", "))
	}
	return open(ctx, u, cfg)
}

// redact drops any userinfo from an address before it is shown.
func redact(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if slash := strings.Index(rest, "/"); slash < 0 || at < slash {
				return s[:i+3] + "***@" + rest[at+1:]
			}
		}
	}
	return s
}
