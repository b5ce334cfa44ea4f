package signing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gokms/gokms/backend"
)

// RecordSource hands a chain's signer the stored record of a signatureId,
// after the checks the Resolver's Key makes: --wallets, the daemon's
// network, and the record's chain equal to the transaction's. The chain
// signers that take it (SOL, XLM, XRP, ALGO, EGLD, VET, ADA, FLOW) hand the
// record to the decoder kms injects (its key table, the one record → key
// path), never decode it themselves. The caller owns the returned copy and
// must Zero it.
type RecordSource interface {
	Record(ctx context.Context, signatureID string) (backend.Record, error)
}

// Records returns the RecordSource behind keys, if keys has one (the
// daemon's chain-bound view of its Resolver does).
func Records(keys KeySource) (RecordSource, bool) {
	rs, ok := keys.(RecordSource)
	return rs, ok
}

// Record implements RecordSource for the chain of the view.
func (v chainView) Record(ctx context.Context, signatureID string) (backend.Record, error) {
	if err := v.r.allowed(signatureID); err != nil {
		return backend.Record{}, err
	}
	v.r.mu.Lock()
	v.r.gets++
	v.r.mu.Unlock()
	rec, err := v.r.b.Get(ctx, signatureID)
	if err != nil {
		if errors.Is(err, backend.ErrNotFound) {
			return backend.Record{}, fmt.Errorf("signatureId %s: %w in the store (%w)", signatureID, ErrUnknownSignatureID, err)
		}
		return backend.Record{}, fmt.Errorf("signatureId %s: read wallet: %w", signatureID, err)
	}
	if rec.Testnet != v.r.testnet {
		rec.Zero()
		return backend.Record{}, fmt.Errorf("signatureId %s is a %s wallet, but the daemon runs on %s: %w; refusing to sign", signatureID, network(rec.Testnet), network(v.r.testnet), ErrNetworkMismatch)
	}
	if got := strings.ToUpper(strings.TrimSpace(rec.Chain)); got != v.chain {
		rec.Zero()
		return backend.Record{}, fmt.Errorf("signatureId %s is a %s wallet, but the transaction is for %s: %w; refusing to sign", signatureID, got, v.chain, ErrChainMismatch)
	}
	return rec, nil
}
