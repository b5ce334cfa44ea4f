package daemon_test

// The daemon with a journal shared by several daemons (PostgreSQL in
// production; here the in-memory journal marked shared): the lease check
// right before a broadcast, and a completed entry listed by a stale poll.

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/tatum"
)

// sharedJournal is a journal other daemons use too: losing is set when
// another daemon took this one's ids over (its Renew is fenced).
type sharedJournal struct {
	*journal.Memory
	losing atomic.Bool
	// aged makes completed entries look completed an hour ago (the memory
	// journal has no clock to set).
	aged bool
}

func (s *sharedJournal) Claim(ctx context.Context, id, owner string, ttl time.Duration) (journal.Lease, *journal.Entry, error) {
	l, e, err := s.Memory.Claim(ctx, id, owner, ttl)
	if e != nil && s.aged && !e.CompletedAt.IsZero() {
		e.CompletedAt = e.CompletedAt.Add(-time.Hour)
	}
	return l, e, err
}

func (s *sharedJournal) Shared() bool { return true }

func (s *sharedJournal) Renew(ctx context.Context, l journal.Lease, ttl time.Duration) (journal.Lease, error) {
	if s.losing.Load() {
		return l, journal.ErrFenced
	}
	return s.Memory.Renew(ctx, l, ttl)
}

// A daemon whose lease was superseded between journaling the signed bytes
// and broadcasting them must not broadcast: the daemon that took the id
// over resends those bytes (once).
func TestSharedJournalLeaseLostBeforeBroadcast(t *testing.T) {
	f := newFixture(t)
	id := f.enqueuePK()
	j := &sharedJournal{Memory: journal.NewMemory()}
	j.losing.Store(true)
	d := f.daemon(func(c *daemon.Config) { c.Journal = j; c.Owner = "stalled" })
	d.RunCycle(context.Background())
	if n := f.srv.Broadcasts(id); n != 0 {
		t.Fatalf("broadcast %d times after the lease was lost", n)
	}
	e, err := j.Get(context.Background(), id)
	if err != nil || e.State != journal.StateSigned || e.SignedTx == "" {
		t.Fatalf("journal: %+v %v, want the signed bytes recorded before the broadcast", e, err)
	}
	if !strings.Contains(f.logs.String(), "lease lost to another daemon before the broadcast") {
		t.Fatalf("no log of the lost lease:\n%s", f.logs)
	}
	// The daemon that took over: resends the journaled bytes, signs nothing.
	j.losing.Store(false)
	other := f.daemon(func(c *daemon.Config) { c.Journal = j; c.Owner = "other" })
	other.RunCycle(context.Background())
	f.requireCompleted(id)
	var sent string
	for _, r := range f.srv.Requests() {
		if strings.HasSuffix(r.Path, "/broadcast") {
			sent = string(r.Body)
		}
	}
	if !strings.Contains(sent, e.SignedTx) {
		t.Fatal("the broadcast did not carry the journaled bytes")
	}
}

// staleAPI answers GET /v3/kms/{id} with a txId for the ids in done, as
// Tatum does once another daemon completed them after this poll.
type staleAPI struct {
	daemon.API
	done map[string]string
}

func (s staleAPI) Get(ctx context.Context, id string) (tatum.PendingTransaction, error) {
	pt, err := s.API.Get(ctx, id)
	if txid, ok := s.done[id]; ok && err == nil {
		pt.TxID = txid
	}
	return pt, err
}

// With a shared journal, a poll that lists an id another daemon completed
// meanwhile is stale, not a replay: skipped, not reported. A completed id
// that Tatum still shows pending is a replay, refused and reported, shared
// journal or not.
func TestSharedJournalStaleListingIsNotAReplay(t *testing.T) {
	ctx := context.Background()
	completeElsewhere := func(j journal.Journal, id string) {
		l, _, err := j.Claim(ctx, id, "other", time.Minute)
		if err == nil {
			err = j.Record(ctx, l, journal.Entry{ID: id, Chain: "BTC", Testnet: true, SignedTx: "0200aa"})
		}
		if err == nil {
			err = j.MarkCompleted(ctx, l, "ab12")
		}
		if err == nil {
			err = j.Release(ctx, l)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name      string
		shared    bool
		aged      bool // completed before the poll began
		tatumDone bool
		reported  bool
	}{
		{"shared, completed by another daemon since the poll", true, false, false, false},
		{"shared, completed before the poll, Tatum shows it complete", true, true, true, false},
		{"shared, completed before the poll, Tatum lists it pending again", true, true, false, true},
		{"local journal", false, false, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.enqueuePK()
			var j journal.Journal = journal.NewMemory()
			if c.shared {
				j = &sharedJournal{Memory: journal.NewMemory(), aged: c.aged}
			}
			completeElsewhere(j, id)
			api := staleAPI{API: f.api, done: map[string]string{}}
			if c.tatumDone {
				api.done[id] = "ab12"
			}
			d := f.daemon(func(cfg *daemon.Config) { cfg.Journal = j; cfg.API = api })
			d.RunCycle(ctx)
			if n := f.srv.Broadcasts(id); n != 0 {
				t.Fatalf("a completed id was broadcast %d times", n)
			}
			reported := false
			for _, e := range f.srv.Errors() {
				if e.SignatureID == id && strings.Contains(e.Error, "refusing to sign it twice") {
					reported = true
				}
			}
			if reported != c.reported {
				t.Fatalf("reported as a replay: %v, want %v (errors %v)", reported, c.reported, f.srv.Errors())
			}
		})
	}
}
