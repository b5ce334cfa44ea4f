// Package migrate copies records from one secret backend to another through
// the backend.SecretBackend interface alone, so every backend that passes
// the conformance suite can be migrated to and from without code of its own.
//
// A copy is safe to interrupt and re-run: records the destination already
// holds with identical content are skipped, a record that differs under the
// same signatureId is a conflict (reported, never overwritten), every
// record written is read back from the destination and compared before it
// counts as done, and nothing is ever deleted from the source.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gokms/gokms/backend"
)

// DefaultBatchSize is how many records go into one backend.PutAll: large
// enough that the file store writes (and fsyncs) rarely, small enough that
// an interruption loses little work.
const DefaultBatchSize = 500

// Options tune Copy.
type Options struct {
	// DryRun plans without writing: the Report lists what would be copied.
	DryRun bool
	// BatchSize is the number of records per write; 0 means DefaultBatchSize.
	BatchSize int
	// Concurrency bounds the reads and compares in flight at once (remote
	// backends answer in round trips; the file store takes shared locks);
	// 0 means DefaultConcurrency.
	Concurrency int
	// Progress, if set, is called after the plan and after each batch.
	Progress func(Progress)
}

// DefaultConcurrency is the number of reads in flight at once.
const DefaultConcurrency = 8

// Stage says what a Progress call reports.
type Stage int

const (
	// Checking: comparing records the destination already has.
	Checking Stage = iota
	// Copying: writing and verifying records.
	Copying
)

// Progress is a snapshot for a progress display.
type Progress struct {
	Stage Stage
	Done  int // records handled in this stage
	Total int // records this stage will handle
}

// ChainCount is the per-chain part of a report. Chains are keyed
// "BTC" or "BTC (testnet)".
type ChainCount struct {
	Copied, Skipped int
}

// Report is what a Copy did (or, with DryRun, would do).
type Report struct {
	Source  int // records in the source
	Copied  int // written to the destination and verified (DryRun: would be written)
	Skipped int // already in the destination with identical content
	// PerChain counts copied and skipped records per chain and network.
	PerChain map[string]*ChainCount
	// ToCopy lists, sorted by id, the records copied (or to copy, with
	// DryRun): metadata only, never secrets.
	ToCopy []backend.Meta
	// Conflicts lists the ids present in both with different content.
	Conflicts []string
}

// ChainKey names a chain and network in reports.
func ChainKey(chain string, testnet bool) string {
	if testnet {
		return chain + " (testnet)"
	}
	return chain
}

