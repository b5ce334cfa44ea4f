package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/tatum"
)

// Stage says when an approver is asked.
type Stage string

const (
	// StageRequest: before anything is signed, on the pending transaction as
	// the API listed it (four-eye asks here, on the id).
	StageRequest Stage = "request"
	// StageSigned: after signing, before anything is journaled or
	// broadcast, on the transaction decoded from the signed bytes
	// (Proposal.Signed.View: UTXO outputs, EVM to/value/data/fee after the
	// node fill). A refusal here discards the signed bytes and frees an EVM
	// nonce: nothing is burnt.
	StageSigned Stage = "signed"
	// StageResend: before journaled bytes are broadcast again (a later
	// cycle, a restart, another daemon taking over the id), on
	// Proposal.Signed (Raw and TxID from the journal; no View). The
	// transaction was approved when it was signed: the four-eye check and
	// the policy pass it on (its rolling totals were counted then); the
	// audit trail records the resend, durably, before it happens. A refusal
	// leaves the bytes journaled for a later cycle.
	StageResend Stage = "resend"
)

// Proposal is what approvers decide on. It is read-only for approvers.
type Proposal struct {
	Stage   Stage
	Pending tatum.PendingTransaction // as the API listed it (Chain: the polled chain)
	Testnet bool
	// Signed is set at StageSigned and StageResend.
	Signed *signing.Signed

	waits  []func(context.Context) error // BeforeBroadcast
	kept   *kept                         // shared by the stages of one transaction (Keep)
	sigIDs []string                      // SignatureIDs, once listed
	passed uint64                        // bit i: approver i passed this proposal on (chainApprovers)
}

// SignatureIDs is SignatureIDs(p.Pending), listed once for the proposal's
// approvers and hooks, which must not change it.
func (p *Proposal) SignatureIDs() []string {
	if p.sigIDs == nil {
		p.sigIDs = SignatureIDs(p.Pending)
	}
	return p.sigIDs
}

// kept is what approvers keep from one stage of a transaction for the next.
type kept struct {
	mu     sync.Mutex
	kv     []keptValue // a few (a map was an allocation a transaction more)
	parsed any         // ShareParsed
}

type keptValue struct{ key, v any }

// Keep stores v under key for the later stages of this transaction (the
// policy keeps the pending transaction it parsed at StageRequest, to
// decode the signed bytes at StageSigned without parsing it again). key is
// a value of a type of the approver's own, as with context keys. A
// proposal the daemon did not build keeps nothing.
func (p *Proposal) Keep(key, v any) {
	if p.kept == nil {
		return
	}
	p.kept.mu.Lock()
	defer p.kept.mu.Unlock()
	for i := range p.kept.kv {
		if p.kept.kv[i].key == key {
			p.kept.kv[i].v = v
			return
		}
	}
	if p.kept.kv == nil {
		p.kept.kv = make([]keptValue, 0, 4)
	}
	p.kept.kv = append(p.kept.kv, keptValue{key, v})
}

// Kept returns what an earlier stage of this transaction kept under key.
func (p *Proposal) Kept(key any) (any, bool) {
	if p.kept == nil {
		return nil, false
	}
	p.kept.mu.Lock()
	defer p.kept.mu.Unlock()
	for _, kv := range p.kept.kv {
		if kv.key == key {
			return kv.v, true
		}
	}
	return nil, false
}

// ShareParsed hands the signer a parse of the pending transaction an
// approver made at StageRequest (signing.Request.Parsed: the policy's
// utxo.Pending), so that it is not parsed again for signing; the signer
// uses it only if it is a parse of the very transaction it signs, by its
// own package. A proposal the daemon did not build shares nothing.
func (p *Proposal) ShareParsed(v any) {
	if p.kept == nil {
		return
	}
	p.kept.mu.Lock()
	p.kept.parsed = v
	p.kept.mu.Unlock()
}

func (k *kept) sharedParse() any {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.parsed
}

// BeforeBroadcast registers a wait for a durable write that must succeed
// before the transaction is broadcast (the audit trail's entry). The
// daemon runs it once the journal's Record of the signed bytes committed
// (at StageResend: before the resend), and broadcasts only once every
// wait returned nil. An approver writes its entry while approving, before
// the Record, so that a crash of the process after the Record cannot lose
// it, and waits here for its fsync: the entries of one journal commit,
// released together, then share one fsync. If wait fails, the journaled
// bytes are not broadcast now; a later cycle resends them through
// StageResend, whose approvers record the resend first. Only for approvers
// that approve (call next and return nil), at StageSigned or StageResend.
func (p *Proposal) BeforeBroadcast(wait func(context.Context) error) {
	p.waits = append(p.waits, wait)
}

// Next passes a proposal to the rest of the approver chain.
type Next func(ctx context.Context, p *Proposal) error

