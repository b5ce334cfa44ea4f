// Package backend defines where gokms keeps secrets: the SecretBackend
// interface every store implements, the record it stores, the sentinel errors
// callers test with errors.Is, and the address scheme (file://, vault://,
// azure://, vgs://) that names a backend everywhere in the CLI and daemon.
//
// Backends hold records; they know nothing of chains or signing. Anything
// cross-cutting (caching, audit, metrics) wraps a SecretBackend as another
// SecretBackend.
package backend

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind says what a record's Secret holds.
type Kind string

const (
	// Mnemonic records hold BIP39 words; keys are derived per index.
	Mnemonic Kind = "mnemonic"
	// PrivateKey records hold one encoded private key.
	PrivateKey Kind = "privateKey"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == Mnemonic || k == PrivateKey }

// Record is one stored secret: a mnemonic (with its xpub) or a single private key.
type Record struct {
	ID      string    // the signatureId
	Kind    Kind      // Mnemonic or PrivateKey
	Chain   string    // "BTC", "ETH", ...
	Testnet bool      // the network the secret was generated/stored for
	Secret  []byte    // mnemonic words or encoded private key; Zero it when done
	Xpub    string    // for mnemonics
	Address string    // optional, for private keys (and wallets that store one, like SOL's)
	Created time.Time // set by the backend on Put when zero
	// ExtraKey is a private key stored beside the mnemonic of a Mnemonic
	// record: tatum-kms's SOL wallets are {mnemonic, address, privateKey}.
	// Nil for every other record. It is a secret like Secret: Zero wipes it,
	// Meta never holds it. Signing derives from Secret; ExtraKey is kept so
	// that the wallet is given back as it was stored.
	ExtraKey []byte
	// Layout is the field names, in order, of the tatum-kms wallet entry the
	// record came from, comma-separated ("address,secret,chain,testnet").
	// It says which field held the key ("secret" or "privateKey") and keeps
	// the entry's key order, so getmanagedwallet and export give it back
	// unchanged. Empty means the shape gokms writes for the kind and chain.
	// Not secret: names only.
	Layout string
}

// Meta is everything about a record except its secret. List returns Meta so
// that enumerating a store never touches secret bytes.
type Meta struct {
	ID      string
	Kind    Kind
	Chain   string
	Testnet bool
	Xpub    string
	Address string
	Created time.Time
	Layout  string // see Record.Layout
}

// Meta returns the non-secret part of r.
func (r Record) Meta() Meta {
	return Meta{ID: r.ID, Kind: r.Kind, Chain: r.Chain, Testnet: r.Testnet, Xpub: r.Xpub, Address: r.Address, Created: r.Created, Layout: r.Layout}
}

// Zero overwrites every secret byte (Secret and ExtraKey) so they do not
// linger in memory.
func (r *Record) Zero() {
	for i := range r.Secret {
		r.Secret[i] = 0
	}
	for i := range r.ExtraKey {
		r.ExtraKey[i] = 0
	}
}

// Clone returns r with its own copies of the secret bytes, for backends
// that keep or hand out records (a caller's Zero must not reach them).
func (r Record) Clone() Record {
	r.Secret = append([]byte(nil), r.Secret...)
	if r.ExtraKey != nil {
		r.ExtraKey = append([]byte(nil), r.ExtraKey...)
	}
	return r
}

// Same reports whether a and b hold the same record, secrets included,
// ignoring Created (which a backend may set).
func Same(a, b Record) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.Chain == b.Chain && a.Testnet == b.Testnet &&
		a.Xpub == b.Xpub && a.Address == b.Address && a.Layout == b.Layout &&
		subtle.ConstantTimeCompare(a.Secret, b.Secret) == 1 &&
		(a.ExtraKey == nil) == (b.ExtraKey == nil) && subtle.ConstantTimeCompare(a.ExtraKey, b.ExtraKey) == 1
}

// LayoutFields are the names a Layout may hold: the fields of a tatum-kms
// wallet entry that gokms keeps.
var LayoutFields = []string{"mnemonic", "xpub", "privateKey", "secret", "address", "chain", "testnet"}

