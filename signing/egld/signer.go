package egld

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/keyref"
)

// KeySource resolves a signatureId (and, for a mnemonic wallet, an index)
// to an EGLD ed25519 key (the same shape as the SOL, XLM and ALGO signers'
// KeySource): a private-key record through
// wallet.EGLDKeyFromPrivateKey, a mnemonic record through
// wallet.EGLDKeyFromMnemonic(mnemonic, index, record.Testnet) (tatum-kms
// derives with the wallet's own testnet flag). A nil index on a mnemonic
// wallet, or an index on a private-key wallet, is an error (tatum-kms's
// validatePrivateKeyWasFound). The KeySource owns the key it returns.
type KeySource interface {
	Ed25519Key(ctx context.Context, signatureID string, index *uint32) (ed25519.PrivateKey, error)
}

// SignRequest signs a pending EGLD transaction for the daemon, asking node
// what the SDK asks.
func SignRequest(ctx context.Context, req signing.Request, keys KeySource, node Node) (*Signed, error) {
	if req.Chain != "EGLD" {
		return nil, fmt.Errorf("chain %q: %w", req.Chain, signing.ErrUnsupportedChain)
	}
	id, idx, err := keyref.One("EGLD", req)
	if err != nil {
		return nil, fmt.Errorf("EGLD transaction %s: %w", req.ID, err)
	}
	if _, err := Decode(req.SerializedTransaction); err != nil {
		return nil, fmt.Errorf("EGLD transaction %s: %w", req.ID, err)
	}
	key, err := keys.Ed25519Key(ctx, id, idx)
	if err != nil {
		return nil, fmt.Errorf("EGLD transaction %s: key for signatureId %s: %w", req.ID, id, err)
	}
	s, err := Sign(ctx, req.SerializedTransaction, key, req.Testnet, node)
	if err != nil {
		return nil, fmt.Errorf("EGLD transaction %s: %w", req.ID, err)
	}
	return s, nil
}
