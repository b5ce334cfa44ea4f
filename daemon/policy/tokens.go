package policy

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// Token limits the transfers of one token on a non-EVM chain (tokens:):
// the id as the chain's View names it (docs/policy.md, "Token ids").
type Token struct {
	Token string `json:"token"`
	// MaxAmount per transaction and MaxDaily per rolling 24 hours, in the
	// token's base unit (the chain's smallest unit of the token).
	MaxAmount *Amount `json:"maxAmount,omitempty"`
	MaxDaily  *Amount `json:"maxDaily,omitempty"`
}

// tokenChains are the chains whose Views decode token transfers the
// tokens: key limits, with the form of their token ids (for messages).
var tokenChains = map[string]string{
	"TRON": "a TRC-20 contract in base58check (T...) or a TRC-10 id (decimal, e.g. 1002000)",
	"SOL":  "an SPL mint in base58 (32 bytes)",
	"XLM":  "an issued asset as CODE:ISSUER (code 1-12 letters or digits, issuer G...)",
	"ALGO": "an ASA id (decimal)",
	"EGLD": "an ESDT id (TICKER-abcdef)",
	"VET":  "a VIP-180 contract in 0x hex",
	"FLOW": "A.<16 hex digits>.FUSD (the FUSD contract's type id)",
}

// noTokens says why a chain has no tokens: key.
func noTokens(chain string) string {
	switch {
	case isEVM(chain):
		return "on an EVM chain, ERC-20 tokens are limited with contracts: (address, methods, maxAmount, maxDaily)"
	case chain == "XRP":
		return "XRP issued currencies have no base unit (IOU values are decimals), so they cannot be limited in whole units; a payment of one is undecoded (allowUndecoded passes it)"
	case chain == "ADA":
		return "ADA multi-asset outputs are not decoded (undecoded: allowUndecoded passes them)"
	default:
		return chain + " has no tokens gokms decodes"
	}
}

var (
	xlmCode  = regexp.MustCompile(`^[A-Za-z0-9]{1,12}$`)
	esdtID   = regexp.MustCompile(`^[A-Z0-9]{3,10}-[0-9a-f]{6}$`)
	vetToken = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
	flowType = regexp.MustCompile(`^A\.[0-9a-fA-F]{16}\.FUSD$`)
)

// validToken reports whether id is a well-formed token id of chain.
func validToken(chain, id string) bool {
	switch chain {
	case "TRON":
		if decimalID(id) {
			return true // TRC-10
		}
		payload, ver, err := base58.CheckDecode(id)
		return err == nil && ver == 0x41 && len(payload) == 20
	case "SOL":
		b := base58.Decode(id)
		return len(b) == 32 && base58.Encode(b) == id
	case "XLM":
		code, issuer, ok := strings.Cut(id, ":")
		if !ok || !xlmCode.MatchString(code) {
			return false
		}
		// The view writes the issuer as the SDK encodes it: compare
		// against that form (a strkey has one).
		k, err := wallet.ParseStellarAddress(issuer)
		return err == nil && wallet.StellarAddress(k) == issuer
	case "ALGO":
		return decimalID(id)
	case "EGLD":
		return esdtID.MatchString(id)
	case "VET":
		return vetToken.MatchString(id)
	case "FLOW":
		return flowType.MatchString(id)
	}
	return false
}

// decimalID: a positive uint64 in decimal, no leading zeros.
func decimalID(s string) bool {
	if s == "" || s[0] == '0' {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// tokenKey is how chain compares token ids: VET's 0x hex and the address
// in a FLOW type id without letter case, the others exactly (base58,
// CODE:ISSUER, decimal ids and ESDT ids are case-sensitive).
func tokenKey(chain, id string) string {
	switch chain {
	case "VET":
		return strings.ToLower(id)
	case "FLOW":
		if len(id) > 2 {
			if addr, rest, ok := strings.Cut(id[2:], "."); ok {
				return id[:2] + strings.ToLower(addr) + "." + rest
			}
		}
	}
	return id
}

func checkTokens(chain, name string, ts []*Token) error {
	if len(ts) == 0 {
		return nil
	}
	if chain != "" {
		if _, ok := tokenChains[chain]; !ok {
			return fmt.Errorf("%s.tokens: %s", name, noTokens(chain))
		}
	}
	seen := map[string]bool{}
	for i, t := range ts {
		if t == nil {
			return fmt.Errorf("%s.tokens[%d] is empty", name, i)
		}
		id := strings.TrimSpace(t.Token)
		if chain != "" && !validToken(chain, id) {
			return fmt.Errorf("%s.tokens[%d]: token %q: want %s", name, i, t.Token, tokenChains[chain])
		}
		if chain == "" {
			// A wallet rule covers transactions of every chain: the id
			// must be one of some chain that has tokens.
			ok := false
			for c := range tokenChains {
				ok = ok || validToken(c, id)
			}
			if !ok {
				var forms []string
				for _, c := range sortedTokenChains() {
					forms = append(forms, c+": "+tokenChains[c])
				}
				return fmt.Errorf("%s.tokens[%d]: token %q is no chain's token id (%s; EVM ERC-20 tokens go in contracts:)", name, i, t.Token, strings.Join(forms, "; "))
			}
		}
		k := id
		if chain != "" {
			k = tokenKey(chain, id)
		}
		if seen[k] {
			return fmt.Errorf("%s.tokens[%d]: token %s is listed twice", name, i, id)
		}
		seen[k] = true
		t.Token = id
	}
	return nil
}

func sortedTokenChains() []string {
	var l []string
	for c := range tokenChains {
		l = append(l, c)
	}
	sort.Strings(l)
	return l
}

// tokenSent is what a transaction sends of one token (non-EVM chains).
type tokenSent struct {
	id     string // as the View names it
	key    string // tokenKey
	amount *big.Int
	known  bool // every output of it has an amount
}

// tokensOf sums the token outputs of a View of a chain with tokens, per
// token in the order they appear; nil on other chains (EVM tokens are the
// contracts: rules', XRP and ADA tokens are Unknown).
func tokensOf(chain string, v *signing.View) []*tokenSent {
	if _, ok := tokenChains[chain]; !ok || v.Family == signing.ViewEVM || v.Family == signing.ViewUTXO {
		return nil
	}
	var out []*tokenSent
	by := map[string]*tokenSent{}
	for _, o := range v.Outputs {
		if o.Token == "" || o.Change {
			continue
		}
		k := tokenKey(chain, o.Token)
		t := by[k]
		if t == nil {
			t = &tokenSent{id: o.Token, key: k, amount: new(big.Int), known: true}
			by[k] = t
			out = append(out, t)
		}
		if o.Amount == nil {
			t.known = false
			continue
		}
		t.amount.Add(t.amount, o.Amount)
	}
	return out
}

func findToken(chain string, ts []*Token, key string) *Token {
	for _, t := range ts {
		if tokenKey(chain, t.Token) == key {
			return t
		}
	}
	return nil
}
