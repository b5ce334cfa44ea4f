// Package policy is gokms's signing policy: rules an operator writes in a
// file (YAML or JSON) and that every transaction must pass before it is
// signed and again, on the signed bytes, before it is broadcast. Rules are
// per chain and per wallet: allowed destinations, maximum amount per
// transaction and per rolling 24 hours, maximum fee, allowed ERC-20 calls
// and contract deployment, allowed tokens of the other account chains with
// their own limits, time windows, and custom CEL expressions over a
// documented view of the transaction (see docs/policy.md).
//
// The view is decoded from what is signed (signing/utxo.Decode,
// signing/evm.Decode), never from the pending transaction's description. A
// transaction the decoder does not fully understand is refused unless a
// rule allows it explicitly.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// File is a policy file as written. Unknown keys are an error: a typo must
// never silently drop a rule.
type File struct {
	// Version is 1.
	Version int `json:"version"`
	// Unlisted says what happens to a transaction that no chain section and
	// no wallet rule covers: "refuse" (default) or "allow".
	Unlisted string `json:"unlisted,omitempty"`
	// Chains maps a chain code (BTC, ETH, ...) to the rules of every
	// transaction on that chain.
	Chains map[string]*Rule `json:"chains,omitempty"`
	// Wallets are rules for the transactions a wallet signs, by signatureId
	// (a label names the rule in refusals and groups several ids).
	Wallets []*WalletRule `json:"wallets,omitempty"`
	// Rules are custom CEL expressions.
	Rules []*CELRule `json:"rules,omitempty"`
}

// Rule is what a chain section or a wallet rule may limit. An absent field
// does not limit.
type Rule struct {
	// Destinations allowed: an address, or a prefix ending in "*". Change
	// back to the spending address is not a destination.
	Destinations []string `json:"destinations,omitempty"`
	// MaxAmount per transaction, native coin, base unit (satoshi, wei).
	MaxAmount *Amount `json:"maxAmount,omitempty"`
	// MaxDaily: the most sent in any rolling 24 hours, native coin, base
	// unit (per chain for a chain section, per wallet rule for a wallet).
	MaxDaily *Amount `json:"maxDaily,omitempty"`
	// MaxFee per transaction, base unit: UTXO inputs − outputs; EVM gas
	// limit × gas price (or × maxFeePerGas).
	MaxFee *Amount `json:"maxFee,omitempty"`
	// Contracts: ERC-20 calls allowed (EVM). None listed: none allowed.
	Contracts []*Contract `json:"contracts,omitempty"`
	// Tokens: token transfers allowed on the non-EVM chains with tokens
	// (TRON, SOL, XLM, ALGO, EGLD, VET, FLOW), by token id. A token
	// transfer needs a covering section that lists its token.
	Tokens []*Token `json:"tokens,omitempty"`
	// Deploy allows contract creation (EVM); default off.
	Deploy *bool `json:"deploy,omitempty"`
	// TimeWindows: signing only inside one of them; none: any time.
	TimeWindows []*Window `json:"timeWindows,omitempty"`
	// AllowUndecoded accepts a transaction the decoder does not fully
	// understand (unknown output scripts, undecoded calldata, or one it
	// cannot decode at all). Limits are still checked on what was decoded.
	AllowUndecoded bool `json:"allowUndecoded,omitempty"`
}

// WalletRule is a Rule for the transactions signed by some signatureIds.
type WalletRule struct {
	Label        string   `json:"label,omitempty"`
	SignatureIDs []string `json:"signatureIds"`
	Rule
}

// Contract allows ERC-20 calls to one token contract.
type Contract struct {
	Address string `json:"address"`
	// Methods among transfer, transferFrom, approve; default all three.
	Methods []string `json:"methods,omitempty"`
	// MaxAmount per transaction and MaxDaily per rolling 24 hours, in the
	// token's smallest unit. approve counts as moving its amount.
	MaxAmount *Amount `json:"maxAmount,omitempty"`
	MaxDaily  *Amount `json:"maxDaily,omitempty"`
}

// Window is a time of week when signing is allowed.
type Window struct {
	// Days: mon, tue, wed, thu, fri, sat, sun; default every day.
	Days []string `json:"days,omitempty"`
	// From and To, "HH:MM", To exclusive; To before From spans midnight.
	From string `json:"from"`
	To   string `json:"to"`
	// Zone is an IANA time zone; default UTC.
	Zone string `json:"zone,omitempty"`

	from, to int // minutes of the day
	days     map[time.Weekday]bool
	loc      *time.Location
}

