package pge2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/journal/pgjournal"
)

// Three real daemons drain 1,000 BTC (btcd regtest) and 300 EVM (simulated
// chain, three senders) pending transactions from one Tatum stand-in and
// one PostgreSQL state. At random moments one daemon is SIGKILLed (and
// started again later, as a rolling deploy would) and another is
// SIGSTOPped past its lease, then continued: it must be fenced, and another
// daemon must finish what it held without signing anything again.
func TestThreeDaemonsDrainWithKillAndStop(t *testing.T) {
	need(t)
	const nBTC, nEVM = 1000, 300
	lease := 6 * time.Second
	db := w.newDB(t)
	q := w.newQueue(t, nBTC, nEVM, 0)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 17))
	o := daemonOpts{state: db.DSN(), lease: lease}
	start := time.Now()
	ds := []*proc{w.startDaemon(t, "d0", q, o), w.startDaemon(t, "d1", q, o), w.startDaemon(t, "d2", q, o)}
	total := nBTC + nEVM

	waitFor := func(frac float64) {
		for q.completed() < int(frac*float64(total)) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	killAt, stopAt := 0.05+0.25*r.Float64(), 0.35+0.25*r.Float64()
	waitFor(killAt)
	if err := ds[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-ds[0].exited
	t.Logf("SIGKILLed d0 at %d/%d completed", q.completed(), total)
	waitFor(stopAt)
	// Stop d1 while it holds claims (transactions in flight), for long
	// enough that its leases expire and the others take its ids over.
	for ds[1].metrics(t)["gokms_daemon_in_flight"] < 1 {
		time.Sleep(time.Millisecond)
	}
	if err := ds[1].cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGSTOPped d1 at %d/%d completed, with transactions in flight (lease %v)", q.completed(), total, lease)
	// Keep it stopped until the others took over every claim it held (its
	// leases expired and another daemon's cycle came to those ids).
	stopped := time.Now()
	time.Sleep(lease)
	owner := fmt.Sprintf("%s:%d", hostname(t), ds[1].cmd.Process.Pid)
	takenOver := -1 // claims on still-pending ids d1 held when its lease ran out
	for held := -1; held != 0; {
		held = 0
		for _, id := range heldClaims(t, db.DSN(), owner) {
			if _, done := q.srv.Completed(id); !done {
				held++ // still pending: another daemon must take it over
			}
		}
		if takenOver < 0 {
			takenOver = held
		}
		if time.Since(stopped) > 5*time.Minute {
			t.Fatalf("after 5 minutes the other daemons still had not taken over %d claims of the stopped daemon", held)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("d1 continued after %v, once the %d claims it held on pending ids were taken over", time.Since(stopped).Round(time.Millisecond), takenOver)
	if err := ds[1].cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// The killed daemon comes back (a restart on the same machine).
	ds = append(ds, w.startDaemon(t, "d0-again", q, o))
	waitDrained(t, q, 10*time.Minute, ds...)
	t.Logf("drained %d pending transactions in %v", total, time.Since(start))

	// Per-instance metrics, from the daemons still running.
	if takenOver > 0 { // wait for its wake-up writes before stopping it
		for deadline := time.Now().Add(30 * time.Second); ds[1].fenced == 0 && time.Now().Before(deadline); {
			time.Sleep(200 * time.Millisecond)
			ds[1].fenced = ds[1].metrics(t)["gokms_state_fenced_writes_total"]
		}
	}
	var won, lost, exp, rec, fenced float64
	for _, p := range ds[1:] {
		m := p.metrics(t)
		p.fenced = m["gokms_state_fenced_writes_total"]
		t.Logf("%s: claims won %v lost %v, lease expiries %v, recoveries %v, fenced writes %v", p.name,
			m["gokms_state_claims_won_total"], m["gokms_state_claims_lost_total"], m["gokms_state_lease_expiries_total"],
			m["gokms_state_recoveries_total"], m["gokms_state_fenced_writes_total"])
		won += m["gokms_state_claims_won_total"]
		lost += m["gokms_state_claims_lost_total"]
		exp += m["gokms_state_lease_expiries_total"]
		rec += m["gokms_state_recoveries_total"]
		fenced += m["gokms_state_fenced_writes_total"]
	}
	for _, p := range ds {
		p.stop(t)
	}
	resends := w.verify(t, q, ds...)
	t.Logf("resends of recorded bytes: %d", resends)
	if won == 0 || lost == 0 {
		t.Errorf("claims won %v, lost %v: the daemons did not contend for one queue", won, lost)
	}
	if exp == 0 {
		t.Errorf("no lease expired, though a daemon was killed and another stopped past its lease")
	}
	// d1 woke up holding ids the others had taken over: the writes it then
	// tried (record, the check before broadcasting, mark, release) were
	// fenced. (Claims it held on ids already complete are nobody's to take.)
	if takenOver > 0 && ds[1].fenced == 0 {
		t.Errorf("d1 lost %d claims while stopped, and was never fenced after it continued", takenOver)
	}
	checkJournal(t, db.DSN(), total)
}

// PostgreSQL stops in the middle of a drain and comes back: the daemons
// wait (signing nothing they cannot journal) and finish; nothing is lost or
// doubled.
func TestPostgresRestartMidDrain(t *testing.T) {
	need(t)
	const nBTC, nEVM = 300, 90
	db := w.newDB(t)
	q := w.newQueue(t, nBTC, nEVM, 0)
	o := daemonOpts{state: db.DSN(), lease: 10 * time.Second}
	ds := []*proc{w.startDaemon(t, "r0", q, o), w.startDaemon(t, "r1", q, o)}
	total := nBTC + nEVM
	for q.completed() < total/3 {
		time.Sleep(20 * time.Millisecond)
	}
	w.pg.Stop()
	atStop := q.completed()
	time.Sleep(3 * time.Second)
	// With the state down nothing new may be signed: at most what was in
	// flight (journaled before the stop) can still complete.
	during := q.completed()
	if err := w.pg.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL stopped at %d/%d completed; %d completed while it was down; restarted", atStop, total, during-atStop)
	if during-atStop > 2*2*8 {
		t.Errorf("%d transactions completed with the state down, more than the daemons had in flight", during-atStop)
	}
	waitDrained(t, q, 10*time.Minute, ds...)
	for _, p := range ds {
		if !p.alive() {
			t.Errorf("%s exited while PostgreSQL was down:\n%s", p.name, tail(p.out.String(), 3000))
		}
		m := p.metrics(t)
		t.Logf("%s: retries %v, claims won %v", p.name, m["gokms_state_retries_total"], m["gokms_state_claims_won_total"])
		p.stop(t)
	}
	w.verify(t, q, ds...)
	checkJournal(t, db.DSN(), total)
}

func hostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// heldClaims lists the ids of the unreleased claims owner holds (live or
// expired, not yet taken over).
func heldClaims(t *testing.T, dsn, owner string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, "SELECT id FROM gokms_claims WHERE owner = $1 AND NOT released", owner)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// checkJournal: every pending id is journaled once, completed.
func checkJournal(t *testing.T, dsn string, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	j, err := pgjournal.Open(ctx, dsn, pgjournal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	all, err := j.List(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, e := range all {
		if e.State != journal.StateCompleted {
			open++
		}
	}
	if len(all) != want || open != 0 {
		t.Errorf("journal holds %d entries (%d not completed), want %d completed", len(all), open, want)
	}
}
