package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestGroupSync: appends waiting at once share fsyncs, each returns only
// once an fsync covered its entry, a lone append after an idle spell
// syncs at once instead of waiting the window for company, and one while
// the log is busy waits for company.
func TestGroupSync(t *testing.T) {
	f, err := OpenFile(filepath.Join(t.TempDir(), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	durable := func(seq uint64) bool {
		f.syncMu.Lock()
		defer f.syncMu.Unlock()
		return f.synced >= seq
	}
	lone := func() {
		t.Helper()
		g := f.gathered.Load()
		e := &Entry{Event: "signed", PendingID: "lone", Result: "signed"}
		if err := f.Append(context.Background(), e, true); err != nil {
			t.Fatal(err)
		}
		if !durable(e.Seq) {
			t.Fatalf("entry %d returned before it was synced", e.Seq)
		}
		if f.gathered.Load() != g {
			t.Fatal("a lone append waited for company")
		}
	}
	lone()
	const n = 4 * syncTarget
	for round := range 3 {
		before := f.syncs.Load()
		var wg sync.WaitGroup
		start := make(chan struct{})
		// Every append is waiting before the first fsync starts: on a
		// loaded machine, goroutines let go at once reached the log one
		// by one, each fsync found no company, and the group did not
		// form (69 fsyncs for 128 appends, once in 63 runs).
		f.syncMu.Lock()
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				e := &Entry{Event: "signed", PendingID: fmt.Sprint(round, "-", i), Result: "signed"}
				if err := f.Append(context.Background(), e, true); err != nil {
					t.Error(err)
					return
				}
				if !durable(e.Seq) {
					t.Errorf("entry %d returned before it was synced", e.Seq)
				}
			}()
		}
		close(start)
		for deadline := time.Now().Add(10 * time.Second); f.waiting.Load() < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				f.syncMu.Unlock()
				t.Fatalf("round %d: %d of %d appends waiting for an fsync after 10s", round, f.waiting.Load(), n)
			}
		}
		f.syncMu.Unlock()
		wg.Wait()
		if got := f.syncs.Load() - before; got != 1 {
			t.Fatalf("round %d: %d appends waiting together took %d fsyncs, want one", round, n, got)
		}
		time.Sleep(2 * syncWindow) // idle
		lone()
	}
	// Busy (the last fsync had company, just now): the next fsync waits
	// for company first, and its append still returns only once synced.
	f.syncMu.Lock()
	f.busy = true
	f.lastSync.Store(time.Now().UnixNano())
	f.syncMu.Unlock()
	g := f.gathered.Load()
	e := &Entry{Event: "signed", PendingID: "after a burst", Result: "signed"}
	if err := f.Append(context.Background(), e, true); err != nil {
		t.Fatal(err)
	}
	if f.gathered.Load() != g+1 || !durable(e.Seq) {
		t.Fatalf("while busy: gathered %d times (want %d), durable %v", f.gathered.Load(), g+1, durable(e.Seq))
	}
}
