package xrp

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/recordkey"
	"github.com/gokms/gokms/wallet"
)

// RecordSigner is the daemon's signing.Signer for XRP: Signer with the
// wallet's key read from its stored record through the daemon's
// chain-bound signing.RecordSource and decoded by DecodeKey. Raw is the
// tx_blob tatum-kms posts to /v3/xrp/broadcast; TxID its hash.
type RecordSigner struct {
	Params    Params
	DecodeKey KeyDecoder
}

// KeyDecoder is the daemon's record → key path for XRP: kms's key table
// (kms.RecordKeys.XRPKey, injected by kms.Signers, as signing/xrp cannot
// import kms). tatum-kms's XRP entries keep the family seed as "secret",
// or "privateKey" from generatemanagedprivatekeybatch (both the record's
// secret); a mnemonic record or an index is refused, and a stored address
// must be the seed's. The key is the caller's to zero.
type KeyDecoder func(rec backend.Record, index *uint32) (*wallet.XRPKey, error)

// NewRecordSigner returns the XRP signer for the daemon.
func NewRecordSigner(p Params, decode KeyDecoder) *RecordSigner {
	return &RecordSigner{Params: p, DecodeKey: decode}
}

// Sign implements signing.Signer.
func (s *RecordSigner) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed implements signing.DetailedSigner. The view is decoded from
// the signed blob: Account (From), Destination (To) and an XRP Amount in
// drops (Value; nil for an issued currency).
func (s *RecordSigner) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	ks := recordKeys{recordkey.New("XRP", keys, s.DecodeKey, (*wallet.XRPKey).Zero)}
	defer ks.Wipe()
	inner := &Signer{Keys: ks, Params: s.Params}
	blob, err := inner.Sign(ctx, req)
	if err != nil {
		return signing.Signed{}, err
	}
	id, err := TxHash(blob)
	if err != nil {
		return signing.Signed{}, err
	}
	v := &signing.TxView{Chain: "XRP", Testnet: req.Testnet}
	if tx, err := Decode(blob); err == nil {
		v.From, _ = tx["Account"].(string)
		v.To, _ = tx["Destination"].(string)
		if drops, ok := tx["Amount"].(string); ok {
			v.Value, _ = new(big.Int).SetString(drops, 10)
		}
	}
	return signing.Signed{Raw: blob, TxID: id, View: v}, nil
}

// recordKeys is the KeySource XRP signs with: records through the daemon's
// RecordSource, decoded by DecodeKey, zeroed after the signature. Signer
// has refused an index before it asks.
type recordKeys struct {
	*recordkey.Keys[*wallet.XRPKey]
}

func (r recordKeys) XRPKey(ctx context.Context, id string) (Key, error) {
	k, err := r.Get(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	return k, nil
}

// TxHash is the transaction id of a signed tx_blob (upper-case hex):
// SHA-512Half of "TXN\0" || blob, as rippled and xrpl's hashSignedTx.
func TxHash(blobHex string) (string, error) {
	b, err := hex.DecodeString(blobHex)
	if err != nil {
		return "", fmt.Errorf("XRP tx_blob is not hex: %w", err)
	}
	h := sha512.Sum512(append([]byte("TXN\x00"), b...))
	return strings.ToUpper(hex.EncodeToString(h[:32])), nil
}
