package policy_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/audit"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// notingJournal is the file journal, noting the Records and completion
// marks the daemon asks for (before making them). A mark is committed at
// once (a durable counter add, which the queued marks ride), so that a
// commit comes between the mark and whatever the daemon does after it.
type notingJournal struct {
	*journal.File
	mu       sync.Mutex
	recorded map[string]string // pending id -> txid: Record asked
	marked   map[string]bool   // txid: MarkCompleted asked
}

func (j *notingJournal) Record(ctx context.Context, l journal.Lease, e journal.Entry) error {
	j.mu.Lock()
	j.recorded[e.ID] = e.TxID
	j.mu.Unlock()
	return j.File.Record(ctx, l, e)
}

func (j *notingJournal) MarkCompleted(ctx context.Context, l journal.Lease, txID string) error {
	j.mu.Lock()
	j.marked[txID] = true
	j.mu.Unlock()
	if err := j.File.MarkCompleted(ctx, l, txID); err != nil {
		return err
	}
	return j.File.Add(ctx, "test/commit", txID, time.Now(), big.NewInt(1))
}

// TestHeldEntriesBeforeTheirCommit: with the audit log given to the file
// journal (as gokms daemon wires them), the signed and completed entries
// are held for one write a commit, and every one is in the file before the
// journal commit that makes its Record or its completion mark durable: at
// the start of every commit, each Record and mark asked for before it has
// its entry in the file. (A crash once the journal holds either, with the
// entry lost, is what the order prevents: the restarted daemon only
// resends, or no longer sees the id at all.)
func TestHeldEntriesBeforeTheirCommit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, err := journal.OpenFile(filepath.Join(dir, "journal.db"), journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	j := &notingJournal{File: f, recorded: map[string]string{}, marked: map[string]bool{}}
	path := filepath.Join(dir, "audit.log")
	sink, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	// Around the trail's hook: what was asked before it ran must be in the
	// file after it.
	var asked struct {
		recorded map[string]string
		marked   map[string]bool
	}
	var held, checked, missing atomic.Int32
	var mu sync.Mutex
	var problems []string
	f.BeforeCommit(func() {
		j.mu.Lock()
		asked.recorded, asked.marked = maps.Clone(j.recorded), maps.Clone(j.marked)
		j.mu.Unlock()
		signed, completed := entriesIn(path)
		for id, txid := range asked.recorded {
			if signed[id] != txid {
				held.Add(1)
			}
		}
		for txid := range asked.marked {
			if !completed[txid] {
				held.Add(1)
			}
		}
	})
	sink.WriteBeforeCommits(f)
	f.BeforeCommit(func() {
		checked.Add(1)
		signed, completed := entriesIn(path)
		for id, txid := range asked.recorded {
			if signed[id] != txid {
				missing.Add(1)
				mu.Lock()
				problems = append(problems, "Record of "+id+" without its signed entry")
				mu.Unlock()
			}
		}
		for txid := range asked.marked {
			if !completed[txid] {
				missing.Add(1)
				mu.Lock()
				problems = append(problems, "completion mark of "+txid+" without its completed entry")
				mu.Unlock()
			}
		}
	})

	srv := tatumtest.New(tatumtest.Options{})
	defer srv.Close()
	from := key("held from")
	_, fromScript := p2wpkh(from)
	_, toScript := p2wpkh(key("held to"))
	store := btcStore(t, "held-w", from)
	const n = 24
	for i := range n {
		h := sha256.Sum256([]byte(fmt.Sprint("held prev ", i)))
		s, err := utxotest.BitcoreJSON([]utxotest.Input{{TxID: hex.EncodeToString(h[:]), Script: fromScript, Satoshis: 100000}},
			[]utxotest.Output{{Script: toScript, Satoshis: 40000}, {Script: fromScript, Satoshis: 59000}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: s, Hashes: []string{"held-w"}})
	}
	log := slog.New(slog.DiscardHandler)
	tr := audit.NewTrail(sink, "held-test", log)
	api := tatum.New(tatum.Options{BaseURL: srv.URL, APIKey: srv.APIKey, Logger: log})
	d, err := daemon.New(daemon.Config{Backend: store, API: api, Signers: signers, Chains: []string{"BTC"}, Testnet: true, Logger: log,
		Journal: j, Approvers: []daemon.Approver{tr.Approver()}, OnDecision: tr.OnDecision, OnEvent: tr.OnEvent, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	if st := d.RunCycle(ctx); st.Broadcast != n || st.Failed != 0 {
		t.Fatalf("cycle %+v, reports %v", st, srv.Errors())
	}
	if err := f.Close(); err != nil { // the last marks' commit
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if missing.Load() != 0 {
		t.Fatalf("%d journal writes committed before their audit entry was in the file, e.g. %q", missing.Load(), problems[:min(3, len(problems))])
	}
	if held.Load() == 0 || checked.Load() < 2 {
		t.Fatalf("%d entries held for a commit, %d commits checked: nothing was tested", held.Load(), checked.Load())
	}
	t.Logf("%d commits; %d times an entry was held until its commit", checked.Load(), held.Load())
}

// entriesIn returns the signed entries (pending id -> txid) and the
// completed ones (txid) among the whole lines of the log at path.
func entriesIn(path string) (map[string]string, map[string]bool) {
	signed, completed := map[string]string{}, map[string]bool{}
	for _, e := range wholeLines(path) {
		switch e.Event {
		case "signed":
			signed[e.PendingID] = e.TxID
		case "completed":
			completed[e.TxID] = true
		}
	}
	return signed, completed
}
