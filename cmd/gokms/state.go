package main

// Shared daemon state on PostgreSQL: `gokms state migrate|status`, and the
// helper `gokms daemon` uses when its state is a postgres:// URL (see
// docs/daemon-state.md).

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/journal/pgjournal"
	"github.com/gokms/gokms/kms"
)

const (
	flagState = kms.FlagState
	envState  = kms.EnvState
)

var stateCmd = &cli.Command{
	Name:  "state",
	Usage: "manage the daemon state shared by several daemons in PostgreSQL (--state postgres://… or " + envState + ")",
	Description: "The daemon keeps a journal of what it signed. By default it is a local file beside the wallet store\n" +
		"(one daemon). With --state postgres://user@host/db (or " + envState + ") several daemons share one queue\n" +
		"in PostgreSQL and never sign a pending transaction twice. See docs/daemon-state.md.",
	// On the parent: the argument reordering (reorder.go) moves flags in
	// front of the subcommand name; subcommands read it through the lineage.
	Flags: []cli.Flag{stateFlag()},
	Subcommands: []*cli.Command{
		{
			Name:  "migrate",
			Usage: "create or upgrade the state schema (the daemon does it at start; run this to do it with a privileged role first)",
			Description: "Applies the pending schema migrations of this gokms version, each in its own transaction, under an\n" +
				"advisory lock (daemons starting meanwhile wait). Prints {\"state\", \"from\", \"to\", \"applied\"} as JSON.\n" +
				"A database migrated by a newer gokms is refused and left untouched.",
			Action: cmdStateMigrate,
		},
		{
			Name:   "status",
			Usage:  "show the state's schema version, journal entries and live claims",
			Action: cmdStateStatus,
		},
	},
}

func stateFlag() cli.Flag {
	return &cli.StringFlag{Name: flagState, Usage: "PostgreSQL URL of the shared state, e.g. postgres://gokms@db:5432/gokms?sslmode=verify-full&sslrootcert=/etc/gokms/ca.crt " +
		"(env " + envState + "); the password goes in " + envState + ", PGPASSWORD or ~/.pgpass, never on the command line"}
}

const flagLease = "lease"

func stateCommands() []*cli.Command { return []*cli.Command{stateCmd} }

// stateDaemonFlags are the daemon's --state and --lease.
var stateDaemonFlags = []cli.Flag{
	&cli.StringFlag{Name: flagState, Usage: "daemon state shared by several daemons: postgres://user@host:5432/db?sslmode=verify-full&sslrootcert=/path/ca.crt " +
		"(env " + envState + ", which may hold the password; on the command line it may not). Default: the local --journal file. See docs/daemon-state.md"},
	&cli.DurationFlag{Name: flagLease, Usage: "how long a claim on a pending transaction lasts; with a shared --state, the transactions of a daemon that died " +
		"are taken over by another after this long (default the transaction timeout + 30s, 2m30s)"},
}

// openDaemonJournal opens the daemon's state: PostgreSQL when --state or
// GOKMS_STATE names it, else the local journal file. where names it for the
// log (a path, or the URL with its password masked).
func openDaemonJournal(c *cli.Context) (j journal.Journal, where string, err error) {
	dsn, ok, err := stateDSN(c)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		if dsn != "" {
			return nil, "", fmt.Errorf("--%s / %s %q: want a postgres:// or postgresql:// URL (for a local journal file use --%s)", flagState, envState, pgjournal.MaskDSN(dsn), flagJournal)
		}
		f, err := journal.OpenFile(journalPath(c), journal.FileOptions{})
		if err != nil {
			return nil, "", err
		}
		return f, f.Path(), nil
	}
	if strings.TrimSpace(c.String(flagJournal)) != "" {
		return nil, "", fmt.Errorf("--%s and a PostgreSQL state (--%s / %s) exclude each other: choose one", flagJournal, flagState, envState)
	}
	pj, err := openSharedState(c, dsn)
	if err != nil {
		return nil, "", err
	}
	return pj, pj.DSN(), nil
}

// daemonLease is --lease, checked.
func daemonLease(c *cli.Context) (time.Duration, error) {
	d := c.Duration(flagLease)
	if c.IsSet(flagLease) && (d < time.Second || d > time.Hour) {
		return 0, fmt.Errorf("--%s %v: want a duration between 1s and 1h, e.g. 30s", flagLease, d)
	}
	return d, nil
}

// registerStateMetrics adds the shared state's metrics (claims won and
// lost, lease expiries, recoveries, ...) to the daemon's /metrics.
func registerStateMetrics(d *daemon.Daemon, j journal.Journal) {
	if pj, ok := j.(*pgjournal.Journal); ok {
		d.Metrics().Registry().MustRegister(pj.Collector())
	}
}

// stateDSN returns the shared state URL from --state or GOKMS_STATE (kms.StateDSN).
func stateDSN(c *cli.Context) (dsn string, ok bool, err error) {
	return kms.StateDSN(c.IsSet(flagState), c.String(flagState), os.Getenv(envState))
}

// openSharedState opens the PostgreSQL state named by dsn, migrating its
// schema; errors and logs show the URL with its password masked.
func openSharedState(c *cli.Context, dsn string) (*pgjournal.Journal, error) {
	ctx, cancel := context.WithTimeout(c.Context, 2*time.Minute)
	defer cancel()
	return pgjournal.Open(ctx, dsn, pgjournal.Options{Logger: logger(c)})
}

func cmdStateMigrate(c *cli.Context) error {
	dsn, err := kms.RequireStateDSN(c.IsSet(flagState), c.String(flagState), os.Getenv(envState))
	if err != nil {
		return err
	}
	res, err := kms.StateMigrate(c.Context, dsn, logger(c))
	if err != nil {
		return err
	}
	return printJSON(c, res)
}

func cmdStateStatus(c *cli.Context) error {
	dsn, err := kms.RequireStateDSN(c.IsSet(flagState), c.String(flagState), os.Getenv(envState))
	if err != nil {
		return err
	}
	st, err := kms.StateStatus(c.Context, dsn, logger(c))
	if err != nil {
		return err
	}
	return printJSON(c, st)
}
