package utxo

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/gokms/gokms/signing"
)

// SignDetailed implements signing.DetailedSigner: the signed transaction,
// its txid and its inputs and outputs, decoded from the signed bytes.
func (s *Signer) SignDetailed(ctx context.Context, req signing.Request, ks signing.KeySource) (signing.Signed, error) {
	b, p, err := s.sign(ctx, req, ks)
	if err != nil {
		return signing.Signed{}, err
	}
	raw := hex.EncodeToString(b)
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(b)); err != nil {
		return signing.Signed{}, fmt.Errorf("%s: decode signed transaction: %w", s.c.code, err)
	}
	v := &signing.TxView{Chain: s.c.code, Testnet: req.Testnet}
	// Input values come from the pending transaction (the signed bytes do
	// not carry them); the signature commits to them for segwit and BCH.
	var prev []prevOut
	if r := strings.TrimSpace(req.SerializedTransaction); strings.HasPrefix(r, "{") && len(p.prev) == len(tx.TxIn) {
		prev = p.prev // as Sign parsed them
	}
	in := new(big.Int)
	for i, ti := range tx.TxIn {
		ref := signing.TxInput{PrevTxID: ti.PreviousOutPoint.Hash.String(), Index: ti.PreviousOutPoint.Index}
		if prev != nil {
			ref.Value = big.NewInt(prev[i].amount)
			in.Add(in, ref.Value)
		}
		v.Inputs = append(v.Inputs, ref)
	}
	out := new(big.Int)
	params := s.c.params(req.Testnet)
	for _, to := range tx.TxOut {
		o := signing.TxOutput{Script: hex.EncodeToString(to.PkScript), Value: big.NewInt(to.Value)}
		if _, addrs, _, err := txscript.ExtractPkScriptAddrs(to.PkScript, params); err == nil && len(addrs) == 1 {
			o.Address = encodeAddress(addrs[0])
		}
		out.Add(out, o.Value)
		v.Outputs = append(v.Outputs, o)
	}
	if prev != nil {
		v.Fee = new(big.Int).Sub(in, out)
	}
	return signing.Signed{Raw: raw, TxID: tx.TxHash().String(), View: v}, nil
}
