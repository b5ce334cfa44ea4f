package vet

import (
	"context"
	"encoding/hex"
	"math/big"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/recordkey"
)

// KeyDecoder is the daemon's record → key path for VET: kms's key table
// (kms.RecordKeys.Secp256k1Key, injected by kms.Signers, as signing/vet
// cannot import kms). It makes the wallet kind and index checks and
// derives mnemonic keys on VET's m/44'/818'/0'/0/i (the key tatum-kms's
// getprivatekey shows; never ETH's path, which the Resolver's generic Key
// would take); the key is the caller's to zero.
type KeyDecoder func(rec backend.Record, index *uint32) (*btcec.PrivateKey, error)

// Signer is the daemon's VET signer: it reads the wallet's stored record
// through the daemon's chain-bound signing.RecordSource, has DecodeKey turn
// it into the key, asks Node what thorify asks and signs with SignRequest.
// Tatum broadcasts the result (/v3/vet/broadcast).
type Signer struct {
	Node      Node
	Nonce     NonceSource // nil: a random nonce, as thorify draws
	DecodeKey KeyDecoder
}

// Family is the VET signer family on node.
func Family(node Node, decode KeyDecoder) signing.Family {
	return signing.Family{"VET": &Signer{Node: node, DecodeKey: decode}}
}

// Sign implements signing.Signer.
func (s *Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed implements signing.DetailedSigner: Raw is the broadcast
// txData, TxID the VeChain transaction id, View the clause signed (policy
// decodes Raw itself with DecodeView).
func (s *Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	ks := newRecordKeys(keys, s.DecodeKey)
	defer ks.Wipe()
	signed, err := SignRequest(ctx, req, ks, s.Node, s.Nonce)
	if err != nil {
		return signing.Signed{}, err
	}
	tx := signed.Tx
	v := &signing.TxView{Chain: "VET", Testnet: req.Testnet, To: "0x" + hex.EncodeToString(tx.Clause.To[:]), Value: new(big.Int).Set(tx.Clause.Value),
		Data: append([]byte(nil), tx.Clause.Data...), Gas: tx.Gas}
	// The sender as the signature recovers it.
	if dv, err := DecodeView("VET", req.Testnet, "", signed.RawTransaction); err == nil {
		v.From = dv.Inputs[0].Address
	}
	return signing.Signed{Raw: signed.RawTransaction, TxID: signed.ID, View: v}, nil
}

// recordKeys is the signing.KeySource VET signs with: records through the
// daemon's RecordSource, decoded by DecodeKey, zeroed after the signature.
type recordKeys struct {
	*recordkey.Keys[*btcec.PrivateKey]
}

func newRecordKeys(keys signing.KeySource, decode KeyDecoder) recordKeys {
	return recordKeys{recordkey.New("VET", keys, decode, (*btcec.PrivateKey).Zero)}
}

func (r recordKeys) Key(ctx context.Context, id string, index *uint32) (*btcec.PrivateKey, error) {
	return r.Get(ctx, id, index)
}
