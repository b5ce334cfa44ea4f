package kms

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/gokms/gokms/pwsource"
)

// PasswordChain is the one order in which every command looks for a
// password before it asks: a file (the first line), else the one password
// source chosen (--aws, --azure, --vgs), else an environment variable. The
// terminal, asked once (twice for a new password), is the caller's last
// step when Find returns no password.
type PasswordChain struct {
	File     string // a password file, "" for none
	FileFlag string // the flag that named it, for messages ("password-file")
	// Sources are the password sources asked for; more than one, or one
	// together with File, is an error.
	Sources []pwsource.Source
	Env     string // the environment variable, "" for none
	Getenv  func(string) string
	Logger  *slog.Logger
}

// Find returns the password and where it came from ("--password-file",
// "--vgs", "TATUM_KMS_PASSWORD"), or nil when nothing is configured.
func (p PasswordChain) Find(ctx context.Context) ([]byte, string, error) {
	getenv := p.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var chosen []string
	if p.File != "" {
		chosen = append(chosen, "--"+p.FileFlag)
	}
	for _, s := range p.Sources {
		chosen = append(chosen, "--"+s.Name)
	}
	if len(chosen) > 1 {
		return nil, "", fmt.Errorf("choose one password source, not %s", strings.Join(chosen, " and "))
	}
	if p.File != "" {
		pw, err := ReadPasswordFile(p.File, p.Logger)
		return pw, "--" + p.FileFlag, err
	}
	if len(p.Sources) == 1 {
		s := p.Sources[0]
		pw, err := s.Fetch(ctx, getenv)
		if err != nil {
			return nil, "", fmt.Errorf("read the store password with --%s: %w", s.Name, err)
		}
		return pw, "--" + s.Name, nil
	}
	if p.Env != "" {
		if v := getenv(p.Env); v != "" {
			return []byte(v), p.Env, nil
		}
	}
	return nil, "", nil
}

// ReadPasswordFile reads the first line of path (without its line ending),
// warning when the file is readable by others.
func ReadPasswordFile(path string, log *slog.Logger) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read password file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 && log != nil {
		log.Warn("password file is readable by group or others; chmod 600 it", "path", path, "mode", fi.Mode().Perm().String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read password file: %w", err)
	}
	line := data
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	pw := append([]byte(nil), line...)
	zero(data)
	if len(pw) == 0 {
		return nil, fmt.Errorf("password file %s: the first line is empty", path)
	}
	return pw, nil
}
