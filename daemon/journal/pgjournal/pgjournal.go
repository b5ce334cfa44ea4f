// Package pgjournal is the daemon state on PostgreSQL: the journal of
// signed pending transactions, the claims that let several gokms daemons
// drain one Tatum queue without ever signing an id twice, EVM nonces
// allocated per sender, and policy counters (journal.Journal).
//
// How the database keeps the promise of package journal across daemons:
//   - a claim is one row per pending id, taken or refused in one
//     transaction under that row's lock; its lease time is the database's
//     clock (daemons' clocks may differ) and its token grows with every
//     claim;
//   - every write carries the lease and checks owner and token under the
//     same row lock in the same transaction as the write (the fence), so a
//     daemon that was paused or cut off past its lease changes nothing once
//     another daemon claimed the id, and cannot record a broadcast;
//   - an entry is inserted once, before the broadcast, and never replaced:
//     a later claim reads it (after waiting for the lock, in a fresh
//     snapshot) and resends those bytes;
//   - nonces are rows under a per-sender lock; a reservation left by a dead
//     daemon is reused only after its claim is superseded, so the dead
//     daemon cannot record a transaction with that nonce afterwards.
//
// Operations that fail on a lost connection (a restart, a failover) are
// retried until Options.RetryFor or the context ends; each is written so a
// retry after an unknown outcome is harmless.
package pgjournal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gokms/gokms/daemon/journal"
)

// Options configures Open.
type Options struct {
	// MaxConns bounds the pool (default 16: the daemon's workers plus polls).
	MaxConns int32
	// MinConns connections (at most MaxConns) are opened in the background
	// at Open and kept open, unless the DSN sets pool_min_conns: the daemon
	// asks for its concurrency, so that the first transactions of a burst
	// do not each wait for a connection's TLS handshake and authentication
	// (tens of milliseconds each, all at once). Default 0: on demand.
	MinConns int32
	// RetryFor is how long an operation keeps retrying while the database
	// is unreachable (default 60 s), within its context's deadline.
	RetryFor time.Duration
	// NoMigrate skips applying migrations at open; the schema must then be
	// current already (`gokms state migrate` run by a privileged role).
	NoMigrate bool
	// SkipVersionCheck, with NoMigrate, only connects (`gokms state
	// migrate` and `status` look at the schema themselves).
	SkipVersionCheck bool
	// Logger for retries and migrations (default slog.Default()).
	Logger *slog.Logger
}

// Journal is a journal.Journal on PostgreSQL. Safe for concurrent use.
type Journal struct {
	pool     *pgxpool.Pool
	dsn      string // masked
	secrets  []string
	retryFor time.Duration
	log      *slog.Logger
	m        *metrics
	leases   leaseBook

	relMu     sync.Mutex
	relClosed bool
	releases  chan journal.Lease // completed ids' leases, released in batches (releaseLoop)
	closeOnce sync.Once
	released  chan struct{}

	// Counter adds older than journal.CounterRetention are deleted at
	// open and then at most hourly, after an add (pruneCounters).
	lastPrune atomic.Int64 // UnixNano of the last prune started
	pruning   sync.WaitGroup
}

var _ journal.Journal = (*Journal)(nil)

