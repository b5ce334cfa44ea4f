package journal_test

import (
	"context"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/journal/journaltest"
)

func TestFileConformance(t *testing.T) {
	dir := t.TempDir()
	journaltest.Run(t, func(t *testing.T, name string) journal.Journal {
		j, err := journal.OpenFile(filepath.Join(dir, name+".db"), journal.FileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = j.Close() })
		return j
	})
}

func TestFileModeAndLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), journal.DefaultName)
	j, err := journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode %v, want 0600", fi.Mode().Perm())
	}
	_, err = journal.OpenFile(path, journal.FileOptions{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, journal.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	_, err = journal.OpenFile(path, journal.FileOptions{LockTimeout: 50 * time.Millisecond, ReadOnly: true})
	if !errors.Is(err, journal.ErrLocked) {
		t.Fatalf("read-only open while held: %v, want ErrLocked", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	// A file left with a wider mode is tightened.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	j, err = journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	fi, _ = os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("reopened journal mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestMemoryConformance(t *testing.T) {
	stores := map[string]*journal.Memory{}
	journaltest.Run(t, func(t *testing.T, name string) journal.Journal {
		if stores[name] == nil {
			stores[name] = journal.NewMemory()
		}
		return stores[name]
	})
}

// TestFileLeasesOfADeadProcess: after a crash (the lock is gone, so its
// holder is), a restarted daemon under another owner claims at once, and
// the dead process's lease can no longer write.
func TestFileLeasesOfADeadProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	old, _, err := j.Claim(ctx, "0123456789abcdef01234567", "host:1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	n, err := j.ReserveNonce(ctx, old, journal.NonceKey{Chain: "ETH", Sender: "0xaa"}, 4)
	if err != nil || n != 4 {
		t.Fatalf("reserve: %d %v", n, err)
	}
	j.Close()
	j, err = journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, _, err := j.Claim(ctx, "0123456789abcdef01234567", "host:2", time.Hour); err != nil {
		t.Fatalf("claim after restart: %v", err)
	}
	l, _, err := j.Claim(ctx, "0123456789abcdef01234568", "host:2", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := j.ReserveNonce(ctx, l, journal.NonceKey{Chain: "ETH", Sender: "0xaa"}, 4); err != nil || n != 4 {
		t.Fatalf("dead process's nonce reservation not reused: %d %v", n, err)
	}
	if err := j.Release(ctx, old); !errors.Is(err, journal.ErrFenced) {
		t.Fatalf("dead lease released: %v", err)
	}
}

// TestFileAddLater: an add queued with AddLater counts at once, once per
// (key, ref) also against Add, and is durable after the next write and
// after Close.
func TestFileAddLater(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	for _, err := range []error{
		j.AddLater(ctx, "k", "r1", now, big.NewInt(5)),
		j.AddLater(ctx, "k", "r1", now, big.NewInt(5)), // same ref: once
		j.Add(ctx, "k", "r1", now, big.NewInt(5)),      // and against Add
		j.AddLater(ctx, "k", "r2", now.Add(-48*time.Hour), big.NewInt(7)),
		j.AddLater(ctx, "other", "r1", now, big.NewInt(100)),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(j *journal.File, when string) {
		t.Helper()
		if s, err := j.SumSince(ctx, "k", now.Add(-time.Hour)); err != nil || s.Int64() != 5 {
			t.Fatalf("%s: sum %v (%v), want 5", when, s, err)
		}
		if s, _ := j.SumSince(ctx, "k", time.Time{}); s.Int64() != 12 {
			t.Fatalf("%s: sum since ever %v, want 12", when, s)
		}
	}
	check(j, "queued")
	l, _, err := j.Claim(ctx, "id-1", "o", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, l, journal.Entry{ID: "id-1", Chain: "BTC", SignedTx: "00"}); err != nil {
		t.Fatal(err)
	}
	check(j, "after a Record")
	if err := j.AddLater(ctx, "k", "r3", now, big.NewInt(1)); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j, err = journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if s, _ := j.SumSince(ctx, "k", now.Add(-time.Hour)); s.Int64() != 6 {
		t.Fatalf("after Close and reopen: sum %v, want 6", s)
	}
	if err := j.AddLater(ctx, "", "r", now, big.NewInt(1)); err == nil {
		t.Fatal("AddLater without a key accepted")
	}
}

// TestFileCountersPrune: a read of a total reads its key's adds only, and
// adds older than the retention (a week) are deleted: the key read, with
// the next commit; every key, at the next open. Adds within it stay, and an
// add queued for the (key, ref) of an aged one stays a repeat of it.
func TestFileCountersPrune(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	aged := now.Add(-8 * 24 * time.Hour)
	for _, a := range []struct {
		key, ref string
		at       time.Time
		n        int64
	}{
		{"k", "fresh", now, 5},
		{"k", "old", aged, 7},
		{"k", "old-again", aged, 11},
		{"k", "days", now.Add(-3 * 24 * time.Hour), 13}, // outside 24 h, inside the retention
		{"k\x01", "next", aged, 17},                     // the next key in bbolt's order
		{"other", "old", aged, 100},
	} {
		if err := j.Add(ctx, a.key, a.ref, a.at, big.NewInt(a.n)); err != nil {
			t.Fatal(err)
		}
	}
	sum := func(key string) int64 {
		t.Helper()
		s, err := j.SumSince(ctx, key, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return s.Int64()
	}
	if got := sum("k"); got != 5+7+11+13 {
		t.Fatalf("sum of k since ever %d, want %d", got, 5+7+11+13)
	}
	// The policy's read: the aged adds are queued for deletion.
	if s, err := j.SumSince(ctx, "k", now.Add(-24*time.Hour)); err != nil || s.Int64() != 5 {
		t.Fatalf("sum of k in 24 h %v (%v), want 5", s, err)
	}
	// Queued for the aged row's (key, ref): a repeat, neither added nor
	// deleting the row it repeats.
	if err := j.AddLater(ctx, "k", "old-again", now, big.NewInt(1000)); err != nil {
		t.Fatal(err)
	}
	l, _, err := j.Claim(ctx, "id-1", "o", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, l, journal.Entry{ID: "id-1", Chain: "BTC", SignedTx: "00"}); err != nil {
		t.Fatal(err)
	}
	if got := sum("k"); got != 5+11+13 {
		t.Fatalf("after a commit, sum of k since ever %d, want %d (the aged add deleted, the repeated one kept)", got, 5+11+13)
	}
	if got := sum("k\x01"); got != 17 {
		t.Fatalf("another key's aged add was deleted before the open: sum %d", got)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if j, err = journal.OpenFile(path, journal.FileOptions{}); err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for key, want := range map[string]int64{"k": 5 + 13, "k\x01": 0, "other": 0} {
		if got := sum(key); got != want {
			t.Errorf("after reopening, sum of %q since ever %d, want %d", key, got, want)
		}
	}
}

// TestFileOpenIndex: List(open) reads the index of entries not completed,
// not the whole history; a file from before the index (no "open" bucket)
// is listed whole by a read-only open and indexed at its first writable
// one, so its open entries are never lost to the daemon's reconcile.
func TestFileOpenIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), journal.DefaultName)
	j, err := journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"0123456789abcdef01234561", "0123456789abcdef01234562", "0123456789abcdef01234563", "0123456789abcdef01234564"}
	for i, id := range ids {
		l, _, err := j.Claim(ctx, id, "host:1", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Record(ctx, l, journal.Entry{ID: id, Chain: "BTC", Testnet: true, SignedTx: "00", TxID: "t" + id}); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0:
			err = j.MarkCompleted(ctx, l, "t"+id)
		case 1:
			err = j.MarkBroadcast(ctx, l, "t"+id)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Release(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Forget(ctx, ids[3]); err != nil {
		t.Fatal(err)
	}
	wantOpen := func(j journal.Journal, what string) {
		t.Helper()
		open, err := j.List(ctx, true)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var got []string
		for _, e := range open {
			got = append(got, e.ID)
		}
		if want := ids[1:3]; !slices.Equal(got, want) {
			t.Fatalf("%s: open entries %v, want %v", what, got, want)
		}
		all, _ := j.List(ctx, false)
		if len(all) != 3 {
			t.Fatalf("%s: %d entries in all, want 3", what, len(all))
		}
	}
	wantOpen(j, "indexed, marks queued")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j, err = journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantOpen(j, "reopened")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	wantIndexed(t, path, 2) // a completion and a forget left it

	// Make it a file from before the index.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte("open")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Delete([]byte("open-index"))
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	ro, err := journal.OpenFile(path, journal.FileOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	wantOpen(ro, "old file, read-only")
	_ = ro.Close()
	j, err = journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantOpen(j, "old file, indexed at open")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	wantIndexed(t, path, 2)
}

// wantIndexed checks that the open index of a closed journal file holds n
// ids.
func wantIndexed(t *testing.T, path string, n int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		if got := tx.Bucket([]byte("open")).Stats().KeyN; got != n {
			t.Errorf("index holds %d ids, want the %d open ones", got, n)
		}
		return nil
	})
}

// TestMarkAfterForget: a claim remembers that its entry is recorded (its
// marks skip the lookup), and forgets it with the entry: once an operator
// forgot the entry of an expired claim, a late mark under that claim fails
// with ErrNotFound instead of queueing a write for an entry that is gone.
func TestMarkAfterForget(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	j, err := journal.OpenFile(filepath.Join(t.TempDir(), journal.DefaultName), journal.FileOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	id := "0123456789abcdef01234567"
	l, _, err := j.Claim(ctx, id, "d1", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, l, journal.Entry{ID: id, Chain: "BTC", Testnet: true, SignedTx: "00", TxID: "t1"}); err != nil {
		t.Fatal(err)
	}
	if err := j.MarkBroadcast(ctx, l, "t1"); err != nil {
		t.Fatalf("mark of a recorded entry: %v", err)
	}
	now = now.Add(2 * time.Second) // the claim expired, never released
	if err := j.Forget(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := j.MarkCompleted(ctx, l, "t1"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("completion mark after forget: %v, want ErrNotFound", err)
	}
	if err := j.MarkBroadcast(ctx, l, "t1"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("broadcast mark after forget: %v, want ErrNotFound", err)
	}
	if _, err := j.Get(ctx, id); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("get after forget: %v", err)
	}
}

// TestBeforeCommitRunsFirst: the functions BeforeCommit adds run, in
// order, before each commit writes anything: a hook does not see the
// Record its commit makes durable, and the Record returns only after the
// hooks ran (the audit trail's held lines are written by such a hook:
// audit.File.WriteBeforeCommits). The deferred marks and counter adds
// ride those same commits.
func TestBeforeCommitRunsFirst(t *testing.T) {
	ctx := context.Background()
	j, err := journal.OpenFile(filepath.Join(t.TempDir(), "j.db"), journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var mu sync.Mutex
	var order []string
	id := ""
	j.BeforeCommit(func() {
		mu.Lock()
		defer mu.Unlock()
		if _, err := j.Get(ctx, id); err != nil {
			order = append(order, "a:absent")
		} else {
			order = append(order, "a:recorded")
		}
	})
	j.BeforeCommit(func() { mu.Lock(); order = append(order, "b"); mu.Unlock() })
	for _, next := range []string{"id-1", "id-2"} {
		l, _, err := j.Claim(ctx, next, "o", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		order, id = nil, next // not the claim's commit
		mu.Unlock()
		if err := j.Record(ctx, l, journal.Entry{ID: next, Chain: "BTC", SignedTx: "00", TxID: "t" + next}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := slices.Clone(order)
		mu.Unlock()
		if !slices.Equal(got, []string{"a:absent", "b"}) {
			t.Fatalf("hooks of the Record of %s: %q, want [a:absent b]", next, got)
		}
		if _, err := j.Get(ctx, next); err != nil {
			t.Fatalf("after the Record: %v", err)
		}
		if err := j.MarkCompleted(ctx, l, "t"+next); err != nil { // rides the next commit
			t.Fatal(err)
		}
	}
}
