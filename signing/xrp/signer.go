package xrp

import (
	"context"
	"fmt"
	"strings"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// KeySource resolves the signatureId of an XRP wallet to its key. The
// daemon's comes from RecordSigner (FromSecrets over the stored record's
// seed, tatum-kms's "secret" or "privateKey"). The caller owns the key: a
// Key it returns may be zeroed by the source after Sign returns.
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
	if k, ok := key.(ownedKey); ok {
		defer k.Zero()
	}
	return Sign(ctx, req.SerializedTransaction, key, s.Params)
}

// SecretFunc returns what the backend holds for an XRP wallet: the family
// seed (tatum-kms's "secret", or "privateKey" for the entries
// generatemanagedprivatekeybatch writes) and the stored address ("" if
// none). The returned secret slice is zeroed after use.
type SecretFunc func(ctx context.Context, signatureID string) (secret []byte, address string, err error)

// FromSecrets adapts a SecretFunc to a KeySource: it derives the key from
// the seed, refuses it if a stored address disagrees, and wipes the seed.
// The Signer wipes such keys once the transaction is signed.
func FromSecrets(f SecretFunc) KeySource { return secretSource(f) }

type secretSource SecretFunc

type ownedKey struct{ *wallet.XRPKey }

func (f secretSource) XRPKey(ctx context.Context, id string) (Key, error) {
	secret, addr, err := f(ctx, id)
	if err != nil {
		return nil, err
	}
	k, err := wallet.XRPKeyFromSecret(string(secret))
	for i := range secret {
		secret[i] = 0
	}
	if err != nil {
		return nil, err
	}
	if addr != "" && addr != k.Address() {
		k.Zero()
		return nil, fmt.Errorf("the stored secret gives address %s, not the stored address %s", k.Address(), addr)
	}
	return ownedKey{k}, nil
}

// ForRegistry adapts s to signing.Signer with s.Keys resolving XRP wallets
// (the signing.KeySource argument is not used). The daemon uses
// RecordSigner instead, which reads the Set's RecordSource.
func (s *Signer) ForRegistry() signing.Signer { return registryAdapter{s} }

type registryAdapter struct{ s *Signer }

func (a registryAdapter) Sign(ctx context.Context, req signing.Request, _ signing.KeySource) (string, error) {
	return a.s.Sign(ctx, req)
}
