package ada

import (
	"context"
	"fmt"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/recordkey"
	"github.com/gokms/gokms/wallet"
)

// Signer is the daemon's ADA signer: it reads the wallets' stored records
// through the daemon's chain-bound signing.RecordSource, has DecodeKey turn
// them into Cardano keys, drives the Rosetta construction flow on Node with
// SignRequest, and gives the daemon the txData. The daemon posts it where
// SignRequest's Broadcast says tatum-kms posts it: /v3/ada/broadcast
// {txData, signatureId}, or for an off-chain withdrawal
// /v3/offchain/withdrawal/broadcast {currency "ADA", withdrawalId,
// signatureId, txData} (the daemon's Broadcast and BroadcastWithdrawal).
type Signer struct {
	Node Node
	// MaxFee is the most fee a transaction may pay (lovelace); 0 is
	// DefaultMaxFee.
	MaxFee    uint64
	DecodeKey KeyDecoder
}

// KeyDecoder is the daemon's record → key path for ADA: kms's key table
// (kms.RecordKeys.CardanoKey, injected by kms.Signers, as signing/ada
// cannot import kms). It makes the wallet kind and index checks, decodes a
// private-key entry (128 hex extended key, or 64 hex plain ed25519 seed)
// or derives a mnemonic entry's key at the index; the key is the caller's
// to wipe.
type KeyDecoder func(rec backend.Record, index *uint32) (*wallet.CardanoKey, error)

// Family is the ADA signer family on node.
func Family(node Node, maxFee uint64, decode KeyDecoder) signing.Family {
	return signing.Family{"ADA": &Signer{Node: node, MaxFee: maxFee, DecodeKey: decode}}
}

// Sign implements signing.Signer.
func (s *Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed implements signing.DetailedSigner: TxID is the Cardano
// transaction id (the body hash), View the outputs and fee decoded from the
// signed transaction (DecodeView, which policy calls itself on Raw).
func (s *Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	ks := recordKeys{recordkey.New("ADA", keys, s.DecodeKey, (*wallet.CardanoKey).Wipe)}
	defer ks.Wipe()
	b, err := SignRequest(ctx, req, ks, s.Node, Params{Testnet: req.Testnet, MaxFee: s.MaxFee})
	if err != nil {
		return signing.Signed{}, err
	}
	want := "/v3/ada/broadcast"
	if req.WithdrawalID != "" {
		want = "/v3/offchain/withdrawal/broadcast"
	}
	txData, _ := b.Body["txData"].(string)
	if b.Path != want || txData == "" {
		// The daemon posts by req.WithdrawalID; never let the two disagree.
		return signing.Signed{}, fmt.Errorf("ADA pending transaction %s: signer would post to %s, the daemon to %s", req.ID, b.Path, want)
	}
	return signing.Signed{Raw: txData, TxID: b.TxHash, View: txView(req, txData)}, nil
}

// recordKeys is the KeySource ADA signs with: records through the
// daemon's RecordSource, decoded by DecodeKey, wiped after the signature.
type recordKeys struct {
	*recordkey.Keys[*wallet.CardanoKey]
}

func (r recordKeys) CardanoKey(ctx context.Context, id string, index *uint32) (*wallet.CardanoKey, error) {
	return r.Get(ctx, id, index)
}

// txView is DecodeView's outputs and fee in signing.TxView form; nil if the signed transaction does not decode.
func txView(req signing.Request, txData string) *signing.TxView {
	dv, err := DecodeView("ADA", req.Testnet, req.SerializedTransaction, txData)
	if err != nil {
		return nil
	}
	v := &signing.TxView{Chain: "ADA", Testnet: req.Testnet, Fee: dv.Fee}
	for _, o := range dv.Outputs {
		v.Outputs = append(v.Outputs, signing.TxOutput{Address: o.Address, Value: o.Amount})
	}
	return v
}
