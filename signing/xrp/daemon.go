package xrp

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
)

// RecordSigner is the daemon's signing.Signer for XRP: Signer with the
// wallet's family seed read from its stored record through the daemon's
// chain-bound signing.RecordSource (tatum-kms's XRP entries keep the seed
// as "secret", or "privateKey" from generatemanagedprivatekeybatch; both
// are the record's secret). Raw is the tx_blob tatum-kms posts to
// /v3/xrp/broadcast; TxID its hash.
type RecordSigner struct {
	Params Params
}

// NewRecordSigner returns the XRP signer for the daemon.
func NewRecordSigner(p Params) *RecordSigner { return &RecordSigner{Params: p} }

// Sign implements signing.Signer.
func (s *RecordSigner) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed implements signing.DetailedSigner. The view is decoded from
// the signed blob: Account (From), Destination (To) and an XRP Amount in
// drops (Value; nil for an issued currency).
func (s *RecordSigner) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	rs, ok := signing.Records(keys)
	if !ok {
		return signing.Signed{}, errors.New("XRP signer: the key source cannot hand out stored records (XRP wallets are family seeds, not secp256k1 keys)")
	}
	inner := &Signer{Keys: FromSecrets(recordSecrets(rs)), Params: s.Params}
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

// recordSecrets reads an XRP wallet's seed and address from its record.
// The returned secret is the record's copy; FromSecrets zeroes it.
func recordSecrets(rs signing.RecordSource) SecretFunc {
	return func(ctx context.Context, id string) ([]byte, string, error) {
		rec, err := rs.Record(ctx, id)
		if err != nil {
			return nil, "", err
		}
		if rec.Kind != backend.PrivateKey {
			rec.Zero()
			return nil, "", fmt.Errorf("signatureId %s is a %s XRP wallet: XRP wallets are a family seed (s...), gokms derives none from a mnemonic; refusing to sign", id, rec.Kind)
		}
		return rec.Secret, rec.Address, nil
	}
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
