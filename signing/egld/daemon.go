package egld

import (
	"context"
	"crypto/ed25519"
	"math/big"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/recordkey"
)

// KeyDecoder is the daemon's record → key path for EGLD: kms's key table
// (kms.RecordKeys.Ed25519Key, injected by kms.Signers, as signing/egld
// cannot import kms). It makes the wallet kind and index checks, derives a
// mnemonic wallet's key at m/44'/508'/0'/0'/i' (with the wallet's testnet
// flag, as tatum-kms derives) or decodes a private key; the key is the
// caller's to wipe.
type KeyDecoder func(rec backend.Record, index *uint32) (ed25519.PrivateKey, error)

// Signer is the daemon's EGLD signer: it reads the wallet's stored record
// through the daemon's chain-bound signing.RecordSource, has DecodeKey turn
// it into the key, asks Node for nonce, gas and chain id, and signs with
// SignRequest. Tatum broadcasts the result (/v3/egld/broadcast).
type Signer struct {
	Node      Node
	DecodeKey KeyDecoder
}

// Family is the EGLD signer family on node.
func Family(node Node, decode KeyDecoder) signing.Family {
	return signing.Family{"EGLD": &Signer{Node: node, DecodeKey: decode}}
}

// Sign implements signing.Signer.
func (s *Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed implements signing.DetailedSigner: Raw is the broadcast
// txData; View the sender, receiver, value, data and gas of what was
// signed (policy decodes Raw itself with DecodeView).
func (s *Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	ks := recordKeys{recordkey.New("EGLD", keys, s.DecodeKey, func(k ed25519.PrivateKey) { clear(k) })}
	defer ks.Wipe()
	signed, err := SignRequest(ctx, req, ks, s.Node)
	if err != nil {
		return signing.Signed{}, err
	}
	tx := signed.Tx
	v := &signing.TxView{Chain: "EGLD", Testnet: req.Testnet, From: tx.Sender, To: tx.Receiver, Value: new(big.Int).Set(tx.Value),
		Data: append([]byte(nil), tx.Data...), Gas: tx.GasLimit, GasPrice: new(big.Int).SetUint64(tx.GasPrice)}
	return signing.Signed{Raw: signed.TxData, View: v}, nil
}

// recordKeys is the KeySource EGLD signs with: records through the
// daemon's RecordSource, decoded by DecodeKey, wiped after the signature.
type recordKeys struct {
	*recordkey.Keys[ed25519.PrivateKey]
}

func (r recordKeys) Ed25519Key(ctx context.Context, id string, index *uint32) (ed25519.PrivateKey, error) {
	return r.Get(ctx, id, index)
}