// Open connects to the database named by dsn (a libpq URL or key=value
// string: sslmode, sslrootcert, sslcert, sslkey, passfile, PGPASSWORD and
// the other PG* variables behave as in libpq), applies pending schema
// migrations and returns the journal. Errors name the database with its
// password masked.
func Open(ctx context.Context, dsn string, o Options) (*Journal, error) {
	masked := MaskDSN(dsn)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message quotes the string; say it again without it.
		return nil, fmt.Errorf("state %s: not a valid PostgreSQL connection string (want postgres://user@host:5432/db?sslmode=verify-full&sslrootcert=/path/ca.crt): %s",
			masked, redact(errors.Unwrap(err).Error(), secretsOf(dsn)...))
	}
	secrets := secretsOf(dsn)
	if cfg.ConnConfig.Password != "" {
		secrets = append(secrets, cfg.ConnConfig.Password)
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 16
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 60 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	cfg.MaxConns = o.MaxConns
	if o.MinConns > 0 && !strings.Contains(dsn, "pool_min_conns") {
		cfg.MinConns = min(o.MinConns, o.MaxConns)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	// The claim protocol relies on READ COMMITTED: a statement that waited
	// for a row lock sees, in its next statement, what the holder committed.
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	// A daemon paused in the middle of a transaction (SIGSTOP, a partition)
	// must not hold its row locks and stall every other daemon: the server
	// ends such a session after 5 s (its transaction rolls back; the paused
	// daemon's next call fails and retries against the new state), and no
	// lock is waited for longer than 30 s. The DSN may set either itself.
	for k, v := range map[string]string{"idle_in_transaction_session_timeout": "5s", "lock_timeout": "30s"} {
		if _, set := cfg.ConnConfig.RuntimeParams[k]; !set {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "gokms"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("state %s: %s", masked, redact(err.Error(), secrets...))
	}
	j := &Journal{pool: pool, dsn: masked, secrets: secrets, retryFor: o.RetryFor, log: o.Logger, m: newMetrics(),
		leases: leaseBook{m: map[string]leaseInfo{}}, releases: make(chan journal.Lease, 1024), released: make(chan struct{})}
	go j.releaseLoop()
	fail := func() { j.Close() }
	if err := j.retry(ctx, "connect", func() error { return pool.Ping(ctx) }); err != nil {
		fail()
		return nil, fmt.Errorf("state %s: connect: %w", masked, j.clean(err))
	}
	if o.NoMigrate && o.SkipVersionCheck {
		return j, nil
	}
	if o.NoMigrate {
		v, err := SchemaVersion(ctx, pool)
		if err != nil {
			fail()
			return nil, fmt.Errorf("state %s: read schema version: %w", masked, j.clean(err))
		}
		if v != LatestVersion() {
			fail()
			return nil, fmt.Errorf("state %s: schema version %d, this gokms needs %d: run `gokms state migrate`", masked, v, LatestVersion())
		}
		return j, nil
	}
	var res MigrateResult
	err = j.retry(ctx, "migrate", func() (err error) { res, err = Migrate(ctx, pool); return err })
	if err != nil {
		fail()
		return nil, fmt.Errorf("state %s: %w", masked, j.clean(err))
	}
	if len(res.Applied) > 0 {
		j.log.Info("daemon state schema migrated", "state", masked, "from", res.From, "to", res.To)
	}
	j.prune(ctx)
	return j, nil
}

// prunePeriod is how often a daemon deletes aged counter adds (every
// daemon of a shared state does: the deletes are the same).
const prunePeriod = time.Hour

// prune deletes the counter adds older than journal.CounterRetention.
// Best effort: an error is logged, and the next prune tries again.
func (j *Journal) prune(ctx context.Context) {
	j.lastPrune.Store(time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tag, err := j.pool.Exec(ctx, `DELETE FROM gokms_counters WHERE at < $1`, time.Now().Add(-journal.CounterRetention))
	if err != nil {
		j.log.Warn("state: could not delete aged policy counter adds (tried again within the hour)", "state", j.dsn, "error", j.clean(err).Error())
		return
	}
	if n := tag.RowsAffected(); n > 0 {
		j.log.Info("state: deleted aged policy counter adds", "state", j.dsn, "rows", n, "olderThan", journal.CounterRetention.String())
	}
}

// maybePrune starts a prune in the background if the last one started
// prunePeriod ago or more.
func (j *Journal) maybePrune() {
	last := j.lastPrune.Load()
	if time.Since(time.Unix(0, last)) < prunePeriod || !j.lastPrune.CompareAndSwap(last, time.Now().UnixNano()) {
		return
	}
	j.relMu.Lock()
	defer j.relMu.Unlock()
	if j.relClosed {
		return
	}
	j.pruning.Add(1)
	go func() {
		defer j.pruning.Done()
		j.prune(context.Background())
	}()
}

// secretsOf returns the password forms that may appear in texts about dsn.
func secretsOf(dsn string) []string {
	var out []string
	if IsDSN(dsn) {
		if i := strings.Index(dsn, "://"); i >= 0 {
			rest := dsn[i+3:]
			if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
				if _, pw, ok := strings.Cut(rest[:at], ":"); ok && pw != "" {
					out = append(out, pw)
				}
			}
		}
	}
	for _, m := range kvSecret.FindAllStringSubmatch(dsn, -1) {
		out = append(out, strings.Trim(m[2], "'"))
	}
	return out
}

// Shared reports that other daemons may use this journal at the same time
// (the daemon then checks its lease right before every broadcast).
func (j *Journal) Shared() bool { return true }

// DSN returns the connection string with the password masked.
func (j *Journal) DSN() string { return j.dsn }

// Pool exposes the connection pool (tests, `gokms state`).
func (j *Journal) Pool() *pgxpool.Pool { return j.pool }

// Close releases the leases still queued for release and closes the pool.
func (j *Journal) Close() error {
	j.closeOnce.Do(func() {
		j.relMu.Lock()
		j.relClosed = true
		close(j.releases)
		j.relMu.Unlock()
		<-j.released
		j.pruning.Wait()
		j.pool.Close()
	})
	return nil
}

// clean strips known secrets from an error, keeping its sentinel (errors.Is).
func (j *Journal) clean(err error) error {
	if err == nil {
		return nil
	}
	msg := redact(err.Error(), j.secrets...)
	if msg == err.Error() {
		return err
	}
	return &cleanErr{msg: msg, err: err}
}

type cleanErr struct {
	msg string
	err error
}

func (e *cleanErr) Error() string { return e.msg }
func (e *cleanErr) Unwrap() error { return e.err }

// retryable reports a failure that says nothing about the data: the
// database was unreachable, restarting, or chose this transaction as a
// serialization or deadlock victim.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	// A certificate that does not verify will not verify on the next try.
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var cv *tls.CertificateVerificationError
	if errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &cv) {
		return false
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01", // serialization failure, deadlock
			"55P03", "25P03", // lock wait timed out; our session was idle in a transaction too long
			"57P01", "57P02", "57P03", // admin/crash shutdown, cannot connect now
			"08000", "08003", "08006", "08001", "08004": // connection exceptions
			return true
		}
		return false
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ne) || errors.As(err, &ce) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "conn closed") || strings.Contains(s, "unexpected EOF") ||
		strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe") || strings.Contains(s, "failed to connect")
}

