package pgjournal

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one versioned schema step, migrations/NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// migrateLock is the advisory lock key under which migrations run, so that
// daemons starting together apply each step once.
const migrateLock int64 = 0x676f6b6d735f7631 // "gokms_v1"

// Migrations returns the embedded migrations in order. Versions are
// contiguous from 1: a gap is a packaging mistake.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, n := range names {
		base := path.Base(n)
		num, rest, ok := strings.Cut(strings.TrimSuffix(base, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: rest, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations: version %d where %d was expected", m.Version, i+1)
		}
	}
	return ms, nil
}

// LatestVersion is the schema version this gokms writes.
func LatestVersion() int {
	ms, err := Migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// ErrSchemaTooNew means the database was migrated by a newer gokms.
var ErrSchemaTooNew = errors.New("the database's gokms state schema is newer than this gokms")

// MigrateResult says what Migrate found and did.
type MigrateResult struct {
	From    int   `json:"from"`    // version before
	To      int   `json:"to"`      // version after
	Applied []int `json:"applied"` // versions applied now (empty: already current)
}

// Migrate brings the schema to LatestVersion: each pending step runs in its
// own transaction together with the row that records it, under a session
// advisory lock (several daemons starting at once wait for each other and
// apply a step once). A database at a newer version is refused, untouched.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (MigrateResult, error) {
	var res MigrateResult
	ms, err := Migrations()
	if err != nil {
		return res, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return res, fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return res, fmt.Errorf("take the migration lock: %w", err)
	}
	defer func() {
		// A lost connection drops the lock with it; the error is moot then.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS gokms_schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return res, fmt.Errorf("create gokms_schema_migrations: %w", err)
	}
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM gokms_schema_migrations").Scan(&res.From); err != nil {
		return res, fmt.Errorf("read the schema version: %w", err)
	}
	res.To = res.From
	latest := ms[len(ms)-1].Version
	if res.From > latest {
		return res, fmt.Errorf("%w: it is at version %d, this gokms knows versions up to %d; run the newer gokms (or point the state at another database)",
			ErrSchemaTooNew, res.From, latest)
	}
	for _, m := range ms[res.From:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO gokms_schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("apply schema migration %04d_%s: %w", m.Version, m.Name, err)
		}
		res.To = m.Version
		res.Applied = append(res.Applied, m.Version)
	}
	return res, nil
}

// SchemaVersion reads the database's schema version (0: never migrated).
func SchemaVersion(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass('gokms_schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM gokms_schema_migrations").Scan(&v)
	return v, err
}
