package kms

// The daemon's half of the record → key path: the key a chain's signer
// signs with, decoded from the record by the key table after the checks the
// Resolver makes. The daemon's chain signers (signing/<chain>) fetch the
// record through signing.RecordSource and hand it to one of the typed
// methods below (Ed25519Key, Secp256k1Key, XRPKey, CardanoKey), which the
// wiring in signers_<chain>.go injects: they decode no record themselves
// (docs/keys.md, "One record → key path").

import (
	"crypto/ed25519"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// SigningKey is one record's key in its family's type: exactly one field is
// set. Zero wipes it.
type SigningKey struct {
	Secp256k1 *btcec.PrivateKey  // UTXO, EVM, TRON, VET, FLOW
	Ed25519   ed25519.PrivateKey // SOL, XLM, ALGO, EGLD
	XRP       *wallet.XRPKey     // XRP family seeds (secp256k1 or ed25519)
	Cardano   *wallet.CardanoKey // ADA (BIP32-Ed25519 extended or plain)
}

// Zero wipes the key.
func (k *SigningKey) Zero() {
	if k.Secp256k1 != nil {
		k.Secp256k1.Zero()
	}
	clear(k.Ed25519)
	if k.XRP != nil {
		k.XRP.Zero()
	}
	if k.Cardano != nil {
		k.Cardano.Wipe()
	}
}

// indexRuler is implemented by the families whose wallets do not follow
// the Resolver's index rule (strictIndex); their rule is the daemon's.
type indexRuler interface {
	indexRule(rec backend.Record, index *uint32) error
}

// addressed is implemented by the families whose records may keep the
// address of the key they sign with (SOL, XLM, XRP): applies says whether
// the key signingKey decoded for index is the one rec.Address names.
type addressed interface {
	signingAddress(rec backend.Record, index *uint32, k SigningKey) (addr string, applies bool)
}

// strictIndex is the Resolver's rule: a mnemonic wallet needs an index, a
// private-key wallet takes none.
func strictIndex(rec backend.Record, index *uint32) error {
	switch {
	case rec.Kind == backend.PrivateKey && index != nil:
		return pkIndexError(rec, *index)
	case rec.Kind == backend.Mnemonic && index == nil:
		return fmt.Errorf("signatureId %s is a mnemonic wallet, but the transaction gives no index: %w; request the transaction with the index of the key to use, or use a private-key wallet",
			rec.ID, signing.ErrIndexMismatch)
	}
	return nil
}

func pkIndexError(rec backend.Record, index uint32) error {
	return fmt.Errorf("signatureId %s is a private-key wallet, but the transaction asks for index %d: %w; use a mnemonic wallet's signatureId with an index, or this one without",
		rec.ID, index, signing.ErrIndexMismatch)
}

func indexRuleOf(ck chainKeys) func(backend.Record, *uint32) error {
	if r, ok := ck.(indexRuler); ok {
		return r.indexRule
	}
	return strictIndex
}

// SigningKey decodes the key that signs for rec at index (nil: none given),
// after the Resolver's checks: the chain is not shut down and has keys, the
// record is of r's network (always checked: a daemon always has one), and
// the family's index rule (strictIndex unless it has its own). A record
// that keeps its key's address must keep the right one.
func (r RecordKeys) SigningKey(rec backend.Record, index *uint32) (SigningKey, error) {
	rec = canonical(rec)
	r.Stated = true
	ck, err := r.check(rec)
	if err != nil {
		return SigningKey{}, err
	}
	if err := indexRuleOf(ck)(rec, index); err != nil {
		return SigningKey{}, err
	}
	k, err := ck.signingKey(rec, index)
	if err != nil {
		return SigningKey{}, fmt.Errorf("signatureId %s: stored %s %s: %w", rec.ID, rec.Chain, rec.Kind, err)
	}
	if a, ok := ck.(addressed); ok && rec.Address != "" {
		if addr, applies := a.signingAddress(rec, index, k); applies && addr != rec.Address {
			k.Zero()
			return SigningKey{}, fmt.Errorf("signatureId %s: the stored %s key is not the key of the stored address %s (it is %s's); refusing to sign",
				rec.ID, rec.Chain, rec.Address, addr)
		}
	}
	return k, nil
}

// The typed halves of SigningKey, one per key type the daemon's chain
// signers take: each is what kms/signers_<chain>.go injects as the chain's
// decoder. A record of a family with another key type is refused (a wiring
// mistake, never signed with).

// Ed25519Key is SigningKey for SOL, XLM, ALGO and EGLD.
func (r RecordKeys) Ed25519Key(rec backend.Record, index *uint32) (ed25519.PrivateKey, error) {
	k, err := r.typed(rec, index, func(k SigningKey) bool { return k.Ed25519 != nil })
	return k.Ed25519, err
}

// Secp256k1Key is SigningKey for VET and FLOW (and every secp256k1 chain).
func (r RecordKeys) Secp256k1Key(rec backend.Record, index *uint32) (*btcec.PrivateKey, error) {
	k, err := r.typed(rec, index, func(k SigningKey) bool { return k.Secp256k1 != nil })
	return k.Secp256k1, err
}

// XRPKey is SigningKey for XRP.
func (r RecordKeys) XRPKey(rec backend.Record, index *uint32) (*wallet.XRPKey, error) {
	k, err := r.typed(rec, index, func(k SigningKey) bool { return k.XRP != nil })
	return k.XRP, err
}

// CardanoKey is SigningKey for ADA.
func (r RecordKeys) CardanoKey(rec backend.Record, index *uint32) (*wallet.CardanoKey, error) {
	k, err := r.typed(rec, index, func(k SigningKey) bool { return k.Cardano != nil })
	return k.Cardano, err
}

func (r RecordKeys) typed(rec backend.Record, index *uint32, has func(SigningKey) bool) (SigningKey, error) {
	k, err := r.SigningKey(rec, index)
	if err != nil {
		return SigningKey{}, err
	}
	if !has(k) {
		k.Zero()
		return SigningKey{}, fmt.Errorf("signatureId %s: a %s key is not of the type its signer takes; refusing to sign", rec.ID, rec.Chain)
	}
	return k, nil
}
