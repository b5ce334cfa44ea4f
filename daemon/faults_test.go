package daemon_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// TestBroadcastFaultsAcrossRestart injects broadcast faults — a timeout
// after the node accepted the transaction, 500 before and after handling,
// a reset before and after handling — with the check GET /v3/kms/{id}
// failing too, restarts the daemon on the same journal, then lists every
// id again. On the simulated chain each recipient must hold exactly one
// payment and every id must be complete.
func TestBroadcastFaultsAcrossRestart(t *testing.T) {
	faults := map[string]tatumtest.Fault{
		"timeout after accept": {Delay: 6 * time.Second, AfterHandling: true},
		"500 before":           {Status: 500},
		"500 after":            {Status: 500, AfterHandling: true},
		"reset before":         {Reset: true},
		"reset after":          {Reset: true, AfterHandling: true},
		"malformed after":      {Malformed: true, AfterHandling: true},
	}
	w := newEVMWorld(t, len(faults))
	jpath := filepath.Join(t.TempDir(), journal.DefaultName)
	newDaemon := func(j journal.Journal) *daemon.Daemon {
		return w.daemonWith(t, nil, func(c *daemon.Config) {
			c.Journal = j
			log := slog.New(slog.DiscardHandler)
			// No faults after the restart: a timeout a loaded machine never hits.
			c.API = tatum.New(tatum.Options{BaseURL: w.srv.URL, APIKey: w.srv.APIKey, Logger: log, Timeout: 10 * time.Second,
				MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
		})
	}
	type pay struct {
		name string
		pt   tatum.PendingTransaction
		to   common.Address
	}
	var pays []pay
	i := 0
	for name := range faults {
		idx := uint32(i)
		i++
		h := sha256.Sum256([]byte("fault recipient " + name))
		to := common.BytesToAddress(h[:20])
		pt := tatum.PendingTransaction{ID: tid("fault " + name), Chain: "ETH", Hashes: []string{"evm-mn"}, Index: &idx,
			SerializedTransaction: fmt.Sprintf(`{"to":"%s","value":"777"}`, to.Hex())}
		w.srv.Enqueue(pt)
		pays = append(pays, pay{name, pt, to})
	}
	j := openJournal(t, jpath)
	// The stand-in matches faults by path: one transaction per cycle.
	for _, p := range pays {
		// One transaction per cycle, under its fault, with GET failing too.
		f := faults[p.name]
		f.Path = "/v3/ethereum/broadcast"
		w.srv.Inject(f)
		w.srv.Inject(tatumtest.Fault{Path: "/v3/kms/" + p.pt.ID, Method: "GET", Status: 500, Times: -1})
		d2 := w.daemonWith(t, nil, func(c *daemon.Config) {
			c.Journal, c.TransactionIDs = j, []string{p.pt.ID}
			c.API = tatum.New(tatum.Options{BaseURL: w.srv.URL, APIKey: w.srv.APIKey, Logger: slog.New(slog.DiscardHandler),
				// Below the fault's 6 s delay, well above a loaded machine's answer times.
				Timeout: 2 * time.Second, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
		})
		d2.RunCycle(context.Background())
		w.srv.ClearFaults()
	}
	// Restart on the same journal.
	_ = j.Close()
	j = openJournal(t, jpath)
	defer j.Close()
	d := newDaemon(j)
	for k := 0; k < 3; k++ {
		d.RunCycle(context.Background())
	}
	for _, p := range pays {
		if _, ok := w.srv.Completed(p.pt.ID); !ok {
			t.Errorf("%s: not completed; reports %+v", p.name, w.srv.Errors())
		}
		w.srv.Enqueue(p.pt) // the API lists it again
	}
	d.RunCycle(context.Background())
	w.chain.Commit()
	for _, p := range pays {
		if got := w.chain.Balance(t, p.to); got.Int64() != 777 {
			t.Errorf("%s: recipient holds %s wei, want exactly one payment of 777", p.name, got)
		}
		e, err := j.Get(context.Background(), p.pt.ID)
		if err != nil || e.State != journal.StateCompleted {
			t.Errorf("%s: journal %+v %v", p.name, e, err)
		}
		requireReported(t, w.srv, p.pt.ID, "refusing to sign it twice")
	}
	t.Logf("%d broadcast requests for %d pending ids", w.srv.CountRequests("POST", "/v3/ethereum/broadcast"), len(pays))
}
