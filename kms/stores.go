package kms

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/backend/memory"
)

// PasswordFunc returns a store's password; purpose names the store for a
// prompt ("wallet store /path").
type PasswordFunc func(ctx context.Context, purpose string) ([]byte, error)

// Stores opens secret stores by address for the use cases: the registry
// the binary built, the network, the environment and the logger. Each
// opening says where its passwords come from.
type Stores struct {
	Registry *backend.Registry
	Testnet  bool
	Getenv   func(string) string
	Logger   *slog.Logger
}

// Open opens the store at addr; create allows a new, empty store (its
// password from newPassword).
func (s Stores) Open(ctx context.Context, addr string, password, newPassword PasswordFunc, create bool) (backend.SecretBackend, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return s.Registry.Open(ctx, addr, backend.OpenConfig{
		Password:    password,
		NewPassword: newPassword,
		Create:      create,
		Testnet:     s.Testnet,
		Getenv:      getenv,
		Logger:      s.Logger,
	})
}

// OpenForDryRun opens an existing store without creating it; a file store
// that does not exist yet stands in as an empty one. open opens it otherwise.
func OpenForDryRun(addr string, open func() (backend.SecretBackend, error)) (backend.SecretBackend, error) {
	if p, ok, err := file.AddressPath(addr); err != nil {
		return nil, err
	} else if ok {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return memory.New(), nil
		}
	}
	return open()
}

// DisplayAddr is how a store address appears in messages: a file store by
// its path, anything else as given without its query (which may carry
// tokens; backend.ParseAddress refuses credentials in addresses).
func DisplayAddr(addr string) string {
	u, err := backend.ParseAddress(addr)
	if err != nil {
		return "backend"
	}
	if u.Scheme == "file" {
		if p, err := file.PathFromURL(u); err == nil {
			return p
		}
		return u.Path
	}
	u.RawQuery = ""
	return u.String()
}

// FileAddr makes a file:// address of an absolute path, escaping what a URL must.
func FileAddr(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// SameAddress reports whether two addresses name the same store: for file
// stores the same file (file.SameFile), else the same address.
func SameAddress(a, b string) (bool, error) {
	pa, okA, err := file.AddressPath(a)
	if err != nil {
		return false, err
	}
	pb, okB, err := file.AddressPath(b)
	if err != nil {
		return false, err
	}
	if okA && okB {
		same, err := file.SameFile(pa, pb)
		if err != nil {
			return false, fmt.Errorf("cannot tell whether %s and %s are the same store: %w", pa, pb, err)
		}
		return same, nil
	}
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/"), nil
}

// RefuseOntoStore returns an error if writing target would touch the file
// store storeAddr names (the same file, a link to it, or the path it would
// have once created). Other backends have no file to protect.
func RefuseOntoStore(what, target, storeAddr string) error {
	p, ok, err := file.AddressPath(storeAddr)
	if err != nil || !ok {
		return err
	}
	same, err := file.SameFile(p, target)
	if err != nil {
		return fmt.Errorf("%s: cannot tell whether %s is the wallet store %s (%v); nothing written", what, target, p, err)
	}
	if same {
		return fmt.Errorf("%s: %s is the wallet store %s; nothing written (choose another file)", what, target, p)
	}
	return nil
}
