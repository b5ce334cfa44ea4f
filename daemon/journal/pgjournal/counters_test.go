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
