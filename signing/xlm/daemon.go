package xlm

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/gokms/gokms/signing"
)

// KeySource resolves a signatureId to an XLM wallet's ed25519 key (the
// daemon's is RecordKeys, over the stored records: tatum-kms's secret, or
// privateKey, an "S..." StrKey). The signer zeroes nothing it did not make.
type KeySource interface {
	Ed25519Key(ctx context.Context, signatureID string, index *uint32) (ed25519.PrivateKey, error)
}

// SignRequest signs req with its one wallet and returns the broadcast body's
// txData, for POST /v3/xlm/broadcast {"txData": ..., "signatureId": req.ID}.
// tatum-kms signs with wallets[0], the first signatureId it finds, and
// ignores any other; gokms refuses a pending transaction that names more
// than one wallet rather than guess which one it meant.
func SignRequest(ctx context.Context, req signing.Request, keys KeySource, testnet bool) (*Signed, error) {
	if req.Chain != "XLM" {
		return nil, fmt.Errorf("%w: pending transaction %s is for %s, not XLM", ErrRefused, req.ID, req.Chain)
	}
	ids := append([]string(nil), req.Hashes...)
	for _, s := range req.Signatures {
		ids = append(ids, s.ID)
	}
	if len(ids) != 1 {
		return nil, fmt.Errorf("%w: pending transaction %s names %d wallets; an XLM transaction is signed by exactly one", ErrRefused, req.ID, len(ids))
	}
	k, err := keys.Ed25519Key(ctx, ids[0], req.Index)
	if err != nil {
		return nil, fmt.Errorf("XLM pending transaction %s: wallet %s: %w", req.ID, ids[0], err)
	}
	s, err := Sign(req.SerializedTransaction, k, testnet)
	if err != nil {
		return nil, fmt.Errorf("pending transaction %s: %w", req.ID, err)
	}
	return s, nil
}
