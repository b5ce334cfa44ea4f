package tron

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/gokms/gokms/signing"
)

// ViewFamily is the signing.View family of TRON transactions.
const ViewFamily = "tron"

// DecodeView decodes the signed transaction JSON the Signer returns (the txData
// posted to /v3/tron/broadcast, journaled as Signed.Raw) into a
// signing.View for policy and audit: the same checks as Decode (raw_data
// must encode to raw_data_hex, which must hash to txID), and the one
// signature must recover to the owner. serialized is not read: what the
// signature covers is what counts. Without signed (before signing),
// serialized is decoded as Sign checks it.
//
// TransferContract: owner → to_address, amount in sun. TransferAssetContract
// (TRC-10): the amount in token units with the token id (the decimal asset
// id asset_name carries) in Token. TriggerSmartContract: a TRC-20
// transfer(address,uint256) is the recipient and the token amount with the
// contract (base58check) in Token; any other call data is MethodCall and
// Unknown. Token transfers are complete: the policy limits them per token
// (tokens:, docs/policy.md). call_value is sent to the contract in sun. Fee is
// fee_limit, the most TRX the energy of a contract call can burn (bandwidth
// burned when the account has none free is not included). raw_data.data
// (a memo) is ignored.
func DecodeView(chain string, testnet bool, serialized, signed string) (*signing.View, error) {
	if !strings.EqualFold(strings.TrimSpace(chain), "TRON") {
		return nil, fmt.Errorf("chain %q: %w", chain, signing.ErrUnsupportedChain)
	}
	if strings.TrimSpace(signed) == "" {
		// Before signing (the policy's first look): the pending transaction
		// as Sign checks it.
		tx, err := Decode(serialized, Params{MaxFeeLimit: math.MaxInt64})
		if err != nil {
			return nil, fmt.Errorf("TRON: %w", err)
		}
		return viewOf(tx, false), nil
	}
	tx, err := verifySigned(signed)
	if err != nil {
		return nil, err
	}
	return viewOf(tx, true), nil
}

// verifySigned checks signed transaction JSON: Decode's checks without the
// signature, then the signature recovers to the owner.
func verifySigned(signed string) (*Transaction, error) {
	root, err := parseJSON(signed)
	if err != nil || root.kind != kObject {
		return nil, fmt.Errorf("TRON: the signed transaction is not a JSON object: %v", err)
	}
	sigs := root.get("signature")
	if sigs == nil || sigs.kind != kArray || len(sigs.arr) != 1 || sigs.arr[0].kind != kString {
		return nil, fmt.Errorf("TRON: the signed transaction must carry exactly one signature")
	}
	sig, err := hex.DecodeString(sigs.arr[0].str)
	if err != nil || len(sig) != 65 {
		return nil, fmt.Errorf("TRON: the signature is not 65 bytes of hex")
	}
	// Decode refuses a signed transaction; check what is left without it.
	unsigned := &value{kind: kObject}
	for _, m := range root.members {
		if m.key != "signature" {
			unsigned.members = append(unsigned.members, m)
		}
	}
	var buf bytes.Buffer
	unsigned.write(&buf)
	tx, err := Decode(buf.String(), Params{MaxFeeLimit: math.MaxInt64})
	if err != nil {
		return nil, fmt.Errorf("TRON: signed transaction: %w", err)
	}
	compact := append([]byte{sig[64]}, sig[:64]...)
	pub, _, err := ecdsa.RecoverCompact(compact, tx.TxID[:])
	if err != nil {
		return nil, fmt.Errorf("TRON: the signature does not recover a key: %w", err)
	}
	if Address(pub) != tx.Owner {
		return nil, fmt.Errorf("TRON: the signature is not by owner_address %s", EncodeAddress(tx.Owner))
	}
	return tx, nil
}

func viewOf(tx *Transaction, signed bool) *signing.View {
	owner, to := EncodeAddress(tx.Owner), EncodeAddress(tx.To)
	v := &signing.View{Chain: "TRON", Family: ViewFamily, Signed: signed, TxID: hex.EncodeToString(tx.TxID[:]),
		Fee: big.NewInt(tx.FeeLimit), Method: signing.MethodTransfer}
	native := new(big.Int)
	switch tx.Type {
	case "TransferContract":
		native.SetInt64(tx.Amount)
		v.Outputs = append(v.Outputs, signing.Flow{Address: to, Amount: big.NewInt(tx.Amount)})
	case "TransferAssetContract":
		v.Token = string(tx.AssetName)
		v.Outputs = append(v.Outputs, signing.Flow{Address: to, Amount: big.NewInt(tx.Amount), Token: v.Token})
		if !trc10ID(v.Token) {
			v.Unknown = append(v.Unknown, fmt.Sprintf("TRON: TRC-10 asset_name %q is not a numeric token id", v.Token))
		}
	case "TriggerSmartContract":
		if tx.Amount > 0 {
			native.SetInt64(tx.Amount)
			v.Outputs = append(v.Outputs, signing.Flow{Address: to, Amount: big.NewInt(tx.Amount)})
		}
		if cv := tx.json.get("raw_data").get("contract").arr[0].get("parameter").get("value"); cv.get("call_token_value") != nil || cv.get("token_id") != nil {
			v.Unknown = append(v.Unknown, "TRON: TriggerSmartContract also sends a TRC-10 token (call_token_value)")
		}
		if rcpt, amt, ok := tx.TRC20Transfer(); ok {
			v.Token = to
			v.Outputs = append(v.Outputs, signing.Flow{Address: EncodeAddress(rcpt), Amount: amt, Token: to})
		} else {
			v.Method = signing.MethodCall
			sel := tx.Data
			if len(sel) > 4 {
				sel = sel[:4]
			}
			v.Unknown = append(v.Unknown, fmt.Sprintf("TRON: call to contract %s with data %x… that is not a TRC-20 transfer", to, sel))
		}
	}
	v.Inputs = []signing.Flow{{Address: owner, Amount: native}}
	return v
}

// trc10ID: since allowSameTokenName, a TRC-10 token is named by its
// decimal id (1000001 and up); an older name-based asset_name is not an
// id a policy could list.
func trc10ID(s string) bool {
	if s == "" || len(s) > 19 || s[0] == '0' {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
