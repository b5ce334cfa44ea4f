package pgjournal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gokms/gokms/daemon/audit"
)

// AuditSink is the audit trail in the shared state (audit.Sink): one hash
// chain for every daemon on this database. An append moves the chain's head
// row from the entry it chains onto, under that row's lock, in the same
// transaction that inserts the entries: if another daemon appended first,
// nothing is written and the append is chained again onto the new head, so
// two daemons never fork the chain. The entries that wait meanwhile in one
// daemon are written together in its next transaction (one round trip and
// one commit for all of them). An entry appended with sync is committed
// synchronously (durable) before Append returns, as the file sink fsyncs it
// before the broadcast it records; without sync, the commit does not wait
// for its WAL flush (the next synchronous one covers it).
//
// One exception saves a WAL flush per transaction: the "signed" entry. The
// trail appends it (and Append returns) before the daemon journals the
// signed bytes (Record) in this same database (this sink is no
// audit.Syncer), and broadcasts only after that Record's synchronous
// commit, which flushes the WAL up to its own commit record and so this
// entry's, committed before it. The entry is therefore durable before the
// broadcast it records, as the file sink's fsync makes it; if the Record
// fails, nothing is broadcast.
type AuditSink struct {
	j      *Journal
	mu     sync.Mutex
	queue  []*auditReq
	wake   chan struct{}
	closed bool
	done   chan struct{}

	// The chain's head as this sink last saw it (the loop's alone).
	headKnown bool
	headSeq   int64
	headHash  string
}

type auditReq struct {
	e    *audit.Entry
	sync bool
	err  chan error
}

var _ audit.Sink = (*AuditSink)(nil)

// AuditSink returns a sink writing to this journal's database; close it
// before the journal.
func (j *Journal) AuditSink() *AuditSink {
	s := &AuditSink{j: j, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go s.loop()
	return s
}

// Path names the sink in logs: the state URL, password masked.
func (s *AuditSink) Path() string { return s.j.dsn + " (table gokms_audit)" }

// Append implements audit.Sink. It fills e.Seq, e.Prev and e.Hash; e.Time
// is kept to the microsecond (what the database stores).
func (s *AuditSink) Append(ctx context.Context, e *audit.Entry, sync bool) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	r := &auditReq{e: e, sync: sync, err: make(chan error, 1)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("audit sink is closed")
	}
	s.queue = append(s.queue, r)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	select {
	case err := <-r.err:
		return err
	case <-ctx.Done():
		return fmt.Errorf("audit append: %w", ctx.Err())
	}
}

// Close writes what is queued and stops.
func (s *AuditSink) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.wake)
	}
	s.mu.Unlock()
	<-s.done
	return nil
}

func (s *AuditSink) loop() {
	defer close(s.done)
	for {
		_, open := <-s.wake
		for {
			s.mu.Lock()
			batch := s.queue
			s.queue = nil
			s.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			err := s.write(batch)
			for _, r := range batch {
				r.err <- err
			}
		}
		if !open {
			return
		}
	}
}

// maxAuditBatch bounds one transaction's entries.
const maxAuditBatch = 1000

func (s *AuditSink) write(reqs []*auditReq) error {
	for len(reqs) > maxAuditBatch {
		if err := s.write(reqs[:maxAuditBatch]); err != nil {
			return err
		}
		reqs = reqs[maxAuditBatch:]
	}
	sync := false
	for _, r := range reqs {
		sync = sync || (r.sync && r.e.Event != audit.EventSigned)
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	batch := hex.EncodeToString(id[:])
	ctx, cancel := context.WithTimeout(context.Background(), s.j.retryFor+time.Minute)
	defer cancel()
	n := len(reqs)
	seqs, ats, chains, ids, lines := make([]int64, n), make([]time.Time, n), make([]string, n), make([]string, n), make([]string, n)
	again := false
	err := s.j.retry(ctx, "audit append", func() error {
		if again {
			// The last attempt's commit may have gone through: then these
			// entries are in the chain already, under this batch id.
			done, err := s.readBack(ctx, batch, reqs)
			if err != nil || done {
				return err
			}
		}
		for {
			if !s.headKnown {
				if err := s.j.pool.QueryRow(ctx, `SELECT seq, hash FROM gokms_audit_head WHERE one`).Scan(&s.headSeq, &s.headHash); err != nil {
					again = retryable(err)
					return fmt.Errorf("read the audit chain's head: %w", err)
				}
				s.headKnown = true
			}
			seq, prev := s.headSeq, s.headHash
			for i, r := range reqs {
				seq++
				r.e.Seq, r.e.Prev = uint64(seq), prev
				line, err := audit.EncodeLine(r.e)
				if err != nil {
					return fmt.Errorf("encode audit entry: %w", err)
				}
				prev = r.e.Hash
				seqs[i], ats[i], chains[i], ids[i], lines[i] = seq, r.e.Time, r.e.Chain, r.e.PendingID, string(line)
			}
			// One round trip: the head moves from the one these entries
			// chain onto (under its row lock) and the entries go in, or,
			// if another daemon appended meanwhile, nothing changes; then
			// the current head is read for the next try.
			b := &pgx.Batch{}
			if !sync {
				b.Queue(asyncCommit)
			}
			b.Queue(`WITH h AS (
					UPDATE gokms_audit_head SET seq = $7, hash = $8 WHERE one AND seq = $9 AND hash = $10 RETURNING 1),
				ins AS (
					INSERT INTO gokms_audit (seq, at, chain, pending_id, line, batch)
					SELECT s, a, c, p, l, $6 FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[]) AS t(s, a, c, p, l)
					WHERE EXISTS (SELECT 1 FROM h) RETURNING 1)
				SELECT count(*) FROM ins`, seqs, ats, chains, ids, lines, batch, seq, prev, s.headSeq, s.headHash)
			b.Queue(`SELECT seq, hash FROM gokms_audit_head WHERE one`)
			br := s.j.pool.SendBatch(ctx, b)
			var inserted int
			var err error
			if !sync {
				_, err = br.Exec()
			}
			if err == nil {
				err = br.QueryRow().Scan(&inserted)
			}
			if err == nil {
				err = br.QueryRow().Scan(&s.headSeq, &s.headHash)
			}
			if cerr := br.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				s.headKnown = false
				again = retryable(err)
				return err
			}
			if inserted == n {
				return nil
			}
			s.j.m.auditRetries.Inc() // another daemon appended first
		}
	})
	if err != nil {
		return fmt.Errorf("audit append to %s: %w", s.j.dsn, err)
	}
	return nil
}

