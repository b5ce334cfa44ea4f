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

	"github.com/gokms/gokms/tatum"
)

// TestPolicyExplainReadsTheSharedTotals: two daemons on one PostgreSQL
// state fill a 24-hour BTC limit that fits 2 of 3 payments; `gokms policy
// explain` of the third, given the state (GOKMS_STATE), says refused by
// maxDaily, because it reads the totals every daemon counted. Without the
// state it can only take them as zero (and says so).
func TestPolicyExplainReadsTheSharedTotals(t *testing.T) {
	need(t)
	db := w.newDB(t)
	const n, fit = 3, 2
	q := w.newQueue(t, n, 0, 0)
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte(fmt.Sprintf("version: 1\nchains:\n  BTC:\n    maxDaily: %d\n", fit*paySat)), 0o600); err != nil {
		t.Fatal(err)
	}
	o := daemonOpts{state: db.DSN(), period: "0.3", chains: "BTC", concurrency: 2, args: []string{"--policy", pol}}
	ds := []*proc{w.startDaemon(t, "explain-a", q, o), w.startDaemon(t, "explain-b", q, o)}
	deadline := time.Now().Add(2 * time.Minute)
	var refused string
	for refused == "" || q.completed() < fit {
		for _, e := range q.srv.Errors() {
			if strings.Contains(e.Error, "maxDaily") {
				refused = e.SignatureID
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d completed, refused %q\n%s\n%s", q.completed(), refused, tail(ds[0].out.String(), 3000), tail(ds[1].out.String(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range ds {
		p.stop(t)
	}
	api := tatum.New(tatum.Options{BaseURL: q.srv.URL, APIKey: q.srv.APIKey})
	pt, err := api.Get(context.Background(), refused)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(pt)
	pending := filepath.Join(t.TempDir(), "pending.json")
	if err := os.WriteFile(pending, js, 0o600); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir() // no journal beside its default store
	explain := func(env ...string) (string, string, int) {
		return w.cli(t, append([]string{"HOME=" + home}, env...), "policy", "explain", "--testnet", "--policy", pol, pending)
	}
	out, errOut, code := explain("GOKMS_STATE=" + db.DSN())
	if code != 1 || !strings.Contains(out, `"decision": "refused"`) || !strings.Contains(out, "maxDaily") || !strings.Contains(out, "shared state") {
		t.Fatalf("explain with the state: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, db.Password) {
		t.Fatal("the state's password in explain's output")
	}
	out, errOut, code = explain()
	if code != 0 || !strings.Contains(out, `"decision": "allowed"`) || !strings.Contains(out, "taken as 0") {
		t.Fatalf("explain without the state: exit %d\n%s\n%s", code, out, errOut)
	}
	// A state that cannot be read is an error, not a total of zero.
	_, errOut, code = explain("GOKMS_STATE=postgres://gokms@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	if code == 0 || !strings.Contains(errOut, "shared state") {
		t.Fatalf("explain with an unreachable state: exit %d %s", code, errOut)
	}
}
