package main

// Shared daemon state on PostgreSQL: the flags of `gokms state
// migrate|status` and of the daemon's --state and --lease; the use cases
// are kms.StateMigrate, kms.StateStatus and kms.NewDaemon (see
// docs/daemon-state.md).

import (
	"github.com/urfave/cli/v2"

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

const flagLease = kms.FlagLease

func stateCommands() []*cli.Command { return []*cli.Command{stateCmd} }

// stateDaemonFlags are the daemon's --state and --lease.
var stateDaemonFlags = []cli.Flag{
	&cli.StringFlag{Name: flagState, Usage: "daemon state shared by several daemons: postgres://user@host:5432/db?sslmode=verify-full&sslrootcert=/path/ca.crt " +
		"(env " + envState + ", which may hold the password; on the command line it may not). Default: the local --journal file. See docs/daemon-state.md"},
	&cli.DurationFlag{Name: flagLease, Usage: "how long a claim on a pending transaction lasts; with a shared --state, the transactions of a daemon that died " +
		"are taken over by another after this long (default the transaction timeout + 30s, 2m30s)"},
}

func cmdStateMigrate(c *cli.Context) error {
	dsn, err := kms.RequireStateDSN(c.IsSet(flagState), c.String(flagState), config(c).State)
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
	dsn, err := kms.RequireStateDSN(c.IsSet(flagState), c.String(flagState), config(c).State)
	if err != nil {
		return err
	}
	st, err := kms.StateStatus(c.Context, dsn, logger(c))
	if err != nil {
		return err
	}
	return printJSON(c, st)
}
