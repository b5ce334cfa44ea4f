package xrp

import (
	"context"
	"fmt"
	"strings"

	"github.com/gokms/gokms/signing"
)

// KeySource resolves the signatureId of an XRP wallet to its key. The
// daemon's comes from RecordSigner (the stored record decoded by kms's key
// table). The source owns the key: it may zero it after Sign returns.
type KeySource interface {
	XRPKey(ctx context.Context, signatureID string) (Key, error)
}

// Signer signs XRP pending transactions for the daemon.
type Signer struct {
	Keys   KeySource
	Params Params
}

// Sign returns the tx_blob to broadcast as txData to /v3/xrp/broadcast.
// tatum-kms signs with the first wallet of the pending transaction's
// hashes; an XRP transaction has one signer, so gokms wants exactly one,
// and no derivation index (XRP wallets are family seeds, not mnemonics).
func (s *Signer) Sign(ctx context.Context, req signing.Request) (string, error) {
	if !strings.EqualFold(req.Chain, "XRP") {
		return "", refuse("pending transaction of chain %q given to the XRP signer", req.Chain)
	}
	if len(req.Hashes) != 1 {
		return "", refuse("an XRP transaction is signed by one wallet; the pending transaction names %d", len(req.Hashes))
	}
	if req.Index != nil {
		return "", refuse("XRP wallets are family seeds and take no derivation index")
	}
	key, err := s.Keys.XRPKey(ctx, req.Hashes[0])
	if err != nil {
		return "", fmt.Errorf("XRP wallet %s: %w", req.Hashes[0], err)
	}
	return Sign(ctx, req.SerializedTransaction, key, s.Params)
}

// ForRegistry adapts s to signing.Signer with s.Keys resolving XRP wallets
// (the signing.KeySource argument is not used). The daemon uses
// RecordSigner instead, which reads the Set's RecordSource.
func (s *Signer) ForRegistry() signing.Signer { return registryAdapter{s} }

type registryAdapter struct{ s *Signer }

func (a registryAdapter) Sign(ctx context.Context, req signing.Request, _ signing.KeySource) (string, error) {
	return a.s.Sign(ctx, req)
}
