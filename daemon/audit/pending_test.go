package audit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fileLines reads the log at path as another process would: the lines in the
// file, not the ones waiting in memory.
func fileLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

func headSeq(t *testing.T, path string) string {
	t.Helper()
	b, _ := os.ReadFile(path + ".head")
	return string(bytes.TrimSpace(b))
}

// TestSyncedAppendWritesWhatCameBefore: an entry appended with sync is in
// the file when Append returns, and so is every entry appended before it
// without sync, in order; the head names it.
func TestSyncedAppendWritesWhatCameBefore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	for i := range 3 {
		if err := f.Append(ctx, &Entry{Event: "completed", PendingID: fmt.Sprint("u", i), Result: "completed"}, false); err != nil {
			t.Fatal(err)
		}
	}
	e := &Entry{Event: "signed", PendingID: "s", Result: "signed"}
	if err := f.Append(ctx, e, true); err != nil {
		t.Fatal(err)
	}
	if n := fileLines(t, path); n != 4 {
		t.Fatalf("%d lines in the file after the synced append, want 4", n)
	}
	if want := fmt.Sprintf(`{"seq":4,"hash":"%s"}`, e.Hash); headSeq(t, path) != want {
		t.Fatalf("head %q, want %q", headSeq(t, path), want)
	}
	if r, err := Verify(path); err != nil || !r.OK() || r.Entries != 4 {
		t.Fatalf("verify %+v %v", r, err)
	}
}

// TestUnsyncedAppendWritten: an entry appended without sync ("broadcast",
// "completed") is in the file when Append returns: a SIGKILL right after
// must not lose it (the restarted daemon no longer sees the id pending and
// would never write it). The head names it within writeDelay (a head
// rewritten with every entry was two syscalls a transaction), and a
// synced append's head is written by the time it returns.
func TestUnsyncedAppendWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := &Entry{Event: "completed", PendingID: "late", Result: "completed"}
	if err := f.Append(context.Background(), e, false); err != nil {
		t.Fatal(err)
	}
	if n := fileLines(t, path); n != 1 {
		t.Fatalf("%d lines in the file when Append returned; want the unsynced entry written", n)
	}
	want := fmt.Sprintf(`{"seq":1,"hash":"%s"}`, e.Hash)
	for deadline := time.Now().Add(5 * time.Second); headSeq(t, path) != want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("head %q does not name the written entry after %v", headSeq(t, path), 5*time.Second)
		}
	}
	s := &Entry{Event: "signed", PendingID: "next", Result: "signed"}
	if err := f.Append(context.Background(), s, true); err != nil {
		t.Fatal(err)
	}
	if h := headSeq(t, path); h != fmt.Sprintf(`{"seq":2,"hash":"%s"}`, s.Hash) {
		t.Fatalf("head %q when the synced append returned; want entry 2", h)
	}
}

// TestFailedWriteKeepsTheEntries: while the file cannot be written, a
// synced append fails (nothing may be broadcast on it) and the entries
// wait in memory, in order; once it can, the next append writes them all:
// no gap in the chain, nothing twice.
func TestFailedWriteKeepsTheEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := f.Append(ctx, &Entry{Event: "signed", PendingID: "a", Result: "signed"}, true); err != nil {
		t.Fatal(err)
	}
	good := f.f
	ro, err := os.Open(path) // a write to it fails, as to a broken disk
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	f.mu.Lock()
	f.f = ro
	f.mu.Unlock()
	if err := f.Append(ctx, &Entry{Event: "completed", PendingID: "a", Result: "completed"}, false); err != nil {
		t.Fatal(err)
	}
	if err := f.Append(ctx, &Entry{Event: "signed", PendingID: "b", Result: "signed"}, true); err == nil {
		t.Fatal("a synced append succeeded though the file could not be written")
	}
	f.mu.Lock()
	f.f = good
	f.mu.Unlock()
	if err := f.Append(ctx, &Entry{Event: "signed", PendingID: "c", Result: "signed"}, true); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Verify(path)
	if err != nil || !r.OK() || r.Entries != 4 || r.LastSeq != 4 {
		t.Fatalf("verify %+v %v, want 4 entries in an intact chain", r, err)
	}
}
