package policy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire"

	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/audit"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// slowSink is the audit file behind a disk that is slow to sync (delay)
// and can fail every write of an entry the daemon waits for and every
// sync (failing). It remembers the txids of the "signed" and "resent"
// entries once they are durable: appended with sync, or synced (Sync) at
// or past their seq.
type slowSink struct {
	*audit.File
	delay   time.Duration
	failing atomic.Bool

	mu       sync.Mutex
	unsynced map[uint64]string // seq -> txid of a signed/resent entry not synced yet
	durable  map[string]bool   // txid -> a signed/resent entry naming it is synced
}

var _ audit.Syncer = (*slowSink)(nil)

func (s *slowSink) Append(ctx context.Context, e *audit.Entry, sync bool) error {
	return s.add(ctx, e, sync, false)
}

// Hold is the file's (held for a journal's commit, or appended when the
// file has none), with the same bookkeeping as Append.
func (s *slowSink) Hold(ctx context.Context, e *audit.Entry) error {
	return s.add(ctx, e, false, true)
}

func (s *slowSink) add(ctx context.Context, e *audit.Entry, sync, hold bool) error {
	named := (e.Event == "signed" || e.Event == "resent") && e.TxID != ""
	if (sync || named) && s.failing.Load() {
		return errors.New("no space left on device (test)")
	}
	if sync {
		time.Sleep(s.delay)
	}
	var err error
	if hold {
		err = s.File.Hold(ctx, e)
	} else {
		err = s.File.Append(ctx, e, sync)
	}
	if err != nil {
		return err
	}
	if named {
		s.mu.Lock()
		if sync {
			s.durable[e.TxID] = true
		} else {
			s.unsynced[e.Seq] = e.TxID
		}
		s.mu.Unlock()
	}
	return nil
}

func (s *slowSink) Sync(ctx context.Context, seq uint64) error {
	if s.failing.Load() {
		return errors.New("fsync: input/output error (test)")
	}
	time.Sleep(s.delay)
	if err := s.File.Sync(ctx, seq); err != nil {
		return err
	}
	s.mu.Lock()
	for q, txid := range s.unsynced {
		if q <= seq {
			s.durable[txid] = true
			delete(s.unsynced, q)
		}
	}
	s.mu.Unlock()
	return nil
}

func (s *slowSink) isDurable(txid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.durable[txid]
}

// auditWorld is a daemon with the audit trail over a slowSink, a memory
// journal and a BTC wallet; the stand-in's broadcast checks that the
// transaction's audit entry was durable before its bytes arrived.
type auditWorld struct {
	srv     *tatumtest.Server
	sink    *slowSink
	path    string
	d       *daemon.Daemon
	j       *journal.Memory
	signs   atomic.Int32
	early   atomic.Int32 // broadcasts that arrived before their audit entry was durable
	pay     func() string
	mu      sync.Mutex
	arrived []string // txids broadcast
}

func newAuditWorld(t *testing.T, delay time.Duration) *auditWorld {
	return newAuditWorldWith(t, delay, nil)
}

// failingRecord is a journal whose Record fails, as a full disk would.
type failingRecord struct{ *journal.Memory }

func (failingRecord) Record(context.Context, journal.Lease, journal.Entry) error {
	return errors.New("write journal: no space left on device (test)")
}

// newAuditWorldWith is newAuditWorld with the daemon's journal wrapped by
// wrap (nil: the memory journal itself).
func newAuditWorldWith(t *testing.T, delay time.Duration, wrap func(*journal.Memory) journal.Journal) *auditWorld {
	return newAuditWorldSink(t, delay, wrap, false)
}