// retry runs fn until it succeeds, fails for a reason other than the
// connection, or RetryFor or ctx runs out.
func (j *Journal) retry(ctx context.Context, op string, fn func() error) error {
	deadline := time.Now().Add(j.retryFor)
	wait := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !retryable(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return j.clean(err)
		}
		j.m.retries.Inc()
		if attempt == 0 || attempt%20 == 0 {
			j.log.Warn("daemon state unreachable; retrying", "op", op, "state", j.dsn, "error", j.clean(err).Error())
		}
		select {
		case <-ctx.Done():
			return j.clean(err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// tx runs fn in a READ COMMITTED transaction, retried as retry says. fn
// learns whether an earlier attempt may have committed (its outcome was
// unknown), to recognise its own work.
func (j *Journal) tx(ctx context.Context, op string, fn func(tx pgx.Tx, again bool) error) error {
	again := false
	return j.retry(ctx, op, func() error {
		err := pgx.BeginTxFunc(ctx, j.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
			return fn(tx, again)
		})
		if err != nil && retryable(err) {
			again = true
		}
		return err
	})
}

func micros(d time.Duration) int64 { return d.Microseconds() }

// Claim implements journal.Journal: one statement takes (or refuses) the
// claim row under its lock; the entry is read in a second statement of the
// same round trip, whose snapshot follows the lock (so it sees an entry the
// previous holder committed while this claim waited).
//
// Most claims several daemons make on one listed queue are of ids another
// daemon holds or finished, so those cost no write: a live claim of
// another owner is refused without locking its row, and an id whose entry
// is completed is answered with the entry under a read-only lease (token
// 0: nothing is left to do; every write with it is fenced; Release is a
// no-op). A claim is committed asynchronously (synchronous_commit off):
// what it protects is written by Record, whose synchronous commit makes the
// claim durable with it; a claim lost in a server crash fences its holder's
// Record.
func (j *Journal) Claim(ctx context.Context, id, owner string, ttl time.Duration) (journal.Lease, *journal.Entry, error) {
	if id == "" || owner == "" || ttl <= 0 {
		return journal.Lease{}, nil, errors.New("journal: claim needs an id, an owner and a positive ttl")
	}
	var (
		l        journal.Lease
		ent      *journal.Entry
		won      bool
		tookOver bool
		holder   string
		until    time.Time
		sent     time.Time
	)
	err := j.retry(ctx, "claim", func() error {
		b := &pgx.Batch{}
		b.Queue(asyncCommit)
		// ins takes a never-claimed id; upd a released or expired one (or
		// this owner's own), re-checked under the row lock it waits for.
		b.Queue(`WITH done AS (SELECT 1 FROM gokms_entries WHERE id = $1 AND state = 'completed'),
			ins AS (
				INSERT INTO gokms_claims (id, owner, token, expires_at, claimed_at)
				SELECT $1, $2, 1, now() + $3::bigint * interval '1 microsecond', now()
				WHERE NOT EXISTS (SELECT 1 FROM done)
				ON CONFLICT (id) DO NOTHING
				RETURNING token, expires_at, took_over),
			upd AS (
				UPDATE gokms_claims c SET owner = $2, token = c.token + 1,
					expires_at = now() + $3::bigint * interval '1 microsecond', claimed_at = now(), released = false,
					took_over = (c.owner <> $2 AND NOT c.released)
				WHERE c.id = $1 AND (c.released OR c.owner = $2 OR c.expires_at <= now()) AND NOT EXISTS (SELECT 1 FROM done)
				RETURNING c.token, c.expires_at, c.took_over)
			SELECT token, expires_at, took_over FROM ins UNION ALL SELECT token, expires_at, took_over FROM upd`, id, owner, micros(ttl))
		b.Queue(`SELECT owner, expires_at FROM gokms_claims WHERE id = $1`, id)
		b.Queue(selectEntry+` WHERE id = $1`, id)
		sent = time.Now()
		br := j.pool.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		var tok int64
		err := br.QueryRow().Scan(&tok, &l.Expires, &tookOver)
		won = err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := br.QueryRow().Scan(&holder, &until); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		l = journal.Lease{ID: id, Owner: owner, Token: uint64(tok), Expires: l.Expires}
		e, err := scanEntry(br.QueryRow())
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			ent = nil
		case err != nil:
			return err
		default:
			ent = &e
		}
		return br.Close()
	})
	if err != nil {
		return journal.Lease{}, nil, fmt.Errorf("claim %s: %w", id, err)
	}
	if !won {
		if ent != nil && ent.State == journal.StateCompleted {
			// Finished: the entry answers the claim; no lease is taken.
			j.m.claimsDone.Inc()
			return journal.Lease{ID: id, Owner: owner}, ent, nil
		}
		j.m.claimsLost.Inc()
		return journal.Lease{}, nil, fmt.Errorf("%s: %w (%s, until %s)", id, journal.ErrClaimed, holder, until.UTC().Format(time.RFC3339))
	}
	j.m.claimsWon.Inc()
	if tookOver {
		j.m.leaseExpiries.Inc()
	}
	if ent != nil && ent.State != journal.StateCompleted {
		j.m.recoveries.Inc()
	}
	j.leases.confirmed(l, ttl, sent, l.Expires)
	return l, ent, nil
}

// asyncCommit, queued first in a batch (one implicit transaction), lets
// that transaction commit without waiting for its WAL flush. Used only
// where a write lost in a server crash is harmless (see Claim, Renew,
// Release, MarkCompleted); the WAL is sequential, so the next synchronous
// commit (a Record) makes every earlier one durable too.
const asyncCommit = `SELECT set_config('synchronous_commit', 'off', true)`

// fence locks l's claim row and fails with ErrFenced unless l is its
// current, unreleased claim. live reports whether the lease has not expired.
func (j *Journal) fence(ctx context.Context, tx pgx.Tx, l journal.Lease) (live bool, err error) {
	var owner string
	var tok int64
	var released bool
	err = tx.QueryRow(ctx, `SELECT owner, token, released, expires_at > now() FROM gokms_claims WHERE id = $1 FOR UPDATE`, l.ID).
		Scan(&owner, &tok, &released, &live)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, j.fenced(l)
	}
	if err != nil {
		return false, err
	}
	if released || owner != l.Owner || uint64(tok) != l.Token {
		return false, j.fenced(l)
	}
	return live, nil
}

func (j *Journal) fenced(l journal.Lease) error {
	j.m.fenced.Inc()
	return fmt.Errorf("%s (token %d): %w", l.ID, l.Token, journal.ErrFenced)
}

