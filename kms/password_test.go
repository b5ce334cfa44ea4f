package kms

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokms/gokms/pwsource"
)

// The chain's order: file, else the one source, else the variable; two of
// the first kind are refused; nil when nothing is configured.
func TestPasswordChain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("from-file\r\nsecond line"), 0o600)
	env := map[string]string{"PW": "from-env"}
	getenv := func(k string) string { return env[k] }
	src := pwsource.Source{Name: "vgs", Fetch: func(context.Context, func(string) string) ([]byte, error) { return []byte("from-source"), nil }}
	failing := pwsource.Source{Name: "aws", Fetch: func(context.Context, func(string) string) ([]byte, error) {
		return nil, errors.New("TATUM_KMS_AWS_SECRET_NAME is not set")
	}}
	for _, c := range []struct {
		chain      PasswordChain
		pw, from   string
		errPart    string
		wantNoPass bool
	}{
		{chain: PasswordChain{File: pwFile, FileFlag: "password-file", Env: "PW"}, pw: "from-file", from: "--password-file"},
		{chain: PasswordChain{Sources: []pwsource.Source{src}, Env: "PW"}, pw: "from-source", from: "--vgs"},
		{chain: PasswordChain{Env: "PW"}, pw: "from-env", from: "PW"},
		{chain: PasswordChain{Env: "UNSET"}, wantNoPass: true},
		{chain: PasswordChain{File: pwFile, FileFlag: "password-file", Sources: []pwsource.Source{src}}, errPart: "choose one password source, not --password-file and --vgs"},
		{chain: PasswordChain{Sources: []pwsource.Source{failing}}, errPart: "read the store password with --aws: TATUM_KMS_AWS_SECRET_NAME"},
		{chain: PasswordChain{File: filepath.Join(dir, "missing"), FileFlag: "password-file"}, errPart: "read password file"},
	} {
		c.chain.Getenv = getenv
		pw, from, err := c.chain.Find(ctx)
		switch {
		case c.errPart != "":
			if err == nil || !strings.Contains(err.Error(), c.errPart) {
				t.Errorf("%+v: err %v, want %q", c.chain, err, c.errPart)
			}
		case err != nil:
			t.Errorf("%+v: %v", c.chain, err)
		case c.wantNoPass && pw != nil:
			t.Errorf("%+v: a password from nowhere", c.chain)
		case !c.wantNoPass && (string(pw) != c.pw || from != c.from):
			t.Errorf("%+v: %q from %s, want %q from %s", c.chain, pw, from, c.pw, c.from)
		}
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\nrest"), 0o600)
	if _, err := ReadPasswordFile(empty, nil); err == nil || !strings.Contains(err.Error(), "first line is empty") {
		t.Fatalf("empty first line: %v", err)
	}
}
