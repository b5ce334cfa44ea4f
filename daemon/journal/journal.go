// Package journal is the daemon's durable memory of what it signed: every
// pending transaction id it ever signed, with the signed bytes, so that an id
// is signed at most once, ever (across restarts and, with a shared
// implementation, across daemons), and a signed transaction is only ever
// resent, never signed anew.
//
// The protocol a daemon follows for one pending id:
//
//  1. Claim the id (a lease with a fencing token). The answer carries the
//     entry already journaled for the id, if any: then the daemon never
//     signs; it resends Entry.SignedTx, completes, or refuses.
//  2. For EVM: ReserveNonce for (chain, network, sender), giving the node's
//     pending nonce; the journal hands out the lowest nonce at or above it
//     that no journaled entry holds and no live claim reserved.
//  3. Record the signed entry (fsync'd) BEFORE the broadcast.
//  4. MarkBroadcast once a broadcast returned a txId, MarkCompleted once
//     Tatum shows the transaction complete.
//  5. Release the claim. Releasing an id that was never recorded frees its
//     nonce reservation, so a refusal never burns a nonce.
//
// Every write carries the Lease; a write whose lease was superseded by a
// newer claim fails with ErrFenced, so a daemon that stalled past its lease
// cannot overwrite the work of the one that took over.
//
// Counters (Add, SumSince) hold rolling totals for signing policy (per
// wallet, chain, token...): an amount added once per (key, ref). Adds
// older than CounterRetention (a week) are deleted: a total is asked for
// the last 24 hours.
package journal

import (
	"context"
	"errors"
	"math/big"
	"time"
)

// State is where a journaled transaction stands.
type State string

const (
	// StateSigned: signed and recorded; a broadcast may or may not have
	// reached the chain. It is resent (same bytes) or found complete.
	StateSigned State = "signed"
	// StateBroadcast: a broadcast returned TxID; Tatum may not show it
	// complete yet.
	StateBroadcast State = "broadcast"
	// StateCompleted: Tatum shows the transaction complete (txId set). The
	// entry stays, so an id the API lists again is refused, not re-signed.
	StateCompleted State = "completed"
)

