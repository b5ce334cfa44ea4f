package pge2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon/audit"
)

// Two real daemons on one PostgreSQL state, with a policy whose 24-hour
// BTC limit fits 5 of the 12 pending payments: exactly 5 are broadcast (the
// stand-in counts), the others are refused with the maxDaily rule, however
// the daemons race. Both write the audit trail into the state, one chain:
// `gokms audit verify` (GOKMS_STATE) finds it intact with a signed entry
// for every payment made, and names the entry an edit in the table broke.
func TestTwoDaemonsSharedLimitAndAuditTrail(t *testing.T) {
	need(t)
	db := w.newDB(t)
	const n, fit = 12, 5
	q := w.newQueue(t, n, 0, 0)
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte(fmt.Sprintf("version: 1\nchains:\n  BTC:\n    maxDaily: %d\n", fit*paySat)), 0o600); err != nil {
		t.Fatal(err)
	}
	o := daemonOpts{state: db.DSN(), period: "0.3", chains: "BTC", concurrency: 4, args: []string{"--policy", pol}}
	ds := []*proc{w.startDaemon(t, "limit-a", q, o), w.startDaemon(t, "limit-b", q, o)}
	deadline := time.Now().Add(3 * time.Minute)
	refusedIDs := map[string]bool{}
	for {
		for _, e := range q.srv.Errors() {
			if strings.Contains(e.Error, "maxDaily") {
				refusedIDs[e.SignatureID] = true
			}
		}
		if q.completed() == fit && len(refusedIDs) == n-fit {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d completed, %d refused for maxDaily; want %d and %d\n%s\n%s", q.completed(), len(refusedIDs), fit, n-fit,
				tail(ds[0].out.String(), 3000), tail(ds[1].out.String(), 3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second) // a few more cycles: nothing more may go through
	for _, p := range ds {
		p.stop(t)
	}
	broadcast := 0
	var paid []string
	for _, id := range q.ids() {
		if b := q.srv.Broadcasts(id); b > 0 {
			broadcast++
			paid = append(paid, id)
			if refusedIDs[id] {
				t.Errorf("%s was refused for maxDaily and broadcast", id)
			}
		}
	}
	if broadcast != fit || q.completed() != fit {
		t.Fatalf("%d ids broadcast, %d completed; the daily limit fits %d", broadcast, q.completed(), fit)
	}

	run := func(args ...string) (string, string, int) {
		return w.cli(t, []string{"GOKMS_STATE=" + db.DSN()}, args...)
	}
	out, errOut, code := run("audit", "verify")
	if code != 0 || !strings.Contains(out, "intact") || strings.Contains(out+errOut, db.Password) {
		t.Fatalf("audit verify: exit %d %s %s", code, out, errOut)
	}
	out, errOut, code = run("audit", "list", "--chain", "BTC")
	var es []audit.Entry
	if code != 0 || json.Unmarshal([]byte(out), &es) != nil {
		t.Fatalf("audit list: exit %d %s %s", code, tail(out, 2000), errOut)
	}
	signed := map[string]bool{}
	instances := map[string]bool{}
	refusedEntries := 0
	for _, e := range es {
		instances[e.Instance] = true
		switch {
		case e.Event == "signed":
			signed[e.PendingID] = true
		case e.Result == "refused" && strings.Contains(e.Rule+e.Detail, "maxDaily"):
			refusedEntries++
		}
	}
	for _, id := range paid {
		if !signed[id] {
			t.Errorf("%s was broadcast, but the trail has no signed entry for it", id)
		}
	}
	if len(instances) != 2 || refusedEntries < n-fit {
		t.Fatalf("trail: instances %v, %d maxDaily refusals; want both daemons and at least %d", instances, refusedEntries, n-fit)
	}
	for _, s := range w.secrets {
		if strings.Contains(out, s) {
			t.Fatal("a secret in the audit trail")
		}
	}
	// An edit in the table: verify fails and names the entry.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := w.pg.SuperConn(ctx, db.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE gokms_audit SET line = replace(line, '"instance":"', '"instance":"x') WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = run("audit", "verify")
	if code != 1 || !strings.Contains(errOut, "(entry 3): edited") || !strings.Contains(errOut, "NOT intact") {
		t.Fatalf("verify after an edit: exit %d %s %s", code, out, errOut)
	}
}
