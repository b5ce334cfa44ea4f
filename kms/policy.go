package kms

// The policy commands' use cases (moved from cmd/gokms/policy.go):
// `gokms policy check FILE` and `gokms policy explain`.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/journal/pgjournal"
	"github.com/gokms/gokms/daemon/policy"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/tatum"
)

// PolicySummary is what `policy check` says of a valid file.
type PolicySummary struct {
	Chains, Wallets, Rules int
	Unlisted               string // what happens to unlisted transactions
}

// PolicyCheck loads and validates a policy file.
func PolicyCheck(path string) (PolicySummary, error) {
	f, err := policy.Load(path)
	if err != nil {
		return PolicySummary{}, err
	}
	return PolicySummary{Chains: len(f.Chains), Wallets: len(f.Wallets), Rules: len(f.Rules), Unlisted: f.Unlisted}, nil
}

// CheckPolicyFile loads the daemon's --policy (path, "" for none) before the
// daemon opens (and creates) anything: a bad file changes nothing.
func CheckPolicyFile(path string) error {
	if path := strings.TrimSpace(path); path != "" {
		_, err := policy.Load(ExpandHome(path))
		return err
	}
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

// Explanation is `policy explain`'s answer.
type Explanation struct {
	Decision string        `json:"decision"` // allowed or refused
	Rule     string        `json:"rule"`
	Reason   string        `json:"reason"`
	View     *signing.View `json:"view"`
	Notes    []string      `json:"notes,omitempty"`
}

// Allowed reports whether the policy lets the transaction be signed.
func (e Explanation) Allowed() bool { return e.Decision == "allowed" }

// Totals says where policy explain reads the rolling 24-hour totals: the
// PostgreSQL state the daemons share when StateDSN is set (an error if it
// cannot be read: the operator named it), else the journal file at
// JournalPath (zero, with a note, when a running daemon holds it).
type Totals struct {
	JournalPath string
	StateDSN    string
	Logger      *slog.Logger
}

// PolicyExplain decides one pending transaction (read returns its JSON as
// GET /v3/kms/{id} returns it) under the policy file, without signing, with
// the rolling totals from totals.
func PolicyExplain(ctx context.Context, policyPath string, totals Totals, read func() ([]byte, error), testnet bool) (Explanation, error) {
	f, err := policy.Load(policyPath)
	if err != nil {
		return Explanation{}, err
	}
	raw, err := read()
	if err != nil {
		return Explanation{}, fmt.Errorf("policy explain: read the pending transaction: %w", err)
	}
	var tx tatum.PendingTransaction
	if err := json.Unmarshal(raw, &tx); err != nil {
		return Explanation{}, fmt.Errorf("policy explain: the pending transaction is not JSON as GET /v3/kms/{id} returns it: %w", err)
	}
	if strings.TrimSpace(tx.Chain) == "" {
		return Explanation{}, errors.New("policy explain: the pending transaction has no chain")
	}
	var notes []string
	var counters policy.Counters = zeroCounters{}
	switch {
	case totals.StateDSN != "":
		j, err := pgjournal.Open(ctx, totals.StateDSN, pgjournal.Options{NoMigrate: true, Logger: totals.Logger, RetryFor: 10 * time.Second})
		if err != nil {
			return Explanation{}, fmt.Errorf("policy explain: read the rolling totals from the shared state: %w", err)
		}
		defer j.Close()
		counters = j
		notes = append(notes, "rolling 24-hour totals read from the shared state "+pgjournal.MaskDSN(totals.StateDSN))
	default:
		if j, err := journal.OpenFile(totals.JournalPath, journal.FileOptions{ReadOnly: true}); err == nil {
			defer j.Close()
			counters = j
			notes = append(notes, "rolling 24-hour totals read from the journal "+totals.JournalPath)
		} else {
			notes = append(notes, "rolling 24-hour totals taken as 0: the journal could not be read ("+err.Error()+")")
		}
	}
	p, err := policy.New(f, counters)
	if err != nil {
		return Explanation{}, err
	}
	v, derr := policy.Decode(tx.Chain, testnet, tx.SerializedTransaction, "")
	d := p.Evaluate(ctx, policy.Input{ID: tx.ID, Chain: tx.Chain, Testnet: testnet, SignatureIDs: policy.SignatureIDs(tx),
		View: v, DecodeErr: derr}, policy.Options{DryRun: true, FeeLater: true})
	if v != nil && v.Fee == nil {
		notes = append(notes, "the fee is not known before signing (the node fills gas or price); the daemon checks maxFee on the signed transaction")
	}
	notes = append(notes, "decoded from the unsigned transaction; the daemon decides again on the signed bytes before broadcasting")
	out := Explanation{Decision: "refused", Rule: d.Rule, Reason: d.Reason, View: v, Notes: notes}
	if d.Allowed {
		out.Decision = "allowed"
	}
	return out, nil
}