// Renew implements journal.Journal. The daemon renews right before every
// broadcast, as the fence for a daemon that stalled past its lease; a lease
// the database confirmed (claimed, or extended by Record) moments ago
// cannot have been lost since (another claim takes over only an expired
// lease, and only its holder releases it), so that renewal is answered
// without a round trip (leaseBook.fresh).
func (j *Journal) Renew(ctx context.Context, l journal.Lease, ttl time.Duration) (journal.Lease, error) {
	if exp, ok := j.leases.fresh(l); ok {
		l.Expires = exp
		return l, nil
	}
	// One statement: the fence is its WHERE, under the row lock it takes.
	err := j.retry(ctx, "renew", func() error {
		b := &pgx.Batch{}
		b.Queue(asyncCommit)
		b.Queue(`UPDATE gokms_claims SET expires_at = now() + $4::bigint * interval '1 microsecond'
			WHERE id = $1 AND owner = $2 AND token = $3 AND NOT released RETURNING expires_at`,
			l.ID, l.Owner, int64(l.Token), micros(ttl))
		sent := time.Now()
		br := j.pool.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		err := br.QueryRow().Scan(&l.Expires)
		if errors.Is(err, pgx.ErrNoRows) {
			return j.fenced(l)
		}
		if err != nil {
			return err
		}
		j.leases.confirmed(l, ttl, sent, l.Expires)
		return br.Close()
	})
	return l, err
}

// Release implements journal.Journal. A never-recorded id's nonce
// reservations are freed. One statement: the fenced release and the
// freeing of the nonces commit together. The lease of an id this journal
// just completed is released in the background, batched with others (a
// release lost in a crash only lets that lease run out; a completed id
// needs no claim), and a read-only lease (token 0) has nothing to release.
func (j *Journal) Release(ctx context.Context, l journal.Lease) error {
	if l.Token == 0 {
		return nil
	}
	if j.leases.forget(l) {
		j.relMu.Lock()
		queued := false
		if !j.relClosed {
			select {
			case j.releases <- l:
				queued = true
			default: // the queue is full: release it here
			}
		}
		j.relMu.Unlock()
		if queued {
			return nil
		}
	}
	again := false
	return j.retry(ctx, "release", func() error {
		var n int
		b := &pgx.Batch{}
		b.Queue(asyncCommit)
		b.Queue(`WITH f AS (
				UPDATE gokms_claims SET released = true, expires_at = now()
				WHERE id = $1 AND owner = $2 AND token = $3 AND NOT released RETURNING id),
			n AS (
				DELETE FROM gokms_nonces WHERE pending_id = $1 AND EXISTS (SELECT 1 FROM f) RETURNING 1)
			SELECT (SELECT count(*) FROM f) + 0 * (SELECT count(*) FROM n)`, l.ID, l.Owner, int64(l.Token))
		br := j.pool.SendBatch(ctx, b)
		_, err := br.Exec()
		if err == nil {
			err = br.QueryRow().Scan(&n)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			if retryable(err) {
				again = true
			}
			return err
		}
		if n == 1 {
			return nil
		}
		if again {
			var ok bool
			if err := j.pool.QueryRow(ctx, `SELECT released AND owner = $2 AND token = $3 FROM gokms_claims WHERE id = $1`,
				l.ID, l.Owner, int64(l.Token)).Scan(&ok); err == nil && ok {
				return nil // our earlier attempt committed
			}
		}
		return j.fenced(l)
	})
}

// releaseLoop releases the leases of completed ids in batches: one
// statement for every lease queued while the previous one ran.
func (j *Journal) releaseLoop() {
	defer close(j.released)
	for l := range j.releases {
		batch := []journal.Lease{l}
	more:
		for len(batch) < 512 {
			select {
			case l, ok := <-j.releases:
				if !ok {
					break more
				}
				batch = append(batch, l)
			default:
				break more
			}
		}
		ids, owners, toks := make([]string, len(batch)), make([]string, len(batch)), make([]int64, len(batch))
		for i, l := range batch {
			ids[i], owners[i], toks[i] = l.ID, l.Owner, int64(l.Token)
		}
		ctx, cancel := context.WithTimeout(context.Background(), j.retryFor)
		err := j.retry(ctx, "release", func() error {
			b := &pgx.Batch{}
			b.Queue(asyncCommit)
			b.Queue(`UPDATE gokms_claims c SET released = true, expires_at = now()
				FROM unnest($1::text[], $2::text[], $3::bigint[]) AS r(id, owner, token)
				WHERE c.id = r.id AND c.owner = r.owner AND c.token = r.token AND NOT c.released`, ids, owners, toks)
			return j.pool.SendBatch(ctx, b).Close()
		})
		cancel()
		if err != nil {
			// The leases run out instead; their ids are completed.
			j.log.Warn("release completed claims", "count", len(batch), "state", j.dsn, "error", err.Error())
		}
	}
}

// leaseBook remembers, per id this journal holds, when the database last
// confirmed its lease and for how long, and whether it was completed.
type leaseBook struct {
	mu sync.Mutex
	m  map[string]leaseInfo
}

type leaseInfo struct {
	token     uint64
	ttl       time.Duration
	expires   time.Time // the lease's end as the database last said
	mono      time.Time // when the confirming statement was sent (monotonic clock)
	wall      time.Time // the same on the wall clock (Round(0): no monotonic reading)
	completed bool
}

// freshFor bounds how long after a confirmation Renew trusts it: much
// shorter than any lease, so that neither a clock's drift nor a pause
// matters (the pause between a renewal and the broadcast it guards is the
// same with or without a round trip).
const freshFor = 5 * time.Second

func (b *leaseBook) confirmed(l journal.Lease, ttl time.Duration, sent, expires time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.m[l.ID]
	if i.token != l.Token {
		i = leaseInfo{token: l.Token}
	}
	i.ttl, i.mono, i.wall, i.expires = ttl, sent, sent.Round(0), expires
	b.m[l.ID] = i
}

// ttl is the lease's duration as claimed, if this journal claimed it.
func (b *leaseBook) ttl(l journal.Lease) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i, ok := b.m[l.ID]; ok && i.token == l.Token {
		return i.ttl
	}
	return 0
}