// CELRule is a custom rule: a CEL expression over the view (docs/policy.md).
type CELRule struct {
	Name string `json:"name"`
	// Chains limits the rule to these chains; default every chain.
	Chains []string `json:"chains,omitempty"`
	Expr   string   `json:"expr"`
	// Effect: "require" (default: refuse unless the expression is true),
	// "deny" (refuse when it is true), or "allowUndecoded" (accept a
	// transaction the decoder does not fully understand when it is true).
	Effect string `json:"effect,omitempty"`
}

// Effects of a CEL rule.
const (
	EffectRequire        = "require"
	EffectDeny           = "deny"
	EffectAllowUndecoded = "allowUndecoded"
)

// Amount is a non-negative integer in a base unit, written as a JSON/YAML
// integer or a decimal string (for values beyond 2^53).
type Amount struct{ big.Int }

// UnmarshalJSON accepts 123 or "123"; fractions, exponents, negatives and
// units are refused: limits are in base units.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	}
	if !regexp.MustCompile(`^[0-9]+$`).MatchString(s) {
		return fmt.Errorf("amount %s: want a whole number of the chain's base unit (satoshi, wei), e.g. 150000 or \"1000000000000000000\"", string(b))
	}
	if len(s) > 1 && s[0] == '0' {
		return fmt.Errorf("amount %s: no leading zeros", s)
	}
	a.SetString(s, 10)
	return nil
}

// MarshalJSON writes the amount as a decimal string.
func (a *Amount) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

func (a *Amount) big() *big.Int { return &a.Int }

// Load reads and checks a policy file (YAML or JSON, by content).
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return f, nil
}

// Parse reads a policy from YAML or JSON (JSON is YAML) and checks it,
// CEL expressions included.
func Parse(b []byte) (*File, error) {
	var f File
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		return nil, fmt.Errorf("%w (see docs/policy.md for the format)", err)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	if _, err := compileRules(f.Rules); err != nil {
		return nil, err
	}
	return &f, nil
}

var methodNames = map[string]bool{"transfer": true, "transferFrom": true, "approve": true}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

func (f *File) check() error {
	if f.Version != 1 {
		return fmt.Errorf("version %d: want `version: 1`", f.Version)
	}
	switch f.Unlisted {
	case "":
		f.Unlisted = "refuse"
	case "refuse", "allow":
	default:
		return fmt.Errorf("unlisted %q: want refuse or allow", f.Unlisted)
	}
	if len(f.Chains) == 0 && len(f.Wallets) == 0 && len(f.Rules) == 0 {
		return errors.New("the policy has no chains, wallets or rules: it would refuse everything (or, with unlisted: allow, check nothing)")
	}
	norm := map[string]*Rule{}
	for code, r := range f.Chains {
		c := strings.ToUpper(strings.TrimSpace(code))
		if !knownChain(c) {
			return fmt.Errorf("chains.%s: gokms has no decoder for this chain (it decodes %s)", code, strings.Join(knownChains(), ", "))
		}
		if _, dup := norm[c]; dup {
			return fmt.Errorf("chains.%s given twice", c)
		}
		if r == nil {
			r = &Rule{}
		}
		if err := r.check(c, "chains."+c); err != nil {
			return err
		}
		norm[c] = r
	}
	f.Chains = norm
	seenLabel := map[string]bool{}
	seenID := map[string]string{}
	for i, w := range f.Wallets {
		if w == nil {
			return fmt.Errorf("wallets[%d] is empty", i)
		}
		name := w.Name(i)
		if w.Label != "" {
			if seenLabel[w.Label] {
				return fmt.Errorf("wallets: label %q used twice", w.Label)
			}
			seenLabel[w.Label] = true
		}
		if len(w.SignatureIDs) == 0 {
			return fmt.Errorf("%s: no signatureIds", name)
		}
		for _, id := range w.SignatureIDs {
			if strings.TrimSpace(id) == "" {
				return fmt.Errorf("%s: empty signatureId", name)
			}
			if other, dup := seenID[id]; dup {
				return fmt.Errorf("%s: signatureId %s is already in %s", name, id, other)
			}
			seenID[id] = name
		}
		if err := w.Rule.check("", name); err != nil {
			return err
		}
	}
	seenRule := map[string]bool{}
	for i, r := range f.Rules {
		if r == nil || strings.TrimSpace(r.Name) == "" {
			return fmt.Errorf("rules[%d]: every rule needs a name (refusals name it)", i)
		}
		if seenRule[r.Name] {
			return fmt.Errorf("rules: name %q used twice", r.Name)
		}
		seenRule[r.Name] = true
		switch r.Effect {
		case "":
			r.Effect = EffectRequire
		case EffectRequire, EffectDeny, EffectAllowUndecoded:
		default:
			return fmt.Errorf("rules[%s]: effect %q: want require, deny or allowUndecoded", r.Name, r.Effect)
		}
		for j, c := range r.Chains {
			r.Chains[j] = strings.ToUpper(strings.TrimSpace(c))
			if !knownChain(r.Chains[j]) {
				return fmt.Errorf("rules[%s]: chain %q: gokms has no decoder for it", r.Name, c)
			}
		}
	}
	return nil
}

