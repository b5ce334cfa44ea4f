package xrp

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// ViewFamily is the signing.View family of XRP Ledger transactions.
const ViewFamily = "xrp"

// DecodeView decodes the tx_blob the Signer returns (Signed.Raw, the
// txData of /v3/xrp/broadcast) into a signing.View for policy and audit:
// the blob is read with Decode, TxnSignature must verify over its signing
// fields against SigningPubKey, and that key's address must be Account.
// Without signed (before signing), the pending transaction's JSON is read
// as Sign reads it (Fee may be missing there: the node fills it).
//
// Payment of XRP: Account → Destination, Amount in drops. A Payment of an
// issued currency is an output with Token "CURRENCY.issuer" and no Amount
// (IOU values are decimals, with no smallest unit) and is Unknown: the
// policy's token limits are whole numbers of a token's base unit, which an
// issued currency does not have (allowUndecoded passes it). SendMax, DeliverMin and Paths
// (cross-currency) are Unknown; so are TrustSet and AccountSet, which move
// nothing but change the account. Fee: the Fee drops. DestinationTag,
// SourceTag, InvoiceID and Memos are ignored.
func DecodeView(chain string, testnet bool, serialized, signed string) (*signing.View, error) {
	if !strings.EqualFold(strings.TrimSpace(chain), "XRP") {
		return nil, fmt.Errorf("chain %q: %w", chain, signing.ErrUnsupportedChain)
	}
	if strings.TrimSpace(signed) == "" {
		tx, err := parseTx(serialized)
		if err != nil {
			return nil, fmt.Errorf("XRP: %w", err)
		}
		acc, _ := tx["Account"].(string)
		if err := check(tx, acc); err != nil {
			return nil, fmt.Errorf("XRP: %w", err)
		}
		return viewOf(tx, false, "")
	}
	tx, err := Decode(strings.TrimSpace(signed))
	if err != nil {
		return nil, fmt.Errorf("XRP: signed transaction: %w", err)
	}
	pubHex, _ := tx["SigningPubKey"].(string)
	sigHex, _ := tx["TxnSignature"].(string)
	pub, err1 := hex.DecodeString(pubHex)
	sig, err2 := hex.DecodeString(sigHex)
	if err1 != nil || err2 != nil || len(pub) == 0 || len(sig) == 0 {
		return nil, fmt.Errorf("XRP: the signed transaction has no SigningPubKey and TxnSignature")
	}
	acc, _ := tx["Account"].(string)
	if wallet.XRPAddress(pub) != acc {
		return nil, fmt.Errorf("XRP: SigningPubKey is not Account %s's key", acc)
	}
	unsigned := map[string]any{}
	for k, v := range tx {
		if k != "TxnSignature" {
			unsigned[k] = v
		}
	}
	data, err := SigningData(unsigned)
	if err != nil {
		return nil, fmt.Errorf("XRP: signed transaction: %w", err)
	}
	if !wallet.VerifyXRPSignature(pub, data, sig) {
		return nil, fmt.Errorf("XRP: TxnSignature does not verify against SigningPubKey")
	}
	id, err := TxHash(strings.TrimSpace(signed))
	if err != nil {
		return nil, err
	}
	return viewOf(tx, true, id)
}

func viewOf(tx map[string]any, signed bool, id string) (*signing.View, error) {
	acc, _ := tx["Account"].(string)
	v := &signing.View{Chain: "XRP", Family: ViewFamily, Signed: signed, TxID: id, Method: signing.MethodTransfer}
	if fee, ok := tx["Fee"].(string); ok {
		d, err := parseDrops(fee)
		if err != nil {
			return nil, fmt.Errorf("XRP: Fee: %w", err)
		}
		v.Fee = new(big.Int).SetUint64(d)
	}
	native := new(big.Int)
	switch tt, _ := tx["TransactionType"].(string); tt {
	case "Payment":
		dest, _ := tx["Destination"].(string)
		switch a := tx["Amount"].(type) {
		case string:
			d, err := parseDrops(a)
			if err != nil {
				return nil, fmt.Errorf("XRP: Amount: %w", err)
			}
			native.SetUint64(d)
			v.Outputs = append(v.Outputs, signing.Flow{Address: dest, Amount: new(big.Int).SetUint64(d)})
		case map[string]any:
			cur, _ := a["currency"].(string)
			iss, _ := a["issuer"].(string)
			val, _ := a["value"].(string)
			v.Token = cur + "." + iss
			v.Outputs = append(v.Outputs, signing.Flow{Address: dest, Token: v.Token})
			v.Unknown = append(v.Unknown, fmt.Sprintf("XRP: payment of %s %s issued by %s: an issued currency has no base unit for the policy's token limits (allowUndecoded passes it)", val, cur, iss))
		default:
			return nil, fmt.Errorf("XRP: Payment without an Amount")
		}
		var extra []string
		for _, k := range []string{"SendMax", "DeliverMin", "Paths"} {
			if _, ok := tx[k]; ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		if len(extra) > 0 {
			v.Unknown = append(v.Unknown, "XRP: a payment with "+strings.Join(extra, ", ")+" (what it spends may differ from Amount)")
		}
	case "TrustSet", "AccountSet":
		v.Method = signing.MethodCall
		v.Unknown = append(v.Unknown, "XRP: "+tt+" changes the account and moves nothing")
	default:
		return nil, fmt.Errorf("XRP: TransactionType %q is not one gokms signs", tt)
	}
	v.Inputs = []signing.Flow{{Address: acc, Amount: native}}
	return v, nil
}
