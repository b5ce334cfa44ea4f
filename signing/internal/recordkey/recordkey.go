// Package recordkey is the part of a chain's daemon signer between the
// daemon's chain-bound signing.RecordSource and the key. It fetches the
// stored record (the RecordSource has made the --wallets, network and
// chain checks), hands it to the injected decoder — kms's key table
// (kms.RecordKeys.SigningKey), the one record → key path of the CLI and
// the daemon, which makes the index and stored-address checks — zeroes the
// record, and keeps the keys so that Wipe zeroes them after the signature.
// It decodes nothing itself.
package recordkey

import (
	"context"
	"errors"
	"fmt"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
)

// ErrNoRecords is returned when the KeySource handed to a signer cannot give
// records (only the daemon's chain-bound view can): such a signer never
// signs with a key derived the generic way.
var ErrNoRecords = errors.New("the key source gives no stored records")

// ErrNoDecoder is returned by a signer built without the key table's
// decoder (kms.Signers injects it).
var ErrNoDecoder = errors.New("the signer has no record decoder (build it with kms.Signers, which injects the key table's)")

// Keys hands out the keys of one signature. K is the chain's key type.
type Keys[K any] struct {
	chain  string
	keys   signing.KeySource
	decode func(backend.Record, *uint32) (K, error)
	wipe   func(K)
	got    []K
}

// New returns the keys of chain's records behind keys, decoded by decode;
// wipe zeroes one key.
func New[K any](chain string, keys signing.KeySource, decode func(backend.Record, *uint32) (K, error), wipe func(K)) *Keys[K] {
	return &Keys[K]{chain: chain, keys: keys, decode: decode, wipe: wipe}
}

// Get returns the key of signatureID at index (nil: none given). The key
// stays the Keys' until Wipe.
func (k *Keys[K]) Get(ctx context.Context, signatureID string, index *uint32) (K, error) {
	var none K
	if k.decode == nil {
		return none, fmt.Errorf("%s signatureId %s: %w", k.chain, signatureID, ErrNoDecoder)
	}
	rs, ok := signing.Records(k.keys)
	if !ok {
		return none, fmt.Errorf("%s signatureId %s: %w", k.chain, signatureID, ErrNoRecords)
	}
	rec, err := rs.Record(ctx, signatureID)
	if err != nil {
		return none, err
	}
	defer rec.Zero()
	key, err := k.decode(rec, index)
	if err != nil {
		return none, err
	}
	k.got = append(k.got, key)
	return key, nil
}

// Wipe zeroes every key handed out.
func (k *Keys[K]) Wipe() {
	for _, key := range k.got {
		k.wipe(key)
	}
	k.got = nil
}
