package migrate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/backend/migrate"
)

const secretPrefix = "s3cr3t-"

func rec(i int) backend.Record {
	chains := []string{"BTC", "ETH", "XRP", "TRON"}
	r := backend.Record{
		ID:      fmt.Sprintf("%08d-0000-4000-8000-000000000000", i),
		Kind:    backend.PrivateKey,
		Chain:   chains[i%len(chains)],
		Testnet: i%3 == 0,
		Secret:  []byte(fmt.Sprintf("%s%d", secretPrefix, i)),
	}
	if i%5 == 0 {
		r.Kind, r.Xpub = backend.Mnemonic, fmt.Sprintf("xpub-%d", i)
	} else if i%2 == 0 {
		r.Address = fmt.Sprintf("addr-%d", i)
	}
	return r
}

func fill(t *testing.T, b backend.SecretBackend, from, to int) {
	t.Helper()
	var rs []backend.Record
	for i := from; i < to; i++ {
		rs = append(rs, rec(i))
	}
	if err := backend.PutAll(context.Background(), b, rs); err != nil {
		t.Fatal(err)
	}
}

// same checks that dst holds exactly src's records.
func same(t *testing.T, src, dst backend.SecretBackend) {
	t.Helper()
	ctx := context.Background()
	sl, err := src.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := dst.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sl) != len(dl) {
		t.Fatalf("destination has %d records, source %d", len(dl), len(sl))
	}
	for _, m := range sl {
		a, err := src.Get(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := dst.Get(ctx, m.ID)
		if err != nil {
			t.Fatalf("destination lacks %s: %v", m.ID, err)
		}
		if !migrate.Same(a, b) {
			t.Fatalf("record %s differs", m.ID)
		}
	}
}

func noSecret(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, secretPrefix) {
		t.Fatalf("secret material in %q", s)
	}
}