// Chains returns the report's chain keys, sorted.
func (r *Report) Chains() []string {
	var ks []string
	for k := range r.PerChain {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (r *Report) count(m backend.Meta, copied bool) {
	if r.PerChain == nil {
		r.PerChain = map[string]*ChainCount{}
	}
	k := ChainKey(m.Chain, m.Testnet)
	c := r.PerChain[k]
	if c == nil {
		c = &ChainCount{}
		r.PerChain[k] = c
	}
	if copied {
		c.Copied++
		r.Copied++
	} else {
		c.Skipped++
		r.Skipped++
	}
}

// ConflictError is returned when the destination holds a different record
// under an id the source also has. Nothing was written.
type ConflictError struct {
	IDs []string // sorted
}

func (e *ConflictError) Error() string {
	const show = 10
	ids := e.IDs
	more := ""
	if len(ids) > show {
		more = fmt.Sprintf(" and %d more", len(ids)-show)
		ids = ids[:show]
	}
	return fmt.Sprintf("%d signatureId(s) already exist in the destination with different content (%s%s); nothing was written: "+
		"resolve them (remove or rename the destination's records) and run again", len(e.IDs), strings.Join(ids, ", "), more)
}

// Is lets errors.Is(err, backend.ErrExists) match a conflict.
func (e *ConflictError) Is(target error) bool { return target == backend.ErrExists }

// Source is what Copy reads: any SecretBackend is one; so is Records.
type Source interface {
	List(ctx context.Context) ([]backend.Meta, error)
	Get(ctx context.Context, id string) (backend.Record, error)
}

// Records is a Source over records held in memory (e.g. the entries of an
// imported tatum-kms wallet). Ids must be unique.
type Records []backend.Record

// List implements Source.
func (rs Records) List(context.Context) ([]backend.Meta, error) {
	out := make([]backend.Meta, len(rs))
	for i, r := range rs {
		out[i] = r.Meta()
	}
	return out, nil
}

// Get implements Source; it returns a copy the caller may zero.
func (rs Records) Get(_ context.Context, id string) (backend.Record, error) {
	for _, r := range rs {
		if r.ID == id {
			return r.Clone(), nil
		}
	}
	return backend.Record{}, fmt.Errorf("signatureId %s: %w", id, backend.ErrNotFound)
}

// index makes Get O(1) for large in-memory sources.
type indexed struct {
	Records
	byID map[string]int
}

func (x *indexed) Get(_ context.Context, id string) (backend.Record, error) {
	i, ok := x.byID[id]
	if !ok {
		return backend.Record{}, fmt.Errorf("signatureId %s: %w", id, backend.ErrNotFound)
	}
	return x.Records[i].Clone(), nil
}

// Same reports whether two records hold the same secret and metadata. The
// creation time is not compared: a backend sets its own.
func Same(a, b backend.Record) bool { return backend.Same(a, b) }

// Copy copies every record of src into dst. It first checks every id the
// destination already has (identical: skipped; different: a ConflictError
// before anything is written), then writes the rest in batches, reading
// each record back from dst and comparing it with the source before
// counting it. It never deletes or overwrites anything.
func Copy(ctx context.Context, src Source, dst backend.SecretBackend, opt Options) (*Report, error) {
	if rs, ok := src.(Records); ok && len(rs) > 16 {
		x := &indexed{Records: rs, byID: make(map[string]int, len(rs))}
		for i, r := range rs {
			if _, dup := x.byID[r.ID]; dup {
				return nil, fmt.Errorf("source lists signatureId %s twice", r.ID)
			}
			x.byID[r.ID] = i
		}
		src = x
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultBatchSize
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = DefaultConcurrency
	}
	progress := opt.Progress
	if progress == nil {
		progress = func(Progress) {}
	}

	srcList, err := src.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list source: %w", err)
	}
	sort.Slice(srcList, func(i, j int) bool { return srcList[i].ID < srcList[j].ID })
	for i := 1; i < len(srcList); i++ {
		if srcList[i].ID == srcList[i-1].ID {
			return nil, fmt.Errorf("source lists signatureId %s twice", srcList[i].ID)
		}
	}
	dstList, err := dst.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list destination: %w", err)
	}
	inDst := make(map[string]bool, len(dstList))
	for _, m := range dstList {
		inDst[m.ID] = true
	}

	rep := &Report{Source: len(srcList), PerChain: map[string]*ChainCount{}}
	var todo []backend.Meta
	var overlap []backend.Meta
	for _, m := range srcList {
		if inDst[m.ID] {
			overlap = append(overlap, m)
		} else {
			todo = append(todo, m)
		}
	}

	// Check every record both sides have before writing anything.
	for start := 0; start < len(overlap); start += opt.BatchSize {
		chunk := overlap[start:min(start+opt.BatchSize, len(overlap))]
		same := make([]bool, len(chunk))
		err := parallel(ctx, len(chunk), opt.Concurrency, func(i int) (err error) {
			same[i], err = compare(ctx, src, dst, chunk[i].ID)
			return err
		})
		if err != nil {
			return rep, interrupted(ctx, err, "while checking the records the destination has")
		}
		for i, m := range chunk {
			if same[i] {
				rep.count(m, false)
			} else {
				rep.Conflicts = append(rep.Conflicts, m.ID)
			}
		}
		progress(Progress{Stage: Checking, Done: start + len(chunk), Total: len(overlap)})
	}
	if len(rep.Conflicts) > 0 {
		return rep, &ConflictError{IDs: rep.Conflicts}
	}

	if opt.DryRun {
		for _, m := range todo {
			rep.count(m, true)
		}
		rep.ToCopy = todo
		return rep, nil
	}

	progress(Progress{Stage: Copying, Done: 0, Total: len(todo)})
	for start := 0; start < len(todo); start += opt.BatchSize {
		where := fmt.Sprintf("after %d of %d records", rep.Copied, len(todo))
		if err := ctx.Err(); err != nil {
			return rep, interrupted(ctx, err, where)
		}
		batch := todo[start:min(start+opt.BatchSize, len(todo))]
		if err := copyBatch(ctx, src, dst, batch, opt.Concurrency, rep); err != nil {
			return rep, interrupted(ctx, err, where)
		}
		progress(Progress{Stage: Copying, Done: start + len(batch), Total: len(todo)})
	}
	return rep, nil
}