// Entry is one journaled pending transaction.
type Entry struct {
	ID           string   `json:"id"` // Tatum pending transaction id
	Chain        string   `json:"chain"`
	Testnet      bool     `json:"testnet"`
	SignatureIDs []string `json:"signatureIds,omitempty"`
	WithdrawalID string   `json:"withdrawalId,omitempty"`
	// SignedTx is exactly what is (re)sent to the broadcast endpoint.
	SignedTx string `json:"signedTx"`
	// TxID is the chain transaction id: computed from SignedTx when the
	// signer knows how, else the one a broadcast returned.
	TxID string `json:"txId,omitempty"`
	// Sender and Nonce are set for account chains (EVM).
	Sender string  `json:"sender,omitempty"`
	Nonce  *uint64 `json:"nonce,omitempty"`

	State       State     `json:"state"`
	Broadcasts  int       `json:"broadcasts"` // broadcast attempts recorded with MarkAttempt
	LastError   string    `json:"lastError,omitempty"`
	Owner       string    `json:"owner,omitempty"` // daemon that recorded it
	RecordedAt  time.Time `json:"recordedAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	CompletedAt time.Time `json:"completedAt,omitzero"`
}

// Lease is a claim on one pending id. Token grows with every claim of the
// id; writes with an older token fail with ErrFenced.
type Lease struct {
	ID      string    `json:"id"`
	Owner   string    `json:"owner"`
	Token   uint64    `json:"token"`
	Expires time.Time `json:"expires"`
}

// NonceKey names one account sequence: a sender on one chain and network.
type NonceKey struct {
	Chain   string // chain code, e.g. "ETH"
	Testnet bool
	Sender  string // 0x address, lower case
}

// Errors. Implementations wrap them; test with errors.Is.
var (
	ErrNotFound = errors.New("no journal entry for this pending transaction")
	// ErrClaimed: another owner holds a live lease on the id.
	ErrClaimed = errors.New("pending transaction is being processed by another daemon")
	// ErrFenced: the lease was superseded (it expired and the id was claimed again) or released.
	ErrFenced = errors.New("journal lease superseded: another claim took over this pending transaction")
	// ErrExists: Record for an id that is already journaled; it must be resent, never re-signed.
	ErrExists = errors.New("pending transaction already signed and journaled")
	// ErrLocked: the journal is held by another process.
	ErrLocked = errors.New("journal is in use by another gokms daemon")
	// ErrBadTransition: e.g. MarkCompleted without a txId.
	ErrBadTransition = errors.New("invalid journal state transition")
)

// Journal is the daemon's durable state. Implementations must be safe for
// concurrent use, and every write must be durable when it returns (but for
// the two marks, see there).
type Journal interface {
	// Claim leases id to owner for ttl and returns the journaled entry, if
	// any (nil when the id was never recorded). ErrClaimed if another
	// owner's lease is live; the same owner re-claiming gets a new token.
	Claim(ctx context.Context, id, owner string, ttl time.Duration) (Lease, *Entry, error)
	// Renew extends a live lease (same token).
	Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	// Release ends the lease; the claim's nonce reservations end with it.
	Release(ctx context.Context, l Lease) error

	// ReserveNonce returns the nonce for the claimed id's transaction from
	// k: the lowest n >= pending that no journaled entry of k holds and no
	// other live claim reserved (so a refused, failed or crashed reservation
	// leaves no gap, and a journaled nonce is never reused). The same id
	// asking again with the same or a lower pending gets the same nonce.
	// ErrExists if the id is already journaled.
	ReserveNonce(ctx context.Context, l Lease, k NonceKey, pending uint64) (uint64, error)

	// Record journals the signed transaction durably; e.ID must be l.ID.
	// ErrExists if the id is already journaled. State is set to StateSigned.
	Record(ctx context.Context, l Lease, e Entry) error
	// MarkAttempt counts a broadcast attempt and keeps its error text ("" on success).
	MarkAttempt(ctx context.Context, l Lease, errText string) error
	// MarkBroadcast sets TxID and StateBroadcast (a later MarkCompleted
	// stays completed). It is visible at once; like MarkCompleted's, its
	// durability may lag briefly: a broadcast mark lost in a crash leaves
	// the entry signed, which the daemon resolves as after a crash just
	// before the mark (Tatum, then the node, at worst the same bytes
	// resent), never by signing again.
	MarkBroadcast(ctx context.Context, l Lease, txID string) error
	// MarkCompleted sets TxID (required) and StateCompleted. It is visible
	// at once; its durability may lag briefly (the file journal commits
	// marks behind, with the next commit or within 25 ms, and at Close): a
	// completion lost in a crash leaves the entry open, never unsigned.
	MarkCompleted(ctx context.Context, l Lease, txID string) error

	// Get returns one entry (ErrNotFound).
	Get(ctx context.Context, id string) (Entry, error)
	// List returns the entries, oldest recorded first; with open, only
	// those not completed.
	List(ctx context.Context, open bool) ([]Entry, error)
	// Forget deletes an entry (an operator's deliberate act: the id may then
	// be signed again) and unbinds its nonce. ErrNotFound if absent;
	// ErrClaimed if leased now.
	Forget(ctx context.Context, id string) error

	// Add adds amount to counter key at time at, once per ref (adding the
	// same (key, ref) again is a no-op, so a retried transaction counts once).
	Add(ctx context.Context, key, ref string, at time.Time, amount *big.Int) error
	// SumSince sums counter key's amounts added at or after since.
	SumSince(ctx context.Context, key string, since time.Time) (*big.Int, error)

	Close() error
}
