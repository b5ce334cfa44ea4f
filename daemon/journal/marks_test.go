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