// interrupted explains an error caused by a canceled context (Ctrl-C,
// SIGTERM): what was done is durable and a re-run resumes. Other errors
// pass unchanged.
func interrupted(ctx context.Context, err error, where string) error {
	if ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("interrupted %s (records already written stay and are checked on the next run; run again to resume): %w", where, ctx.Err())
}

// compare fetches id from both sides and compares them.
func compare(ctx context.Context, src Source, dst backend.SecretBackend, id string) (bool, error) {
	a, err := src.Get(ctx, id)
	if err != nil {
		return false, fmt.Errorf("read %s from the source: %w", id, err)
	}
	defer a.Zero()
	b, err := dst.Get(ctx, id)
	if err != nil {
		return false, fmt.Errorf("read %s from the destination: %w", id, err)
	}
	defer b.Zero()
	return Same(a, b), nil
}

func copyBatch(ctx context.Context, src Source, dst backend.SecretBackend, batch []backend.Meta, workers int, rep *Report) error {
	recs := make([]backend.Record, len(batch))
	defer func() {
		for i := range recs {
			recs[i].Zero()
		}
	}()
	err := parallel(ctx, len(batch), workers, func(i int) error {
		r, err := src.Get(ctx, batch[i].ID)
		if err != nil {
			return fmt.Errorf("read %s from the source: %w", batch[i].ID, err)
		}
		recs[i] = r
		if err := r.Validate(); err != nil {
			return fmt.Errorf("source record: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, ok := dst.(backend.BatchPutter); !ok {
		// One Put each, so that an id taken meanwhile is told apart from
		// the records this batch did store.
		return putEach(ctx, dst, recs, rep)
	}
	err = backend.PutAll(ctx, dst, recs)
	if errors.Is(err, backend.ErrExists) {
		// Something wrote one of these ids since the plan; the batch stored
		// nothing (all or nothing): settle them one by one.
		return putEach(ctx, dst, recs, rep)
	}
	if err != nil {
		return fmt.Errorf("write to the destination (%d records verified before this batch; run again to resume): %w", rep.Copied, err)
	}
	if err := parallel(ctx, len(recs), workers, func(i int) error { return verify(ctx, dst, recs[i]) }); err != nil {
		return err
	}
	for _, r := range recs {
		rep.count(r.Meta(), true)
		rep.ToCopy = append(rep.ToCopy, r.Meta())
	}
	return nil
}

// parallel runs fn(0..n-1) on up to workers goroutines and returns the
// error of the lowest index that failed (so the report is deterministic).
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	if n == 0 {
		return nil
	}
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func putEach(ctx context.Context, dst backend.SecretBackend, recs []backend.Record, rep *Report) error {
	var conflicts []string
	for _, r := range recs {
		err := dst.Put(ctx, r)
		switch {
		case err == nil:
			if err := verify(ctx, dst, r); err != nil {
				return err
			}
			rep.count(r.Meta(), true)
			rep.ToCopy = append(rep.ToCopy, r.Meta())
		case errors.Is(err, backend.ErrExists):
			got, gerr := dst.Get(ctx, r.ID)
			if gerr != nil {
				return fmt.Errorf("read %s from the destination: %w", r.ID, gerr)
			}
			same := Same(got, r)
			got.Zero()
			if same {
				rep.count(r.Meta(), false)
			} else {
				conflicts = append(conflicts, r.ID)
			}
		default:
			return fmt.Errorf("write %s to the destination (%d records verified before it; run again to resume): %w", r.ID, rep.Copied, err)
		}
	}
	if len(conflicts) > 0 {
		rep.Conflicts = append(rep.Conflicts, conflicts...)
		sort.Strings(rep.Conflicts)
		return &ConflictError{IDs: rep.Conflicts}
	}
	return nil
}

// verify reads r back from the destination and compares.
func verify(ctx context.Context, dst backend.SecretBackend, r backend.Record) error {
	got, err := dst.Get(ctx, r.ID)
	if err != nil {
		return fmt.Errorf("verify %s in the destination: %w", r.ID, err)
	}
	defer got.Zero()
	if !Same(got, r) {
		return fmt.Errorf("verify %s: the destination returned a different record than was written (the source is unchanged; do not delete it)", r.ID)
	}
	return nil
}
