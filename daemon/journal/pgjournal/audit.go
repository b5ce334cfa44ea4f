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
// chain for every daemon on this database. An append locks the chain's head
// row, so two daemons never fork the chain; the entries that wait meanwhile
// in one daemon are written together in its next transaction (one lock, one
// commit for all of them). An entry appended with sync is committed
// synchronously (durable) before Append returns, as the file sink fsyncs it
// before the broadcast it records; without sync, the commit does not wait
// for its WAL flush (the next synchronous one covers it).
type AuditSink struct {
	j      *Journal
	mu     sync.Mutex
	queue  []*auditReq
	wake   chan struct{}
	closed bool
	done   chan struct{}
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
		sync = sync || r.sync
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	batch := hex.EncodeToString(id[:])
	ctx, cancel := context.WithTimeout(context.Background(), s.j.retryFor+time.Minute)
	defer cancel()
	err := s.j.tx(ctx, "audit append", func(tx pgx.Tx, again bool) error {
		if again {
			// The last attempt's commit may have gone through: then these
			// entries are in the chain already, under this batch id.
			if done, err := s.readBack(ctx, tx, batch, reqs); err != nil || done {
				return err
			}
		}
		if !sync {
			if _, err := tx.Exec(ctx, asyncCommit); err != nil {
				return err
			}
		}
		var seq int64
		var prev string
		if err := tx.QueryRow(ctx, `SELECT seq, hash FROM gokms_audit_head WHERE one FOR UPDATE`).Scan(&seq, &prev); err != nil {
			return fmt.Errorf("lock the audit chain: %w", err)
		}
		n := len(reqs)
		seqs, ats, chains, ids, lines := make([]int64, n), make([]time.Time, n), make([]string, n), make([]string, n), make([]string, n)
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
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO gokms_audit (seq, at, chain, pending_id, line, batch)
			SELECT s, a, c, p, l, $6 FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[]) AS t(s, a, c, p, l)`,
			seqs, ats, chains, ids, lines, batch)
		b.Queue(`UPDATE gokms_audit_head SET seq = $1, hash = $2 WHERE one`, seq, prev)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("audit append to %s: %w", s.j.dsn, err)
	}
	return nil
}

// readBack fills reqs' Seq, Prev and Hash from the rows of batch, if that
// batch was committed.
func (s *AuditSink) readBack(ctx context.Context, tx pgx.Tx, batch string, reqs []*auditReq) (bool, error) {
	rows, err := tx.Query(ctx, `SELECT line FROM gokms_audit WHERE batch = $1 ORDER BY seq`, batch)
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