func TestCopyMemoryToMemory(t *testing.T) {
	ctx := context.Background()
	src, dst := memory.New(), memory.New()
	fill(t, src, 0, 1234)
	var calls []migrate.Progress
	rep, err := migrate.Copy(ctx, src, dst, migrate.Options{BatchSize: 100, Progress: func(p migrate.Progress) { calls = append(calls, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Source != 1234 || rep.Copied != 1234 || rep.Skipped != 0 || len(rep.ToCopy) != 1234 {
		t.Fatalf("report %+v", rep)
	}
	same(t, src, dst)
	// Per chain: 1234 records over 4 chains x 2 networks, summing up.
	total := 0
	for _, k := range rep.Chains() {
		total += rep.PerChain[k].Copied
	}
	if total != 1234 || rep.PerChain["BTC (testnet)"] == nil || rep.PerChain["ETH"] == nil {
		t.Fatalf("per chain %v", rep.Chains())
	}
	// One call before copying, one per batch; the last says done.
	if len(calls) != 1+13 || calls[len(calls)-1] != (migrate.Progress{Stage: migrate.Copying, Done: 1234, Total: 1234}) {
		t.Fatalf("progress calls %v", calls)
	}
	// Idempotent: a second run copies nothing and changes nothing.
	rep, err = migrate.Copy(ctx, src, dst, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied != 0 || rep.Skipped != 1234 {
		t.Fatalf("re-run report copied %d skipped %d", rep.Copied, rep.Skipped)
	}
	same(t, src, dst)
	// The source is untouched.
	if l, _ := src.List(ctx); len(l) != 1234 {
		t.Fatalf("source lost records: %d", len(l))
	}
}

func TestResumeAfterPartialCopy(t *testing.T) {
	ctx := context.Background()
	src, dst := memory.New(), memory.New()
	fill(t, src, 0, 1000)
	fill(t, dst, 0, 400) // an earlier, interrupted run
	fill(t, dst, 5000, 5010)
	rep, err := migrate.Copy(ctx, src, dst, migrate.Options{BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied != 600 || rep.Skipped != 400 {
		t.Fatalf("copied %d skipped %d, want 600 and 400", rep.Copied, rep.Skipped)
	}
	l, _ := dst.List(ctx)
	if len(l) != 1010 {
		t.Fatalf("destination has %d records, want 1010 (its own 10 kept)", len(l))
	}
}

func TestConflictStopsBeforeWriting(t *testing.T) {
	ctx := context.Background()
	src, dst := memory.New(), memory.New()
	fill(t, src, 0, 100)
	other := rec(42)
	other.Secret = []byte(secretPrefix + "different")
	other2 := rec(7)
	other2.Chain = "LTC"
	if err := backend.PutAll(ctx, dst, []backend.Record{other, other2, rec(3)}); err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{true, false} {
		rep, err := migrate.Copy(ctx, src, dst, migrate.Options{DryRun: dry})
		var ce *migrate.ConflictError
		if !errors.As(err, &ce) || !errors.Is(err, backend.ErrExists) {
			t.Fatalf("dry=%v: err %v, want ConflictError", dry, err)
		}
		if !reflect.DeepEqual(ce.IDs, []string{rec(7).ID, rec(42).ID}) {
			t.Fatalf("conflicts %v", ce.IDs)
		}
		noSecret(t, err.Error())
		if rep.Copied != 0 {
			t.Fatalf("copied %d despite a conflict", rep.Copied)
		}
		l, _ := dst.List(ctx)
		if len(l) != 3 {
			t.Fatalf("destination has %d records after a refused copy, want 3", len(l))
		}
		got, _ := dst.Get(ctx, other.ID)
		if !bytes.Equal(got.Secret, other.Secret) {
			t.Fatal("conflicting record was overwritten")
		}
	}
}

func TestDryRun(t *testing.T) {
	ctx := context.Background()
	src, dst := memory.New(), memory.New()
	fill(t, src, 0, 50)
	fill(t, dst, 0, 20)
	rep, err := migrate.Copy(ctx, src, dst, migrate.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied != 30 || rep.Skipped != 20 || len(rep.ToCopy) != 30 || rep.ToCopy[0].ID != rec(20).ID {
		t.Fatalf("dry run report %+v", rep)
	}
	if l, _ := dst.List(ctx); len(l) != 20 {
		t.Fatalf("dry run wrote: %d records", len(l))
	}
}

func TestRecordsSource(t *testing.T) {
	ctx := context.Background()
	var rs migrate.Records
	for i := 0; i < 100; i++ {
		rs = append(rs, rec(i))
	}
	dst := memory.New()
	rep, err := migrate.Copy(ctx, rs, dst, migrate.Options{BatchSize: 30})
	if err != nil || rep.Copied != 100 {
		t.Fatalf("copy from records: %v %+v", err, rep)
	}
	// The source's secrets survive (Copy zeroes only its own copies).
	if string(rs[99].Secret) != secretPrefix+"99" {
		t.Fatal("Copy zeroed the caller's records")
	}
	dup := append(migrate.Records{}, rs...)
	dup = append(dup, rec(5))
	if _, err := migrate.Copy(ctx, dup, memory.New(), migrate.Options{}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("duplicate ids in the source: %v", err)
	}
	bad := migrate.Records{{ID: "x", Kind: backend.PrivateKey, Chain: "ETH"}}
	if _, err := migrate.Copy(ctx, bad, memory.New(), migrate.Options{}); err == nil {
		t.Fatal("an invalid source record was copied")
	}
}

// faulty wraps a backend: it fails Puts after a number of batches, can lie
// on Get, and can hide BatchPutter.
type faulty struct {
	backend.SecretBackend
	failAfter  int32 // batches allowed before every write fails; <0: never
	writes     atomic.Int32
	lieOn      string // Get returns a different secret for this id
	interloper func() // runs before the first write (another writer)
}

func (f *faulty) Put(ctx context.Context, r backend.Record) error {
	return f.PutBatch(ctx, []backend.Record{r})
}

func (f *faulty) PutBatch(ctx context.Context, rs []backend.Record) error {
	if f.interloper != nil {
		f.interloper()
		f.interloper = nil
	}
	if f.failAfter >= 0 && f.writes.Add(1) > f.failAfter {
		return errors.New("disk full")
	}
	return backend.PutAll(ctx, f.SecretBackend, rs)
}

func (f *faulty) Get(ctx context.Context, id string) (backend.Record, error) {
	r, err := f.SecretBackend.Get(ctx, id)
	if err == nil && id == f.lieOn {
		r.Secret = []byte("tampered")
	}
	return r, err
}

// noBatch hides PutBatch, so PutAll falls back to one Put each.
type noBatch struct{ backend.SecretBackend }

func TestInterruptedWriteThenResume(t *testing.T) {
	ctx := context.Background()
	src, mem := memory.New(), memory.New()
	fill(t, src, 0, 1000)
	dst := &faulty{SecretBackend: mem, failAfter: 3}
	rep, err := migrate.Copy(ctx, src, dst, migrate.Options{BatchSize: 100})
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "run again") {
		t.Fatalf("err %v", err)
	}
	if rep.Copied != 300 {
		t.Fatalf("copied %d before the failure, want 300", rep.Copied)
	}
	dst.failAfter = -1
	rep, err = migrate.Copy(ctx, src, dst, migrate.Options{BatchSize: 100})
	if err != nil || rep.Copied != 700 || rep.Skipped != 300 {
		t.Fatalf("resume: %v copied %d skipped %d", err, rep.Copied, rep.Skipped)
	}
	same(t, src, mem)
}

func TestCanceledContext(t *testing.T) {
	src, dst := memory.New(), memory.New()
	fill(t, src, 0, 300)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := migrate.Copy(ctx, src, dst, migrate.Options{BatchSize: 100, Progress: func(p migrate.Progress) {
		if p.Stage == migrate.Copying && p.Done > 0 {
			if n++; n == 1 {
				cancel()
			}
		}
	}})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "run again to resume") {
		t.Fatalf("err %v", err)
	}
	if l, _ := dst.List(context.Background()); len(l) != 100 {
		t.Fatalf("%d records after cancel at the first batch, want 100", len(l))
	}
}

func TestVerifyCatchesBadReadBack(t *testing.T) {
	ctx := context.Background()
	src := memory.New()
	fill(t, src, 0, 10)
	dst := &faulty{SecretBackend: memory.New(), failAfter: -1, lieOn: rec(4).ID}
	_, err := migrate.Copy(ctx, src, dst, migrate.Options{})
	if err == nil || !strings.Contains(err.Error(), "different record") || !strings.Contains(err.Error(), rec(4).ID) {
		t.Fatalf("err %v", err)
	}
	noSecret(t, err.Error())
	if l, _ := src.List(ctx); len(l) != 10 {
		t.Fatal("source changed")
	}
}

// TestConcurrentWriterDuringCopy: another writer stores some ids after the
// plan; identical ones count as skipped, a different one is a conflict.
func TestConcurrentWriterDuringCopy(t *testing.T) {
	ctx := context.Background()
	src := memory.New()
	fill(t, src, 0, 50)
	mem := memory.New()
	dst := &faulty{SecretBackend: mem, failAfter: -1, interloper: func() { fill(t, mem, 10, 12) }}
	rep, err := migrate.Copy(ctx, src, noBatch{dst}, migrate.Options{BatchSize: 20})
	if err != nil || rep.Copied != 48 || rep.Skipped != 2 {
		t.Fatalf("identical interloper: %v %+v", err, rep)
	}
	same(t, src, mem)

	mem2 := memory.New()
	odd := rec(30)
	odd.Secret = []byte(secretPrefix + "other")
	dst2 := &faulty{SecretBackend: mem2, failAfter: -1, interloper: func() { _ = mem2.Put(ctx, odd) }}
	_, err = migrate.Copy(ctx, src, dst2, migrate.Options{BatchSize: 20})
	var ce *migrate.ConflictError
	if !errors.As(err, &ce) || len(ce.IDs) != 1 || ce.IDs[0] != odd.ID {
		t.Fatalf("different interloper: %v", err)
	}
	got, _ := mem2.Get(ctx, odd.ID)
	if !bytes.Equal(got.Secret, odd.Secret) {
		t.Fatal("the interloper's record was overwritten")
	}
}
