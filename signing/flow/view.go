package flow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/gokms/gokms/signing"
)

// ViewFamily is the signing.View family of Flow transactions.
const ViewFamily = "flow"

// DecodeView decodes what the FLOW signer journals (Signed.Raw: the access
// node body with every signature and the Flow id, DecodePrepared's input)
// into a signing.View for policy and audit; DecodePrepared checks that the
// bytes still hash to the recorded id. Without signed (before signing), the
// pending transaction is read with ParseIntent.
//
// A transaction whose script is exactly tatum-js's FLOW or FUSD transfer
// template for the network, with exactly its two arguments (UFix64 amount,
// Address recipient), is a transfer from the one authorizer (the wallet's
// account): the amount in 1e-8 units (UFix64) to the recipient, FLOW as
// the native coin, FUSD with Token "A.<fusd contract>.FUSD" (the policy
// limits it per token: tokens:, docs/policy.md). Any other script (custom
// Cadence) is MethodCall and Unknown. Fee: 0 when the payer (Tatum's fee
// account) is not an authorizer, as for every transaction Tatum builds;
// nil otherwise (Flow's fee depends on the execution effort). Signatures
// are not verified here (the account keys are on chain; the signer checked
// its own before journaling).
func DecodeView(chain string, isTestnet bool, serialized, signed string) (*signing.View, error) {
	if !strings.EqualFold(strings.TrimSpace(chain), "FLOW") {
		return nil, fmt.Errorf("chain %q: %w", chain, signing.ErrUnsupportedChain)
	}
	c := mainnet
	if isTestnet {
		c = testnet
	}
	v := &signing.View{Chain: "FLOW", Family: ViewFamily, Method: signing.MethodTransfer}
	var (
		script []byte
		args   [][]byte
		auth   []Address
	)
	if strings.TrimSpace(signed) == "" {
		in, err := ParseIntent(serialized, isTestnet, true)
		if err != nil {
			return nil, fmt.Errorf("FLOW: %w", err)
		}
		script, args, auth = in.Script, in.Arguments, []Address{in.Account}
		v.Fee = new(big.Int) // Tatum's account pays (the proposer and payer are added when signing)
	} else {
		p, err := DecodePrepared(signed)
		if err != nil {
			return nil, err
		}
		script, args, auth = p.Tx.Script, p.Tx.Arguments, p.Tx.Authorizers
		v.Signed, v.TxID = true, p.TxID
		paysOwn := false
		for _, a := range auth {
			paysOwn = paysOwn || a == p.Tx.Payer
		}
		if !paysOwn {
			v.Fee = new(big.Int)
		}
	}
	if len(auth) != 1 {
		v.Unknown = append(v.Unknown, fmt.Sprintf("FLOW: %d authorizers (gokms signs for one account)", len(auth)))
	}
	from := ""
	if len(auth) > 0 {
		from = auth[0].String()
	}
	amount := new(big.Int)
	if cur, to, amt, ok := transferOf(c, script, args); ok {
		o := signing.Flow{Address: to.String(), Amount: amt}
		if cur == "FUSD" {
			o.Token = "A." + strings.TrimPrefix(c.fusd, "0x") + ".FUSD"
			v.Token = o.Token
		} else {
			amount.Set(amt)
		}
		v.Outputs = append(v.Outputs, o)
	} else {
		v.Method = signing.MethodCall
		v.Unknown = append(v.Unknown, "FLOW: a Cadence script that is not Tatum's FLOW or FUSD transfer (custom transaction)")
	}
	v.Inputs = []signing.Flow{{Address: from, Amount: amount}}
	return v, nil
}

// transferOf matches the transfer template byte for byte and reads its
// arguments, which must be exactly what ParseIntent writes for them.
func transferOf(c contracts, script []byte, args [][]byte) (cur string, to Address, amount *big.Int, ok bool) {
	for _, cur = range []string{"FLOW", "FUSD"} {
		if bytes.Equal(script, []byte(transferTemplate(c, cur))) {
			ok = true
			break
		}
	}
	if !ok || len(args) != 2 {
		return "", to, nil, false
	}
	var a, r struct{ Type, Value string }
	if json.Unmarshal(args[0], &a) != nil || json.Unmarshal(args[1], &r) != nil || a.Type != "UFix64" || r.Type != "Address" {
		return "", to, nil, false
	}
	if !bytes.Equal(args[0], cadenceJSON("UFix64", jsString(a.Value))) || !bytes.Equal(args[1], cadenceJSON("Address", jsString(r.Value))) {
		return "", to, nil, false
	}
	to, err := ParseAddress(r.Value)
	if err != nil || len(r.Value) != 18 {
		return "", to, nil, false
	}
	whole, frac, found := strings.Cut(a.Value, ".")
	if !found || len(frac) != 8 {
		return "", to, nil, false
	}
	amount, ok = new(big.Int).SetString(whole+frac, 10)
	if !ok || amount.Sign() <= 0 || amount.BitLen() > 64 {
		return "", to, nil, false
	}
	return cur, to, amount, true
}
