package algo

import (
	"context"
	"crypto/ed25519"
	"math/big"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/recordkey"
)

// KeyDecoder is the daemon's record → key path for ALGO: kms's key table
// (kms.RecordKeys.Ed25519Key, injected by kms.Signers, as signing/algo
// cannot import kms). It makes the wallet kind and index checks and
// decodes tatum-kms's secret; the key is the caller's to wipe.
type KeyDecoder func(rec backend.Record, index *uint32) (ed25519.PrivateKey, error)

// Signer is the daemon's ALGO signer (signing.Signer and
// signing.DetailedSigner): it reads the wallet's stored record through the
// daemon's chain-bound signing.RecordSource, has DecodeKey turn it into the
// key and signs with SignRequest. Tatum broadcasts the result
// (/v3/algorand/broadcast).
type Signer struct {
	DecodeKey KeyDecoder
}

// Family is the ALGO signer family for a signing.Set.
func Family(decode KeyDecoder) signing.Family {
	return signing.Family{"ALGO": Signer{DecodeKey: decode}}
}

// Sign implements signing.Signer.
func (s Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed implements signing.DetailedSigner: Raw is the broadcast
// txData, TxID the Algorand transaction id, View the sender, the receiver
// and, for a payment, the microAlgos it sends (policy decodes Raw itself
// with DecodeView).
func (sg Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	ks := newRecordKeys(keys, sg.DecodeKey)
	defer ks.Wipe()
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

// recordKeys is the KeySource ALGO signs with: records through the
// daemon's RecordSource, decoded by DecodeKey, wiped after the signature.
type recordKeys struct {
	*recordkey.Keys[ed25519.PrivateKey]
}

func newRecordKeys(keys signing.KeySource, decode KeyDecoder) recordKeys {
	return recordKeys{recordkey.New("ALGO", keys, decode, func(k ed25519.PrivateKey) { clear(k) })}
}

func (r recordKeys) Ed25519Key(ctx context.Context, id string, index *uint32) (ed25519.PrivateKey, error) {
	return r.Get(ctx, id, index)
}
