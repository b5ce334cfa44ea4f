package ada

import (
	"context"
	"fmt"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// KeySource resolves a signatureId to a Cardano key (signing.KeySource
// gives secp256k1 keys only). The daemon's is Signer's: the stored record
// decoded by the injected KeyDecoder (kms's key table): a private-key
// entry's privateKey as a 128 hex extended key or a 64 hex plain ed25519
// seed, a mnemonic entry's key at the index. The signer does not keep or
// zero the keys.
type KeySource interface {
	CardanoKey(ctx context.Context, signatureID string, index *uint32) (*wallet.CardanoKey, error)
}

// Broadcast is where and what the daemon posts after signing.
type Broadcast struct {
	Path   string         // "/v3/ada/broadcast" or "/v3/offchain/withdrawal/broadcast"
	Body   map[string]any // the JSON body, as tatum-kms sends it
	TxHash string         // the Cardano transaction id, for the journal
}

// SignRequest signs an ADA pending transaction as tatum-kms's daemon does.
// An ordinary one names private-key wallets in hashes (tatum-kms signs with
// wallets.map(w => w.privateKey)); gokms also takes a mnemonic wallet there
// when the pending transaction carries an index. An off-chain withdrawal
// (withdrawalId set) names mnemonic wallets and indexes in signatures; its
// txData goes to the off-chain broadcast.
func SignRequest(ctx context.Context, req signing.Request, keys KeySource, node Node, p Params) (*Broadcast, error) {
	if req.Chain != "ADA" {
		return nil, fmt.Errorf("%w: pending transaction %s is for %s, not ADA", ErrRefused, req.ID, req.Chain)
	}
	var ks []*wallet.CardanoKey
	add := func(id string, index *uint32) error {
		k, err := keys.CardanoKey(ctx, id, index)
		if err != nil {
			return fmt.Errorf("ADA pending transaction %s: wallet %s: %w", req.ID, id, err)
		}
		ks = append(ks, k)
		return nil
	}
	if req.WithdrawalID != "" {
		if len(req.Signatures) == 0 {
			return nil, fmt.Errorf("%w: off-chain withdrawal %s names no wallet in signatures", ErrRefused, req.ID)
		}
		for _, s := range req.Signatures {
			if s.Index == nil {
				return nil, fmt.Errorf("%w: off-chain withdrawal %s: wallet %s has no index", ErrRefused, req.ID, s.ID)
			}
			if err := add(s.ID, s.Index); err != nil {
				return nil, err
			}
		}
	} else {
		if len(req.Hashes) == 0 {
			return nil, fmt.Errorf("%w: pending transaction %s names no wallet", ErrRefused, req.ID)
		}
		for _, id := range req.Hashes {
			if err := add(id, req.Index); err != nil {
				return nil, err
			}
		}
	}
	s, err := Sign(ctx, node, req.SerializedTransaction, ks, p)
	if err != nil {
		return nil, fmt.Errorf("pending transaction %s: %w", req.ID, err)
	}
	if req.WithdrawalID != "" {
		return &Broadcast{Path: "/v3/offchain/withdrawal/broadcast", TxHash: s.TxHash, Body: map[string]any{
			"currency": "ADA", "withdrawalId": req.WithdrawalID, "signatureId": req.ID, "txData": s.TxData,
		}}, nil
	}
	return &Broadcast{Path: "/v3/ada/broadcast", TxHash: s.TxHash, Body: map[string]any{
		"txData": s.TxData, "signatureId": req.ID,
	}}, nil
}
