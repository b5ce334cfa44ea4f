package algo

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/keyref"
)

// KeySource resolves a signatureId to an ALGO key; the same shape as the
// SOL and XLM signers' KeySource, so one ed25519 adapter serves them all.
// tatum-kms has ALGO private-key wallets only: the record's secret
// (tatum-kms's "secret", or "privateKey" for storemanagedprivatekey
// entries) decoded with wallet.AlgoKeyFromSecret. tatum-kms ignores the
// index for ALGO; it is passed so that the wiring can refuse or ignore it.
// The KeySource owns the key it returns.
type KeySource interface {
	Ed25519Key(ctx context.Context, signatureID string, index *uint32) (ed25519.PrivateKey, error)
}

// SignRequest signs a pending ALGO transaction for the daemon: the wallet
// is the one the request names (tatum-kms: wallets[0]); its index, like
// tatum-kms, plays no part. Off-chain withdrawals are signed the same way
// and go to the same broadcast path (tatum-kms's ALGO case ignores
// withdrawalId).
func SignRequest(ctx context.Context, req signing.Request, keys KeySource) (*Signed, error) {
	if req.Chain != "ALGO" {
		return nil, fmt.Errorf("chain %q: %w", req.Chain, signing.ErrUnsupportedChain)
	}
	id, idx, err := keyref.One("ALGO", req)
	if err != nil {
		return nil, fmt.Errorf("ALGO transaction %s: %w", req.ID, err)
	}
	// Decode before the key is fetched: a refused transaction never
	// touches the store.
	if _, err := Decode(req.SerializedTransaction); err != nil {
		return nil, fmt.Errorf("ALGO transaction %s: %w", req.ID, err)
	}
	key, err := keys.Ed25519Key(ctx, id, idx)
	if err != nil {
		return nil, fmt.Errorf("ALGO transaction %s: key for signatureId %s: %w", req.ID, id, err)
	}
	s, err := Sign(req.SerializedTransaction, key, req.Testnet)
	if err != nil {
		return nil, fmt.Errorf("ALGO transaction %s: %w", req.ID, err)
	}
	return s, nil
}
