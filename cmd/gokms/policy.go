package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/kms"
)

const (
	flagPolicy   = "policy"
	flagAudit    = "audit"
	flagInstance = "instance"
)

// policy and audit dispatch on their first argument, as journal does
// (flags go anywhere on the line; see reorder.go).
var policyCmd = &cli.Command{
	Name:      "policy",
	Usage:     "signing policy: policy check FILE | policy explain --policy FILE <pending-json>",
	ArgsUsage: "check FILE | explain --policy FILE <pending-json file, or - for stdin>",
	Description: "The daemon's --policy file holds rules every transaction must pass before it is signed and, on the\n" +
		"signed bytes, before it is broadcast. `check` validates a file (YAML or JSON, CEL rules included);\n" +
		"`explain` shows the decision and the rule for one pending transaction (a file with its JSON as\n" +
		"GET /v3/kms/{id} returns it, - for stdin) without signing anything, and exits 1 if it is refused.\n" +
		"See docs/policy.md.",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: flagPolicy, Usage: "explain: the policy file"},
		&cli.StringFlag{Name: flagJournal, Usage: "explain: journal to read the rolling 24-hour totals from (default " + kms.JournalDefaultName + " beside the wallet store; the daemon must be stopped)"},
		stateFlag(), // explain: with a PostgreSQL state, the totals are the shared ones
	},
	Action: func(c *cli.Context) error {
		switch c.Args().First() {
		case "check":
			return cmdPolicyCheck(c)
		case "explain":
			return cmdPolicyExplain(c)
		}
		return fmt.Errorf("policy: want check FILE or explain --policy FILE <pending-json>")
	},
}

func policyCommands() []*cli.Command { return []*cli.Command{policyCmd} }

// policyDaemonFlags are the daemon's --policy, --audit and --instance.
var policyDaemonFlags = []cli.Flag{
	&cli.StringFlag{Name: flagPolicy, Usage: "signing policy file (YAML or JSON, see docs/policy.md): every transaction is checked before it is signed and before it is broadcast; refusals are reported to Tatum"},
	&cli.StringFlag{Name: flagAudit, Usage: "audit log (hash-chained JSON lines, see docs/audit.md); default " + kms.AuditDefaultName + " beside the wallet store; off to disable"},
	&cli.StringFlag{Name: flagInstance, Usage: "name of this daemon in the audit log (default host:pid)"},
}

func cmdPolicyCheck(c *cli.Context) error {
	if c.NArg() != 2 {
		return errors.New("policy check: want one policy file, e.g. gokms policy check /etc/gokms/policy.yaml")
	}
	f, err := kms.PolicyCheck(c.Args().Get(1))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "policy %s: ok (%d chain sections, %d wallet rules, %d CEL rules; unlisted transactions: %s)\n",
		c.Args().Get(1), f.Chains, f.Wallets, f.Rules, f.Unlisted)
	return nil
}

func cmdPolicyExplain(c *cli.Context) error {
	if c.NArg() != 2 {
		return errors.New("policy explain: want one pending transaction: a file with its JSON (as GET /v3/kms/{id} returns it), or - for stdin")
	}
	if c.String(flagPolicy) == "" {
		return errors.New("policy explain: give the policy with --policy FILE")
	}
	read := func() ([]byte, error) {
		if a := c.Args().Get(1); a != "-" {
			return os.ReadFile(a)
		}
		return io.ReadAll(io.LimitReader(os.Stdin, 16<<20))
	}
	totals := kms.Totals{JournalPath: journalPath(c), Logger: logger(c)}
	// With a PostgreSQL state (--state or GOKMS_STATE), the totals every
	// daemon sharing it counts.
	dsn, isPG, err := kms.StateDSN(c.IsSet(flagState), c.String(flagState), config(c).State)
	if err != nil {
		return err
	}
	if isPG {
		totals.StateDSN = dsn
	}
	out, err := kms.PolicyExplain(c.Context, c.String(flagPolicy), totals, read, isTestnet(c))
	if err != nil {
		return err
	}
	if err := printJSON(c, out); err != nil {
		return err
	}
	if !out.Allowed() {
		return fmt.Errorf("policy explain: refused by rule %s (the decision is printed above)", out.Rule)
	}
	return nil
}
