package pgjournal_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/journal/pgjournal"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func bg(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func counter(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var m *dto.Metric = mf.GetMetric()[0]
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// A claim that waits for the previous holder's row lock must see the entry
// that holder committed meanwhile (a claim reading the journal in the
// snapshot taken before the wait would sign the id a second time).
func TestClaimSeesEntryCommittedWhileWaiting(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	a := openDB(t, db, pgjournal.Options{})
	b := openDB(t, db, pgjournal.Options{})
	id := "61fe7c68cf2fbc595cbb89dd"
	la, _, err := a.Claim(ctx, id, "daemon-a", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// Daemon a records while its lease runs out: hold its transaction open
	// (row lock taken, entry inserted, not committed) across b's claim.
	tx, err := a.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM gokms_claims WHERE id = $1 AND token = $2 FOR UPDATE`, id, int64(la.Token)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO gokms_entries (id, chain, testnet, signed_tx, state, owner, recorded_at, updated_at)
		VALUES ($1, 'BTC', true, '0200aabb', 'signed', 'daemon-a', now(), now())`, id); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // a's lease is now expired
	type res struct {
		e   *journal.Entry
		err error
	}
	done := make(chan res, 1)
	go func() {
		_, e, err := b.Claim(ctx, id, "daemon-b", time.Minute)
		done <- res{e, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("b's claim did not wait for a's row lock: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.e == nil || r.e.SignedTx != "0200aabb" {
		t.Fatalf("b took over without seeing a's signed entry (%+v): it would sign the id again", r.e)
	}
	if got := counter(t, b.Collector(), "gokms_state_lease_expiries_total"); got != 1 {
		t.Fatalf("lease expiries %v, want 1", got)
	}
	if got := counter(t, b.Collector(), "gokms_state_recoveries_total"); got != 1 {
		t.Fatalf("recoveries %v, want 1", got)
	}
}

// A daemon that stalled past its lease after reserving a nonce, while
// another daemon needs a nonce of the same sender: the reservation belongs
// to the stalled claim until that claim is taken over, so the other daemon
// gets the nonce only by ending the stalled claim (in the same transaction),
// and the stalled daemon's record with it is fenced. A stalled claim nobody
// took over still records its own nonce; a renewed one keeps it.
func TestStalledReservationIsTakenOverNotShared(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	d1 := openDB(t, db, pgjournal.Options{})
	d2 := openDB(t, db, pgjournal.Options{})
	k := journal.NonceKey{Chain: "ETH", Testnet: true, Sender: "0x00000000000000000000000000000000000000aa"}
	rec := func(j *pgjournal.Journal, l journal.Lease, n uint64) error {
		return j.Record(ctx, l, journal.Entry{ID: l.ID, Chain: "ETH", Testnet: true, SignedTx: "0xf86c" + l.ID, Sender: k.Sender, Nonce: &n})
	}
	la, _, err := d1.Claim(ctx, "A", "d1", 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := d1.ReserveNonce(ctx, la, k, 0); err != nil || n != 0 {
		t.Fatalf("reserve: %d %v", n, err)
	}
	time.Sleep(300 * time.Millisecond) // d1 paused past its lease
	lb, _, err := d2.Claim(ctx, "B", "d2", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := d2.ReserveNonce(ctx, lb, k, 0); err != nil || n != 0 {
		t.Fatalf("d2 reserve: %d %v, want 0 (d1's expired claim taken over)", n, err)
	}
	if got := counter(t, d2.Collector(), "gokms_state_nonce_reservations_ended_total"); got != 1 {
		t.Fatalf("reservations ended %v, want 1", got)
	}
	// d1 wakes up: its lease is gone with its nonce; it records nothing.
	if err := rec(d1, la, 0); !errors.Is(err, journal.ErrFenced) {
		t.Fatalf("stalled record of a taken-over nonce: %v, want ErrFenced", err)
	}
	if _, err := d1.Renew(ctx, la, time.Minute); !errors.Is(err, journal.ErrFenced) {
		t.Fatalf("stalled renew: %v, want ErrFenced", err)
	}
	if err := rec(d2, lb, 0); err != nil {
		t.Fatalf("record of the taken-over nonce: %v", err)
	}
	// A's id comes back under a new claim: a new nonce.
	la2, e, err := d1.Claim(ctx, "A", "d1", time.Minute)
	if err != nil || e != nil {
		t.Fatalf("reclaim A: %v %+v", err, e)
	}
	if n, err := d1.ReserveNonce(ctx, la2, k, 0); err != nil || n != 1 {
		t.Fatalf("reclaimed A: %d %v, want 1", n, err)
	}

	// C reserves 2 and stalls past its lease; nobody needs a nonce: it
	// still records it.
	lc, _, _ := d1.Claim(ctx, "C", "d1", 200*time.Millisecond)
	if n, err := d1.ReserveNonce(ctx, lc, k, 0); err != nil || n != 2 {
		t.Fatalf("C: %d %v, want 2", n, err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := rec(d1, lc, 2); err != nil {
		t.Fatalf("expired claim nobody took over: %v", err)
	}

	// D reserves 3 and stalls past its lease, but its claim row is locked
	// (its daemon is recording right now): another id skips 3.
	ld, _, _ := d1.Claim(ctx, "D", "d1", 200*time.Millisecond)
	if n, err := d1.ReserveNonce(ctx, ld, k, 0); err != nil || n != 3 {
		t.Fatalf("D: %d %v, want 3", n, err)
	}
	time.Sleep(300 * time.Millisecond)
	tx, err := d1.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM gokms_claims WHERE id = 'D' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	le, _, _ := d2.Claim(ctx, "E", "d2", time.Minute)
	if n, err := d2.ReserveNonce(ctx, le, k, 0); err != nil || n != 4 {
		t.Fatalf("E beside a busy expired claim: %d %v, want 4", n, err)
	}
	_ = tx.Rollback(ctx)
	if err := rec(d1, ld, 3); err != nil {
		t.Fatalf("D records its own nonce: %v", err)
	}
	// E's nonce stays E's (its claim is live): a new id gets 5.
	lf, _, _ := d1.Claim(ctx, "F", "d1", time.Minute)
	if n, err := d1.ReserveNonce(ctx, lf, k, 0); err != nil || n != 5 {
		t.Fatalf("F: %d %v, want 5", n, err)
	}
}

// Two daemons race for nonces of one sender while claims expire under
// them: no nonce is ever recorded twice, and no record is refused by the
// unique index (each reservation belongs to one live or ended claim).
func TestNonceRaceWithExpiringClaims(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	js := []*pgjournal.Journal{openDB(t, db, pgjournal.Options{}), openDB(t, db, pgjournal.Options{})}
	k := journal.NonceKey{Chain: "ETH", Testnet: true, Sender: "0x00000000000000000000000000000000000000bb"}
	var wg sync.WaitGroup
	var recorded, fenced atomic.Int32
	errs := make(chan error, 64)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			j := js[w%2]
			r := rand.New(rand.NewPCG(uint64(w), 3))
			for i := 0; i < 25; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				l, _, err := j.Claim(ctx, id, fmt.Sprintf("d%d", w), 50*time.Millisecond)
				if err != nil {
					errs <- err
					return
				}
				n, err := j.ReserveNonce(ctx, l, k, 0)
				if errors.Is(err, journal.ErrFenced) {
					fenced.Add(1)
					continue
				} else if err != nil {
					errs <- err
					return
				}
				if r.IntN(3) == 0 {
					time.Sleep(80 * time.Millisecond) // stalls past its lease
				}
				err = j.Record(ctx, l, journal.Entry{ID: id, Chain: "ETH", Testnet: true, SignedTx: "0x" + id, Sender: k.Sender, Nonce: &n})
				switch {
				case err == nil:
					recorded.Add(1)
				case errors.Is(err, journal.ErrFenced):
					fenced.Add(1)
				default:
					errs <- fmt.Errorf("record %s nonce %d: %w", id, n, err)
					return
				}
				_ = j.Release(ctx, l)
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all, err := js[0].List(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]string{}
	for _, e := range all {
		if e.Nonce == nil {
			continue
		}
		if o, dup := seen[*e.Nonce]; dup {
			t.Fatalf("nonce %d recorded for %s and %s", *e.Nonce, o, e.ID)
		}
		seen[*e.Nonce] = e.ID
	}
	t.Logf("recorded %d, fenced %d", recorded.Load(), fenced.Load())
	if int(recorded.Load()) != len(seen) || fenced.Load() == 0 {
		t.Fatalf("recorded %d, %d distinct nonces, fenced %d: want every record distinct and some stalled claims fenced", recorded.Load(), len(seen), fenced.Load())
	}
}

// Several journals (as several daemons) race over the same ids; some
// workers die after claiming or after recording. Every id ends recorded
// exactly once, completed, and nobody records an id that was recorded.
func TestManyInstancesDrainOnce(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	const instances, ids = 3, 300
	js := make([]*pgjournal.Journal, instances)
	for i := range js {
		js[i] = openDB(t, db, pgjournal.Options{MaxConns: 6})
	}
	var signed [ids]atomic.Int32
	var wg sync.WaitGroup
	var done atomic.Int32
	errs := make(chan error, 100)
	for w := 0; w < instances*4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			j := js[w%instances]
			owner := fmt.Sprintf("d%d", w%instances)
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for round := 0; done.Load() < ids && round < 200; round++ {
				for _, i := range r.Perm(ids) {
					id := fmt.Sprintf("%024x", i)
					l, e, err := j.Claim(ctx, id, owner, 150*time.Millisecond)
					if errors.Is(err, journal.ErrClaimed) {
						continue
					} else if err != nil {
						errs <- err
						return
					}
					if e != nil && e.State == journal.StateCompleted {
						_ = j.Release(ctx, l)
						continue
					}
					if e == nil {
						if r.IntN(20) == 0 {
							continue // dies after claiming: the lease expires
						}
						// ErrExists here means the claim missed an entry: the
						// id would be signed twice.
						err := j.Record(ctx, l, journal.Entry{ID: id, Chain: "BTC", Testnet: true, SignedTx: "tx-" + id})
						if errors.Is(err, journal.ErrFenced) {
							continue // stalled: another took over
						} else if err != nil {
							errs <- fmt.Errorf("record %s: %w", id, err)
							return
						}
						signed[i].Add(1)
						if r.IntN(20) == 0 {
							continue // dies after recording: another resends
						}
					} else if e.SignedTx != "tx-"+id {
						errs <- fmt.Errorf("%s: recovered entry %q", id, e.SignedTx)
						return
					}
					if err := j.MarkBroadcast(ctx, l, "txid-"+id); err != nil && !errors.Is(err, journal.ErrFenced) {
						errs <- err
						return
					}
					if err := j.MarkCompleted(ctx, l, "txid-"+id); errors.Is(err, journal.ErrFenced) {
						continue
					} else if err != nil {
						errs <- err
						return
					}
					done.Add(1)
					_ = j.Release(ctx, l)
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all, err := js[0].List(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != ids {
		t.Fatalf("%d entries, want %d", len(all), ids)
	}
	for _, e := range all {
		if e.State != journal.StateCompleted {
			t.Errorf("%s: %s, want completed", e.ID, e.State)
		}
	}
	for i := range signed {
		if n := signed[i].Load(); n != 1 {
			t.Errorf("id %d recorded %d times, want once", i, n)
		}
	}
	var won, lost, exp, rec float64
	for _, j := range js {
		won += counter(t, j.Collector(), "gokms_state_claims_won_total")
		lost += counter(t, j.Collector(), "gokms_state_claims_lost_total")
		exp += counter(t, j.Collector(), "gokms_state_lease_expiries_total")
		rec += counter(t, j.Collector(), "gokms_state_recoveries_total")
	}
	t.Logf("claims won %v, lost %v, lease expiries %v, recoveries %v", won, lost, exp, rec)
	if exp == 0 || rec == 0 {
		t.Fatalf("dead workers left no lease to expire or entry to recover (expiries %v, recoveries %v)", exp, rec)
	}
}
