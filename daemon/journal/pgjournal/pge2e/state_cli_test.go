package pge2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gokms/gokms/daemon/journal/pgjournal"
)

// `gokms state migrate` and `status` against the real server, the URL and
// its password in GOKMS_STATE; a URL with a password on the command line is
// refused before anything connects.
func TestStateCLI(t *testing.T) {
	need(t)
	db := w.newDB(t)
	run := func(env []string, args ...string) (string, string, int) { return w.cli(t, env, args...) }
	env := []string{"GOKMS_STATE=" + db.DSN()}
	out, errOut, code := run(env, "state", "migrate")
	var res struct {
		State   string `json:"state"`
		From    int    `json:"from"`
		To      int    `json:"to"`
		Applied []int  `json:"applied"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.From != 0 || res.To != pgjournal.LatestVersion() || len(res.Applied) != pgjournal.LatestVersion() {
		t.Fatalf("state migrate: exit %d, %s %s", code, out, errOut)
	}
	if strings.Contains(out+errOut, db.Password) || !strings.Contains(res.State, "xxxxx") {
		t.Fatalf("state migrate shows the password or no masked URL: %s %s", out, errOut)
	}
	out, _, code = run(env, "state", "migrate")
	if code != 0 || !strings.Contains(out, `"applied": []`) {
		t.Fatalf("second migrate: exit %d %s", code, out)
	}
	out, errOut, code = run(env, "state", "status")
	if code != 0 || !strings.Contains(out, `"schemaVersion": `+fmt.Sprint(pgjournal.LatestVersion())) || strings.Contains(out+errOut, db.Password) {
		t.Fatalf("status: exit %d %s %s", code, out, errOut)
	}
	out, errOut, code = run(nil, "state", "migrate", "--state", db.DSN())
	if code == 0 || out != "" || !strings.Contains(errOut, "GOKMS_STATE") || strings.Contains(errOut, db.Password) {
		t.Fatalf("password on argv: exit %d %q %q", code, out, errOut)
	}
	// A wrong password: a clear error naming the masked URL, exit 1.
	bad := *db
	bad.Password = "wrong-" + db.Password[:4]
	out, errOut, code = run([]string{"GOKMS_STATE=" + bad.DSN()}, "state", "status")
	if code == 0 || out != "" || !strings.Contains(errOut, "password authentication failed") || strings.Contains(errOut, bad.Password) {
		t.Fatalf("wrong password: exit %d %q %q", code, out, errOut)
	}
}
