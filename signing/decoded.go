package signing

import (
	"math/big"
	"slices"
	"strings"
)

// View is what a transaction does, decoded from the bytes that are (or
// will be) signed, never from a pending transaction's description. Signing
// policy and the audit trail read it; the chain families' Decode functions
// build it (utxo.Decode, evm.Decode).
//
// Amounts are in the chain's base unit (satoshi, wei; a token's smallest
// unit for token flows).
type View struct {
	Chain  string `json:"chain"`
	Family string `json:"family"` // ViewUTXO or ViewEVM
	// Signed: decoded from the signed transaction (what is broadcast);
	// otherwise from the unsigned one, where an EVM fee may be unknown.
	Signed bool   `json:"signed"`
	TxID   string `json:"txId,omitempty"` // set when Signed
	// Inputs: UTXO the outputs spent (address, amount); EVM the sender
	// with the value it sends.
	Inputs []Flow `json:"inputs"`
	// Outputs: UTXO every output; EVM the native value to `to` and, for an
	// ERC-20 call, the token amount to the recipient (transfer,
	// transferFrom) or to the spender (approve).
	Outputs []Flow `json:"outputs"`
	// Fee: UTXO inputs minus outputs; EVM gas limit × gas price (legacy) or
	// × maxFeePerGas (EIP-1559), the most the transaction can pay. Nil when
	// not known yet (an unsigned EVM transaction the node completes).
	Fee *big.Int `json:"fee"`
	// Method: MethodTransfer, MethodERC20Transfer, MethodERC20TransferFrom,
	// MethodERC20Approve, MethodDeploy or MethodCall (calldata not decoded).
	Method string `json:"method"`
	// Token is the ERC-20 contract of an ERC-20 call (as the chain writes
	// addresses), or "".
	Token string `json:"token,omitempty"`
	// Unknown lists what the decoder could not fully understand. A View
	// with Unknown entries is refused unless a policy rule allows it.
	Unknown []string `json:"unknown,omitempty"`
}

// Flow is one input or output of a View.
type Flow struct {
	Address string   `json:"address,omitempty"` // "" when the script has no address form
	Script  string   `json:"script,omitempty"`  // UTXO: the output script, hex
	Amount  *big.Int `json:"amount"`
	Token   string   `json:"token,omitempty"` // token contract for token flows; "" for the native coin
	// Change: the output pays back to an address the transaction spends
	// from (UTXO only); it is not a destination.
	Change bool `json:"change,omitempty"`
}

// Families and methods of a View.
const (
	ViewUTXO = "utxo"
	ViewEVM  = "evm"

	MethodTransfer          = "transfer"
	MethodERC20Transfer     = "erc20.transfer"
	MethodERC20TransferFrom = "erc20.transferFrom"
	MethodERC20Approve      = "erc20.approve"
	MethodDeploy            = "deploy"
	MethodCall              = "call"
)

// SameEffect reports whether v and w describe the same transfer: the same
// chain, inputs, outputs, fee, method, token and not-understood parts.
// They may differ in Signed and TxID (the views before and after signing).
func (v *View) SameEffect(w *View) bool {
	if v == nil || w == nil {
		return false
	}
	return v.Chain == w.Chain && v.Family == w.Family && v.Method == w.Method && v.Token == w.Token &&
		sameAmount(v.Fee, w.Fee) && slices.Equal(v.Unknown, w.Unknown) &&
		slices.EqualFunc(v.Inputs, w.Inputs, Flow.same) && slices.EqualFunc(v.Outputs, w.Outputs, Flow.same)
}

func (f Flow) same(g Flow) bool {
	return f.Address == g.Address && f.Script == g.Script && f.Token == g.Token && f.Change == g.Change && sameAmount(f.Amount, g.Amount)
}

// sameAmount: both unknown (nil), or equal.
func sameAmount(a, b *big.Int) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Cmp(b) == 0
}

// Complete reports whether the decoder understood everything.
func (v *View) Complete() bool { return len(v.Unknown) == 0 }

// Destinations returns the addresses outside the transaction's own inputs
// that receive something (change excluded), in output order, once each.
func (v *View) Destinations() []string {
	var out []string
	var seen map[string]bool // past a few, instead of a scan of out
	for _, o := range v.Outputs {
		if o.Change || o.Address == "" {
			continue
		}
		if seen == nil && len(out) < 8 {
			if !slices.ContainsFunc(out, func(a string) bool { return sameLower(a, o.Address) }) {
				out = append(out, o.Address)
			}
			continue
		}
		if seen == nil {
			seen = make(map[string]bool, 2*len(out))
			for _, a := range out {
				seen[strings.ToLower(a)] = true
			}
		}
		k := strings.ToLower(o.Address)
		if !seen[k] {
			seen[k] = true
			out = append(out, o.Address)
		}
	}
	return out
}

// sameLower is strings.ToLower(a) == strings.ToLower(b), without the
// copies for ASCII (EqualFold folds a few other runes that ToLower keeps
// apart: a destination must never hide behind another's spelling).
func sameLower(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		return strings.EqualFold(a, b)
	}
	return strings.ToLower(a) == strings.ToLower(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Sent returns the total that leaves the wallet to destinations, per
// token ("" is the native coin), change excluded.
func (v *View) Sent() map[string]*big.Int {
	out := map[string]*big.Int{}
	for _, o := range v.Outputs {
		if o.Change || o.Amount == nil {
			continue
		}
		k := strings.ToLower(o.Token)
		if out[k] == nil {
			out[k] = new(big.Int)
		}
		out[k].Add(out[k], o.Amount)
	}
	return out
}
