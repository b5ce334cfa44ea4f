package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/audit"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/policy"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/tatum"
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
func checkPolicyFile(c *cli.Context) error {
	if path := strings.TrimSpace(c.String(flagPolicy)); path != "" {
		_, err := policy.Load(expandHome(path))
		return err
	}
	return nil
}

func cmdPolicyCheck(c *cli.Context) error {
	if c.NArg() != 2 {
		return errors.New("policy check: want one policy file, e.g. gokms policy check /etc/gokms/policy.yaml")
	}
	f, err := policy.Load(c.Args().Get(1))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "policy %s: ok (%d chain sections, %d wallet rules, %d CEL rules; unlisted transactions: %s)\n",
		c.Args().Get(1), len(f.Chains), len(f.Wallets), len(f.Rules), f.Unlisted)
	return nil
}

// zeroCounters stand in for the journal when it cannot be read (a daemon
// holds it): explain then says the rolling totals were taken as zero.
type zeroCounters struct{}

func (zeroCounters) Add(context.Context, string, string, time.Time, *big.Int) error {
	return errors.New("explain adds nothing")
}
func (zeroCounters) SumSince(context.Context, string, time.Time) (*big.Int, error) {
	return new(big.Int), nil
}

type explanation struct {
	Decision string        `json:"decision"` // allowed or refused
	Rule     string        `json:"rule"`
	Reason   string        `json:"reason"`
	View     *signing.View `json:"view"`
	Notes    []string      `json:"notes,omitempty"`
}

func cmdPolicyExplain(c *cli.Context) error {
	if c.NArg() != 2 {
		return errors.New("policy explain: want one pending transaction: a file with its JSON (as GET /v3/kms/{id} returns it), or - for stdin")
	}
	if c.String(flagPolicy) == "" {
		return errors.New("policy explain: give the policy with --policy FILE")
	}
	f, err := policy.Load(c.String(flagPolicy))
	if err != nil {
		return err
	}
	var raw []byte
	if a := c.Args().Get(1); a == "-" {
		raw, err = io.ReadAll(io.LimitReader(os.Stdin, 16<<20))
	} else {
		raw, err = os.ReadFile(a)
	}
	if err != nil {
		return fmt.Errorf("policy explain: read the pending transaction: %w", err)
	}
	var tx tatum.PendingTransaction
	if err := json.Unmarshal(raw, &tx); err != nil {
		return fmt.Errorf("policy explain: the pending transaction is not JSON as GET /v3/kms/{id} returns it: %w", err)
	}
	if strings.TrimSpace(tx.Chain) == "" {
		return errors.New("policy explain: the pending transaction has no chain")
	}
	var notes []string
	var counters policy.Counters = zeroCounters{}
	if j, err := journal.OpenFile(journalPath(c), journal.FileOptions{ReadOnly: true}); err == nil {
		defer j.Close()
		counters = j
		notes = append(notes, "rolling 24-hour totals read from the journal "+journalPath(c))
	} else {
		notes = append(notes, "rolling 24-hour totals taken as 0: the journal could not be read ("+err.Error()+")")
	}
	p, err := policy.New(f, counters)
	if err != nil {
		return err
	}
	v, derr := policy.Decode(tx.Chain, isTestnet(c), tx.SerializedTransaction, "")
	d := p.Evaluate(c.Context, policy.Input{ID: tx.ID, Chain: tx.Chain, Testnet: isTestnet(c), SignatureIDs: policy.SignatureIDs(tx),
		View: v, DecodeErr: derr}, policy.Options{DryRun: true, FeeLater: true})
	if v != nil && v.Fee == nil {
		notes = append(notes, "the fee is not known before signing (the node fills gas or price); the daemon checks maxFee on the signed transaction")
	}
	notes = append(notes, "decoded from the unsigned transaction; the daemon decides again on the signed bytes before broadcasting")
	out := explanation{Decision: "refused", Rule: d.Rule, Reason: d.Reason, View: v, Notes: notes}
	if d.Allowed {
		out.Decision = "allowed"
	}
	if err := printJSON(c, out); err != nil {
		return err
	}
	if !d.Allowed {
		return fmt.Errorf("policy explain: refused by rule %s (the decision is printed above)", d.Rule)
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
	sink, where, err := auditSink(c, j, ap) // the file, or the PostgreSQL state's table (audit.go)
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
	log.Info("audit log opened", "path", where, "instance", instance)
	return h, nil
}
