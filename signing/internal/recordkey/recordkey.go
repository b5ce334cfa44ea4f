// Package recordkey fetches the stored record a chain signer decodes its
// key from, through the daemon's chain-bound signing.RecordSource (which
// has made the --wallets, network and chain checks), and checks the wallet
// kind against the index the way the Resolver does for every other chain.
package recordkey

import (
	"context"
	"errors"
	"fmt"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
)

// ErrNoRecords is returned when the KeySource handed to a signer cannot give
// records (only the daemon's chain-bound view can): such a signer decodes its
// own key form and never signs with a key derived the generic way.
var ErrNoRecords = errors.New("the key source gives no stored records")

// Rule says how a chain treats the index of a pending transaction.
type Rule int

const (
	// Strict: a mnemonic wallet needs an index, a private-key wallet must
	// have none (the Resolver's rule).
	Strict Rule = iota
	// PrivateKeyOnly: only private-key wallets sign; an index is ignored
	// (tatum-kms's ALGO case reads wallets[0].secret and nothing else).
	PrivateKeyOnly
)

// Fetch returns the record of signatureID for chain. The caller owns it and
// must Zero it.
func Fetch(ctx context.Context, keys signing.KeySource, chain, signatureID string, index *uint32, rule Rule) (backend.Record, error) {
	rs, ok := signing.Records(keys)
	if !ok {
		return backend.Record{}, fmt.Errorf("%s signatureId %s: %w", chain, signatureID, ErrNoRecords)
	}
	rec, err := rs.Record(ctx, signatureID)
	if err != nil {
		return backend.Record{}, err
	}
	fail := func(err error) (backend.Record, error) {
		rec.Zero()
		return backend.Record{}, err
	}
	switch {
	case rule == PrivateKeyOnly && rec.Kind != backend.PrivateKey:
		return fail(fmt.Errorf("signatureId %s is a %s %s wallet, but %s signs with private-key wallets only (tatum-kms's %s wallets hold a secret): %w",
			signatureID, chain, rec.Kind, chain, chain, signing.ErrIndexMismatch))
	case rule == PrivateKeyOnly:
	case rec.Kind == backend.PrivateKey && index != nil:
		return fail(fmt.Errorf("signatureId %s is a private-key wallet, but the transaction asks for index %d: %w; use a mnemonic wallet's signatureId with an index, or this one without",
			signatureID, *index, signing.ErrIndexMismatch))
	case rec.Kind == backend.Mnemonic && index == nil:
		return fail(fmt.Errorf("signatureId %s is a mnemonic wallet, but the transaction gives no index: %w; request the transaction with the index of the key to use, or use a private-key wallet",
			signatureID, signing.ErrIndexMismatch))
	case rec.Kind != backend.PrivateKey && rec.Kind != backend.Mnemonic:
		return fail(fmt.Errorf("signatureId %s: unknown wallet kind %q", signatureID, rec.Kind))
	}
	return rec, nil
}
