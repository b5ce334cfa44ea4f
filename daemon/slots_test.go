package daemon_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/signing"
)

// slowJournal holds every Record until gate closes.
type slowJournal struct {
	*journal.Memory
	gate     chan struct{}
	inRecord atomic.Int32
}

func (j *slowJournal) Record(ctx context.Context, l journal.Lease, e journal.Entry) error {
	j.inRecord.Add(1)
	<-j.gate
	return j.Memory.Record(ctx, l, e)
}

// slowSharedJournal is slowJournal shared with other daemons (PostgreSQL).
type slowSharedJournal struct{ *slowJournal }

func (slowSharedJournal) Shared() bool { return true }

// TestSlotGivenUpWhileJournaling: a transaction waiting for its durable
// journal write gives its concurrency slot to another, which signs
// meanwhile; at most WaitersPerSlot × Concurrency wait so (and Concurrency
// more on their slot, once the waiters are full), and signing and
// broadcasts still see at most Concurrency at once. Every transaction is
// done once.
func TestSlotGivenUpWhileJournaling(t *testing.T) { testSlotGivenUp(t, false) }

// TestSlotGivenUpWhileJournalingShared: with a shared journal only
// SharedWaitersPerSlot × Concurrency wait off their slot: each holds a
// claim the other daemons cannot take, so a stalled (or merely slow)
// state lets this daemon hold at most (1 + SharedWaitersPerSlot) ×
// Concurrency transactions of the queue.
func TestSlotGivenUpWhileJournalingShared(t *testing.T) { testSlotGivenUp(t, true) }

func testSlotGivenUp(t *testing.T, shared bool) {
	f := newFixture(t)
	var bcur, bpeak, scur, speak, signs atomic.Int32
	note := func(cur, peak *atomic.Int32) {
		n := cur.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
	}
	f.srv.SetBroadcaster("BTC", func(_ context.Context, txData string) (string, error) {
		note(&bcur, &bpeak)
		defer bcur.Add(-1)
		time.Sleep(2 * time.Millisecond)
		h := sha256.Sum256([]byte(txData))
		return hex.EncodeToString(h[:]), nil
	})
	var ids []string
	const conc = 2
	perSlot := daemon.WaitersPerSlot
	if shared {
		perSlot = daemon.SharedWaitersPerSlot
	}
	held := int32(conc + perSlot*conc)
	for range held + 10 {
		ids = append(ids, f.enqueuePK())
	}
	j := &slowJournal{Memory: journal.NewMemory(), gate: make(chan struct{})}
	var jj journal.Journal = j
	if shared {
		jj = slowSharedJournal{j}
	}
	d := f.daemon(func(c *daemon.Config) {
		c.Concurrency, c.Journal = conc, jj
		c.Sign = func(ctx context.Context, req signing.Request, ks signing.KeySource) (signing.Signed, error) {
			note(&scur, &speak)
			defer scur.Add(-1)
			signs.Add(1)
			return utxoSigners.SignDetailed(ctx, req, ks)
		}
	})
	done := make(chan error, 1)
	go func() { done <- d.RunOnce(context.Background()) }()
	deadline := time.Now().Add(20 * time.Second)
	for j.inRecord.Load() < held && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // room for a wrong one to start
	if n := j.inRecord.Load(); n != held {
		t.Fatalf("%d transactions waiting for their journal write, want %d (Concurrency %d on their slot, %d × as many off it)", n, held, conc, perSlot)
	}
	if n := signs.Load(); n != held {
		t.Fatalf("%d signed while the journal was held, want %d", n, held)
	}
	close(j.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.requireCompleted(ids...)
	if bpeak.Load() > conc || speak.Load() > conc {
		t.Fatalf("%d broadcasts and %d signings at once, want at most %d", bpeak.Load(), speak.Load(), conc)
	}
}
