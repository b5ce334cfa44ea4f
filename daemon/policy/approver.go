package policy

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/utxo"
	"github.com/gokms/gokms/tatum"
)

// Approver checks the policy in the daemon's approver chain twice: before
// signing, on the unsigned transaction (nothing refused there is signed;
// rolling totals are read, not added; an EVM fee the node fills is checked
// later), and after signing, on the signed bytes, where the totals are
// added. A refusal is reported to Tatum with the rule that refused.
type Approver struct {
	p   *Policy
	now func() time.Time
	// OnDecide, if set, sees every decision with the view it was made on
	// (the audit trail notes the rule). v is nil when decoding failed.
	OnDecide func(tx tatum.PendingTransaction, stage daemon.Stage, v *signing.View, d Decision)
	refused  *prometheus.CounterVec
}

// NewApprover returns the policy approver; reg, if not nil, gets the
// counter gokms_policy_refused_total{chain, rule} (rule: the rule class,
// a bounded set).
func NewApprover(p *Policy, reg prometheus.Registerer) (*Approver, error) {
	a := &Approver{p: p, now: time.Now,
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "gokms", Subsystem: "policy", Name: "refused_total",
			Help: "Transactions refused by the signing policy, by chain and rule class (maxAmount, maxDaily, destinations, maxFee, contracts, deploy, timeWindows, cel, undecoded, unlisted, counters)."},
			[]string{"chain", "rule"})}
	if reg != nil {
		if err := reg.Register(a.refused); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Name implements daemon.Approver.
func (a *Approver) Name() string { return "policy" }

// SignatureIDs lists the wallets a pending transaction names.
func SignatureIDs(tx tatum.PendingTransaction) []string { return daemon.SignatureIDs(tx) }

// Approve implements daemon.Approver.
func (a *Approver) Approve(ctx context.Context, prop *daemon.Proposal, next daemon.Next) error {
	tx := prop.Pending
	in := Input{ID: tx.ID, Chain: tx.Chain, Testnet: prop.Testnet, SignatureIDs: prop.SignatureIDs(), Now: a.now()}
	var opt Options
	switch prop.Stage {
	case daemon.StageRequest:
		in.View, in.DecodeErr = decodeKept(prop, "")
		opt = Options{DryRun: true, FeeLater: true}
	case daemon.StageSigned:
		if prop.Signed == nil || prop.Signed.Raw == "" {
			return daemon.Refuse(a.Name(), true, "undecoded: no signed transaction to check")
		}
		in.View, in.DecodeErr = decodeKept(prop, prop.Signed.Raw)
		if v, ok := prop.Kept(keptAllowed{a}); ok {
			opt.Unchanged = v.(*signing.View).SameEffect(in.View)
		}
	default:
		return next(ctx, prop)
	}
	d, wait := a.p.EvaluateAsync(ctx, in, opt)
	if d.Allowed && prop.Stage == daemon.StageRequest && in.View != nil {
		prop.Keep(keptAllowed{a}, in.View)
	}
	if a.OnDecide != nil {
		a.OnDecide(tx, prop.Stage, in.View, d)
	}
	if !d.Allowed {
		_ = wait()
		a.refused.WithLabelValues(chainLabel(tx.Chain), d.Class).Inc()
		return daemon.Refuse(a.Name(), true, "rule %s: %s", d.Rule, d.Reason)
	}
	// The approvers after this one (the audit trail's entry) run while the
	// rolling totals are made durable; both are done before the broadcast.
	err := next(ctx, prop)
	if werr := wait(); werr != nil {
		var le *LimitError
		if errors.As(werr, &le) { // another daemon used the allowance meanwhile
			a.refused.WithLabelValues(chainLabel(tx.Chain), ClassMaxDaily).Inc()
			return daemon.Refuse(a.Name(), true, "%s", le.Error())
		}
		a.refused.WithLabelValues(chainLabel(tx.Chain), ClassCounters).Inc()
		return daemon.Refuse(a.Name(), true, "rule %s: record the rolling total: %v", ClassCounters, werr)
	}
	return err
}

// keptAllowed is the Proposal.Keep key of the view the policy allowed
// before signing.
type keptAllowed struct{ a *Approver }

// keptPending is the Proposal.Keep key of the parsed UTXO pending
// transaction.
type keptPending struct{}

// decodeKept is Decode for prop's pending transaction. A UTXO one is
// parsed once per transaction: the view of its signed bytes needs the
// pending transaction's previous outputs, and the two parses of its JSON
// were 39% of this approver's CPU in the drain benchmark's profile.
func decodeKept(prop *daemon.Proposal, signedHex string) (*signing.View, error) {
	return DecodeProposal(prop, signedHex)
}

// DecodeProposal is Decode for prop's pending transaction (signedHex: its
// signed bytes, or "" for the view before signing), sharing one parse of a
// UTXO pending transaction's JSON with the policy and the signer: call
// PrepareProposal before signing, so that the signer takes the parse.
func DecodeProposal(prop *daemon.Proposal, signedHex string) (*signing.View, error) {
	tx := prop.Pending
	if !utxo.IsChain(tx.Chain) {
		return Decode(tx.Chain, prop.Testnet, tx.SerializedTransaction, signedHex)
	}
	if v, ok := prop.Kept(keptPending{}); ok {
		if pd := v.(*utxo.Pending); pd.Of(tx.Chain, tx.SerializedTransaction) {
			return pd.View(prop.Testnet, signedHex)
		}
	}
	pd, err := utxo.ParsePending(tx.Chain, tx.SerializedTransaction)
	if err != nil {
		return nil, err
	}
	prop.Keep(keptPending{}, pd)
	prop.ShareParsed(pd) // the signer's parse of the same JSON (28 µs a transaction in the drain benchmark)
	return pd.View(prop.Testnet, signedHex)
}

// PrepareProposal parses prop's UTXO pending transaction once, for
// DecodeProposal and the signer (nothing for other chains, or when it is
// parsed already). A transaction that does not parse is left to the signer
// (and to DecodeProposal) to refuse.
func PrepareProposal(prop *daemon.Proposal) {
	tx := prop.Pending
	if !utxo.IsChain(tx.Chain) {
		return
	}
	if v, ok := prop.Kept(keptPending{}); ok && v.(*utxo.Pending).Of(tx.Chain, tx.SerializedTransaction) {
		return
	}
	if pd, err := utxo.ParsePending(tx.Chain, tx.SerializedTransaction); err == nil {
		prop.Keep(keptPending{}, pd)
		prop.ShareParsed(pd)
	}
}

func chainLabel(c string) string {
	if knownChain(c) {
		return strings.ToUpper(c)
	}
	return "other"
}