// Name is how refusals name the wallet rule.
func (w *WalletRule) Name(i int) string {
	if w.Label != "" {
		return "wallets[" + w.Label + "]"
	}
	return fmt.Sprintf("wallets[%d]", i)
}

func (r *Rule) check(chain, name string) error {
	for i, d := range r.Destinations {
		d = strings.TrimSpace(d)
		if d == "" || d == "*" {
			return fmt.Errorf("%s.destinations[%d] %q: want an address or a prefix ending in * (a lone * allows everything: leave destinations out instead)", name, i, d)
		}
		if strings.Contains(strings.TrimSuffix(d, "*"), "*") {
			return fmt.Errorf("%s.destinations[%d] %q: * only at the end (a prefix)", name, i, d)
		}
		r.Destinations[i] = d
	}
	evm := chain == "" || isEVM(chain)
	if !evm && (len(r.Contracts) > 0 || r.Deploy != nil) {
		hint := ""
		if _, ok := tokenChains[chain]; ok && len(r.Contracts) > 0 {
			hint = " (" + chain + " tokens are limited with tokens: - token: <id>)"
		}
		return fmt.Errorf("%s: contracts and deploy are for EVM chains%s", name, hint)
	}
	if err := checkTokens(chain, name, r.Tokens); err != nil {
		return err
	}
	for i, c := range r.Contracts {
		if c == nil || !regexp.MustCompile(`^(0x|0X|xdc)[0-9a-fA-F]{40}$`).MatchString(c.Address) {
			return fmt.Errorf("%s.contracts[%d]: address %q: want a 0x-hex contract address", name, i, addrOf(c))
		}
		for _, m := range c.Methods {
			if !methodNames[m] {
				return fmt.Errorf("%s.contracts[%d]: method %q: want transfer, transferFrom or approve", name, i, m)
			}
		}
	}
	for i, w := range r.TimeWindows {
		if w == nil {
			return fmt.Errorf("%s.timeWindows[%d] is empty", name, i)
		}
		if err := w.compile(); err != nil {
			return fmt.Errorf("%s.timeWindows[%d]: %w", name, i, err)
		}
	}
	return nil
}

func addrOf(c *Contract) string {
	if c == nil {
		return ""
	}
	return c.Address
}

func (w *Window) compile() error {
	hm := func(s string) (int, error) {
		t, err := time.Parse("15:04", s)
		if err != nil {
			return 0, fmt.Errorf("time %q: want HH:MM (24 h)", s)
		}
		return t.Hour()*60 + t.Minute(), nil
	}
	var err error
	if w.from, err = hm(w.From); err != nil {
		return err
	}
	if w.To == "24:00" {
		w.to = 24 * 60
	} else if w.to, err = hm(w.To); err != nil {
		return err
	}
	if w.from == w.to {
		return fmt.Errorf("from %s equals to %s: an empty window", w.From, w.To)
	}
	w.loc = time.UTC
	if w.Zone != "" {
		if w.loc, err = time.LoadLocation(w.Zone); err != nil {
			return fmt.Errorf("zone %q: %w", w.Zone, err)
		}
	}
	if len(w.Days) > 0 {
		w.days = map[time.Weekday]bool{}
		for _, d := range w.Days {
			wd, ok := dayNames[strings.ToLower(strings.TrimSpace(d))]
			if !ok {
				return fmt.Errorf("day %q: want mon, tue, wed, thu, fri, sat or sun", d)
			}
			w.days[wd] = true
		}
	}
	return nil
}

// contains reports whether t falls in the window. A window that spans
// midnight belongs to the day it starts on.
func (w *Window) contains(t time.Time) bool {
	t = t.In(w.loc)
	m := t.Hour()*60 + t.Minute()
	day := t.Weekday()
	if w.from < w.to {
		return m >= w.from && m < w.to && (w.days == nil || w.days[day])
	}
	if m >= w.from {
		return w.days == nil || w.days[day]
	}
	if m < w.to {
		return w.days == nil || w.days[(day+6)%7]
	}
	return false
}

func knownChains() []string {
	var l []string
	for c := range decoders() {
		l = append(l, c)
	}
	sort.Strings(l)
	return l
}
