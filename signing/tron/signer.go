package tron

import (
	"context"
	"fmt"
	"strings"

	"github.com/gokms/gokms/signing"
)

// Signer is the signing.Signer for TRON. TRON keys are secp256k1, so
// today's signing.KeySource serves them: a private-key wallet (64 hex
// digits) or a mnemonic wallet with the pending transaction's index
// (m/44'/195'/0'/0/index), as tatum-kms resolves them.
type Signer struct {
	Params Params
}

// NewSigner returns a TRON Signer. It is not registered anywhere: the
// wiring adds signing.Family{"TRON": tron.NewSigner(p)} to the signing.Set.
func NewSigner(p Params) *Signer { return &Signer{Params: p} }

// Sign returns the signed transaction JSON to post as txData to
// /v3/tron/broadcast. As tatum-kms, it signs with the first (and here only)
// signatureId of the pending transaction.
func (s *Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	if !strings.EqualFold(req.Chain, "TRON") {
		return "", refuse("pending transaction of chain %q given to the TRON signer", req.Chain)
	}
	if len(req.Hashes) != 1 {
		return "", refuse("a TRON transaction is signed by one wallet; the pending transaction names %d", len(req.Hashes))
	}
	// Check before resolving the key: a refused transaction never touches
	// the backend.
	tx, err := Decode(req.SerializedTransaction, s.Params)
	if err != nil {
		return "", err
	}
	key, err := keys.Key(ctx, req.Hashes[0], req.Index)
	if err != nil {
		return "", fmt.Errorf("TRON wallet %s: %w", req.Hashes[0], err)
	}
	return tx.Sign(key)
}
