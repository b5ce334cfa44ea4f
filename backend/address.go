package backend

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
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

// Driver is one kind of backend: the address schemes it serves, how to open
// it, and what callers decide from (never from scheme strings).
type Driver struct {
	Schemes []string // e.g. "vault" and "vault+http"
	Open    Opener
	// Local: the store lives on this machine, so a read costs no network
	// round trip (the daemon puts no cache in front of it).
	Local bool
	// About is one line for help texts: what an address of it looks like.
	About string
}

// Registry maps address schemes to drivers. It is a value: the binary builds
// one (backend/all) and passes it to whatever opens stores; there is no
// process-wide registration.
type Registry struct {
	drivers map[string]Driver
}

// NewRegistry returns a registry of ds; a scheme served twice is an error.
func NewRegistry(ds ...Driver) (*Registry, error) {
	r := &Registry{drivers: map[string]Driver{}}
	for _, d := range ds {
		if d.Open == nil || len(d.Schemes) == 0 {
			return nil, fmt.Errorf("backend: a driver needs schemes and an opener (%v)", d.Schemes)
		}
		for _, s := range d.Schemes {
			if _, dup := r.drivers[s]; dup {
				return nil, fmt.Errorf("backend: scheme %q served twice", s)
			}
			r.drivers[s] = d
		}
	}
	return r, nil
}

// Schemes lists the registered schemes, sorted.
func (r *Registry) Schemes() []string {
	s := make([]string, 0, len(r.drivers))
	for k := range r.drivers {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Lookup returns the driver of an address and the parsed address.
func (r *Registry) Lookup(addr string) (Driver, *url.URL, error) {
	u, err := ParseAddress(addr)
	if err != nil {
		return Driver{}, nil, err
	}
	d, ok := r.drivers[u.Scheme]
	if !ok {
		return Driver{}, nil, fmt.Errorf("unknown backend scheme %q in %q (known: %s)", u.Scheme, redact(addr), strings.Join(r.Schemes(), ", "))
	}
	return d, u, nil
}

// Open opens the backend named by addr.
func (r *Registry) Open(ctx context.Context, addr string, cfg OpenConfig) (SecretBackend, error) {
	d, u, err := r.Lookup(addr)
	if err != nil {
		return nil, err
	}
	return d.Open(ctx, u, cfg)
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
