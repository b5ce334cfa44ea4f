package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon/journal"
)

func runJournalCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	var out, errb bytes.Buffer
	code := runMain(append([]string{"gokms"}, args...), devnull, &out, &errb)
	return code, out.String(), errb.String()
}

// TestJournalCommand: list, show and forget an entry of the journal beside
// the store; bad input gets a clear error and changes nothing; a journal in
// use (a daemon running) is refused, by the CLI and by a second daemon.
func TestJournalCommand(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	store := filepath.Join(home, "kms", "wallet.dat")
	jpath := filepath.Join(home, "kms", journal.DefaultName)
	if code, _, stderr := runJournalCLI(t, "journal", "list", "--path", store); code == 0 || !strings.Contains(stderr, "has a daemon ever run") {
		t.Fatalf("list without a journal: %d %s", code, stderr)
	}
	j, err := journal.OpenFile(jpath, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const id, done = "61fe7c68cf2fbc595cbb89dd", "61fe7c68cf2fbc595cbb89de"
	for _, i := range []string{id, done} {
		l, _, err := j.Claim(ctx, i, "test", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Record(ctx, l, journal.Entry{ID: i, Chain: "BTC", Testnet: true, SignatureIDs: []string{"w"}, SignedTx: "0200", TxID: "ab" + i}); err != nil {
			t.Fatal(err)
		}
		if i == done {
			if err := j.MarkCompleted(ctx, l, "ab"+i); err != nil {
				t.Fatal(err)
			}
		}
		_ = j.Release(ctx, l)
	}
	// Held by a "daemon": the CLI and a second daemon refuse, clearly.
	if code, _, stderr := runJournalCLI(t, "journal", "list", "--path", store); code == 0 || !strings.Contains(stderr, "in use by another gokms daemon") {
		t.Fatalf("list of a locked journal: %d %s", code, stderr)
	}
	t.Setenv("TATUM_API_KEY", "test-key")
	t.Setenv("TATUM_API_URL", "http://127.0.0.1:9") // never reached: the journal is checked first
	t.Setenv(envPassword, "")
	code, _, stderr := runJournalCLI(t, "daemon", "--testnet", "--runOnce", "--path", store)
	if code == 0 || !strings.Contains(stderr, "in use by another gokms daemon") || !strings.Contains(stderr, "stop the other one") {
		t.Fatalf("second daemon on one journal: %d %s", code, stderr)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runJournalCLI(t, "journal", "list", "--path", store)
	var es []journal.Entry
	if code != 0 || json.Unmarshal([]byte(stdout), &es) != nil || len(es) != 1 || es[0].ID != id {
		t.Fatalf("list: %d %s %s", code, stdout, stderr)
	}
	code, stdout, _ = runJournalCLI(t, "journal", "list", "--all", "--journal", jpath)
	if code != 0 || json.Unmarshal([]byte(stdout), &es) != nil || len(es) != 2 {
		t.Fatalf("list --all: %d %s", code, stdout)
	}
	code, stdout, _ = runJournalCLI(t, "journal", "show", done, "--path", store)
	var e journal.Entry
	if code != 0 || json.Unmarshal([]byte(stdout), &e) != nil || e.State != journal.StateCompleted || e.TxID != "ab"+done {
		t.Fatalf("show: %d %s", code, stdout)
	}
	for _, bad := range [][]string{
		{"journal"}, {"journal", "drop", id}, {"journal", "show"}, {"journal", "show", "../../etc"},
		{"journal", "show", "61fe7c68cf2fbc595cbb89df"}, {"journal", "forget", id},
	} {
		code, _, stderr := runJournalCLI(t, append(bad, "--path", store)...)
		if code == 0 || !strings.HasPrefix(stderr, "error: ") {
			t.Errorf("%v: exit %d, stderr %q", bad, code, stderr)
		}
	}
	if _, _, stderr := runJournalCLI(t, "journal", "forget", id, "--path", store); !strings.Contains(stderr, "--yes") || !strings.Contains(stderr, "paid twice") {
		t.Fatalf("forget without --yes: %s", stderr)
	}
	code, _, stderr = runJournalCLI(t, "journal", "forget", id, "--yes", "--path", store)
	if code != 0 {
		t.Fatalf("forget: %d %s", code, stderr)
	}
	code, stdout, _ = runJournalCLI(t, "journal", "list", "--all", "--path", store)
	if code != 0 || json.Unmarshal([]byte(stdout), &es) != nil || len(es) != 1 || es[0].ID != done {
		t.Fatalf("after forget: %s", stdout)
	}
	if fi, err := os.Stat(jpath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode %v %v", fi.Mode(), err)
	}
}
