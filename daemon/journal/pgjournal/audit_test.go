package pgjournal_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon/audit"
	"github.com/gokms/gokms/daemon/journal/pgjournal"
	"github.com/gokms/gokms/daemon/journal/pgjournal/pgtest"
)

func auditEntry(i int, instance string) *audit.Entry {
	chain := []string{"BTC", "ETH"}[i%2]
	return &audit.Entry{Instance: instance, Event: "signed", PendingID: fmt.Sprintf("%024x", i), Chain: chain, Result: "signed",
		SignatureIDs: []string{fmt.Sprint("w", i%3)}, Destinations: []audit.Dest{{Address: "tb1qdest", Amount: fmt.Sprint(1000 + i)}}, Fee: "150"}
}

func verifyOK(t *testing.T, j *pgjournal.Journal, want int) *audit.Report {
	t.Helper()
	r, err := j.VerifyAudit(bg(t))
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Entries != want || r.LastSeq != uint64(want) {
		t.Fatalf("verify: %d entries (last %d), problems %v; want %d intact", r.Entries, r.LastSeq, r.Problems, want)
	}
	return r
}

// The sink keeps the chain as the file sink does: seqs 1, 2, 3..., each
// prev the hash of the entry before, across a reopen; List filters.
func TestAuditSinkChain(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	j := openDB(t, db, pgjournal.Options{})
	s := j.AuditSink()
	var prev string
	for i := 1; i <= 10; i++ {
		e := auditEntry(i, "d1")
		if err := s.Append(ctx, e, i%2 == 0); err != nil {
			t.Fatal(err)
		}
		if e.Seq != uint64(i) || e.Prev != prev || len(e.Hash) != 64 {
			t.Fatalf("entry %d: seq %d prev %q hash %q", i, e.Seq, e.Prev, e.Hash)
		}
		prev = e.Hash
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, auditEntry(99, "d1"), true); err == nil {
		t.Fatal("append after close succeeded")
	}
	j2 := openDB(t, db, pgjournal.Options{})
	s2 := j2.AuditSink()
	defer s2.Close()
	e := auditEntry(11, "d2")
	if err := s2.Append(ctx, e, true); err != nil {
		t.Fatal(err)
	}
	if e.Seq != 11 || e.Prev != prev {
		t.Fatalf("after reopen: seq %d prev %q, want 11 and the hash of entry 10", e.Seq, e.Prev)
	}
	verifyOK(t, j2, 11)
	es, err := j2.ListAudit(ctx, audit.Filter{Chain: "eth", Wallet: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	// ETH: odd i; w1: i%3 == 1 -> 1, 7
	if len(es) != 2 || es[0].Seq != 1 || es[1].Seq != 7 {
		t.Fatalf("list eth/w1: %+v", es)
	}
	es, _ = j2.ListAudit(ctx, audit.Filter{ID: fmt.Sprintf("%024x", 11)})
	if len(es) != 1 || es[0].Instance != "d2" {
		t.Fatalf("list by id: %+v", es)
	}
	es, _ = j2.ListAudit(ctx, audit.Filter{Since: time.Now().Add(time.Hour)})
	if len(es) != 0 {
		t.Fatalf("list since the future: %d entries", len(es))
	}
}

// Two daemons (two journals, many goroutines each) append at once: one
// chain, no fork, no gap, every entry once.
func TestAuditSinkTwoDaemonsOneChain(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	const perWorker, workers = 40, 8
	sinks := []*pgjournal.AuditSink{openDB(t, db, pgjournal.Options{}).AuditSink(), openDB(t, db, pgjournal.Options{}).AuditSink()}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := sinks[w%2]
			for i := 0; i < perWorker; i++ {
				if err := s.Append(ctx, auditEntry(w*1000+i, fmt.Sprint("d", w%2)), i%3 == 0); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, s := range sinks {
		s.Close()
	}
	j := openDB(t, db, pgjournal.Options{})
	verifyOK(t, j, perWorker*workers)
	es, err := j.ListAudit(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	byInstance := map[string]int{}
	for i, e := range es {
		if e.Seq != uint64(i+1) || (i > 0 && e.Prev != es[i-1].Hash) {
			t.Fatalf("entry %d: seq %d prev %q: the chain forked or has a gap", i+1, e.Seq, e.Prev)
		}
		if seen[e.PendingID] {
			t.Fatalf("%s appended twice", e.PendingID)
		}
		seen[e.PendingID] = true
		byInstance[e.Instance]++
	}
	if len(seen) != perWorker*workers || byInstance["d0"] == 0 || byInstance["d1"] == 0 {
		t.Fatalf("%d entries, by instance %v", len(seen), byInstance)
	}
}

// Tampering with the table is named by `verify`: an edited line, an
// edited lookup column, a deleted row, two rows swapped, rows cut from
// the end, and a chain rewritten from an entry on with the head left.
func TestAuditSinkTamper(t *testing.T) {
	ctx := bg(t)
	cases := []struct {
		name string
		sql  []string
		want string
	}{
		{"edited amount", []string{`UPDATE gokms_audit SET line = replace(line, '"amount":"1004"', '"amount":"9004"') WHERE seq = 4`}, "entry 4): edited: its content does not match its hash"},
		{"edited lookup column", []string{`UPDATE gokms_audit SET chain = 'LTC' WHERE seq = 3`}, "entry 3): its row's time, chain or pending id"},
		{"deleted row", []string{`DELETE FROM gokms_audit WHERE seq = 5`}, "entry 5 is missing: removed"},
		{"swapped rows", []string{
			`UPDATE gokms_audit SET seq = -seq WHERE seq IN (2, 6)`,
			`UPDATE gokms_audit SET seq = CASE WHEN seq = -2 THEN 6 ELSE 2 END WHERE seq IN (-2, -6)`}, "stored as entry 2: entries reordered or moved"},
		{"cut from the end", []string{`DELETE FROM gokms_audit WHERE seq > 6`}, "entries 7 to 8 were removed from the end"},
		{"head moved back with the cut", []string{`DELETE FROM gokms_audit WHERE seq > 6`, `UPDATE gokms_audit_head SET seq = 5, hash = (SELECT substring(line from '"hash":"([0-9a-f]{64})"') FROM gokms_audit WHERE seq = 5)`}, "the head names entry 5 but the log goes on to entry 6"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := srv.NewDatabaseT(t)
			j := openDB(t, db, pgjournal.Options{})
			s := j.AuditSink()
			for i := 1; i <= 8; i++ {
				if err := s.Append(ctx, auditEntry(i, "d1"), true); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			verifyOK(t, j, 8)
			conn, err := srv.SuperConn(ctx, db.Name)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			// The check constraint seq > 0 would refuse the swap's step
			// through negative seqs: an attacker with the table drops it.
			if _, err := conn.Exec(ctx, `ALTER TABLE gokms_audit DROP CONSTRAINT gokms_audit_seq_check`); err != nil {
				t.Fatal(err)
			}
			for _, q := range tc.sql {
				if tag, err := conn.Exec(ctx, q); err != nil || tag.RowsAffected() == 0 {
					t.Fatalf("%s: %v (%d rows)", q, err, tag.RowsAffected())
				}
			}
			r, err := j.VerifyAudit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, p := range r.Problems {
				all = append(all, p.String())
			}
			if r.OK() || !strings.Contains(strings.Join(all, "\n"), tc.want) {
				t.Fatalf("verify after %s: %q, want a problem containing %q", tc.name, all, tc.want)
			}
		})
	}
}

var _ = pgtest.Need
