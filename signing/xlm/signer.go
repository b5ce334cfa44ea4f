package xlm

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// Signer is the daemon's signing.Signer for XLM: SignRequest with the
// wallet's key read from its stored record, for the network of the pending
// transaction's request (req.Testnet, the daemon's --testnet). Raw is the
// signed envelope (the txData tatum-kms posts to /v3/xlm/broadcast), TxID
// its network-bound hash.
type Signer struct{}

// NewSigner returns the XLM signer.
func NewSigner() *Signer { return &Signer{} }

// Sign implements signing.Signer.
func (s *Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed implements signing.DetailedSigner.
func (s *Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	rs, ok := signing.Records(keys)
	if !ok {
		return signing.Signed{}, errors.New("XLM signer: the key source cannot hand out stored records (XLM keys are ed25519, not secp256k1)")
	}
	src := &RecordKeys{Records: rs}
	defer src.Wipe()
	sg, err := SignRequest(ctx, req, src, req.Testnet)
	if err != nil {
		return signing.Signed{}, err
	}
	v := &signing.TxView{Chain: "XLM", Testnet: req.Testnet, From: sg.Source}
	if len(sg.Operations) == 1 {
		v.To = sg.Operations[0].Destination
	}
	return signing.Signed{Raw: sg.TxData, TxID: sg.HashHex(), View: v}, nil
}

// RecordKeys is a KeySource over the daemon's stored records: tatum-kms's
// XLM entries are {address, secret} (or {privateKey} from
// storemanagedprivatekey), both an "S..." seed in the record's secret. XLM
// wallets have no mnemonic and no index. A stored address must be the
// key's. Wipe zeroes every key handed out.
type RecordKeys struct {
	Records signing.RecordSource
	keys    []ed25519.PrivateKey
}

// Ed25519Key implements KeySource.
func (r *RecordKeys) Ed25519Key(ctx context.Context, id string, index *uint32) (ed25519.PrivateKey, error) {
	rec, err := r.Records.Record(ctx, id)
	if err != nil {
		return nil, err
	}
	defer rec.Zero()
	if rec.Kind != backend.PrivateKey {
		return nil, fmt.Errorf("signatureId %s is a %s XLM wallet: Stellar wallets are a secret seed (S...), gokms derives none from a mnemonic; refusing to sign", id, rec.Kind)
	}
	if index != nil {
		return nil, fmt.Errorf("signatureId %s is an XLM secret, but the transaction asks for index %d: %w; XLM wallets take no index",
			id, *index, signing.ErrIndexMismatch)
	}
	k, err := wallet.DecodeStellarSecret(string(rec.Secret))
	if err != nil {
		return nil, fmt.Errorf("signatureId %s: stored XLM secret: %w", id, err)
	}
	if rec.Address != "" && wallet.StellarAddress(k.Public().(ed25519.PublicKey)) != rec.Address {
		wipe(k)
		return nil, fmt.Errorf("signatureId %s: the stored XLM secret is not the key of the stored address %s; refusing to sign", id, rec.Address)
	}
	r.keys = append(r.keys, k)
	return k, nil
}

// Wipe zeroes the keys handed out.
func (r *RecordKeys) Wipe() {
	for _, k := range r.keys {
		wipe(k)
	}
	r.keys = nil
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
