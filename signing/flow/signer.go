package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/recordkey"
)

// Signer is the daemon's FLOW signer, in two steps so that the daemon's
// journal holds the signed transaction before anything leaves gokms:
//
//   - Sign (signing.Signer) reads the wallet's record through the daemon's
//     chain-bound signing.RecordSource, has DecodeKey turn it into the key,
//     and Prepares: the wallet's payload
//     signature and Tatum's proposer and payer signatures (/v3/flow/proposal,
//     /v3/flow/sign), all verified; nothing is sent to the access node. It
//     returns the signed transaction's journal form (Prepared.Encode).
//   - Send (signing.Sender) Submits those bytes to the access node, waits
//     for the seal, releases the proposal key and returns the Flow
//     transaction id, which the daemon posts to /v3/flow/broadcast
//     {txData, signatureId} as tatum-kms does. A resend of the same bytes
//     cannot execute twice (see Submit).
type Signer struct {
	Tatum Tatum
	Node  AccessNode
	// AllowCustom lets CUSTOM_TX pending transactions (any Cadence) sign.
	AllowCustom  bool
	PollInterval time.Duration // 0: one second
	// DecodeKey turns the wallet's stored record into its key (kms.Signers
	// injects the key table's).
	DecodeKey KeyDecoder
}

// Family is the FLOW signer family.
func Family(s *Signer) signing.Family { return signing.Family{"FLOW": s} }

// Sign implements signing.Signer.
func (s *Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed implements signing.DetailedSigner; TxID is the Flow id,
// View the authorizer and, for a transfer, its recipient and FLOW amount.
func (s *Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	if req.Chain != "FLOW" {
		return signing.Signed{}, fmt.Errorf("%w: pending transaction %s is for %s, not FLOW", ErrRefused, req.ID, req.Chain)
	}
	ks := recordKeys{recordkey.New("FLOW", keys, s.DecodeKey, (*btcec.PrivateKey).Zero)}
	defer ks.Wipe()
	in, k, err := requestKey(ctx, req, ks, Params{Testnet: req.Testnet, AllowCustom: s.AllowCustom})
	if err != nil {
		return signing.Signed{}, err
	}
	prep, err := Prepare(ctx, in, k, s.Tatum, s.Node)
	if err != nil {
		return signing.Signed{}, fmt.Errorf("pending transaction %s: %w", req.ID, err)
	}
	raw, err := prep.Encode()
	if err != nil {
		return signing.Signed{}, err
	}
	propKey := prep.Tx.Proposal.KeyID
	sd := signing.Signed{Raw: raw, TxID: prep.TxID, Release: func(ctx context.Context) {
		// Dropped unsent: the key is Tatum's again, as when Prepare fails.
		_ = s.Tatum.Report(context.WithoutCancel(ctx), "", "", &propKey)
	}}
	// What the journaled bytes do (policy decodes Raw itself with DecodeView).
	if dv, err := DecodeView("FLOW", req.Testnet, req.SerializedTransaction, raw); err == nil {
		sd.View = &signing.TxView{Chain: "FLOW", Testnet: req.Testnet, From: dv.Inputs[0].Address}
		if len(dv.Outputs) == 1 {
			sd.View.To = dv.Outputs[0].Address
			if dv.Outputs[0].Token == "" {
				sd.View.Value = dv.Outputs[0].Amount
			}
		}
	}
	return sd, nil
}

// Send implements signing.Sender.
func (s *Signer) Send(ctx context.Context, chain string, testnet bool, raw string) (string, error) {
	prep, err := DecodePrepared(raw)
	if err != nil {
		return "", err
	}
	_, err = Submit(ctx, prep, s.Tatum, s.Node, Params{Testnet: testnet, PollInterval: s.PollInterval})
	switch {
	case err == nil:
		return prep.TxID, nil
	case errors.Is(err, ErrSendUnknown), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Sent or maybe sent, not sealed yet: the next cycle resends the
		// same bytes, which finds the id at the node and waits for it.
		return "", fmt.Errorf("FLOW transaction %s: %w: %w", prep.TxID, signing.ErrSendAmbiguous, err)
	default:
		return "", fmt.Errorf("FLOW transaction %s: %w", prep.TxID, err)
	}
}

// KeyDecoder is the daemon's record → key path for FLOW: kms's key table
// (kms.RecordKeys.Secp256k1Key, injected by kms.Signers, as signing/flow
// cannot import kms). It makes the wallet kind and index checks, decodes a
// private-key entry (tatum-kms's unpadded hex) or derives a mnemonic
// entry's key at m/44'/539'/0'/0/i; the key is the caller's to zero.
type KeyDecoder func(rec backend.Record, index *uint32) (*btcec.PrivateKey, error)

// recordKeys is the KeySource FLOW signs with: records through the
// daemon's RecordSource, decoded by DecodeKey, zeroed after the signature.
type recordKeys struct {
	*recordkey.Keys[*btcec.PrivateKey]
}

func (r recordKeys) Key(ctx context.Context, id string, index *uint32) (*btcec.PrivateKey, error) {
	return r.Get(ctx, id, index)
}
