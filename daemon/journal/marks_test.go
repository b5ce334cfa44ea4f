package journal_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon/journal"
)

// TestMarkVisibleWhileItCommits: a completion mark is visible to readers
// from the moment MarkCompleted returns, also while the commit that makes
// it durable is under way (the mark must not leave the overlay before the
// commit is done): an entry read back never goes from completed to signed.
func TestMarkVisibleWhileItCommits(t *testing.T) {
	j, err := journal.OpenFile(filepath.Join(t.TempDir(), journal.DefaultName), journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	done := make(chan string, 4096)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var regressions []string
	for r := 0; r < 4; r++ { // readers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range done {
				for k := 0; k < 20; k++ {
					e, err := j.Get(ctx, id)
					if err != nil || e.State != journal.StateCompleted {
						mu.Lock()
						regressions = append(regressions, fmt.Sprintf("%s read %d: %s %v", id, k, e.State, err))
						mu.Unlock()
						break
					}
				}
			}
		}()
	}
	var writers sync.WaitGroup
	for w := 0; w < 8; w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; i < 60; i++ {
				id := fmt.Sprintf("%012x%012x", w, i)
				l, _, err := j.Claim(ctx, id, "test", time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if err := j.Record(ctx, l, journal.Entry{ID: id, Chain: "BTC", Testnet: true, SignedTx: "00", TxID: "tx" + id}); err != nil {
					t.Error(err)
					return
				}
				if err := j.MarkCompleted(ctx, l, "tx"+id); err != nil {
					t.Error(err)
					return
				}
				_ = j.Release(ctx, l)
				done <- id
			}
		}()
	}
	writers.Wait()
	close(done)
	wg.Wait()
	if len(regressions) > 0 {
		t.Fatalf("%d completed entries read back as not completed, e.g. %s", len(regressions), regressions[0])
	}
}

// TestMarkRideReadsWhatIsStored: a mark riding a commit applies to the
// entry as stored, not to the one this process last wrote (the entry
// memo): a write in between (a broadcast attempt) is kept, and what the
// caller does with its Entry after Record is not written.
func TestMarkRideReadsWhatIsStored(t *testing.T) {
	path := filepath.Join(t.TempDir(), journal.DefaultName)
	j, err := journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	nonce := uint64(7)
	e := journal.Entry{ID: "a1", Chain: "ETH", Testnet: true, SignatureIDs: []string{"w1", "w2"}, SignedTx: "0xf8", TxID: "0xaa", Sender: "0xs", Nonce: &nonce}
	l, _, err := j.Claim(ctx, e.ID, "test", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, l, e); err != nil {
		t.Fatal(err)
	}
	e.SignatureIDs[0], nonce = "changed by the caller", 99
	if err := j.MarkAttempt(ctx, l, "timeout"); err != nil {
		t.Fatal(err)
	}
	if err := j.MarkBroadcast(ctx, l, "0xaa"); err != nil {
		t.Fatal(err)
	}
	// A second entry: marked twice, the second mark in a later commit.
	f := journal.Entry{ID: "b2", Chain: "BTC", Testnet: true, SignatureIDs: []string{"w3"}, SignedTx: "02", TxID: "bb"}
	l2, _, err := j.Claim(ctx, f.ID, "test", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, l2, f); err != nil {
		t.Fatal(err)
	}
	f.SignatureIDs[0] = "changed by the caller"
	if err := j.MarkBroadcast(ctx, l2, "bb"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond) // the flusher commits the mark
	if err := j.MarkCompleted(ctx, l2, "bb"); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j, err = journal.OpenFile(path, journal.FileOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	got, err := j.Get(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != journal.StateBroadcast || got.Broadcasts != 1 || got.TxID != "0xaa" {
		t.Fatalf("a1: state %s, %d broadcast attempts, txid %s; want broadcast, 1 (the attempt before the mark), 0xaa", got.State, got.Broadcasts, got.TxID)
	}
	if len(got.SignatureIDs) != 2 || got.SignatureIDs[0] != "w1" || got.Nonce == nil || *got.Nonce != 7 || got.Sender != "0xs" || got.SignedTx != "0xf8" {
		t.Fatalf("a1: %+v; the recorded signatureIds, sender, nonce and bytes changed", got)
	}
	got, err = j.Get(ctx, "b2")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != journal.StateCompleted || got.CompletedAt.IsZero() || got.SignatureIDs[0] != "w3" || got.SignedTx != "02" {
		t.Fatalf("b2: %+v; want completed with its record", got)
	}
}
