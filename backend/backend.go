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
	"errors"
	"fmt"
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
	Address string    // optional, for private keys
	Created time.Time // set by the backend on Put when zero
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
}

// Meta returns the non-secret part of r.
func (r Record) Meta() Meta {
	return Meta{ID: r.ID, Kind: r.Kind, Chain: r.Chain, Testnet: r.Testnet, Xpub: r.Xpub, Address: r.Address, Created: r.Created}
}

// Zero overwrites the secret bytes so they do not linger in memory.
func (r *Record) Zero() {
	for i := range r.Secret {
		r.Secret[i] = 0
	}
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
