package vet

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/big"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/recordkey"
	"github.com/gokms/gokms/wallet"
)

// Signer is the daemon's VET signer: it reads the wallet's stored record
// through the daemon's chain-bound signing.RecordSource (never the
// Resolver's generic Key, which would derive a mnemonic key on ETH's path),
// derives mnemonic keys on VET's m/44'/818'/0'/0/i (the key tatum-kms's
// getprivatekey shows), asks Node what thorify asks and signs with
// SignRequest. Tatum broadcasts the result (/v3/vet/broadcast).
type Signer struct {
	Node  Node
	Nonce NonceSource // nil: a random nonce, as thorify draws
}

// Family is the VET signer family on node.
func Family(node Node) signing.Family { return signing.Family{"VET": &Signer{Node: node}} }

// Sign implements signing.Signer.
func (s *Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed implements signing.DetailedSigner: Raw is the broadcast
// txData, TxID the VeChain transaction id, View the clause signed (policy
// decodes Raw itself with DecodeView).
func (s *Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	ks := &recordKeys{keys: keys}
	defer ks.wipe()
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
// daemon's RecordSource, decoded with package wallet's VET functions.
type recordKeys struct {
	keys signing.KeySource
	got  []*btcec.PrivateKey
}

func (r *recordKeys) Key(ctx context.Context, id string, index *uint32) (*btcec.PrivateKey, error) {
	rec, err := recordkey.Fetch(ctx, r.keys, "VET", id, index, recordkey.Strict)
	if err != nil {
		return nil, err
	}
	defer rec.Zero()
	var k *btcec.PrivateKey
	if rec.Kind == backend.Mnemonic {
		k, err = wallet.VETKeyFromMnemonic(string(rec.Secret), *index, rec.Testnet)
	} else {
		k, err = wallet.VETKeyFromPrivateKey(string(rec.Secret))
	}
	if err != nil {
		return nil, fmt.Errorf("signatureId %s: stored VET %s: %w", id, rec.Kind, err)
	}
	r.got = append(r.got, k)
	return k, nil
}

func (r *recordKeys) wipe() {
	for _, k := range r.got {
		k.Zero()
	}
	r.got = nil
}
