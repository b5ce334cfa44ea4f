package main

import (
	"strings"
	"testing"
)

// Refusals of `gokms state` that need no database: a password on the
// command line, something that is not a PostgreSQL URL, no state at all.
func TestStateRefusals(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv(envState, "")
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"password in argv", nil, []string{"state", "migrate", "--state", "postgres://gokms:hunter2-s3cret@127.0.0.1:1/gokms"}, "GOKMS_STATE"},
		{"password parameter in argv", nil, []string{"state", "status", "--state", "postgres://gokms@127.0.0.1:1/gokms?password=hunter2-s3cret"}, "process list"},
		{"not a URL", nil, []string{"state", "migrate", "--state", "/var/lib/gokms/journal.db"}, "postgres:// or postgresql://"},
		{"no state", nil, []string{"state", "migrate"}, "--state postgres://"},
		{"env not a URL", map[string]string{envState: "journal.db"}, []string{"state", "status"}, "postgres:// or postgresql://"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runApp(t, c.env, c.args...)
			if code == 0 || out != "" {
				t.Fatalf("exit %d, stdout %q: want a refusal", code, out)
			}
			if !strings.Contains(errOut, c.want) {
				t.Fatalf("stderr %q does not say %q", errOut, c.want)
			}
			if strings.Contains(errOut, "hunter2") {
				t.Fatalf("stderr shows the password: %q", errOut)
			}
		})
	}
}
