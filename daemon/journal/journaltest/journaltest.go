// Package journaltest is the conformance suite every journal.Journal
// implementation runs (the local file, PostgreSQL): leases and fencing,
// at-most-once records, state transitions, nonce reservations, counters,
// persistence across a reopen and concurrent use.
package journaltest

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon/journal"
)

// Opener opens the journal store called name (the same name after Close
// gives the same data; a new name an empty store). Clean up with t.Cleanup.
type Opener func(t *testing.T, name string) journal.Journal

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"RecordOnce", testRecordOnce},
		{"LeaseAndFencing", testLeaseAndFencing},
		{"Transitions", testTransitions},
		{"Forget", testForget},
		{"Nonces", testNonces},
		{"NonceFreedOnRefusalAndCrash", testNonceFreed},
		{"StalePendingNonce", testStalePendingNonce},
		{"ConcurrentNonces", testConcurrentNonces},
		{"ConcurrentClaims", testConcurrentClaims},
		{"Counters", testCounters},
		{"Persistence", testPersistence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

var ctx = context.Background()

const ttl = time.Minute

func id(n int) string { return fmt.Sprintf("%024x", 0xabc000+n) }

func entry(i string) journal.Entry {
	return journal.Entry{ID: i, Chain: "BTC", Testnet: true, SignatureIDs: []string{"w1"}, SignedTx: "0200aa" + i, TxID: "t" + i}
}

func claim(t *testing.T, j journal.Journal, i, owner string) (journal.Lease, *journal.Entry) {
	t.Helper()
	l, e, err := j.Claim(ctx, i, owner, ttl)
	if err != nil {
		t.Fatalf("claim %s by %s: %v", i, owner, err)
	}
	if l.ID != i || l.Owner != owner || l.Token == 0 {
		t.Fatalf("claim %s by %s: lease %+v", i, owner, l)
	}
	return l, e
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got %v, want %v", what, err, target)
	}
}

func testRecordOnce(t *testing.T, open Opener) {
	j := open(t, "record")
	l, e := claim(t, j, id(1), "d1")
	if e != nil {
		t.Fatalf("fresh id has an entry: %+v", e)
	}
	n := uint64(7)
	want := entry(id(1))
	want.Sender, want.Nonce, want.WithdrawalID = "0xabc", &n, "wd"
	must(t, j.Record(ctx, l, want), "record")
	wantErr(t, j.Record(ctx, l, want), journal.ErrExists, "second record")
	got, err := j.Get(ctx, id(1))
	must(t, err, "get")
	if got.ID != want.ID || got.Chain != "BTC" || !got.Testnet || got.SignedTx != want.SignedTx || got.TxID != want.TxID ||
		got.Sender != "0xabc" || got.Nonce == nil || *got.Nonce != 7 || got.WithdrawalID != "wd" || len(got.SignatureIDs) != 1 ||
		got.State != journal.StateSigned || got.Owner != "d1" || got.RecordedAt.IsZero() {
		t.Fatalf("get: %+v", got)
	}
	must(t, j.Release(ctx, l), "release")
	l2, e := claim(t, j, id(1), "d1")
	if e == nil || e.SignedTx != want.SignedTx {
		t.Fatalf("claim after record: entry %+v, want the recorded one", e)
	}
	if l2.Token <= l.Token {
		t.Fatalf("token did not grow: %d then %d", l.Token, l2.Token)
	}
	wantErr(t, j.Record(ctx, l2, want), journal.ErrExists, "record under a new claim")
	_, err = j.Get(ctx, id(2))
	wantErr(t, err, journal.ErrNotFound, "get unknown")
	if err := j.Record(ctx, l2, entry(id(3))); err == nil {
		t.Fatal("recorded an entry under the lease of another id")
	}
	if _, err := j.Get(ctx, id(3)); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("entry recorded under a foreign lease: %v", err)
	}
}