// Approver decides on a proposal. It returns a refusal (Refuse) or calls
// next, with the proposal it was given, and returns what next returns (Clef style: each approver wraps the
// next, so policy is added as another approver without touching the
// daemon's loop). An approver that does not care about p.Stage just calls
// next. Approve must be safe for concurrent use.
type Approver interface {
	Name() string
	Approve(ctx context.Context, p *Proposal, next Next) error
}

// Refusal is an approver's "no". The daemon never signs (StageRequest) or
// broadcasts (StageSigned) a refused transaction; it reports the refusal to
// Tatum when Report is set, and to Config.OnDecision always.
type Refusal struct {
	Approver string
	Reason   string
	// Report sends the refusal to POST /v3/tatum/kms/batch (a transaction
	// that can never be signed); unset it for one that may be approved
	// later (the four-eye service has not approved it yet).
	Report bool
	Err    error // cause, if any
}

func (r *Refusal) Error() string {
	s := r.Approver + " refused: " + r.Reason
	if r.Err != nil {
		s += ": " + r.Err.Error()
	}
	return s
}

func (r *Refusal) Unwrap() error { return r.Err }

// Refuse builds a Refusal.
func Refuse(approver string, report bool, format string, args ...any) *Refusal {
	return &Refusal{Approver: approver, Report: report, Reason: fmt.Sprintf(format, args...)}
}

// Decision is one approver's verdict, for the audit trail.
type Decision struct {
	Time     time.Time
	ID       string // pending id
	Chain    string
	Stage    Stage
	Approver string
	Approved bool
	Reason   string // refusal reason ("" when approved)
	// SignatureIDs are the wallets the transaction names (hashes, then
	// signatures), so that a refusal by the first approver is attributed.
	SignatureIDs []string
}

// Event is a step of a pending transaction through the daemon, for the
// audit trail: Kind is one of the Event* constants.
type Event struct {
	Time   time.Time
	ID     string
	Chain  string
	Kind   string
	TxID   string
	Detail string
}

// Event kinds.
const (
	EventRefused   = "refused"   // a check (id, binding, journal replay...) refused; Detail says why
	EventSigned    = "signed"    // signed and journaled, about to be broadcast
	EventResent    = "resent"    // journaled bytes broadcast again
	EventBroadcast = "broadcast" // a broadcast returned TxID; Tatum did not complete it at once (else only EventCompleted)
	EventCompleted = "completed" // Tatum shows it complete
	EventAmbiguous = "ambiguous" // broadcast outcome unknown
	EventFailed    = "failed"    // failed and reported
	EventReplayed  = "replayed"  // a completed id the API listed again: refused and reported
)

// maxApprovers bounds the approvers of one daemon (the bits of
// Proposal.passed).
const maxApprovers = 64

// chainApprovers composes approvers into one Next ending in approval, and
// reports each approver's verdict through decide. len(as) <= maxApprovers.
func chainApprovers(as []Approver, decide func(Decision)) Next {
	next := Next(func(context.Context, *Proposal) error { return nil })
	for i := len(as) - 1; i >= 0; i-- {
		a, inner := as[i], next
		// What approver i calls to pass p on. It marks p, rather than a
		// variable of this call: a closure per approver and stage was an
		// allocation each, for every transaction. (New allows at most
		// maxApprovers.)
		bit := uint64(1) << i
		pass := Next(func(ctx context.Context, p *Proposal) error {
			p.passed |= bit
			return inner(ctx, p)
		})
		next = func(ctx context.Context, p *Proposal) error {
			p.passed &^= bit
			err := a.Approve(ctx, p, pass)
			passed := p.passed&bit != 0
			if err == nil && !passed {
				// An approver that approves without asking the rest would
				// bypass the approvers after it: treat as a bug, refuse.
				err = Refuse(a.Name(), false, "approved without passing the transaction on to the next approver")
			}
			if err == nil {
				if decide != nil {
					decide(Decision{Time: time.Now(), ID: p.Pending.ID, Chain: p.Pending.Chain, Stage: p.Stage, Approver: a.Name(), Approved: true, SignatureIDs: p.SignatureIDs()})
				}
				return nil
			}
			var r *Refusal // declared here: errors.As moves it to the heap, an allocation every approval otherwise
			refusal := errors.As(err, &r)
			if !passed || !refusal || r.Approver == a.Name() {
				// Refused here (not by an inner approver, which reports itself).
				if decide != nil {
					decide(Decision{Time: time.Now(), ID: p.Pending.ID, Chain: p.Pending.Chain, Stage: p.Stage, Approver: a.Name(), Reason: err.Error(), SignatureIDs: p.SignatureIDs()})
				}
			}
			if !refusal {
				err = &Refusal{Approver: a.Name(), Reason: "error", Err: err}
			}
			return err
		}
	}
	return next
}

// SignatureIDs lists the wallets tx names, hashes first, each once.
func SignatureIDs(tx tatum.PendingTransaction) []string {
	ids := slices.Clone(tx.Hashes)
	for _, s := range tx.Signatures {
		if !slices.Contains(ids, s.ID) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}
