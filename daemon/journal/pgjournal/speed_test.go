package pgjournal_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/journal/pgjournal"
)

// The statements committed asynchronously (Claim, Renew, Release,
// MarkCompleted) set synchronous_commit for their own transaction only:
// the session's next transaction (a Record on the same connection) commits
// synchronously again.
func TestAsyncCommitIsTransactionLocal(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	j := openDB(t, db, pgjournal.Options{MaxConns: 1})
	conn, err := j.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	b := &pgx.Batch{}
	b.Queue(pgjournal.AsyncCommit)
	b.Queue(`SELECT current_setting('synchronous_commit')`)
	br := conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		t.Fatal(err)
	}
	var in string
	if err := br.QueryRow().Scan(&in); err != nil {
		t.Fatal(err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	var after string
	if err := conn.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if in != "off" || after != "on" {
		t.Fatalf("synchronous_commit %q inside the batch, %q after it; want off, then on", in, after)
	}
}

// A claim of an id whose entry is completed writes nothing and answers
// the entry under a read-only lease: every write with it is fenced, its
// release is a no-op, and a claim by another owner is not blocked by it.
func TestClaimOfCompletedIsReadOnly(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	a := openDB(t, db, pgjournal.Options{})
	b := openDB(t, db, pgjournal.Options{})
	id := "61fe7c68cf2fbc595cbb8901"
	l, _, err := a.Claim(ctx, id, "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Record(ctx, l, journal.Entry{ID: id, Chain: "BTC", Testnet: true, SignedTx: "0200aa"}); err != nil {
		t.Fatal(err)
	}
	if err := a.MarkCompleted(ctx, l, "txc"); err != nil {
		t.Fatal(err)
	}
	// a's lease is still live (its release is queued, or not yet sent):
	// b's claim of the completed id is answered all the same.
	var tokBefore int64
	if err := a.Pool().QueryRow(ctx, `SELECT token FROM gokms_claims WHERE id = $1`, id).Scan(&tokBefore); err != nil {
		t.Fatal(err)
	}
	lb, e, err := b.Claim(ctx, id, "b", time.Minute)
	if err != nil {
		t.Fatalf("claim of a completed id: %v", err)
	}
	if e == nil || e.State != journal.StateCompleted || e.TxID != "txc" || lb.Token != 0 {
		t.Fatalf("claim of a completed id: lease %+v entry %+v; want the completed entry under token 0", lb, e)
	}
	var tokAfter int64
	if err := a.Pool().QueryRow(ctx, `SELECT token FROM gokms_claims WHERE id = $1`, id).Scan(&tokAfter); err != nil {
		t.Fatal(err)
	}
	if tokAfter != tokBefore {
		t.Fatalf("the claim of a completed id wrote the claim row (token %d -> %d)", tokBefore, tokAfter)
	}
	for what, err := range map[string]error{
		"mark broadcast": b.MarkBroadcast(ctx, lb, "other"),
		"mark completed": b.MarkCompleted(ctx, lb, "other"),
		"mark attempt":   b.MarkAttempt(ctx, lb, "x"),
		"record":         b.Record(ctx, lb, journal.Entry{ID: id, Chain: "BTC", Testnet: true, SignedTx: "0200bb"}),
	} {
		if !errors.Is(err, journal.ErrFenced) {
			t.Errorf("%s with the read-only lease: %v, want ErrFenced", what, err)
		}
	}
	if _, err := b.Renew(ctx, lb, time.Minute); !errors.Is(err, journal.ErrFenced) {
		t.Errorf("renew of the read-only lease: %v, want ErrFenced", err)
	}
	if err := b.Release(ctx, lb); err != nil {
		t.Errorf("release of the read-only lease: %v", err)
	}
	got, _ := a.Get(ctx, id)
	if got.TxID != "txc" || got.SignedTx != "0200aa" {
		t.Fatalf("entry changed: %+v", got)
	}
	// a's queued release lands (Close flushes it).
	if err := a.Release(ctx, l); err != nil {
		t.Fatal(err)
	}
	a.Close()
	var released bool
	if err := b.Pool().QueryRow(ctx, `SELECT released FROM gokms_claims WHERE id = $1`, id).Scan(&released); err != nil || !released {
		t.Fatalf("completed claim not released after Close: %v %v", released, err)
	}
}

// Renew right after Record answers from the lease Record extended, and a
// lease superseded meanwhile is still fenced.
func TestRenewAfterRecord(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	a := openDB(t, db, pgjournal.Options{})
	b := openDB(t, db, pgjournal.Options{})
	id := "61fe7c68cf2fbc595cbb8902"
	l, _, err := a.Claim(ctx, id, "a", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Renew(ctx, l, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// Past half the lease the renewal goes to the database; past the
	// lease, after b took over, it is fenced.
	time.Sleep(400 * time.Millisecond)
	if _, _, err := b.Claim(ctx, id, "b", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Renew(ctx, l, time.Minute); !errors.Is(err, journal.ErrFenced) {
		t.Fatalf("renew after a takeover: %v, want ErrFenced", err)
	}
	if err := a.Record(ctx, l, journal.Entry{ID: id, Chain: "BTC", Testnet: true, SignedTx: "0200aa"}); !errors.Is(err, journal.ErrFenced) {
		t.Fatalf("record after a takeover: %v, want ErrFenced", err)
	}
}

// A release after Close (a straggler at shutdown) fails cleanly, never
// panics on the closed release queue.
func TestReleaseAfterClose(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	j := openDB(t, db, pgjournal.Options{RetryFor: time.Second})
	id := "61fe7c68cf2fbc595cbb8903"
	l, _, err := j.Claim(ctx, id, "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, l, journal.Entry{ID: id, Chain: "BTC", Testnet: true, SignedTx: "0200aa"}); err != nil {
		t.Fatal(err)
	}
	if err := j.MarkCompleted(ctx, l, "txc"); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if err := j.Release(ctx, l); err == nil {
		t.Fatal("release on a closed journal succeeded")
	}
}