// newAuditWorldSink is newAuditWorldWith; with plain, the trail sees the
// sink as a plain audit.Sink, without Sync (as the PostgreSQL sink is).
func newAuditWorldSink(t *testing.T, delay time.Duration, wrap func(*journal.Memory) journal.Journal, plain bool) *auditWorld {
	t.Helper()
	w := &auditWorld{srv: tatumtest.New(tatumtest.Options{}), j: journal.NewMemory(), path: filepath.Join(t.TempDir(), "audit.log")}
	var dj journal.Journal = w.j
	if wrap != nil {
		dj = wrap(w.j)
	}
	t.Cleanup(w.srv.Close)
	from := key("resend from")
	_, fromScript := p2wpkh(from)
	_, toScript := p2wpkh(key("resend to"))
	store := btcStore(t, "resend-w", from)
	n := 0
	w.pay = func() string {
		n++
		h := sha256.Sum256([]byte(fmt.Sprint("resend prev ", n)))
		s, err := utxotest.BitcoreJSON([]utxotest.Input{{TxID: hex.EncodeToString(h[:]), Script: fromScript, Satoshis: 100000}},
			[]utxotest.Output{{Script: toScript, Satoshis: 40000}, {Script: fromScript, Satoshis: 59000}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		return w.srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: s, Hashes: []string{"resend-w"}})
	}
	f, err := audit.OpenFile(w.path)
	if err != nil {
		t.Fatal(err)
	}
	w.sink = &slowSink{File: f, delay: delay, unsynced: map[uint64]string{}, durable: map[string]bool{}}
	t.Cleanup(func() { _ = f.Close() })
	w.srv.SetBroadcaster("BTC", func(_ context.Context, txData string) (string, error) {
		raw, err := hex.DecodeString(txData)
		if err != nil {
			return "", err
		}
		var tx wire.MsgTx
		if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
			return "", err
		}
		txid := tx.TxHash().String()
		if !w.sink.isDurable(txid) {
			w.early.Add(1)
		}
		w.mu.Lock()
		w.arrived = append(w.arrived, txid)
		w.mu.Unlock()
		return txid, nil
	})
	log := slog.New(slog.DiscardHandler)
	var sink audit.Sink = w.sink
	if plain {
		sink = struct{ audit.Sink }{w.sink}
	}
	tr := audit.NewTrail(sink, "resend-test", log)
	api := tatum.New(tatum.Options{BaseURL: w.srv.URL, APIKey: w.srv.APIKey, Logger: log, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Timeout: 10 * time.Second})
	w.d, err = daemon.New(daemon.Config{Backend: store, API: api, Signers: signers, Chains: []string{"BTC"}, Testnet: true, Logger: log, Concurrency: 4,
		Journal: dj, Approvers: []daemon.Approver{tr.Approver()}, OnDecision: tr.OnDecision, OnEvent: tr.OnEvent,
		Sign: func(ctx context.Context, req signing.Request, ks signing.KeySource) (signing.Signed, error) {
			w.signs.Add(1)
			return signers.SignDetailed(ctx, req, ks)
		}})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestNoBroadcastBeforeItsAuditEntryIsDurable: the "signed" entry is
// written before the journal commits and synced after, and no transaction
// reaches the broadcast before its entry is synced, however slow the
// audit disk.
func TestNoBroadcastBeforeItsAuditEntryIsDurable(t *testing.T) {
	w := newAuditWorld(t, 20*time.Millisecond)
	var ids []string
	for range 12 {
		ids = append(ids, w.pay())
	}
	if st := w.d.RunCycle(context.Background()); st.Broadcast != len(ids) || st.Failed != 0 {
		t.Fatalf("cycle %+v, reports %v", st, w.srv.Errors())
	}
	if n := w.early.Load(); n != 0 {
		t.Fatalf("%d of %d transactions were broadcast before their audit entry was durable", n, len(ids))
	}
	if err := w.sink.Flush(); err != nil { // the unsynced "completed" entries too
		t.Fatal(err)
	}
	if r, err := audit.Verify(w.path); err != nil || !r.OK() {
		t.Fatalf("verify: %+v %v", r, err)
	}
	for _, id := range ids {
		if got := events(t, w.path, id); got != "signed broadcast completed" && got != "signed completed" {
			t.Errorf("%s: entries %q", id, got)
		}
	}
}

// TestResendWaitsForTheAuditTrail: a transaction signed and journaled while
// the audit log cannot sync is not broadcast; later cycles neither sign it
// again nor resend it while the log still fails; once the log works, the
// journaled bytes go out after a durable "resent" entry that says what
// they pay.
func TestResendWaitsForTheAuditTrail(t *testing.T) {
	w := newAuditWorld(t, 0)
	w.sink.failing.Store(true)
	var ids []string
	for range 3 {
		ids = append(ids, w.pay())
	}
	ctx := context.Background()
	for cycle := 1; cycle <= 2; cycle++ {
		st := w.d.RunCycle(ctx)
		if st.Broadcast != 0 || len(w.arrived) != 0 {
			t.Fatalf("cycle %d with a failing audit log: %+v, %d broadcast", cycle, st, len(w.arrived))
		}
	}
	for _, id := range ids {
		if e, err := w.j.Get(ctx, id); err != nil || e.State != journal.StateSigned {
			t.Fatalf("%s: journal %+v %v, want it signed and kept", id, e, err)
		}
		if r := reportFor(w.srv, id); !strings.Contains(r, "could not be recorded") {
			t.Errorf("%s: reported %q", id, r)
		}
	}
	if n := w.signs.Load(); n != int32(len(ids)) {
		t.Fatalf("%d signatures for %d transactions", n, len(ids))
	}

	w.sink.failing.Store(false)
	if st := w.d.RunCycle(ctx); st.Broadcast != len(ids) {
		t.Fatalf("cycle with the audit log back: %+v, reports %v", st, w.srv.Errors())
	}
	if n := w.signs.Load(); n != int32(len(ids)) {
		t.Fatalf("%d signatures for %d transactions: a journaled one was signed again", n, len(ids))
	}
	if n := w.early.Load(); n != 0 {
		t.Fatalf("%d transactions broadcast before a durable audit entry", n)
	}
	if err := w.sink.Flush(); err != nil {
		t.Fatal(err)
	}
	if r, err := audit.Verify(w.path); err != nil || !r.OK() {
		t.Fatalf("verify: %+v %v", r, err)
	}
	dest, _ := p2wpkh(key("resend to"))
	for _, id := range ids {
		if w.srv.Broadcasts(id) != 1 {
			t.Errorf("%s broadcast %d times", id, w.srv.Broadcasts(id))
		}
		got := events(t, w.path, id)
		if !strings.HasPrefix(got, "resent ") {
			t.Errorf("%s: entries %q, want the resend first", id, got)
		}
		for _, e := range entriesFor(t, w.path, id) {
			if e.Event == "resent" && (e.TxID == "" || len(e.Destinations) != 1 || e.Destinations[0].Address != dest || e.Destinations[0].Amount != "40000") {
				t.Errorf("%s: resent entry %+v, want the txid and what it pays", id, e)
			}
		}
	}
}

