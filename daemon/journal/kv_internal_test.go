package journal

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestGroupCommitIsolation: writes that share one group commit fail alone
// (a failed function leaves no trace, the others commit) and each reads
// what the earlier ones of its group wrote.
func TestGroupCommitIsolation(t *testing.T) {
	g := openGroupKV(t)
	defer g.close()
	b := []byte("b")
	// The first write holds the committer while the others queue, so
	// that they share the next group.
	hold := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- g.update(func(tx txn) error {
			<-hold
			return tx.Bucket(b).Put([]byte("first"), []byte("1"))
		})
	}()
	time.Sleep(20 * time.Millisecond)
	boom := errors.New("boom")
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.update(func(tx txn) error {
				bk := tx.Bucket(b)
				// A counter every successful write increments: each must
				// see the ones before it in the group.
				c := 0
				if v := bk.Get([]byte("count")); v != nil {
					fmt.Sscan(string(v), &c)
				}
				if err := bk.Put([]byte("count"), []byte(fmt.Sprint(c+1))); err != nil {
					return err
				}
				if err := bk.Put([]byte(fmt.Sprint("k", i)), []byte("v")); err != nil {
					return err
				}
				switch {
				case i == 3:
					panic("boom") // fails this write alone
				case i%2 == 1:
					return boom // after writing: its writes must vanish
				}
				return nil
			})
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(hold)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		switch {
		case i == 3:
			if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
				t.Fatalf("write %d (panics): %v", i, err)
			}
		case (i%2 == 1) != errors.Is(err, boom) || (i%2 == 0 && err != nil):
			t.Fatalf("write %d: %v", i, err)
		}
	}
	err := g.view(func(tx txn) error {
		bk := tx.Bucket(b)
		for i := range n {
			if got := bk.Get([]byte(fmt.Sprint("k", i))) != nil; got != (i%2 == 0) {
				t.Errorf("key k%d present %v", i, got)
			}
		}
		if c := string(bk.Get([]byte("count"))); c != fmt.Sprint(n/2) {
			t.Errorf("count %s, want %d: a write of the group did not see the ones before it", c, n/2)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.close(); err != nil {
		t.Fatal(err)
	}
	if err := g.update(func(txn) error { return nil }); !errors.Is(err, errClosed) {
		t.Fatalf("update after close: %v", err)
	}
}

// TestGroupCommitMustRide: when a deferred write that must commit with the
// group (the counter adds) cannot be written, no write of the group
// commits or returns success.
func TestGroupCommitMustRide(t *testing.T) {
	g := openGroupKV(t)
	defer g.close()
	var failRide bool
	var rideErr error
	g.rider = func() []ride {
		return []ride{{must: true, fn: func(tx txn) error {
			if failRide {
				return errors.New("disk says no")
			}
			return tx.Bucket([]byte("b")).Put([]byte("ride"), []byte("1"))
		}, done: func(err error) { rideErr = err }}}
	}
	put := func(k string) error {
		return g.update(func(tx txn) error { return tx.Bucket([]byte("b")).Put([]byte(k), []byte("v")) })
	}
	failRide = true
	if err := put("a"); err == nil || !strings.Contains(err.Error(), "disk says no") {
		t.Fatalf("write in a group whose must-ride failed: %v", err)
	}
	if rideErr == nil {
		t.Fatal("the ride was not told its commit failed")
	}
	failRide = false
	if err := put("b"); err != nil || rideErr != nil {
		t.Fatalf("write %v, ride %v", err, rideErr)
	}
	_ = g.view(func(tx txn) error {
		b := tx.Bucket([]byte("b"))
		if b.Get([]byte("a")) != nil || b.Get([]byte("b")) == nil || b.Get([]byte("ride")) == nil {
			t.Errorf("after the failed and the good commit: a=%q b=%q ride=%q", b.Get([]byte("a")), b.Get([]byte("b")), b.Get([]byte("ride")))
		}
		return nil
	})
}

// TestGroupCommitGathersOnlyWhenBusy: while writes keep coming the
// committer lets them gather (commitWindow) before a commit; once the
// journal has been idle, a lone write commits at once, even when the last
// commit before the pause was a group (an idle daemon's one transaction
// must not wait the window).
func TestGroupCommitGathersOnlyWhenBusy(t *testing.T) {
	g := openGroupKV(t)
	defer g.close()
	var wg sync.WaitGroup
	// write queues a write of key k; its function closes started, if
	// given, then waits for hold, if given (holding its commit).
	write := func(k string, started chan<- struct{}, hold <-chan struct{}) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := g.update(func(tx txn) error {
				if started != nil {
					close(started)
				}
				if hold != nil {
					<-hold
				}
				return tx.Bucket([]byte("b")).Put([]byte(k), []byte("v"))
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	queued := func(n int) {
		t.Helper()
		for try := 0; ; try++ {
			g.mu.Lock()
			l := len(g.queue)
			g.mu.Unlock()
			if l >= n {
				return
			}
			if try > 5000 {
				t.Fatalf("%d writes queued, want %d", l, n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	// w0 holds its commit while w1 and w2 queue; they commit together,
	// at once (the group before them was w0 alone), w1 holding that
	// commit while w3 and w4 queue. Those come right after a group: the
	// committer lets writers gather before it commits them.
	started0, hold0 := make(chan struct{}), make(chan struct{})
	started1, hold1 := make(chan struct{}), make(chan struct{})
	write("w0", started0, hold0)
	<-started0
	write("w1", started1, hold1)
	write("w2", nil, nil)
	queued(2)
	close(hold0)
	<-started1
	write("w3", nil, nil)
	write("w4", nil, nil)
	queued(2)
	close(hold1)
	wg.Wait()
	if n := g.gathered.Load(); n != 1 {
		t.Fatalf("the committer gathered %d times, want once (for w3 and w4, right after a group)", n)
	}
	// Idle for longer than the window, after a group: a lone write
	// commits at once.
	time.Sleep(3 * commitWindow)
	write("w5", nil, nil)
	wg.Wait()
	if n := g.gathered.Load(); n != 1 {
		t.Fatalf("a lone write after an idle journal waited for others to gather (gathered %d times, want 1)", n)
	}
}

// openGroupKV opens a groupKV over a new bbolt file.
func openGroupKV(t *testing.T) *groupKV {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	return newGroupKV(db)
}

// TestEntryMemoBounded: the memo holds at most memoMax entries (a new one
// makes room), forgets an entry stored since as other bytes and a
// completed one, and hands out copies.
func TestEntryMemoBounded(t *testing.T) {
	var m entryMemo
	for i := range memoMax + 10 {
		id := fmt.Sprint("id", i)
		m.put(Entry{ID: id, SignatureIDs: []string{"w"}}, []byte(id))
	}
	if len(m.m) != memoMax {
		t.Fatalf("%d entries, want %d", len(m.m), memoMax)
	}
	last := fmt.Sprint("id", memoMax+9)
	e, ok := m.get(last, []byte(last))
	if !ok || e.ID != last {
		t.Fatalf("the newest entry: %v %v", e, ok)
	}
	e.SignatureIDs[0] = "changed"
	if e, _ := m.get(last, []byte(last)); e.SignatureIDs[0] != "w" {
		t.Fatal("get handed out the memo's own slice")
	}
	if _, ok := m.get(last, []byte("other bytes")); ok {
		t.Fatal("an entry stored as other bytes came from the memo")
	}
	if _, ok := m.m[last]; ok {
		t.Fatal("a stale entry stayed in the memo")
	}
	m.put(Entry{ID: "c", State: StateSigned}, []byte("c"))
	m.put(Entry{ID: "c", State: StateCompleted}, []byte("c2"))
	if _, ok := m.m["c"]; ok {
		t.Fatal("a completed entry stayed in the memo")
	}
}

// TestFlushRidesOnce: a flush commits the queued marks and adds through
// the commit's rider, once, and a mark that fails there is the flush's
// error. A flush used to run them itself as well, in the same commit, so
// that every mark it committed was applied twice (the second time to its
// completed entry, decoded and written again: 996 of 5,000 marks in the
// EVM nosign drain), and a mark that failed in the rider's run was hidden
// by its second run (this test then fails: "b: flush <nil>").
func TestFlushRidesOnce(t *testing.T) {
	ctx := context.Background()
	f, err := OpenFile(filepath.Join(t.TempDir(), "j.db"), FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := f.s.(*groupKV)
	var runs atomic.Int64
	var fail atomic.Bool
	orig := g.rider
	g.rider = func() []ride { // set before the committer starts
		rs := orig()
		for i := range rs {
			fn := rs[i].fn
			rs[i].fn = func(tx txn) error {
				runs.Add(1)
				if fail.Load() {
					return errors.New("disk full")
				}
				return fn(tx)
			}
		}
		return rs
	}
	for i, id := range []string{"a", "b"} {
		l, _, err := f.Claim(ctx, id, "t", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Record(ctx, l, Entry{ID: id, Chain: "BTC", SignedTx: "00"}); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			fail.Store(true) // b's mark fails
		}
		before := runs.Load()
		if err := f.MarkCompleted(ctx, l, "tx"+id); err != nil {
			t.Fatal(err)
		}
		err = f.flush()
		if got := runs.Load() - before; got != 1 {
			t.Fatalf("%s: the flush ran %d deferred writes, want its one mark once", id, got)
		}
		if (err != nil) != (i == 1) {
			t.Fatalf("%s: flush %v", id, err)
		}
	}
	fail.Store(false)
	if err := f.flush(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if e, err := f.Get(ctx, id); err != nil || e.State != StateCompleted || e.TxID != "tx"+id {
			t.Fatalf("%s: %+v %v", id, e, err)
		}
	}
}