// fresh reports a lease confirmed less than freshFor (and half its
// duration) ago, by both clocks (a suspended host stops the monotonic one).
func (b *leaseBook) fresh(l journal.Lease) (expires time.Time, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, ok := b.m[l.ID]
	if !ok || i.token != l.Token || i.mono.IsZero() {
		return time.Time{}, false
	}
	window := min(freshFor, i.ttl/2)
	now := time.Now()
	return i.expires, now.Sub(i.mono) < window && now.Round(0).Sub(i.wall) < window && !now.Round(0).Before(i.wall)
}

func (b *leaseBook) completed(l journal.Lease) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i, ok := b.m[l.ID]; ok && i.token == l.Token {
		i.completed = true
		b.m[l.ID] = i
	}
}

// forget drops l and reports whether its id was completed under it.
func (b *leaseBook) forget(l journal.Lease) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, ok := b.m[l.ID]
	if !ok || i.token != l.Token {
		return false
	}
	delete(b.m, l.ID)
	return i.completed
}

func nonceArgs(k journal.NonceKey) (string, bool, string) { return k.Chain, k.Testnet, k.Sender }

// ReserveNonce implements journal.Journal: the lowest nonce >= pending
// that no journaled entry of the sender holds and no other live claim
// reserved. The per-sender row is locked first, so reservations of one
// sender are serialised across daemons; a reservation is tied to its claim
// (id and token) and dies with it. Should a claim that stalled past its
// lease come back and record a nonce another claim took meanwhile, the
// unique index on (sender, nonce) refuses the second record.
func (j *Journal) ReserveNonce(ctx context.Context, l journal.Lease, k journal.NonceKey, pending uint64) (uint64, error) {
	if k.Chain == "" || k.Sender == "" {
		return 0, errors.New("journal: nonce key needs a chain and a sender")
	}
	if pending > 1<<62 {
		return 0, fmt.Errorf("journal: pending nonce %d out of range", pending)
	}
	c, tn, s := nonceArgs(k)
	p := int64(pending)
	var out int64
	err := j.tx(ctx, "reserve nonce", func(tx pgx.Tx, _ bool) error {
		if _, err := j.fence(ctx, tx, l); err != nil {
			return err
		}
		var recorded bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM gokms_entries WHERE id = $1)`, l.ID).Scan(&recorded); err != nil {
			return err
		}
		if recorded {
			return fmt.Errorf("%s: %w: its nonce is in the journal", l.ID, journal.ErrExists)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO gokms_nonce_seqs (chain, testnet, sender, next) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING`, c, tn, s); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM gokms_nonce_seqs WHERE chain = $1 AND testnet = $2 AND sender = $3 FOR UPDATE`, c, tn, s); err != nil {
			return err
		}
		// The same claim asking again (pending not past it) keeps its nonce.
		err := tx.QueryRow(ctx, `SELECT nonce FROM gokms_nonces WHERE chain = $1 AND testnet = $2 AND sender = $3
			AND pending_id = $4 AND token = $5 AND nonce >= $6
			AND NOT EXISTS (SELECT 1 FROM gokms_entries e WHERE e.chain = $1 AND e.testnet = $2 AND e.sender = $3 AND e.nonce = gokms_nonces.nonce)`,
			c, tn, s, l.ID, int64(l.Token), p).Scan(&out)
		if err == nil {
			return nil
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// The lowest nonce that no entry holds and no live claim reserved;
		// a reservation whose claim expired (its daemon died or stalled)
		// still belongs to that claim until it is taken over, so taking its
		// nonce ends that claim first (released, in this transaction, under
		// its row lock), and the stalled daemon's Record with it is fenced.
		// A claim whose row is locked right now is in use: its nonce is
		// skipped.
		var skip []int64
		for {
			err = tx.QueryRow(ctx, `WITH taken AS (
				SELECT nonce FROM gokms_entries WHERE chain = $1 AND testnet = $2 AND sender = $3 AND nonce >= $4
				UNION
				SELECT r.nonce FROM gokms_nonces r JOIN gokms_claims c ON c.id = r.pending_id
				WHERE r.chain = $1 AND r.testnet = $2 AND r.sender = $3 AND r.nonce >= $4 AND r.pending_id <> $5
				  AND c.token = r.token AND NOT c.released AND c.expires_at > now()
				UNION
				SELECT unnest($6::bigint[]))
			SELECT min(n) FROM (SELECT $4::bigint AS n UNION SELECT nonce + 1 FROM taken) cand
			WHERE n NOT IN (SELECT nonce FROM taken)`, c, tn, s, p, l.ID, skip).Scan(&out)
			if err != nil {
				return err
			}
			// Record takes no sender lock: an entry committed since the
			// snapshot above may hold out, its reservation deleted in the
			// same commit. So the reservation is looked up first, the
			// entries last.
			heldBy := func() (bool, error) {
				var held bool
				err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM gokms_entries WHERE chain = $1 AND testnet = $2 AND sender = $3 AND nonce = $4)`,
					c, tn, s, out).Scan(&held)
				return held, err
			}
			var holder string
			var htok int64
			err = tx.QueryRow(ctx, `SELECT r.pending_id, r.token FROM gokms_nonces r JOIN gokms_claims c ON c.id = r.pending_id
				WHERE r.chain = $1 AND r.testnet = $2 AND r.sender = $3 AND r.nonce = $4 AND r.pending_id <> $5
				  AND c.token = r.token AND NOT c.released`, c, tn, s, out, l.ID).Scan(&holder, &htok)
			if errors.Is(err, pgx.ErrNoRows) {
				held, err := heldBy()
				if err != nil {
					return err
				}
				if held {
					skip = append(skip, out)
					continue
				}
				break // free
			} else if err != nil {
				return err
			}
			var ended bool
			err = tx.QueryRow(ctx, `WITH t AS (
					SELECT id FROM gokms_claims WHERE id = $1 AND token = $2 AND NOT released AND expires_at <= now()
					  AND NOT EXISTS (SELECT 1 FROM gokms_entries WHERE id = $1)
					FOR UPDATE SKIP LOCKED)
				UPDATE gokms_claims c SET released = true, expires_at = now() FROM t WHERE c.id = t.id RETURNING true`, holder, htok).Scan(&ended)
			if errors.Is(err, pgx.ErrNoRows) {
				skip = append(skip, out) // its claim is busy, renewed or recorded: in use
				continue
			} else if err != nil {
				return err
			}
			// Ended under its row lock: it can record nothing now. It may
			// have recorded this nonce just before.
			held, err := heldBy()
			if err != nil {
				return err
			}
			if held {
				skip = append(skip, out)
				continue
			}
			j.m.reservationsEnded.Inc()
			break
		}
		// One reservation per claim and sender; a dead one on this nonce
		// (its claim expired or ended) is replaced.
		if _, err := tx.Exec(ctx, `DELETE FROM gokms_nonces WHERE pending_id = $1 AND chain = $2 AND testnet = $3 AND sender = $4`, l.ID, c, tn, s); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO gokms_nonces (chain, testnet, sender, nonce, pending_id, token) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (chain, testnet, sender, nonce) DO UPDATE SET pending_id = EXCLUDED.pending_id, token = EXCLUDED.token`,
			c, tn, s, out, l.ID, int64(l.Token))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("reserve nonce for %s: %w", l.ID, err)
	}
	return uint64(out), nil
}

const entryCols = `id, chain, testnet, signature_ids, withdrawal_id, signed_tx, tx_id, sender, nonce, state,
	broadcasts, last_error, owner, recorded_at, updated_at, completed_at`

const selectEntry = `SELECT ` + entryCols + ` FROM gokms_entries`

func scanEntry(row pgx.Row) (journal.Entry, error) {
	var e journal.Entry
	var nonce pgtype.Int8
	var state string
	var completed pgtype.Timestamptz
	err := row.Scan(&e.ID, &e.Chain, &e.Testnet, &e.SignatureIDs, &e.WithdrawalID, &e.SignedTx, &e.TxID, &e.Sender, &nonce, &state,
		&e.Broadcasts, &e.LastError, &e.Owner, &e.RecordedAt, &e.UpdatedAt, &completed)
	if err != nil {
		return e, err
	}
	if nonce.Valid {
		n := uint64(nonce.Int64)
		e.Nonce = &n
	}
	e.State = journal.State(state)
	if completed.Valid {
		e.CompletedAt = completed.Time
	}
	if len(e.SignatureIDs) == 0 {
		e.SignatureIDs = nil
	}
	return e, nil
}

// Record implements journal.Journal: the entry is inserted under the
// fenced claim, and never replaced.
func (j *Journal) Record(ctx context.Context, l journal.Lease, e journal.Entry) error {
	if e.ID != l.ID {
		return fmt.Errorf("journal: record %q under the lease of %q", e.ID, l.ID)
	}
	if e.SignedTx == "" || e.Chain == "" {
		return errors.New("journal: record needs the chain and the signed transaction")
	}
	var nonce pgtype.Int8
	if e.Nonce != nil {
		if *e.Nonce > 1<<62 {
			return fmt.Errorf("journal: nonce %d out of range", *e.Nonce)
		}
		nonce = pgtype.Int8{Int64: int64(*e.Nonce), Valid: true}
	}
	sigs := e.SignatureIDs
	if sigs == nil {
		sigs = []string{}
	}
	ttl := j.leases.ttl(l)
	if !nonce.Valid {
		return j.recordPlain(ctx, l, e, sigs, ttl)
	}
	var sent, expires time.Time
	err := j.tx(ctx, "record", func(tx pgx.Tx, again bool) error {
		if _, err := j.fence(ctx, tx, l); err != nil {
			return err
		}
		// The lease is extended with the record (see Renew).
		sent = time.Now()
		err := tx.QueryRow(ctx, `WITH x AS (
				UPDATE gokms_claims SET expires_at = greatest(expires_at, now() + $11::bigint * interval '1 microsecond') WHERE id = $1
				RETURNING expires_at)
			INSERT INTO gokms_entries (id, chain, testnet, signature_ids, withdrawal_id, signed_tx, tx_id, sender, nonce,
				state, owner, recorded_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'signed', $10, clock_timestamp(), clock_timestamp())
			ON CONFLICT (id) DO NOTHING RETURNING (SELECT expires_at FROM x)`,
			e.ID, e.Chain, e.Testnet, sigs, e.WithdrawalID, e.SignedTx, e.TxID, e.Sender, nonce, l.Owner, micros(ttl)).Scan(&expires)
		inserted := err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			err = nil
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "gokms_entries_nonce" {
			// Another claim journaled this nonce while this one stalled past
			// its lease: these bytes must never be broadcast.
			return fmt.Errorf("%s: nonce %d of %s is already journaled for another pending transaction; not recording (the transaction is signed again with a free nonce)",
				e.ID, *e.Nonce, e.Sender)
		}
		if err != nil {
			return err
		}
		if !inserted {
			if again {
				// Our earlier attempt may have committed: the same bytes by
				// the same owner are our own record.
				var same bool
				if err := tx.QueryRow(ctx, `SELECT owner = $2 AND signed_tx = $3 FROM gokms_entries WHERE id = $1`, e.ID, l.Owner, e.SignedTx).Scan(&same); err == nil && same {
					return nil
				}
			}
			return fmt.Errorf("%s: %w", e.ID, journal.ErrExists)
		}
		// The entry holds its nonce now; the claim's reservations end.
		_, err = tx.Exec(ctx, `DELETE FROM gokms_nonces WHERE pending_id = $1`, e.ID)
		return err
	})
	if err == nil && ttl > 0 {
		j.leases.confirmed(l, ttl, sent, expires)
	}
	return err
}

// recordPlain is Record for an entry without a nonce (UTXO chains), in one
// statement: the fence (a locking read of the claim row), the insert, and
// the freeing of any nonce reservation the id held.
func (j *Journal) recordPlain(ctx context.Context, l journal.Lease, e journal.Entry, sigs []string, ttl time.Duration) error {
	again := false
	return j.retry(ctx, "record", func() error {
		var n int
		var expires pgtype.Timestamptz
		// f is the fence, and extends the lease (see Renew).
		sent := time.Now()
		err := j.pool.QueryRow(ctx, `WITH f AS (
				UPDATE gokms_claims SET expires_at = greatest(expires_at, now() + $12::bigint * interval '1 microsecond')
				WHERE id = $1 AND owner = $10 AND token = $11 AND NOT released RETURNING expires_at),
			ins AS (
				INSERT INTO gokms_entries (id, chain, testnet, signature_ids, withdrawal_id, signed_tx, tx_id, sender, nonce,
					state, owner, recorded_at, updated_at)
				SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9::bigint, 'signed', $10, clock_timestamp(), clock_timestamp()
				WHERE EXISTS (SELECT 1 FROM f)
				ON CONFLICT (id) DO NOTHING RETURNING id),
			r AS (
				DELETE FROM gokms_nonces WHERE pending_id = $1 AND EXISTS (SELECT 1 FROM ins) RETURNING 1)
			SELECT (SELECT count(*) FROM ins) + 0 * (SELECT count(*) FROM r), (SELECT expires_at FROM f)`,
			e.ID, e.Chain, e.Testnet, sigs, e.WithdrawalID, e.SignedTx, e.TxID, e.Sender, nil, l.Owner, int64(l.Token), micros(ttl)).Scan(&n, &expires)
		if err != nil {
			if retryable(err) {
				again = true
			}
			return err
		}
		if n == 1 {
			if ttl > 0 && expires.Valid {
				j.leases.confirmed(l, ttl, sent, expires.Time)
			}
			return nil
		}
		// Nothing inserted: fenced, or journaled already (by our own
		// earlier attempt, if its outcome was unknown).
		var fenceOK, exists, ours bool
		if err := j.pool.QueryRow(ctx, `SELECT
				EXISTS (SELECT 1 FROM gokms_claims WHERE id = $1 AND owner = $2 AND token = $3 AND NOT released),
				EXISTS (SELECT 1 FROM gokms_entries WHERE id = $1),
				EXISTS (SELECT 1 FROM gokms_entries WHERE id = $1 AND owner = $2 AND signed_tx = $4)`,
			l.ID, l.Owner, int64(l.Token), e.SignedTx).Scan(&fenceOK, &exists, &ours); err != nil {
			return err
		}
		switch {
		case !fenceOK:
			return j.fenced(l)
		case again && ours:
			return nil
		case exists:
			return fmt.Errorf("%s: %w", e.ID, journal.ErrExists)
		}
		return fmt.Errorf("%s: journal entry not recorded for an unknown reason; try again", e.ID)
	})
}

// mutate runs one UPDATE of l's entry under the fence, in one statement.
// With async, the update commits without waiting for its WAL flush.
func (j *Journal) mutate(ctx context.Context, op string, l journal.Lease, async bool, set string, args ...any) error {
	all := append([]any{l.ID, l.Owner, int64(l.Token)}, args...)
	q := `WITH f AS (SELECT 1 FROM gokms_claims WHERE id = $1 AND owner = $2 AND token = $3 AND NOT released FOR UPDATE)
			UPDATE gokms_entries SET ` + set + `, updated_at = clock_timestamp() WHERE id = $1 AND EXISTS (SELECT 1 FROM f)`
	return j.retry(ctx, op, func() error {
		var tag pgconn.CommandTag
		var err error
		if async {
			b := &pgx.Batch{}
			b.Queue(asyncCommit)
			b.Queue(q, all...)
			br := j.pool.SendBatch(ctx, b)
			if _, err = br.Exec(); err == nil {
				tag, err = br.Exec()
			}
			if cerr := br.Close(); err == nil {
				err = cerr
			}
		} else {
			tag, err = j.pool.Exec(ctx, q, all...)
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		var fencedOK, exists bool
		if err := j.pool.QueryRow(ctx, `SELECT
				EXISTS (SELECT 1 FROM gokms_claims WHERE id = $1 AND owner = $2 AND token = $3 AND NOT released),
				EXISTS (SELECT 1 FROM gokms_entries WHERE id = $1)`, l.ID, l.Owner, int64(l.Token)).Scan(&fencedOK, &exists); err != nil {
			return err
		}
		if !fencedOK {
			return j.fenced(l)
		}
		if !exists {
			return fmt.Errorf("%s: %w", l.ID, journal.ErrNotFound)
		}
		return fmt.Errorf("%s: journal entry changed under a concurrent write; try again", l.ID)
	})
}

// MarkAttempt implements journal.Journal.
func (j *Journal) MarkAttempt(ctx context.Context, l journal.Lease, errText string) error {
	return j.mutate(ctx, "mark attempt", l, false, `broadcasts = broadcasts + 1, last_error = $4`, errText)
}

// MarkBroadcast implements journal.Journal: the fence is checked in the
// same statement (and transaction) that records the broadcast.
func (j *Journal) MarkBroadcast(ctx context.Context, l journal.Lease, txID string) error {
	if txID == "" {
		return fmt.Errorf("%s: %w: broadcast without a txId", l.ID, journal.ErrBadTransition)
	}
	return j.mutate(ctx, "mark broadcast", l, false,
		`tx_id = $4, last_error = '', state = CASE WHEN state = 'completed' THEN state ELSE 'broadcast' END`, txID)
}

// MarkCompleted implements journal.Journal.
func (j *Journal) MarkCompleted(ctx context.Context, l journal.Lease, txID string) error {
	if txID == "" {
		return fmt.Errorf("%s: %w: completed without a txId", l.ID, journal.ErrBadTransition)
	}
	// Its durability may lag (journal.Journal): committed asynchronously. A
	// completion lost in a server crash leaves the entry open; the next
	// claim finds the transaction complete in Tatum and never re-signs.
	err := j.mutate(ctx, "mark completed", l, true,
		`tx_id = $4, last_error = '', state = 'completed', completed_at = coalesce(completed_at, clock_timestamp())`, txID)
	if err == nil {
		j.leases.completed(l)
	}
	return err
}

// Get implements journal.Journal.
func (j *Journal) Get(ctx context.Context, id string) (journal.Entry, error) {
	var e journal.Entry
	err := j.retry(ctx, "get", func() (err error) {
		e, err = scanEntry(j.pool.QueryRow(ctx, selectEntry+` WHERE id = $1`, id))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return e, fmt.Errorf("%s: %w", id, journal.ErrNotFound)
	}
	return e, err
}

// List implements journal.Journal.
func (j *Journal) List(ctx context.Context, open bool) ([]journal.Entry, error) {
	q := selectEntry + ` ORDER BY recorded_at, id`
	if open {
		q = selectEntry + ` WHERE state <> 'completed' ORDER BY recorded_at, id`
	}
	var out []journal.Entry
	err := j.retry(ctx, "list", func() error {
		out = nil
		rows, err := j.pool.Query(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}

// Forget implements journal.Journal. An unfinished entry's EVM nonce is
// freed (if its transaction reached the chain, the node's pending nonce
// has passed it and it is never handed out).
func (j *Journal) Forget(ctx context.Context, id string) error {
	return j.tx(ctx, "forget", func(tx pgx.Tx, again bool) error {
		var owner string
		var live bool
		err := tx.QueryRow(ctx, `SELECT owner, NOT released AND expires_at > now() FROM gokms_claims WHERE id = $1 FOR UPDATE`, id).Scan(&owner, &live)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var state string
		err2 := tx.QueryRow(ctx, `SELECT state FROM gokms_entries WHERE id = $1 FOR UPDATE`, id).Scan(&state)
		if errors.Is(err2, pgx.ErrNoRows) {
			if again {
				return nil // our earlier attempt committed
			}
			return fmt.Errorf("%s: %w", id, journal.ErrNotFound)
		}
		if err2 != nil {
			return err2
		}
		if live {
			return fmt.Errorf("%s: %w (%s); stop the daemon first", id, journal.ErrClaimed, owner)
		}
		// Deleting the entry unbinds its nonce (if its transaction reached
		// the chain, the node's pending nonce has passed it).
		if _, err = tx.Exec(ctx, `DELETE FROM gokms_nonces WHERE pending_id = $1`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM gokms_entries WHERE id = $1`, id)
		return err
	})
}

