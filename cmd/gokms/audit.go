package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/daemon/audit"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/journal/pgjournal"
)

const (
	flagSince  = "since"
	flagWallet = "wallet"
)

var auditCmd = &cli.Command{
	Name:      "audit",
	Usage:     "the daemon's audit trail: audit verify | audit list --since … --chain … --wallet …",
	ArgsUsage: "verify | list",
	Description: "The daemon appends every decision (signed, refused by policy or four-eye, failed, broadcast, completed)\n" +
		"to a hash-chained log. `verify` checks the chain and names any edited, removed or reordered entry\n" +
		"(exit 1); `list` prints entries as JSON, oldest first. With a PostgreSQL state (--state or " + envState + ")\n" +
		"and no --audit, the trail is the state's table, one chain for every daemon sharing it. See docs/audit.md.",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: flagAudit, Usage: "audit log (default " + audit.DefaultName + " beside the wallet store)"},
		&cli.StringFlag{Name: flagSince, Usage: "list: only entries at or after this time: RFC 3339 (2026-12-01T08:00:00Z) or a duration back from now (24h)"},
		&cli.StringFlag{Name: flagChain, Usage: "list: only this chain, e.g. BTC"},
		&cli.StringFlag{Name: flagWallet, Usage: "list: only transactions signed by this signatureId"},
		&cli.StringFlag{Name: "id", Usage: "list: only this pending transaction id"},
		stateFlag(), // with a PostgreSQL state (and no --audit), the trail is its table
	},
	Action: func(c *cli.Context) error {
		switch c.Args().First() {
		case "verify":
			return cmdAuditVerify(c)
		case "list":
			return cmdAuditList(c)
		}
		return fmt.Errorf("audit: want verify or list")
	},
}

func auditCommands() []*cli.Command { return []*cli.Command{auditCmd} }

// auditBeside is the default audit log: DefaultName beside the file store
// (for a remote backend, beside --path or ~/.tatumrc/wallet.dat).
func auditBeside(c *cli.Context) string {
	if u, err := backend.ParseAddress(backendAddr(c)); err == nil && u.Scheme == "file" && u.Path != "" {
		return audit.PathBeside(expandHome(u.Path))
	}
	return audit.PathBeside(storePath(c))
}

func auditPath(c *cli.Context) string {
	if p := strings.TrimSpace(c.String(flagAudit)); p != "" {
		return expandHome(p)
	}
	return auditBeside(c)
}

func cmdAuditVerify(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("audit verify takes no arguments; give the log with --audit FILE")
	}
	r, path, err := verifyAudit(c)
	if err != nil {
		return err
	}
	if r.Torn {
		fmt.Fprintf(c.App.ErrWriter, "note: the last line of %s was cut short by a crash; it was never acknowledged and is not an entry\n", path)
	}
	if !r.OK() {
		for _, p := range r.Problems {
			fmt.Fprintf(c.App.ErrWriter, "%s: %s\n", path, p)
		}
		return fmt.Errorf("audit log %s is NOT intact: %d problem(s) in %d entries", path, len(r.Problems), r.Entries)
	}
	fmt.Fprintf(c.App.Writer, "audit log %s: %d entries, intact (last entry %d, hash %s)\n", path, r.Entries, r.LastSeq, r.LastHash)
	return nil
}

func cmdAuditList(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("audit list takes no arguments; filter with --since, --chain, --wallet, --id")
	}
	f := audit.Filter{Chain: c.String(flagChain), Wallet: c.String(flagWallet), ID: c.String("id")}
	if s := strings.TrimSpace(c.String(flagSince)); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			f.Since = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339, s); err == nil {
			f.Since = t
		} else {
			return fmt.Errorf("--since %q: want RFC 3339 (2026-12-01T08:00:00Z) or a duration such as 24h", s)
		}
	}
	es, err := listAudit(c, f)
	if err != nil {
		return err
	}
	if es == nil {
		es = []audit.Entry{}
	}
	return printJSON(c, es)
}

// auditState is the PostgreSQL state whose table holds the audit trail:
// --state or GOKMS_STATE names one and --audit does not name a file.
func auditState(c *cli.Context) (dsn string, ok bool, err error) {
	if strings.TrimSpace(c.String(flagAudit)) != "" {
		return "", false, nil
	}
	return stateDSN(c)
}

func openAuditState(c *cli.Context, dsn string) (*pgjournal.Journal, error) {
	return pgjournal.Open(c.Context, dsn, pgjournal.Options{NoMigrate: true, Logger: logger(c), RetryFor: 10 * time.Second})
}

// verifyAudit checks the trail: the state's table, or the --audit file.
func verifyAudit(c *cli.Context) (*audit.Report, string, error) {
	dsn, ok, err := auditState(c)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		path := auditPath(c)
		r, err := audit.Verify(path)
		return r, path, err
	}
	j, err := openAuditState(c, dsn)
	if err != nil {
		return nil, "", err
	}
	defer j.Close()
	r, err := j.VerifyAudit(c.Context)
	return r, "audit trail in " + j.DSN(), err
}

func listAudit(c *cli.Context, f audit.Filter) ([]audit.Entry, error) {
	dsn, ok, err := auditState(c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return audit.List(auditPath(c), f)
	}
	j, err := openAuditState(c, dsn)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	return j.ListAudit(c.Context, f)
}

// auditSink is the daemon's audit sink, and where it writes: with a
// PostgreSQL state and no --audit FILE, the state's table (one chain for
// every daemon sharing it); else the file (default beside the store).
func auditSink(c *cli.Context, j journal.Journal, path string) (audit.Sink, string, error) {
	if pj, ok := j.(*pgjournal.Journal); ok && path == "" {
		s := pj.AuditSink()
		return s, s.Path(), nil
	}
	if path == "" {
		path = auditBeside(c)
	}
	f, err := audit.OpenFile(expandHome(path))
	if err != nil {
		return nil, "", err
	}
	return f, f.Path(), nil
}
