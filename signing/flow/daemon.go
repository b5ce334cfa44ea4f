package flow

import (
	"context"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/signing"
)

// KeySource resolves a signatureId (and, for mnemonic wallets, an index)
// to a Flow key. The daemon's is Signer's: the stored record decoded by the
// injected KeyDecoder (kms's key table): a private-key entry as tatum-kms's
// unpadded hex, a mnemonic entry's key at m/44'/539'/0'/0/index.
type KeySource interface {
	Key(ctx context.Context, signatureID string, index *uint32) (*btcec.PrivateKey, error)
}

// Broadcast is what the daemon posts to complete the pending transaction:
// POST /v3/flow/broadcast {"txData": <Flow transaction id>, "signatureId": id}.
type Broadcast struct {
	Path   string
	Body   map[string]any
	Result *Result
}

// SignRequest signs (and sends, see Sign) a FLOW pending transaction with
// its one wallet, as tatum-kms signs with wallets[0].
func SignRequest(ctx context.Context, req signing.Request, keys KeySource, tatum Tatum, node AccessNode, p Params) (*Broadcast, error) {
	if req.Chain != "FLOW" {
		return nil, fmt.Errorf("%w: pending transaction %s is for %s, not FLOW", ErrRefused, req.ID, req.Chain)
	}
	in, k, err := requestKey(ctx, req, keys, p)
	if err != nil {
		return nil, err
	}
	r, err := Sign(ctx, in, k, tatum, node, p)
	if err != nil {
		if r != nil { // sent: the caller must not send it again
			return &Broadcast{Result: r}, fmt.Errorf("pending transaction %s: %w", req.ID, err)
		}
		return nil, fmt.Errorf("pending transaction %s: %w", req.ID, err)
	}
	return &Broadcast{Path: "/v3/flow/broadcast", Result: r, Body: map[string]any{"txData": r.TxID, "signatureId": req.ID}}, nil
}

// requestKey checks a pending transaction and returns its intent and the
// key of its one wallet (tatum-kms: wallets[0]).
func requestKey(ctx context.Context, req signing.Request, keys KeySource, p Params) (*Intent, *btcec.PrivateKey, error) {
	if req.WithdrawalID != "" {
		return nil, nil, fmt.Errorf("%w: pending transaction %s is an off-chain withdrawal; tatum-kms has no FLOW off-chain signer either", ErrRefused, req.ID)
	}
	if len(req.Hashes) != 1 {
		return nil, nil, fmt.Errorf("%w: pending transaction %s names %d wallets; a FLOW transaction is signed by exactly one", ErrRefused, req.ID, len(req.Hashes))
	}
	in, err := ParseIntent(req.SerializedTransaction, p.Testnet, p.AllowCustom)
	if err != nil {
		return nil, nil, fmt.Errorf("pending transaction %s: %w", req.ID, err)
	}
	k, err := keys.Key(ctx, req.Hashes[0], req.Index)
	if err != nil {
		return nil, nil, fmt.Errorf("FLOW pending transaction %s: wallet %s: %w", req.ID, req.Hashes[0], err)
	}
	return in, k, nil
}