// ValidLayout checks a Layout against the record kind it describes: known
// names, each once; "mnemonic" exactly when the record is a mnemonic; a key
// field ("privateKey" or "secret") for a private key, and for a mnemonic
// exactly when it has an ExtraKey.
func ValidLayout(layout string, kind Kind, hasExtraKey bool) error {
	if layout == "" {
		return nil
	}
	seen := map[string]bool{}
	for _, f := range strings.Split(layout, ",") {
		if !slices.Contains(LayoutFields, f) {
			// Not quoted: whatever a caller put there is not echoed.
			return fmt.Errorf("layout names a field other than %s", strings.Join(LayoutFields, ", "))
		}
		if seen[f] {
			return fmt.Errorf("layout names field %q twice", f)
		}
		seen[f] = true
	}
	key := seen["privateKey"] || seen["secret"]
	switch {
	case seen["mnemonic"] != (kind == Mnemonic):
		return fmt.Errorf("layout %q does not fit a %s record", layout, kind)
	case kind == PrivateKey && !key:
		return fmt.Errorf("layout %q has no privateKey or secret field for the key", layout)
	case kind == Mnemonic && key != hasExtraKey:
		return fmt.Errorf("layout %q does not match the record's extra key", layout)
	}
	return nil
}

// Validate checks the fields every backend requires before storing.
func (r Record) Validate() error {
	switch {
	case r.ID == "":
		return errors.New("record has no id")
	case len(r.ID) > MaxIDLen:
		return fmt.Errorf("record id is longer than %d bytes", MaxIDLen)
	case !r.Kind.Valid():
		return fmt.Errorf("record %s: unknown kind %q", r.ID, r.Kind)
	case r.Chain == "":
		return fmt.Errorf("record %s: no chain", r.ID)
	case len(r.Secret) == 0:
		return fmt.Errorf("record %s: empty secret", r.ID)
	case r.ExtraKey != nil && (r.Kind != Mnemonic || len(r.ExtraKey) == 0):
		return fmt.Errorf("record %s: an extra key belongs only beside a mnemonic, and is never empty", r.ID)
	}
	if err := ValidLayout(r.Layout, r.Kind, r.ExtraKey != nil); err != nil {
		return fmt.Errorf("record %s: %w", r.ID, err)
	}
	return nil
}

// MaxIDLen bounds signatureIds. Tatum's are 36-character UUIDs; the bound
// keeps every backend's key/name limits comfortably satisfied.
const MaxIDLen = 100

// SecretBackend stores records by signatureId. Implementations must be safe
// for concurrent use by multiple goroutines.
type SecretBackend interface {
	// Put stores a new record. It returns an error wrapping ErrExists if the
	// id is taken; it never overwrites. Put returns only once the record is durable.
	Put(ctx context.Context, r Record) error
	// Get returns the record with its secret, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (Record, error)
	// Delete removes the record, or returns an error wrapping ErrNotFound.
	Delete(ctx context.Context, id string) error
	// List returns the metadata of every record, never secrets.
	List(ctx context.Context) ([]Meta, error)
	// Close releases resources. The backend must not be used afterwards.
	Close() error
}

// BatchPutter is implemented by backends that can store many records in one
// durable write (the file store writes once per batch, not once per key).
// PutBatch is all or nothing: if any id is taken, nothing is stored.
type BatchPutter interface {
	PutBatch(ctx context.Context, rs []Record) error
}

// PutAll stores rs with one PutBatch where the backend supports it, else one Put each.
func PutAll(ctx context.Context, b SecretBackend, rs []Record) error {
	if bp, ok := b.(BatchPutter); ok {
		return bp.PutBatch(ctx, rs)
	}
	for _, r := range rs {
		if err := b.Put(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// Sentinel errors. Backends wrap them with context; callers use errors.Is.
var (
	ErrNotFound    = errors.New("not found")
	ErrExists      = errors.New("already exists")
	ErrBadPassword = errors.New("wrong password")
	// ErrLocked means the store is held by another process or is sealed
	// (file lock timeout, Vault sealed) and the operation did not happen.
	ErrLocked = errors.New("store is locked")
	// ErrCorrupt means stored data failed integrity checks.
	ErrCorrupt = errors.New("store is corrupt")
)
