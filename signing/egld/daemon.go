package egld

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/big"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/recordkey"
	"github.com/gokms/gokms/wallet"
)

// Signer is the daemon's EGLD signer: it reads the wallet's stored record
// through the daemon's chain-bound signing.RecordSource, derives or decodes
// the key as tatum-kms does, asks Node for nonce, gas and chain id, and
// signs with SignRequest. Tatum broadcasts the result (/v3/egld/broadcast).
type Signer struct {
	Node Node
}

// Family is the EGLD signer family on node.
func Family(node Node) signing.Family { return signing.Family{"EGLD": &Signer{Node: node}} }

// Sign implements signing.Signer.
func (s *Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed implements signing.DetailedSigner: Raw is the broadcast
// txData; View the sender, receiver, value, data and gas of what was
// signed (policy decodes Raw itself with DecodeView).
func (s *Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	ks := &recordKeys{keys: keys}
	defer ks.wipe()
	signed, err := SignRequest(ctx, req, ks, s.Node)
	if err != nil {
		return signing.Signed{}, err
	}
	tx := signed.Tx
	v := &signing.TxView{Chain: "EGLD", Testnet: req.Testnet, From: tx.Sender, To: tx.Receiver, Value: new(big.Int).Set(tx.Value),
		Data: append([]byte(nil), tx.Data...), Gas: tx.GasLimit, GasPrice: new(big.Int).SetUint64(tx.GasPrice)}
	return signing.Signed{Raw: signed.TxData, View: v}, nil
}

// recordKeys adapts the daemon's RecordSource to KeySource: a mnemonic
// wallet through wallet.EGLDKeyFromMnemonic (m/44'/508'/0'/0'/i', with the
// wallet's testnet flag as tatum-kms derives), a private key through
// wallet.EGLDKeyFromPrivateKey. wipe zeroes the keys after the signature.
type recordKeys struct {
	keys signing.KeySource
	got  []ed25519.PrivateKey
}

func (r *recordKeys) Ed25519Key(ctx context.Context, id string, index *uint32) (ed25519.PrivateKey, error) {
	rec, err := recordkey.Fetch(ctx, r.keys, "EGLD", id, index, recordkey.Strict)
	if err != nil {
		return nil, err
	}
	defer rec.Zero()
	var k ed25519.PrivateKey
	if rec.Kind == backend.Mnemonic {
		k, err = wallet.EGLDKeyFromMnemonic(string(rec.Secret), *index, rec.Testnet)
	} else {
		k, err = wallet.EGLDKeyFromPrivateKey(string(rec.Secret))
	}
	if err != nil {
		return nil, fmt.Errorf("signatureId %s: stored EGLD %s: %w", id, rec.Kind, err)
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