func testLeaseAndFencing(t *testing.T, open Opener) {
	j := open(t, "lease")
	i := id(10)
	l1, _, err := j.Claim(ctx, i, "d1", 300*time.Millisecond)
	must(t, err, "claim")
	_, _, err = j.Claim(ctx, i, "d2", ttl)
	wantErr(t, err, journal.ErrClaimed, "claim of a live lease by another owner")
	time.Sleep(400 * time.Millisecond)
	l2 := claimAs(t, j, i, "d2")
	if l2.Token <= l1.Token {
		t.Fatalf("token did not grow: %d then %d", l1.Token, l2.Token)
	}
	// d1 stalled past its lease: every write it tries is fenced.
	wantErr(t, j.Record(ctx, l1, entry(i)), journal.ErrFenced, "record with a superseded lease")
	_, err = j.ReserveNonce(ctx, l1, journal.NonceKey{Chain: "ETH", Sender: "0x1"}, 0)
	wantErr(t, err, journal.ErrFenced, "nonce with a superseded lease")
	_, err = j.Renew(ctx, l1, ttl)
	wantErr(t, err, journal.ErrFenced, "renew a superseded lease")
	wantErr(t, j.Release(ctx, l1), journal.ErrFenced, "release a superseded lease")
	must(t, j.Record(ctx, l2, entry(i)), "record with the live lease")
	wantErr(t, j.MarkBroadcast(ctx, l1, "tx"), journal.ErrFenced, "broadcast with a superseded lease")
	wantErr(t, j.MarkCompleted(ctx, l1, "tx"), journal.ErrFenced, "complete with a superseded lease")
	wantErr(t, j.MarkAttempt(ctx, l1, "x"), journal.ErrFenced, "attempt with a superseded lease")
	l3, err := j.Renew(ctx, l2, ttl)
	must(t, err, "renew")
	if l3.Token != l2.Token || !l3.Expires.After(l2.Expires) {
		t.Fatalf("renew: %+v after %+v", l3, l2)
	}
	must(t, j.Release(ctx, l3), "release")
	wantErr(t, j.MarkBroadcast(ctx, l3, "tx"), journal.ErrFenced, "write after release")
	// Released: anyone may claim at once.
	claimAs(t, j, i, "d1")
}

func claimAs(t *testing.T, j journal.Journal, i, owner string) journal.Lease {
	t.Helper()
	l, _ := claim(t, j, i, owner)
	return l
}

func testTransitions(t *testing.T, open Opener) {
	j := open(t, "transitions")
	i := id(20)
	l := claimAs(t, j, i, "d1")
	wantErr(t, j.MarkBroadcast(ctx, l, "tx"), journal.ErrNotFound, "broadcast before record")
	must(t, j.Record(ctx, l, entry(i)), "record")
	wantErr(t, j.MarkCompleted(ctx, l, ""), journal.ErrBadTransition, "complete without txId")
	wantErr(t, j.MarkBroadcast(ctx, l, ""), journal.ErrBadTransition, "broadcast without txId")
	must(t, j.MarkAttempt(ctx, l, "reset by peer"), "attempt")
	e, _ := j.Get(ctx, i)
	if e.Broadcasts != 1 || e.LastError != "reset by peer" || e.State != journal.StateSigned {
		t.Fatalf("after attempt: %+v", e)
	}
	must(t, j.MarkBroadcast(ctx, l, "txA"), "broadcast")
	e, _ = j.Get(ctx, i)
	if e.State != journal.StateBroadcast || e.TxID != "txA" || e.LastError != "" {
		t.Fatalf("after broadcast: %+v", e)
	}
	open1, err := j.List(ctx, true)
	must(t, err, "list open")
	if len(open1) != 1 || open1[0].ID != i {
		t.Fatalf("open entries: %+v", open1)
	}
	must(t, j.MarkCompleted(ctx, l, "txA"), "complete")
	must(t, j.MarkBroadcast(ctx, l, "txA"), "broadcast after complete")
	e, _ = j.Get(ctx, i)
	if e.State != journal.StateCompleted || e.TxID != "txA" || e.CompletedAt.IsZero() {
		t.Fatalf("after complete: %+v", e)
	}
	open2, _ := j.List(ctx, true)
	all, _ := j.List(ctx, false)
	if len(open2) != 0 || len(all) != 1 {
		t.Fatalf("open %d, all %d entries; want 0 and 1", len(open2), len(all))
	}
	// A second entry recorded later lists after the first.
	l2 := claimAs(t, j, id(21), "d1")
	must(t, j.Record(ctx, l2, entry(id(21))), "record 2")
	all, _ = j.List(ctx, false)
	if len(all) != 2 || all[0].ID != i || all[1].ID != id(21) {
		t.Fatalf("list order: %+v", all)
	}
}

