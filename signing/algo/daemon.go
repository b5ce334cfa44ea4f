package algo

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/big"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/recordkey"
	"github.com/gokms/gokms/wallet"
)

// Signer is the daemon's ALGO signer (signing.Signer and
// signing.DetailedSigner): it reads the wallet's stored record through the
// daemon's chain-bound signing.RecordSource, decodes tatum-kms's secret with
// wallet.AlgoKeyFromSecret and signs with SignRequest. Tatum broadcasts the
// result (/v3/algorand/broadcast).
type Signer struct{}

// Family is the ALGO signer family for a signing.Set.
func Family() signing.Family { return signing.Family{"ALGO": Signer{}} }

// Sign implements signing.Signer.
func (s Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed implements signing.DetailedSigner: Raw is the broadcast
// txData, TxID the Algorand transaction id, View the sender, the receiver
// and, for a payment, the microAlgos it sends (policy decodes Raw itself
// with DecodeView).
func (Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	ks := &recordKeys{keys: keys}
	defer ks.wipe()
	s, err := SignRequest(ctx, req, ks)
	if err != nil {
		return signing.Signed{}, err
	}
	v := &signing.TxView{Chain: "ALGO", Testnet: req.Testnet, From: s.Tx.SenderAddress(), To: s.Tx.ReceiverAddress()}
	if s.Tx.Type == "pay" {
		v.Value = new(big.Int).SetUint64(s.Tx.Amount)
	}
	return signing.Signed{Raw: s.TxData, TxID: s.TxID, View: v}, nil
}

// recordKeys adapts the daemon's RecordSource to KeySource; it keeps the
// keys it decoded so that wipe zeroes them after the signature.
type recordKeys struct {
	keys signing.KeySource
	got  []ed25519.PrivateKey
}

func (r *recordKeys) Ed25519Key(ctx context.Context, id string, index *uint32) (ed25519.PrivateKey, error) {
	rec, err := recordkey.Fetch(ctx, r.keys, "ALGO", id, index, recordkey.PrivateKeyOnly)
	if err != nil {
		return nil, err
	}
	defer rec.Zero()
	k, err := wallet.AlgoKeyFromSecret(string(rec.Secret))
	if err != nil {
		return nil, fmt.Errorf("signatureId %s: stored ALGO secret: %w", id, err)
	}
	r.got = append(r.got, k)
	return k, nil
}

func (r *recordKeys) wipe() {
	for _, k := range r.got {
		clear(k)
	}
	r.got = nil
}
