package sol

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/gokms/gokms/signing"
)

// KeySource resolves a signatureId to a SOL wallet's ed25519 key (the
// daemon's is RecordKeys, over the stored records). index is the pending
// transaction's (for hashes) or the signature's. The signer zeroes nothing it
// did not make: the KeySource owns the keys.
type KeySource interface {
	Ed25519Key(ctx context.Context, signatureID string, index *uint32) (ed25519.PrivateKey, error)
}

// Prepare is the daemon's part before the journal: it resolves every wallet
// of req in tatum-kms's order (hashes, then signatures), asks node for a
// blockhash and signs. It sends nothing: journal Signed.Wire and TxID, then
// Send, then POST /v3/solana/broadcast {"txData": TxID, "signatureId": req.ID}.
func Prepare(ctx context.Context, node Node, req signing.Request, keys KeySource) (*Signed, error) {
	if req.Chain != "SOL" {
		return nil, fmt.Errorf("%w: pending transaction %s is for %s, not SOL", ErrRefused, req.ID, req.Chain)
	}
	var ks []ed25519.PrivateKey
	get := func(id string, index *uint32) error {
		k, err := keys.Ed25519Key(ctx, id, index)
		if err != nil {
			return fmt.Errorf("SOL pending transaction %s: wallet %s: %w", req.ID, id, err)
		}
		ks = append(ks, k)
		return nil
	}
	for _, id := range req.Hashes {
		if err := get(id, req.Index); err != nil {
			return nil, err
		}
	}
	for _, s := range req.Signatures {
		if err := get(s.ID, s.Index); err != nil {
			return nil, err
		}
	}
	bh, err := node.LatestBlockhash(ctx)
	if err != nil {
		return nil, fmt.Errorf("SOL pending transaction %s: %w", req.ID, err)
	}
	s, err := Sign(req.SerializedTransaction, ks, bh)
	if err != nil {
		return nil, fmt.Errorf("pending transaction %s: %w", req.ID, err)
	}
	return s, nil
}
