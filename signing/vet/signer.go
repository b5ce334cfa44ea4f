package vet

import (
	"context"
	"fmt"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/keyref"
)

// SignRequest signs a pending VET transaction for the daemon. keys is the
// daemon's signing.KeySource (secp256k1): for a VET mnemonic wallet it must
// derive wallet.VETKeyFromMnemonic(mnemonic, index, record.Testnet), the
// m/44'/818'/0'/0/i key tatum-kms's getprivatekey shows (tatum-kms's own
// daemon cannot: it asks its SDK for Currency.BNB); a private-key wallet
// is wallet.VETKeyFromPrivateKey. nonce nil draws a random nonce.
func SignRequest(ctx context.Context, req signing.Request, keys signing.KeySource, node Node, nonce NonceSource) (*Signed, error) {
	if req.Chain != "VET" {
		return nil, fmt.Errorf("chain %q: %w", req.Chain, signing.ErrUnsupportedChain)
	}
	id, idx, err := keyref.One("VET", req)
	if err != nil {
		return nil, fmt.Errorf("VET transaction %s: %w", req.ID, err)
	}
	// Decode before the key is fetched: a refused transaction never
	// touches the store.
	if _, err := Decode(req.SerializedTransaction, nil); err != nil {
		return nil, fmt.Errorf("VET transaction %s: %w", req.ID, err)
	}
	key, err := keys.Key(ctx, id, idx)
	if err != nil {
		return nil, fmt.Errorf("VET transaction %s: key for signatureId %s: %w", req.ID, id, err)
	}
	s, err := Sign(ctx, req.SerializedTransaction, key, req.Testnet, node, nonce)
	if err != nil {
		return nil, fmt.Errorf("VET transaction %s: %w", req.ID, err)
	}
	return s, nil
}
