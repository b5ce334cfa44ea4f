package xlm

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/stellar/go-stellar-sdk/network"
	"github.com/stellar/go-stellar-sdk/xdr"

	"github.com/gokms/gokms/signing"
)

// ViewFamily is the signing.View family of Stellar transactions.
const ViewFamily = "xlm"

// DecodeView decodes the signed envelope the Signer returns (Signed.Raw,
// base64 XDR: the txData of /v3/xlm/broadcast) into a signing.View for
// policy and audit: the envelope is checked as Sign checks it (canonical
// XDR, only payments, account creations and trust lines, no operation for
// another account), and one of its signatures must be the source's (the
// fee source's for a fee bump) over the transaction hash of the network
// (testnet or mainnet). Without signed (before signing), the pending
// envelope is read the same way, without the signature check.
//
// Payments and account creations are outputs in stroops; a payment of an
// issued asset is in the asset's stroops with Token "CODE:ISSUER" (the
// policy limits it per asset: tokens:, docs/policy.md). A trust line
// (changeTrust) is MethodCall and Unknown. A fee bump of a transaction of
// another source account is Unknown (the wallet pays only the fee; the
// outputs are the other account's). Fee: the envelope's fee, the most it
// can pay (a fee bump's outer fee). Memos are ignored.
func DecodeView(chain string, testnet bool, serialized, signed string) (*signing.View, error) {
	if !strings.EqualFold(strings.TrimSpace(chain), "XLM") {
		return nil, fmt.Errorf("chain %q: %w", chain, signing.ErrUnsupportedChain)
	}
	in := serialized
	if strings.TrimSpace(signed) != "" {
		in = signed
	}
	env, err := decode(strings.TrimSpace(in))
	if err != nil {
		return nil, fmt.Errorf("XLM: %w", err)
	}
	payer := env.FeeAccount().ToAccountId()
	k, ok := payer.GetEd25519()
	if !ok {
		return nil, fmt.Errorf("XLM: the source account has no ed25519 key")
	}
	pub := ed25519.PublicKey(k[:])
	s, err := check(env, pub)
	if err != nil {
		return nil, fmt.Errorf("XLM: %w", err)
	}
	v := &signing.View{Chain: "XLM", Family: ViewFamily, Method: signing.MethodTransfer, Fee: big.NewInt(s.Fee)}
	if strings.TrimSpace(signed) != "" {
		hash, err := network.HashTransactionInEnvelope(env, Passphrase(testnet))
		if err != nil {
			return nil, fmt.Errorf("XLM: hash: %w", err)
		}
		found := false
		for _, ds := range *envelopeSignatures(&env) {
			if bytes.Equal(ds.Hint[:], pub[28:]) && ed25519.Verify(pub, hash[:], ds.Signature) {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("XLM: no signature of the source %s over the transaction (of the %s network)", s.Source, map[bool]string{true: "test", false: "public"}[testnet])
		}
		v.Signed, v.TxID = true, hex.EncodeToString(hash[:])
	}
	sender := s.Source
	if env.IsFeeBump() {
		inner := env.FeeBump.Tx.InnerTx.V1.Tx.SourceAccount
		if !sameKey(inner, pub) {
			sender = accountString(inner)
			v.Unknown = append(v.Unknown, "XLM: a fee bump of a transaction of account "+sender+" (the wallet pays only the fee)")
		}
	}
	native := new(big.Int)
	for _, op := range env.Operations() {
		switch b := op.Body; b.Type {
		case xdr.OperationTypePayment:
			p := b.MustPaymentOp()
			o := signing.Flow{Address: accountString(p.Destination), Amount: big.NewInt(int64(p.Amount))}
			if p.Asset.Type != xdr.AssetTypeAssetTypeNative {
				o.Token = assetString(p.Asset)
				v.Token = o.Token
			} else {
				native.Add(native, o.Amount)
			}
			v.Outputs = append(v.Outputs, o)
		case xdr.OperationTypeCreateAccount:
			c := b.MustCreateAccountOp()
			o := signing.Flow{Address: c.Destination.Address(), Amount: big.NewInt(int64(c.StartingBalance))}
			native.Add(native, o.Amount)
			v.Outputs = append(v.Outputs, o)
		case xdr.OperationTypeChangeTrust:
			v.Method = signing.MethodCall
			v.Unknown = append(v.Unknown, "XLM: a trust line to "+assetString(b.MustChangeTrustOp().Line.ToAsset()))
		}
	}
	v.Inputs = []signing.Flow{{Address: sender, Amount: native}}
	return v, nil
}
