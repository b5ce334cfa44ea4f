package audit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/policy"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/tatum"
)

// Trail feeds the daemon's decisions and events into a Sink. Install its
// Approver in daemon.Config.Approvers after the policy, NotePolicy as the
// policy approver's OnDecide, and OnDecision / OnEvent as the daemon's
// hooks (all of them: the approver writes the "signed" and "resent"
// entries, which OnEvent then leaves out). The "signed" entry is written
// once the approvers before it agreed, before the daemon journals the
// transaction, and fsynced once the journal's commit returned
// (Proposal.BeforeBroadcast); the "resent" entry before journaled bytes go
// out again. The daemon broadcasts neither unless its entry is durable: one
// that could not be written leaves the bytes in the journal, and a later
// cycle's resend is recorded first.
type Trail struct {
	sink     Sink
	instance string
	log      *slog.Logger
	now      func() time.Time

	mu   sync.Mutex
	info map[string]*txInfo // per pending id in flight

	failures atomic.Int64
}

type txInfo struct {
	sigIDs []string
	// view is the last view the policy decided on, described into dests
	// and fee when an entry needs them (the policy decides twice a
	// transaction; the entry is written once).
	view    *signing.View
	dests   []Dest
	fee     string
	txID    string
	rule    string
	refused bool // a refusal entry was written from the decision
}

// NewTrail writes to sink; instance names this daemon in every entry.
func NewTrail(sink Sink, instance string, log *slog.Logger) *Trail {
	if log == nil {
		log = slog.Default()
	}
	return &Trail{sink: sink, instance: instance, log: log, now: time.Now, info: map[string]*txInfo{}}
}

// Failures counts entries that could not be written.
func (t *Trail) Failures() int64 { return t.failures.Load() }

func (t *Trail) get(id string) *txInfo {
	i := t.info[id]
	if i == nil {
		i = &txInfo{}
		t.info[id] = i
	}
	return i
}

func describe(v *signing.View) ([]Dest, string) {
	if v == nil {
		return nil, ""
	}
	var ds []Dest
	for _, o := range v.Outputs {
		if o.Change {
			continue
		}
		d := Dest{Address: o.Address, Token: o.Token}
		if o.Amount != nil {
			d.Amount = o.Amount.String()
		}
		ds = append(ds, d)
	}
	fee := ""
	if v.Fee != nil {
		fee = v.Fee.String()
	}
	return ds, fee
}

// NotePolicy records what the policy decided on a transaction and the view
// it decided on (policy.Approver.OnDecide).
func (t *Trail) NotePolicy(tx tatum.PendingTransaction, _ daemon.Stage, v *signing.View, d policy.Decision) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := t.get(tx.ID)
	// No signatureIds here: the trail's approver notes them, and a refusal
	// before it ran takes them from the daemon's Decision (OnDecision).
	i.rule = d.Rule
	if v != nil {
		i.view, i.dests, i.fee = v, nil, ""
		if v.TxID != "" {
			i.txID = v.TxID
		}
	}
}

// described reports whether the entry's destinations and fee are known
// (noted by the policy, or decoded by the trail). Called with mu held.
func (i *txInfo) described() bool { return i.view != nil || i.dests != nil || i.fee != "" }

func (t *Trail) append(e *Entry, sync bool) error {
	return t.write(e, sync, false)
}

// write appends e (hold: held for the sink's next write, if it holds:
// Holder; only for entries appended before the journal write that they
// must precede is queued).
func (t *Trail) write(e *Entry, sync, hold bool) error {
	e.Time, e.Instance = t.now().UTC(), t.instance
	var err error
	if h, ok := t.sink.(Holder); ok && hold && !sync {
		err = h.Hold(context.Background(), e)
	} else {
		err = t.sink.Append(context.Background(), e, sync)
	}
	if err != nil {
		t.failures.Add(1)
		t.log.Error("audit: could not write an entry", "id", e.PendingID, "event", e.Event, "error", err.Error())
	}
	return err
}

// fill copies what is known about the id into e.
func (t *Trail) fill(e *Entry) *txInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := t.get(e.PendingID)
	if i.view != nil {
		i.dests, i.fee = describe(i.view)
		i.view = nil
	}
	e.SignatureIDs, e.Destinations, e.Fee = i.sigIDs, i.dests, i.fee
	if e.TxID == "" {
		e.TxID = i.txID
	}
	if e.Rule == "" {
		e.Rule = i.rule
	}
	return i
}

func (t *Trail) forget(id string) {
	t.mu.Lock()
	delete(t.info, id)
	t.mu.Unlock()
}