func testForget(t *testing.T, open Opener) {
	j := open(t, "forget")
	i := id(30)
	wantErr(t, j.Forget(ctx, i), journal.ErrNotFound, "forget unknown")
	l := claimAs(t, j, i, "d1")
	must(t, j.Record(ctx, l, entry(i)), "record")
	wantErr(t, j.Forget(ctx, i), journal.ErrClaimed, "forget while claimed")
	must(t, j.Release(ctx, l), "release")
	must(t, j.Forget(ctx, i), "forget")
	_, err := j.Get(ctx, i)
	wantErr(t, err, journal.ErrNotFound, "get after forget")
	l2, e := claim(t, j, i, "d1")
	if e != nil {
		t.Fatalf("forgotten id still has an entry: %+v", e)
	}
	must(t, j.Record(ctx, l2, entry(i)), "record after forget")
}

var key = journal.NonceKey{Chain: "ETH", Testnet: true, Sender: "0x00000000000000000000000000000000000000aa"}

func reserve(t *testing.T, j journal.Journal, l journal.Lease, k journal.NonceKey, pending uint64) uint64 {
	t.Helper()
	n, err := j.ReserveNonce(ctx, l, k, pending)
	if err != nil {
		t.Fatalf("reserve for %s (pending %d): %v", l.ID, pending, err)
	}
	return n
}

func recordNonce(t *testing.T, j journal.Journal, l journal.Lease, k journal.NonceKey, n uint64) {
	t.Helper()
	e := entry(l.ID)
	e.Chain, e.Testnet, e.Sender, e.Nonce = k.Chain, k.Testnet, k.Sender, &n
	must(t, j.Record(ctx, l, e), "record with nonce")
}

func testNonces(t *testing.T, open Opener) {
	j := open(t, "nonces")
	a, b, c := claimAs(t, j, id(40), "d1"), claimAs(t, j, id(41), "d1"), claimAs(t, j, id(42), "d1")
	if n := reserve(t, j, a, key, 5); n != 5 {
		t.Fatalf("first nonce %d, want the node's pending 5", n)
	}
	if n := reserve(t, j, a, key, 5); n != 5 {
		t.Fatalf("same id again got %d, want 5", n)
	}
	// The node has not seen a's transaction yet: b must not get 5 again.
	if n := reserve(t, j, b, key, 5); n != 6 {
		t.Fatalf("second id got %d, want 6", n)
	}
	recordNonce(t, j, a, key, 5)
	recordNonce(t, j, b, key, 6)
	// Another network or sender is another sequence.
	other := key
	other.Testnet = false
	if n := reserve(t, j, c, other, 0); n != 0 {
		t.Fatalf("mainnet sequence got %d, want 0", n)
	}
	must(t, j.Release(ctx, c), "release c")
	c = claimAs(t, j, id(42), "d1")
	// The node moved past ours (someone else sent from the key): use its nonce.
	if n := reserve(t, j, c, key, 9); n != 9 {
		t.Fatalf("node ahead: got %d, want 9", n)
	}
	recordNonce(t, j, c, key, 9)
	// The node reports 7 while 9 is journaled: 7 and 8 were never bound
	// (a gap the node waits for), so they are handed out, then 10.
	d, e, g := claimAs(t, j, id(43), "d1"), claimAs(t, j, id(44), "d1"), claimAs(t, j, id(45), "d1")
	for _, c := range []struct {
		l    journal.Lease
		want uint64
	}{{d, 7}, {e, 8}, {g, 10}} {
		if n := reserve(t, j, c.l, key, 7); n != c.want {
			t.Fatalf("node behind: %s got %d, want %d", c.l.ID, n, c.want)
		}
	}
	// A recorded id cannot reserve again.
	if _, err := j.ReserveNonce(ctx, a, key, 0); !errors.Is(err, journal.ErrExists) {
		t.Fatalf("reserve for a recorded id: %v, want ErrExists", err)
	}
}