// events lists the events of id's entries, in order (failed entries left
// out: the log could not take them).
func events(t *testing.T, path, id string) string {
	t.Helper()
	var out []string
	for _, e := range entriesFor(t, path, id) {
		out = append(out, e.Event)
	}
	return strings.Join(out, " ")
}

// TestFailedJournalWriteIsInTheTrail: the signed entry is written before
// the journal commits; when the journal write fails, the transaction is not
// broadcast, and the trail says so after its signed entry.
func TestFailedJournalWriteIsInTheTrail(t *testing.T) {
	w := newAuditWorldWith(t, 0, func(m *journal.Memory) journal.Journal { return failingRecord{m} })
	id := w.pay()
	if st := w.d.RunCycle(context.Background()); st.Failed != 1 || st.Broadcast != 0 || len(w.arrived) != 0 {
		t.Fatalf("cycle %+v, %d broadcast", st, len(w.arrived))
	}
	if got := events(t, w.path, id); got != "signed failed" {
		t.Fatalf("entries %q, want the signed entry and then the failure", got)
	}
	for _, e := range entriesFor(t, w.path, id) {
		if e.Event == "failed" && !strings.Contains(e.Detail, "could not journal") {
			t.Fatalf("failed entry %+v", e)
		}
	}
	if r, err := audit.Verify(w.path); err != nil || !r.OK() {
		t.Fatalf("verify: %+v %v", r, err)
	}
}

// recordAfterEntry is a journal whose Record counts the transactions whose
// signed entry is not in the audit log yet (in the file, durable or not).
type recordAfterEntry struct {
	*journal.Memory
	path    string
	missing atomic.Int32
}

func (j *recordAfterEntry) Record(ctx context.Context, l journal.Lease, e journal.Entry) error {
	if !signedEntryIn(j.path, e.ID, e.TxID) {
		j.missing.Add(1)
	}
	return j.Memory.Record(ctx, l, e)
}

// signedEntryIn reports whether the log at path has the signed entry of id
// and txID among its whole lines.
func signedEntryIn(path, id, txID string) bool {
	for _, a := range wholeLines(path) {
		if a.PendingID == id && a.Event == "signed" && a.TxID == txID {
			return true
		}
	}
	return false
}

// wholeLines returns the entries of the log at path, its whole lines only.
// Not audit.List: another worker's line being written at the same moment
// is a torn last line, which List refuses (an error in
// TestSignedEntryBeforeTheRecord, in 1 of 8 Records once under the full
// suite's load).
func wholeLines(path string) []audit.Entry {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []audit.Entry
	lines := bytes.Split(b, []byte("\n"))
	for _, line := range lines[:len(lines)-1] { // the last is "" or torn
		var a audit.Entry
		if json.Unmarshal(line, &a) == nil {
			out = append(out, a)
		}
	}
	return out
}

// TestSignedEntryBeforeTheRecord: the signed entry is in the audit log
// before the journal's Record of the signed bytes starts, so that a crash
// of the process once the journal holds them (the restarted daemon only
// resends) cannot lose the entry of the signing: written with a sink that
// syncs later (the file), appended with sync with one that cannot (as the
// PostgreSQL sink, whose signed entry relies on the Record's WAL flush
// that follows it).
func TestSignedEntryBeforeTheRecord(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprint("plain=", plain), func(t *testing.T) {
			var rj *recordAfterEntry
			w := newAuditWorldSink(t, 0, func(m *journal.Memory) journal.Journal {
				rj = &recordAfterEntry{Memory: m}
				return rj
			}, plain)
			rj.path = w.path
			var ids []string
			for range 8 {
				ids = append(ids, w.pay())
			}
			if st := w.d.RunCycle(context.Background()); st.Broadcast != len(ids) || st.Failed != 0 {
				t.Fatalf("cycle %+v, reports %v", st, w.srv.Errors())
			}
			if n := rj.missing.Load(); n != 0 {
				t.Fatalf("%d of %d Records started before the transaction's signed entry was in the audit log", n, len(ids))
			}
			if n := w.early.Load(); n != 0 {
				t.Fatalf("%d transactions broadcast before a durable audit entry", n)
			}
		})
	}
}
