package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/kms"
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
		"(exit 1); `list` prints entries as JSON, oldest first. With a PostgreSQL state (--state or " + kms.EnvState + ")\n" +
		"and no --audit, the trail is the state's table, one chain for every daemon sharing it. See docs/audit.md.",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: flagAudit, Usage: "audit log (default " + kms.AuditDefaultName + " beside the wallet store)"},
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

func auditPath(c *cli.Context) string {
	return kms.AuditPath(c.String(flagAudit), backendAddr(c), storePath(c))
}

// auditSource: the --audit file, or with a PostgreSQL state (--state or
// GOKMS_STATE) and no --audit, the state's table.
func auditSource(c *cli.Context) (kms.AuditSource, error) {
	dsn, isPG, err := kms.StateDSN(c.IsSet(flagState), c.String(flagState), config(c).State)
	if err != nil {
		return kms.AuditSource{}, err
	}
	src := kms.AuditSource{File: auditPath(c), FileSet: strings.TrimSpace(c.String(flagAudit)) != "", Logger: logger(c)}
	if isPG {
		src.StateDSN = dsn
	}
	return src, nil
}

func cmdAuditVerify(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("audit verify takes no arguments; give the log with --audit FILE")
	}
	src, err := auditSource(c)
	if err != nil {
		return err
	}
	r, path, err := kms.AuditVerifyFrom(c.Context, src)
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
	f := kms.AuditFilter{Chain: c.String(flagChain), Wallet: c.String(flagWallet), ID: c.String("id")}
	if s := strings.TrimSpace(c.String(flagSince)); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			f.Since = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339, s); err == nil {
			f.Since = t
		} else {
			return fmt.Errorf("--since %q: want RFC 3339 (2026-12-01T08:00:00Z) or a duration such as 24h", s)
		}
	}
	src, err := auditSource(c)
	if err != nil {
		return err
	}
	es, err := kms.AuditListFrom(c.Context, src, f)
	if err != nil {
		return err
	}
	return printJSON(c, es)
}