// testStalePendingNonce: a worker that read the node's pending nonce
// before another worker's broadcast reached the node asks with a stale
// value; a nonce already recorded must never be handed out again, even
// after the journal forgot it as spent (the daemon's EVM drain paid two
// ids with one nonce this way: "replacement transaction underpriced").
func testStalePendingNonce(t *testing.T, open Opener) {
	j := open(t, "stale-nonce")
	a := claimAs(t, j, id(60), "d1")
	if n := reserve(t, j, a, key, 5); n != 5 {
		t.Fatalf("first nonce %d, want 5", n)
	}
	recordNonce(t, j, a, key, 5)
	must(t, j.Release(ctx, a), "release a")
	// a's transaction reached the node: pending is 6 now.
	b := claimAs(t, j, id(61), "d1")
	if n := reserve(t, j, b, key, 6); n != 6 {
		t.Fatalf("second nonce %d, want 6", n)
	}
	recordNonce(t, j, b, key, 6)
	must(t, j.Release(ctx, b), "release b")
	// c read the node before a's broadcast: pending 5.
	c := claimAs(t, j, id(62), "d1")
	if n := reserve(t, j, c, key, 5); n == 5 || n == 6 {
		t.Fatalf("stale pending 5 got nonce %d, which is already journaled for another id", n)
	}
}

func testNonceFreed(t *testing.T, open Opener) {
	j := open(t, "freed")
	a, b := claimAs(t, j, id(50), "d1"), claimAs(t, j, id(51), "d1")
	if n := reserve(t, j, a, key, 0); n != 0 {
		t.Fatalf("got %d", n)
	}
	if n := reserve(t, j, b, key, 0); n != 1 {
		t.Fatalf("got %d", n)
	}
	recordNonce(t, j, b, key, 1)
	// a is refused by policy: released without a record, its nonce is reused.
	must(t, j.Release(ctx, a), "release refused")
	c := claimAs(t, j, id(52), "d1")
	if n := reserve(t, j, c, key, 0); n != 0 {
		t.Fatalf("refused transaction's nonce not reused: got %d, want 0", n)
	}
	recordNonce(t, j, c, key, 0)
	// A daemon that crashed after reserving (lease expired, no record).
	d, _, err := j.Claim(ctx, id(53), "crashed", 200*time.Millisecond)
	must(t, err, "claim")
	if n := reserve(t, j, d, key, 0); n != 2 {
		t.Fatalf("got %d, want 2", n)
	}
	time.Sleep(300 * time.Millisecond)
	e := claimAs(t, j, id(54), "d2")
	if n := reserve(t, j, e, key, 0); n != 2 {
		t.Fatalf("crashed reservation not reused: got %d, want 2", n)
	}
	// The crashed id comes back under a new claim: it gets a new nonce, not e's.
	d2 := claimAs(t, j, id(53), "d2")
	if n := reserve(t, j, d2, key, 0); n != 3 {
		t.Fatalf("reclaimed id got %d, want 3", n)
	}
	// Forgetting an unfinished entry frees its nonce.
	recordNonce(t, j, e, key, 2)
	must(t, j.Release(ctx, e), "release")
	must(t, j.Forget(ctx, id(54)), "forget")
	f := claimAs(t, j, id(55), "d2")
	if n := reserve(t, j, f, key, 0); n != 2 {
		t.Fatalf("forgotten entry's nonce not reused: got %d, want 2", n)
	}
	// Freed nonces the node has passed are never handed out.
	must(t, j.Release(ctx, f), "release f")
	g := claimAs(t, j, id(56), "d2")
	if n := reserve(t, j, g, key, 4); n != 4 {
		t.Fatalf("got %d, want the node's 4 (2 is used)", n)
	}
}

