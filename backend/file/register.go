package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/gokms/gokms/backend"
)

// Driver is the file store for a backend.Registry: file:// addresses and
// bare paths, on this machine.
func Driver() backend.Driver {
	return backend.Driver{Schemes: []string{"file"}, Open: openAddress, Local: true,
		About: "file:// and bare paths: the default encrypted store"}
}

// PathFromURL returns the path a file address names:
//
//	file:///abs/wallet.dat   /abs/wallet.dat
//	file://localhost/abs     /abs (RFC 8089)
//	file://./rel/wallet.dat  ./rel/wallet.dat (what "file://"+path gives)
//	file://wallet.dat        wallet.dat
//	wallet.dat               wallet.dat (backend.ParseAddress: a bare path)
//
// A query or fragment is refused rather than silently dropped.
func PathFromURL(u *url.URL) (string, error) {
	if u.Scheme != "file" {
		return "", fmt.Errorf("not a file address: scheme %q", u.Scheme)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("file address %q: a query or fragment is not supported (write '?' and '#' in a path as %%3F and %%23, or give a bare path)", u.Redacted())
	}
	var p string
	switch {
	case u.Opaque != "":
		var err error
		if p, err = url.PathUnescape(u.Opaque); err != nil {
			return "", fmt.Errorf("file address %q: %w", u.Redacted(), err)
		}
	case u.Host == "" || u.Host == "localhost":
		p = u.Path
	default:
		// No remote hosts: "file://x/y" is the relative path x/y.
		p = u.Host + u.Path
	}
	if p == "" {
		return "", fmt.Errorf("file address %q names no path", u.Redacted())
	}
	return filepath.FromSlash(p), nil
}

// openAddress is the "file" opener: it unlocks the store at the address,
// creating it (password from cfg.NewPassword, KDF costs from GOKMS_KDF) when
// it is missing and cfg.Create is set.
func openAddress(ctx context.Context, u *url.URL, cfg backend.OpenConfig) (backend.SecretBackend, error) {
	path, err := PathFromURL(u)
	if err != nil {
		return nil, err
	}
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	opts := Options{Logger: cfg.Logger}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) && cfg.Create {
		params, err := NewStoreKDF(getenv(KDFEnv), cfg.Testnet)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KDFEnv, err)
		}
		opts.KDF = &params
		if cfg.NewPassword == nil {
			return nil, fmt.Errorf("create wallet store %s: no way to ask for a new password", path)
		}
		pw, err := cfg.NewPassword(ctx, "new wallet store "+path)
		if err != nil {
			return nil, err
		}
		defer zero(pw)
		s, err := Create(path, pw, opts)
		if err == nil {
			opts.logger().Info("created wallet store", "path", path, "kdf", params.String())
			return s, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		// Another process created it a moment ago (scripts run in
		// parallel with one password): open theirs with the same password.
		return Open(path, pw, opts)
	}
	if cfg.Password == nil {
		return nil, fmt.Errorf("open wallet store %s: no way to ask for the password", path)
	}
	pw, err := cfg.Password(ctx, "wallet store "+path)
	if err != nil {
		return nil, err
	}
	defer zero(pw)
	return Open(path, pw, opts)
}
