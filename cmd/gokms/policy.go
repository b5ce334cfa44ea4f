package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/audit"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/policy"
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
		&cli.StringFlag{Name: flagJournal, Usage: "explain: journal to read the rolling 24-hour totals from (default " + journal.DefaultName + " beside the wallet store; the daemon must be stopped)"},
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
	&cli.StringFlag{Name: flagAudit, Usage: "audit log (hash-chained JSON lines, see docs/audit.md); default " + audit.DefaultName + " beside the wallet store; off to disable"},
	&cli.StringFlag{Name: flagInstance, Usage: "name of this daemon in the audit log (default host:pid)"},
}

// checkPolicyFile loads --policy before the daemon opens (and creates)
// anything: a bad file changes nothing.
func checkPolicyFile(c *cli.Context) error { return kms.CheckPolicyFile(c.String(flagPolicy)) }

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
	out, err := kms.PolicyExplain(c.Context, c.String(flagPolicy), journalPath(c), read, isTestnet(c))
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

// daemonHooks are the policy approver and the audit trail of `gokms daemon`.
type daemonHooks struct {
	metrics    *daemon.Metrics
	approvers  []daemon.Approver
	onDecision func(daemon.Decision)
	onEvent    func(daemon.Event)
	close      func()
}

// policyAndAudit builds the daemon's policy approver (--policy, with the
// journal's counters) and audit trail (--audit), before any password
// prompt, so a bad policy file stops the daemon at once.
func policyAndAudit(c *cli.Context, j journal.Journal) (*daemonHooks, error) {
	h := &daemonHooks{metrics: daemon.NewMetrics(), close: func() {}}
	log := logger(c)
	var pa *policy.Approver
	if path := strings.TrimSpace(c.String(flagPolicy)); path != "" {
		f, err := policy.Load(expandHome(path))
		if err != nil {
			return nil, err
		}
		p, err := policy.New(f, j)
		if err != nil {
			return nil, err
		}
		// The file journal is held by this daemon alone (locked), so a
		// rolling total read from it stays valid between reads but for
		// what this process adds, which the policy counts itself.
		p.CacheTotals(10 * time.Second)
		if pa, err = policy.NewApprover(p, h.metrics.Registry()); err != nil {
			return nil, err
		}
		h.approvers = append(h.approvers, pa)
		log.Info("signing policy loaded", "path", path, "chains", len(f.Chains), "wallets", len(f.Wallets), "rules", len(f.Rules))
	}
	ap := strings.TrimSpace(c.String(flagAudit))
	if ap == "off" {
		log.Warn("audit trail off (--audit off)")
		return h, nil
	}
	if ap == "" {
		ap = auditBeside(c)
	}
	sink, err := audit.OpenFile(expandHome(ap))
	if err != nil {
		return nil, err
	}
	instance := strings.TrimSpace(c.String(flagInstance))
	if instance == "" {
		host, _ := os.Hostname()
		instance = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	trail := audit.NewTrail(sink, instance, log)
	if pa != nil {
		pa.OnDecide = trail.NotePolicy
	}
	h.approvers = append(h.approvers, trail.Approver()) // after the policy: see audit.Trail
	h.onDecision, h.onEvent = trail.OnDecision, trail.OnEvent
	h.close = func() {
		if err := sink.Close(); err != nil {
			log.Error("close the audit log", "error", err.Error())
		}
	}
	log.Info("audit log opened", "path", sink.Path(), "instance", instance)
	return h, nil
}