func testConcurrentNonces(t *testing.T, open Opener) {
	j := open(t, "concnonces")
	const n = 32
	got := make([]uint64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for k := 0; k < n; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			l, _, err := j.Claim(ctx, id(100+k), "d1", ttl)
			if err != nil {
				errs <- err
				return
			}
			v, err := j.ReserveNonce(ctx, l, key, 3)
			if err != nil {
				errs <- err
				return
			}
			got[k] = v
			e := entry(l.ID)
			e.Chain, e.Testnet, e.Sender, e.Nonce = key.Chain, key.Testnet, key.Sender, &v
			if err := j.Record(ctx, l, e); err != nil {
				errs <- err
			}
		}(k)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for _, v := range got {
		if seen[v] || v < 3 || v >= 3+n {
			t.Fatalf("nonces %v: want each of 3..%d once", got, 3+n-1)
		}
		seen[v] = true
	}
}

func testConcurrentClaims(t *testing.T, open Opener) {
	j := open(t, "concclaims")
	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for k := 0; k < n; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			_, _, err := j.Claim(ctx, id(200), fmt.Sprintf("d%d", k), ttl)
			if err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			} else if !errors.Is(err, journal.ErrClaimed) {
				t.Errorf("claim: %v", err)
			}
		}(k)
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d owners claimed one id at once, want 1", won)
	}
}

func testCounters(t *testing.T, open Opener) {
	j := open(t, "counters")
	now := time.Now()
	must(t, j.Add(ctx, "wallet:w1:ETH", id(1), now.Add(-25*time.Hour), big.NewInt(1000)), "add old")
	must(t, j.Add(ctx, "wallet:w1:ETH", id(2), now.Add(-time.Hour), big.NewInt(30)), "add")
	must(t, j.Add(ctx, "wallet:w1:ETH", id(2), now.Add(-time.Hour), big.NewInt(30)), "add again (same ref)")
	big1, _ := new(big.Int).SetString("100000000000000000000000", 10)
	must(t, j.Add(ctx, "wallet:w1:ETH", id(3), now, big1), "add big")
	must(t, j.Add(ctx, "wallet:w1:ETHX", id(4), now, big.NewInt(5)), "add other key")
	sum, err := j.SumSince(ctx, "wallet:w1:ETH", now.Add(-24*time.Hour))
	must(t, err, "sum")
	want := new(big.Int).Add(big1, big.NewInt(30))
	if sum.Cmp(want) != 0 {
		t.Fatalf("sum %s, want %s", sum, want)
	}
	sum, _ = j.SumSince(ctx, "nothing", now.Add(-24*time.Hour))
	if sum == nil || sum.Sign() != 0 {
		t.Fatalf("empty sum %v", sum)
	}
}

func testPersistence(t *testing.T, open Opener) {
	j := open(t, "persist")
	l := claimAs(t, j, id(60), "d1")
	n := reserve(t, j, l, key, 11)
	recordNonce(t, j, l, key, n)
	must(t, j.MarkBroadcast(ctx, l, "txP"), "broadcast")
	lc := claimAs(t, j, id(62), "d1")
	must(t, j.Record(ctx, lc, entry(id(62))), "record")
	must(t, j.MarkCompleted(ctx, lc, "txC"), "complete")
	must(t, j.Add(ctx, "k", "r", time.Now(), big.NewInt(3)), "add")
	must(t, j.Close(), "close")
	j2 := open(t, "persist")
	e, err := j2.Get(ctx, id(60))
	must(t, err, "get after reopen")
	if e.State != journal.StateBroadcast || e.TxID != "txP" || e.Nonce == nil || *e.Nonce != 11 {
		t.Fatalf("after reopen: %+v", e)
	}
	if c, err := j2.Get(ctx, id(62)); err != nil || c.State != journal.StateCompleted || c.TxID != "txC" {
		t.Fatalf("completion lost across Close and reopen: %+v %v", c, err)
	}
	l2, e2, err := j2.Claim(ctx, id(61), "d1", ttl)
	must(t, err, "claim after reopen")
	_ = e2
	if v := reserve(t, j2, l2, key, 11); v != 12 {
		t.Fatalf("nonce after reopen %d, want 12", v)
	}
	sum, _ := j2.SumSince(ctx, "k", time.Time{})
	if sum.Int64() != 3 {
		t.Fatalf("counter after reopen %s", sum)
	}
}
