package pgjournal_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/journal/pgjournal"
	"github.com/gokms/gokms/daemon/policy"
	"github.com/gokms/gokms/signing/utxo/utxotest"
)

func p2wpkhScript(t *testing.T, seed string) []byte {
	h := sha256.Sum256([]byte(seed))
	a, err := btcutil.NewAddressWitnessPubKeyHash(h[:20], &chaincfg.TestNet3Params)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := txscript.PayToAddrScript(a)
	return s
}

// Two daemons (two policies, each on its own connection pool to one
// state) decide at the same instant on transactions of which only one fits
// under the 24-hour limit: exactly one is allowed, every round, and the
// shared total never passes the limit. Each policy's own check reads the
// total before either adds, so without the atomic check-and-add in the
// database both would pass.
func TestSharedDailyLimitTwoDaemons(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	f, err := policy.Parse([]byte("version: 1\nchains:\n  BTC:\n    maxDaily: 1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	js := []*pgjournal.Journal{openDB(t, db, pgjournal.Options{}), openDB(t, db, pgjournal.Options{})}
	var ps []*policy.Policy
	for _, j := range js {
		p, err := policy.New(f, j)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	from, to := p2wpkhScript(t, "from"), p2wpkhScript(t, "to")
	view := func(n int) *policy.Input {
		raw, err := utxotest.BitcoreJSON([]utxotest.Input{{TxID: hex.EncodeToString(sha256.New().Sum([]byte(fmt.Sprint(n))))[:64], Script: from, Satoshis: 10_000}},
			[]utxotest.Output{{Script: to, Satoshis: 600}, {Script: from, Satoshis: 10_000 - 600 - 100}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		v, err := policy.Decode("BTC", true, raw, "")
		if err != nil {
			t.Fatal(err)
		}
		return &policy.Input{ID: fmt.Sprintf("%024x", n), Chain: "BTC", Testnet: true, View: v}
	}
	base := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	const rounds = 20
	for r := 0; r < rounds; r++ {
		now := base.Add(time.Duration(r) * 25 * time.Hour) // each round its own 24 hours
		var wg sync.WaitGroup
		start := make(chan struct{})
		ds := make([]policy.Decision, 2)
		for k := 0; k < 2; k++ {
			in := view(r*10 + k)
			in.Now = now
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				<-start
				ds[k] = ps[k].Evaluate(ctx, *in, policy.Options{})
			}(k)
		}
		close(start)
		wg.Wait()
		if ds[0].Allowed == ds[1].Allowed {
			t.Fatalf("round %d: decisions %+v / %+v; want exactly one of two 600-sat payments under the 1000-sat daily limit", r, ds[0], ds[1])
		}
		refused := ds[0]
		if refused.Allowed {
			refused = ds[1]
		}
		if refused.Class != policy.ClassMaxDaily || refused.Rule != "chains.BTC.maxDaily" {
			t.Fatalf("round %d: refusal %+v, want chains.BTC.maxDaily", r, refused)
		}
		sum, err := js[0].SumSince(ctx, "policy/chain/BTC/native", now.Add(-24*time.Hour))
		if err != nil || sum.Cmp(big.NewInt(600)) != 0 {
			t.Fatalf("round %d: shared total %v %v, want 600", r, sum, err)
		}
	}
}

// AddWithin counts a ref once, refuses past a limit without adding
// anything of the transaction, and adds count-only keys.
func TestAddWithin(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := context.Background()
	j := openDB(t, db, pgjournal.Options{})
	now := time.Now()
	lim := big.NewInt(100)
	adds := []policy.LimitedAdd{{Key: "a", Amount: big.NewInt(60), Limit: lim}, {Key: "b", Amount: big.NewInt(60)}}
	if i, _, err := j.AddWithin(ctx, "r1", now, now.Add(-time.Hour), adds); err != nil || i != -1 {
		t.Fatalf("first: %d %v", i, err)
	}
	if i, _, err := j.AddWithin(ctx, "r1", now, now.Add(-time.Hour), adds); err != nil || i != -1 {
		t.Fatalf("same ref again: %d %v", i, err)
	}
	i, sum, err := j.AddWithin(ctx, "r2", now, now.Add(-time.Hour), []policy.LimitedAdd{{Key: "b", Amount: big.NewInt(1)}, {Key: "a", Amount: big.NewInt(41), Limit: lim}})
	if err != nil || i != 1 || sum.Int64() != 60 {
		t.Fatalf("over the limit: %d %v %v, want index 1 with sum 60", i, sum, err)
	}
	for k, want := range map[string]int64{"a": 60, "b": 60} {
		if s, _ := j.SumSince(ctx, k, now.Add(-time.Hour)); s.Int64() != want {
			t.Fatalf("%s: %v, want %d (a refused transaction adds nothing)", k, s, want)
		}
	}
	if i, _, err := j.AddWithin(ctx, "r3", now, now.Add(-time.Hour), []policy.LimitedAdd{{Key: "a", Amount: big.NewInt(40), Limit: lim}}); err != nil || i != -1 {
		t.Fatalf("exactly at the limit: %d %v", i, err)
	}
}

// TestCountersPrune: counter adds older than journal.CounterRetention are
// deleted when a daemon opens the state and, after an add, at most hourly;
// adds within it stay, and a prune changes no rolling total.
func TestCountersPrune(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	j := openDB(t, db, pgjournal.Options{})
	now := time.Now()
	aged := now.Add(-journal.CounterRetention - time.Hour)
	add := func(j *pgjournal.Journal, key, ref string, at time.Time, n int64) {
		t.Helper()
		if err := j.Add(ctx, key, ref, at, big.NewInt(n)); err != nil {
			t.Fatal(err)
		}
	}
	sum := func(j *pgjournal.Journal, key string, since time.Time) int64 {
		t.Helper()
		s, err := j.SumSince(ctx, key, since)
		if err != nil {
			t.Fatal(err)
		}
		return s.Int64()
	}
	// Written as a daemon's adds are, without starting a prune.
	for _, a := range []struct {
		key, ref string
		at       time.Time
		n        int64
	}{{"k", "fresh", now, 5}, {"k", "old", aged, 7}, {"k", "days", now.Add(-3 * 24 * time.Hour), 13}, {"other", "old", aged, 100}} {
		if _, err := j.Pool().Exec(ctx, `INSERT INTO gokms_counters (key, ref, at, amount) VALUES ($1, $2, $3, $4)`, a.key, a.ref, a.at, a.n); err != nil {
			t.Fatal(err)
		}
	}
	if got := sum(j, "k", time.Time{}); got != 25 {
		t.Fatalf("before a prune: sum of k since ever %d, want 25 (pruned within the hour of the open?)", got)
	}
	day := sum(j, "k", now.Add(-24*time.Hour))
	// A daemon opening the state prunes.
	j2 := openDB(t, db, pgjournal.Options{})
	for key, want := range map[string]int64{"k": 18, "other": 0} {
		if got := sum(j2, key, time.Time{}); got != want {
			t.Errorf("after an open: sum of %s since ever %d, want %d", key, got, want)
		}
	}
	if got := sum(j2, "k", now.Add(-24*time.Hour)); got != day {
		t.Errorf("the 24-hour total changed with the prune: %d, was %d", got, day)
	}
	// An add an hour after the last prune starts one.
	add(j, "k", "old-2", aged, 11)
	add(j, "k", "fresh-2", now, 1)
	if got := sum(j, "k", time.Time{}); got != 18+11+1 {
		t.Fatalf("sum %d, want %d: pruned within the hour", got, 18+11+1)
	}
	j.AgePrune()
	add(j, "k", "fresh-3", now, 2)
	j.WaitPrune()
	if got := sum(j, "k", time.Time{}); got != 18+1+2 {
		t.Fatalf("after the hourly prune: sum of k since ever %d, want %d", got, 18+1+2)
	}
	// AddWithin (the daemon's add with a shared state) starts one too.
	add(j, "k", "old-3", aged, 17)
	j.AgePrune()
	if _, _, err := j.AddWithin(ctx, "fresh-4", now, now.Add(-24*time.Hour), []policy.LimitedAdd{{Key: "k", Amount: big.NewInt(3)}}); err != nil {
		t.Fatal(err)
	}
	j.WaitPrune()
	if got := sum(j, "k", time.Time{}); got != 18+1+2+3 {
		t.Fatalf("after AddWithin's prune: sum of k since ever %d, want %d", got, 18+1+2+3)
	}
}

// One daemon's policy over the shared state decides on 50 transactions at
// once, of which 10 fit under the limit: exactly 10 pass (the database
// decides, AddWithin), none more, none fewer, and later ones are refused.
func TestSharedDailyLimitConcurrent(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	f, err := policy.Parse([]byte("version: 1\nchains:\n  BTC:\n    maxDaily: 1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	j := openDB(t, db, pgjournal.Options{})
	p, err := policy.New(f, j)
	if err != nil {
		t.Fatal(err)
	}
	from, to := p2wpkhScript(t, "from"), p2wpkhScript(t, "to")
	raw, err := utxotest.BitcoreJSON([]utxotest.Input{{TxID: hex.EncodeToString(make([]byte, 32)), Script: from, Satoshis: 10_000}},
		[]utxotest.Output{{Script: to, Satoshis: 100}, {Script: from, Satoshis: 10_000 - 100 - 100}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	v, err := policy.Decode("BTC", true, raw, "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	start := make(chan struct{})
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			d := p.Evaluate(ctx, policy.Input{ID: fmt.Sprintf("%024x", i), Chain: "BTC", Testnet: true, View: v, Now: now}, policy.Options{})
			switch {
			case d.Allowed:
				mu.Lock()
				allowed++
				mu.Unlock()
			case d.Class != policy.ClassMaxDaily:
				t.Errorf("refused by %s: %s", d.Rule, d.Reason)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if allowed != 10 {
		t.Fatalf("%d of 50 100-sat payments passed a daily limit of 1000 (want 10)", allowed)
	}
	for i := 0; i < 5; i++ {
		if d := p.Evaluate(ctx, policy.Input{ID: fmt.Sprintf("late%020x", i), Chain: "BTC", Testnet: true, View: v, Now: now}, policy.Options{}); d.Allowed {
			t.Fatal("a later payment passed the exhausted daily limit")
		}
	}
	sum, err := j.SumSince(ctx, "policy/chain/BTC/native", now.Add(-24*time.Hour))
	if err != nil || sum.Cmp(big.NewInt(1000)) != 0 {
		t.Fatalf("shared total %v %v, want 1000", sum, err)
	}
}