// OnDecision implements daemon.Config.OnDecision: refusals are written
// (fsynced); approvals are part of the "signed" entry.
func (t *Trail) OnDecision(d daemon.Decision) {
	if d.Approved {
		return
	}
	e := &Entry{Event: "decision", PendingID: d.ID, Chain: d.Chain, Stage: string(d.Stage), Approver: d.Approver, Result: "refused", Detail: d.Reason}
	i := t.fill(e)
	if len(e.SignatureIDs) == 0 {
		e.SignatureIDs = d.SignatureIDs // refused before the trail's approver saw it (four-eye, the policy before signing)
	}
	if d.Approver != "policy" {
		e.Rule = d.Approver
	}
	t.mu.Lock()
	i.refused = true
	t.mu.Unlock()
	_ = t.append(e, true)
}

// OnEvent implements daemon.Config.OnEvent.
func (t *Trail) OnEvent(ev daemon.Event) {
	if ev.Kind == daemon.EventSigned || ev.Kind == daemon.EventResent {
		return // written by the approver, before the broadcast
	}
	e := &Entry{Event: ev.Kind, PendingID: ev.ID, Chain: ev.Chain, TxID: ev.TxID, Result: ev.Kind, Detail: ev.Detail}
	i := t.fill(e)
	sync := true
	switch ev.Kind {
	case daemon.EventRefused:
		t.mu.Lock()
		dup := i.refused
		t.mu.Unlock()
		t.forget(ev.ID)
		if dup {
			return // the decision entry says it, with the approver
		}
	case daemon.EventBroadcast, daemon.EventCompleted:
		// The signed entry (txid included) was fsynced before the
		// broadcast; these follow it and are synced by the next sync.
		sync = false
	}
	// The daemon reports a completion before it queues the completion
	// mark (Daemon.completed, reconcile), so a held entry is in the file
	// before the mark is durable.
	_ = t.write(e, sync, ev.Kind == daemon.EventCompleted)
	switch ev.Kind {
	case daemon.EventCompleted, daemon.EventFailed, daemon.EventReplayed, daemon.EventUnsignable:
		t.forget(ev.ID)
	}
}

// Approver returns the trail's approver. Put it last in
// daemon.Config.Approvers: it notes the transaction's signatureIds, passes
// the proposal on, and once every approver agreed on the signed
// transaction (or on a resend), writes its "signed" (or "resent") entry
// and has the daemon wait for it to be durable (fsynced) before the
// broadcast; while the entry is not durable, nothing is broadcast.
func (t *Trail) Approver() daemon.Approver { return trailApprover{t} }

type trailApprover struct{ t *Trail }

func (a trailApprover) Name() string { return "audit" }

func (a trailApprover) Approve(ctx context.Context, p *daemon.Proposal, next daemon.Next) error {
	t := a.t
	tx := p.Pending
	t.mu.Lock()
	i := t.get(tx.ID)
	i.sigIDs = p.SignatureIDs()
	noted := i.described()
	t.mu.Unlock()
	if p.Stage == daemon.StageRequest && !noted {
		// The entry will need the signed bytes decoded: parse once, for
		// that and the signer (the policy, if it runs, did it already).
		policy.PrepareProposal(p)
	}
	if err := next(ctx, p); err != nil || (p.Stage != daemon.StageSigned && p.Stage != daemon.StageResend) {
		return err
	}
	t.mu.Lock()
	known := p.Stage == daemon.StageSigned && t.get(tx.ID).described()
	t.mu.Unlock()
	if p.Signed != nil && !known {
		// No policy decoded it: decode here, so the entry shows what was signed.
		if v, err := policy.DecodeProposal(p, p.Signed.Raw); err == nil {
			ds, fee := describe(v)
			t.mu.Lock()
			t.get(tx.ID).dests, t.get(tx.ID).fee = ds, fee
			t.mu.Unlock()
		}
	}
	e := &Entry{Event: "signed", PendingID: tx.ID, Chain: tx.Chain, Stage: string(p.Stage), Result: "signed"}
	if p.Stage == daemon.StageResend {
		e.Event, e.Result, e.Detail = daemon.EventResent, daemon.EventResent, "the journaled signed transaction is broadcast again"
	}
	if p.Signed != nil {
		e.TxID = p.Signed.TxID
	}
	t.fill(e)
	// Written now, before the daemon journals the transaction, so that a
	// crash of the process once the journal holds it cannot lose the
	// entry; durable before the broadcast, which the daemon makes only
	// once the wait returned nil. (A crash of the host before the fsync
	// can lose it, but then nothing was broadcast, and the restarted
	// daemon records its resend first.)
	s, ok := t.sink.(Syncer)
	// Held only at StageSigned: the Record follows. A resend's entry is
	// written now (nothing is journaled after it) and synced below.
	err := t.write(e, !ok, p.Stage == daemon.StageSigned)
	p.BeforeBroadcast(func(ctx context.Context) error {
		if err == nil && ok {
			if err = s.Sync(ctx, e.Seq); err != nil {
				t.failures.Add(1)
				t.log.Error("audit: could not sync an entry", "id", e.PendingID, "event", e.Event, "error", err.Error())
			}
		}
		if err != nil {
			return fmt.Errorf("the audit log could not record the transaction: %w", err)
		}
		return nil
	})
	return nil
}
