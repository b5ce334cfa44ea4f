package kms

// The state commands' use cases (moved from cmd/gokms/state.go): the
// daemon state shared in PostgreSQL, `gokms state migrate | status`.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gokms/gokms/daemon/journal/pgjournal"
)

// StateDSN returns the shared state URL from --state (flagSet, flagValue;
// it must not carry a password: argv is readable by every user of the
// machine) or GOKMS_STATE (envValue). ok is false when neither names a
// PostgreSQL state.
func StateDSN(flagSet bool, flagValue, envValue string) (dsn string, ok bool, err error) {
	if flagSet {
		v := strings.TrimSpace(flagValue)
		if pgjournal.IsDSN(v) && pgjournal.HasPassword(v) {
			return "", false, fmt.Errorf("--%s %s: the URL holds a password, which every user of this machine can read in the process list; "+
				"put the URL in %s instead, or the password in PGPASSWORD or a ~/.pgpass file (passfile=…)", FlagState, pgjournal.MaskDSN(v), EnvState)
		}
		return v, pgjournal.IsDSN(v), nil
	}
	v := strings.TrimSpace(envValue)
	return v, pgjournal.IsDSN(v), nil
}

// RequireStateDSN is StateDSN for the state commands: a PostgreSQL URL or an error.
func RequireStateDSN(flagSet bool, flagValue, envValue string) (string, error) {
	dsn, ok, err := StateDSN(flagSet, flagValue, envValue)
	if err != nil {
		return "", err
	}
	if !ok {
		if dsn == "" {
			return "", fmt.Errorf("no shared state: give --%s postgres://user@host:5432/db (or set %s)", FlagState, EnvState)
		}
		return "", fmt.Errorf("--%s / %s %q: want a postgres:// or postgresql:// URL (the local journal file needs no migration)", FlagState, EnvState, pgjournal.MaskDSN(dsn))
	}
	return dsn, nil
}

// StateMigrateResult is what `state migrate` prints; its fields in the
// order the JSON has always had (a map's, sorted).
type StateMigrateResult struct {
	Applied []int  `json:"applied"`
	From    int    `json:"from"`
	State   string `json:"state"` // the URL, password masked
	To      int    `json:"to"`
}

// StateMigrate creates or upgrades the shared state's schema.
func StateMigrate(ctx context.Context, dsn string, log *slog.Logger) (StateMigrateResult, error) {
	j, err := pgjournal.Open(ctx, dsn, pgjournal.Options{NoMigrate: true, SkipVersionCheck: true, Logger: log, RetryFor: 10 * time.Second})
	if err != nil {
		return StateMigrateResult{}, err
	}
	defer j.Close()
	res, err := pgjournal.Migrate(ctx, j.Pool())
	if err != nil {
		if errors.Is(err, pgjournal.ErrSchemaTooNew) {
			return StateMigrateResult{}, fmt.Errorf("state %s: %w", j.DSN(), err)
		}
		return StateMigrateResult{}, fmt.Errorf("state %s: migrate: %w", j.DSN(), err)
	}
	if res.Applied == nil {
		res.Applied = []int{}
	}
	return StateMigrateResult{State: j.DSN(), From: res.From, To: res.To, Applied: res.Applied}, nil
}

// StateStatus returns the shared state's schema version, journal entries and live claims.
func StateStatus(ctx context.Context, dsn string, log *slog.Logger) (pgjournal.Status, error) {
	j, err := pgjournal.Open(ctx, dsn, pgjournal.Options{NoMigrate: true, SkipVersionCheck: true, Logger: log, RetryFor: 10 * time.Second})
	if err != nil {
		return pgjournal.Status{}, err
	}
	defer j.Close()
	st, err := j.Status(ctx)
	if err != nil {
		return pgjournal.Status{}, fmt.Errorf("state %s: %w", j.DSN(), err)
	}
	return st, nil
}
