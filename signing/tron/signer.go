package tron

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/gokms/gokms/signing"
)

// Signer is the signing.Signer for TRON. TRON keys are secp256k1, so
// today's signing.KeySource serves them: a private-key wallet (64 hex
// digits) or a mnemonic wallet with the pending transaction's index
// (m/44'/195'/0'/0/index), as tatum-kms resolves them.
type Signer struct {
	Params Params
}

// NewSigner returns a TRON Signer; kms.Signers puts it in the daemon's
// signing.Set (kms/signers_tron.go).
func NewSigner(p Params) *Signer { return &Signer{Params: p} }

// Sign returns the signed transaction JSON to post as txData to
// /v3/tron/broadcast. As tatum-kms, it signs with the first (and here only)
// signatureId of the pending transaction.
func (s *Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed is Sign with the txID (the journal's and FindTx's id) and
// what the checked transaction does: the owner (From), the recipient or
// called contract (To), the TRX it moves in sun (Value: TransferContract's
// amount, TriggerSmartContract's call_value; nil for a TRC-10 transfer,
// whose amount is in token units) and the call data.
func (s *Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	if !strings.EqualFold(req.Chain, "TRON") {
		return signing.Signed{}, refuse("pending transaction of chain %q given to the TRON signer", req.Chain)
	}
	if len(req.Hashes) != 1 {
		return signing.Signed{}, refuse("a TRON transaction is signed by one wallet; the pending transaction names %d", len(req.Hashes))
	}
	// Check before resolving the key: a refused transaction never touches
	// the backend.
	tx, err := Decode(req.SerializedTransaction, s.Params)
	if err != nil {
		return signing.Signed{}, err
	}
	key, err := keys.Key(ctx, req.Hashes[0], req.Index)
	if err != nil {
		return signing.Signed{}, fmt.Errorf("TRON wallet %s: %w", req.Hashes[0], err)
	}
	raw, err := tx.Sign(key)
	if err != nil {
		return signing.Signed{}, err
	}
	v := &signing.TxView{Chain: "TRON", Testnet: req.Testnet, From: EncodeAddress(tx.Owner), To: EncodeAddress(tx.To),
		Data: append([]byte(nil), tx.Data...)}
	if tx.Type != "TransferAssetContract" {
		v.Value = big.NewInt(tx.Amount)
	}
	return signing.Signed{Raw: raw, TxID: hex.EncodeToString(tx.TxID[:]), View: v}, nil
}
