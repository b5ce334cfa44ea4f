package journal_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

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