// Add implements journal.Journal.
func (j *Journal) Add(ctx context.Context, key, ref string, at time.Time, amount *big.Int) error {
	if key == "" || ref == "" || amount == nil {
		return errors.New("journal: counter add needs a key, a ref and an amount")
	}
	n := pgtype.Numeric{Int: new(big.Int).Set(amount), Valid: true}
	defer j.maybePrune()
	return j.retry(ctx, "counter add", func() error {
		_, err := j.pool.Exec(ctx, `INSERT INTO gokms_counters (key, ref, at, amount) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, key, ref, at, n)
		return err
	})
}

// SumSince implements journal.Journal.
func (j *Journal) SumSince(ctx context.Context, key string, since time.Time) (*big.Int, error) {
	var s string
	err := j.retry(ctx, "counter sum", func() error {
		return j.pool.QueryRow(ctx, `SELECT coalesce(sum(amount), 0)::text FROM gokms_counters WHERE key = $1 AND at >= $2`, key, since).Scan(&s)
	})
	if err != nil {
		return nil, err
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("journal: counter %s sums to %q, not an integer", key, s)
	}
	return v, nil
}

// Status is what `gokms state status` shows.
type Status struct {
	State         string `json:"state"`         // the URL, password masked
	SchemaVersion int    `json:"schemaVersion"` // 0: never migrated
	Latest        int    `json:"latestVersion"` // what this gokms writes
	Entries       int64  `json:"entries"`       // journaled transactions
	Open          int64  `json:"open"`          // signed, not yet completed
	LiveClaims    int64  `json:"liveClaims"`    // pending ids being processed now
	Owners        int64  `json:"owners"`        // daemons holding live claims
}

// Status reads the schema version and the journal's counts.
func (j *Journal) Status(ctx context.Context) (Status, error) {
	st := Status{State: j.dsn, Latest: LatestVersion()}
	v, err := SchemaVersion(ctx, j.pool)
	if err != nil {
		return st, j.clean(err)
	}
	st.SchemaVersion = v
	if v == 0 {
		return st, nil
	}
	err = j.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM gokms_entries),
		(SELECT count(*) FROM gokms_entries WHERE state <> 'completed'),
		(SELECT count(*) FROM gokms_claims WHERE NOT released AND expires_at > now()),
		(SELECT count(DISTINCT owner) FROM gokms_claims WHERE NOT released AND expires_at > now())`).
		Scan(&st.Entries, &st.Open, &st.LiveClaims, &st.Owners)
	return st, j.clean(err)
}

// Collector returns the journal's Prometheus metrics (claims won and lost,
// lease expiries, recoveries, fenced writes, retries).
func (j *Journal) Collector() prometheus.Collector { return j.m }