// readBack fills reqs' Seq, Prev and Hash from the rows of batch, if that
// batch was committed.
func (s *AuditSink) readBack(ctx context.Context, batch string, reqs []*auditReq) (bool, error) {
	rows, err := s.j.pool.Query(ctx, `SELECT line FROM gokms_audit WHERE batch = $1 ORDER BY seq`, batch)
	if err != nil {
		return false, err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(lines) == 0 {
		return false, err
	}
	if len(lines) != len(reqs) {
		return false, fmt.Errorf("audit batch %s holds %d entries, %d were written", batch, len(lines), len(reqs))
	}
	for i, l := range lines {
		var e audit.Entry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			return false, err
		}
		reqs[i].e.Seq, reqs[i].e.Prev, reqs[i].e.Hash = e.Seq, e.Prev, e.Hash
	}
	return true, nil
}

// VerifyAudit checks the audit chain in the database as audit.Verify
// checks a file: an edited, removed or reordered entry is named by its
// seq (a row's Line is its position in seq order), as is a row whose
// columns disagree with its line, and entries cut from the end (the head).
func (j *Journal) VerifyAudit(ctx context.Context) (*audit.Report, error) {
	v := audit.NewChainVerifier()
	var headSeq int64
	var headHash string
	err := j.retry(ctx, "audit verify", func() error {
		v = audit.NewChainVerifier()
		return pgx.BeginTxFunc(ctx, j.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT seq, hash FROM gokms_audit_head WHERE one`).Scan(&headSeq, &headHash); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT seq, at, chain, pending_id, line FROM gokms_audit ORDER BY seq`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var seq int64
				var at time.Time
				var chain, id, line string
				if err := rows.Scan(&seq, &at, &chain, &id, &line); err != nil {
					return err
				}
				e := v.Line(uint64(seq), []byte(line))
				if e != nil && (!e.Time.Equal(at) || e.Chain != chain || e.PendingID != id) {
					v.Problem(e.Seq, "its row's time, chain or pending id (%s, %s, %s) differs from the entry (%s, %s, %s): edited",
						at.UTC().Format(time.RFC3339Nano), chain, id, e.Time.UTC().Format(time.RFC3339Nano), e.Chain, e.PendingID)
				}
			}
			return rows.Err()
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read the audit trail in %s: %w", j.dsn, j.clean(err))
	}
	v.Head(uint64(headSeq), headHash)
	return v.Report(), nil
}

// ListAudit returns the entries that match f, oldest first.
func (j *Journal) ListAudit(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	var out []audit.Entry
	err := j.retry(ctx, "audit list", func() error {
		out = nil
		var since *time.Time
		if !f.Since.IsZero() {
			since = &f.Since
		}
		rows, err := j.pool.Query(ctx, `SELECT seq, line FROM gokms_audit
			WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2 = '' OR upper(chain) = upper($2)) AND ($3 = '' OR pending_id = $3)
			ORDER BY seq`, since, f.Chain, f.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			var line string
			if err := rows.Scan(&seq, &line); err != nil {
				return err
			}
			var e audit.Entry
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				return fmt.Errorf("audit entry %d is not an entry (run gokms audit verify): %w", seq, err)
			}
			if f.Matches(&e) {
				out = append(out, e)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read the audit trail in %s: %w", j.dsn, j.clean(err))
	}
	return out, nil
}
