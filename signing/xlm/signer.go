package xlm

import (
	"context"
	"crypto/ed25519"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/recordkey"
)

// Signer is the daemon's signing.Signer for XLM: SignRequest with the
// wallet's key read from its stored record (decoded by DecodeKey), for the network of the pending
// transaction's request (req.Testnet, the daemon's --testnet). Raw is the
// signed envelope (the txData tatum-kms posts to /v3/xlm/broadcast), TxID
// its network-bound hash.
type Signer struct {
	DecodeKey KeyDecoder
}

// NewSigner returns the XLM signer, whose wallets' records decode names
// keys.
func NewSigner(decode KeyDecoder) *Signer { return &Signer{DecodeKey: decode} }

// Sign implements signing.Signer.
func (s *Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed implements signing.DetailedSigner.
func (s *Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	src := recordKeys{recordkey.New("XLM", keys, s.DecodeKey, func(k ed25519.PrivateKey) { wipe(k) })}
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

// KeyDecoder is the daemon's record → key path for XLM: kms's key table
// (kms.RecordKeys.Ed25519Key, injected by kms.Signers, as signing/xlm
// cannot import kms). tatum-kms's XLM entries are {address, secret} (or
// {privateKey} from storemanagedprivatekey), both an "S..." seed in the
// record's secret; XLM wallets have no mnemonic and take no index, and a
// stored address must be the key's. The key is the caller's to wipe.
type KeyDecoder func(rec backend.Record, index *uint32) (ed25519.PrivateKey, error)

// recordKeys is the KeySource XLM signs with: records through the daemon's
// RecordSource, decoded by DecodeKey, wiped after the signature.
type recordKeys struct {
	*recordkey.Keys[ed25519.PrivateKey]
}

// Ed25519Key implements KeySource.
func (r recordKeys) Ed25519Key(ctx context.Context, id string, index *uint32) (ed25519.PrivateKey, error) {
	return r.Get(ctx, id, index)
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
