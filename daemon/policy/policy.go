package policy

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/vet"
	"github.com/gokms/gokms/wallet"
)

// Counters hold the rolling totals behind maxDaily. The daemon's journal
// (daemon/journal.Journal) implements it, so totals survive restarts and,
// with a shared journal, are shared by several daemons. Add is idempotent
// per (key, ref): a transaction evaluated again after a restart counts once.
type Counters interface {
	Add(ctx context.Context, key, ref string, at time.Time, amount *big.Int) error
	SumSince(ctx context.Context, key string, since time.Time) (*big.Int, error)
}

// SharedCounters are Counters that several daemons add to at once (the
// PostgreSQL state). Each daemon's check of a rolling total and its add
// are two steps that another daemon's add can fall between, so both could
// pass the last allowance; AddWithin closes that gap: in one atomic step
// across processes it checks every limit against the sum since since and,
// only if all hold, adds every amount (once per key and ref, as Add).
// refused is the index of the first add over its limit (with that key's
// sum), or -1 when everything was added.
type SharedCounters interface {
	Counters
	AddWithin(ctx context.Context, ref string, at, since time.Time, adds []LimitedAdd) (refused int, sum *big.Int, err error)
}

// LimitedAdd is one amount for AddWithin; Limit nil counts without a limit.
type LimitedAdd struct {
	Key    string
	Amount *big.Int
	Limit  *big.Int
}

// LimitError: a rolling limit refused an add at the shared counters
// (another daemon's transactions used the allowance meanwhile).
type LimitError struct {
	Rule        string
	Sum, Amount *big.Int
	Limit       *big.Int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("rule %s: %s in the last 24 hours (all daemons) plus %s is %s, above the limit %s",
		e.Rule, e.Sum, e.Amount, new(big.Int).Add(e.Sum, e.Amount), e.Limit)
}

// Window is the span of the rolling limits.
const Window24h = 24 * time.Hour

// Input is one transaction to decide on.
type Input struct {
	ID           string   // pending id (the counters' ref)
	Chain        string   // the polled chain
	Testnet      bool     //
	SignatureIDs []string // hashes and signatures[].id
	View         *signing.View
	DecodeErr    error // why View is nil
	Now          time.Time
}

// Decision is the policy's verdict on one transaction.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Rule    string `json:"rule"`   // the rule that refused, e.g. chains.BTC.maxAmount; or what allowed it
	Reason  string `json:"reason"` // for operators
	// Class is the kind of rule (maxAmount, destinations, ...): a bounded
	// set, for metric labels.
	Class string `json:"class"`
}

// Rule classes.
const (
	ClassUnlisted     = "unlisted"
	ClassUndecoded    = "undecoded"
	ClassDestinations = "destinations"
	ClassMaxAmount    = "maxAmount"
	ClassMaxDaily     = "maxDaily"
	ClassMaxFee       = "maxFee"
	ClassContracts    = "contracts"
	ClassTokens       = "tokens" // token transfers on the non-EVM chains
	ClassDeploy       = "deploy"
	ClassTimeWindows  = "timeWindows"
	ClassCEL          = "cel"
	ClassCounters     = "counters" // the counters could not be read or written
)

// Policy evaluates transactions against a File. It is safe for concurrent
// use.
type Policy struct {
	f        *File
	counters Counters
	// mu makes check-then-add of the rolling totals atomic within this
	// process. Several daemons sharing counters can each pass the same
	// remaining allowance at the same instant (docs/policy.md).
	mu         sync.Mutex
	reserved   map[string]*big.Int // approved, add not yet durable
	cache      map[string]*cachedTotal
	charged    map[string]map[string]bool // key -> ids counted by this process
	chargedAt  []chargedID
	sum, total big.Int              // evaluate's scratch, under mu
	refresh    time.Duration        // CacheTotals; 0: read the counters every time
	dests      map[*Rule]*destSet   // every rule's Destinations, normalised
	chainSecs  map[string][]section // the section of every chain the file lists, alone (shared: read-only)
	// rulesBy holds the custom rules that apply to each chain some rule
	// names; anyChain those that name none, which is all that applies to
	// the other chains. Filtered once here rather than per transaction.
	rulesBy  map[string][]compiled
	anyChain []compiled
}

// New prepares f. counters may be nil only if no rule has maxDaily.
func New(f *File, counters Counters) (*Policy, error) {
	rules, err := compileRules(f.Rules)
	if err != nil {
		return nil, err
	}
	if counters == nil && f.needsCounters() {
		return nil, fmt.Errorf("policy: maxDaily needs the daemon state (counters)")
	}
	dests, chainSecs := map[*Rule]*destSet{}, map[string][]section{}
	for chain, r := range f.Chains {
		dests[r] = compileDests(r.Destinations)
		chainSecs[chain] = []section{newSection("chains."+chain, "policy/chain/"+chain, r)}
	}
	for i := range f.Wallets {
		dests[&f.Wallets[i].Rule] = compileDests(f.Wallets[i].Rule.Destinations)
	}
	rulesBy, anyChain := map[string][]compiled{}, []compiled(nil)
	for _, c := range rules {
		if len(c.rule.Chains) == 0 {
			anyChain = append(anyChain, c)
		}
		for _, chain := range c.rule.Chains {
			rulesBy[chain] = nil
		}
	}
	for chain := range rulesBy {
		var l []compiled
		for _, c := range rules {
			if len(c.rule.Chains) == 0 || slices.Contains(c.rule.Chains, chain) {
				l = append(l, c)
			}
		}
		rulesBy[chain] = l
	}
	return &Policy{f: f, counters: counters, reserved: map[string]*big.Int{},
		cache: map[string]*cachedTotal{}, charged: map[string]map[string]bool{}, dests: dests, chainSecs: chainSecs,
		rulesBy: rulesBy, anyChain: anyChain}, nil
}

// rulesFor returns the custom rules that apply to chain (upper case), in
// the file's order. Read-only.
func (p *Policy) rulesFor(chain string) []compiled {
	if l, ok := p.rulesBy[chain]; ok {
		return l
	}
	return p.anyChain
}

// File returns the policy as loaded.
func (p *Policy) File() *File { return p.f }

func (f *File) needsCounters() bool {
	has := func(r *Rule) bool {
		if r.MaxDaily != nil {
			return true
		}
		for _, c := range r.Contracts {
			if c.MaxDaily != nil {
				return true
			}
		}
		for _, t := range r.Tokens {
			if t.MaxDaily != nil {
				return true
			}
		}
		return false
	}
	for _, r := range f.Chains {
		if has(r) {
			return true
		}
	}
	for _, w := range f.Wallets {
		if has(&w.Rule) {
			return true
		}
	}
	return false
}

// section is one rule set that applies to a transaction.
type section struct {
	name string // chains.BTC, wallets[hot]
	key  string // counters key prefix
	r    *Rule
	// nativeKey and dailyRule are key + "/native" and name + ".maxDaily",
	// made once for the chains' sections (New): two strings a transaction
	// otherwise. A wallet's section, whose key names the chain, builds them
	// when a rolling total needs them.
	nativeKey, dailyRule string
}

func (s section) native() string {
	if s.nativeKey != "" {
		return s.nativeKey
	}
	return s.key + "/native"
}

func (s section) daily() string {
	if s.dailyRule != "" {
		return s.dailyRule
	}
	return s.name + ".maxDaily"
}

func newSection(name, key string, r *Rule) section {
	return section{name: name, key: key, r: r, nativeKey: key + "/native", dailyRule: name + ".maxDaily"}
}

// sections returns the rule sets that apply to in, the chain's first, and
// the labels of its wallets. The slice may be shared: read-only.
func (p *Policy) sections(in *Input) ([]section, []string) {
	var labels []string
	chain := strings.ToUpper(in.Chain)
	// Full slice expression: a wallet's section is appended to a copy,
	// never into the shared one.
	out := p.chainSecs[chain]
	out = out[:len(out):len(out)]
	if r, ok := p.f.Chains[chain]; ok && len(out) == 0 { // a chain New did not see
		out = append(out, section{name: "chains." + chain, key: "policy/chain/" + chain, r: r})
	}
	for i, w := range p.f.Wallets {
		for _, id := range w.SignatureIDs {
			if slices.Contains(in.SignatureIDs, id) {
				name := w.Name(i)
				key := "policy/wallet/" + chain + "/" + name
				out = append(out, section{name: name, key: key, r: &w.Rule})
				if w.Label != "" {
					labels = append(labels, w.Label)
				}
				break
			}
		}
	}
	return out, labels
}

func refuse(rule, class, format string, args ...any) Decision {
	return Decision{Rule: rule, Class: class, Reason: fmt.Sprintf(format, args...)}
}

// Options for Evaluate.
type Options struct {
	// DryRun reads the rolling totals but adds nothing (gokms policy
	// explain, and the check before signing).
	DryRun bool
	// FeeLater skips maxFee when the fee is not known yet (before signing
	// an EVM transaction whose fee the node fills); the check after signing
	// applies it.
	FeeLater bool
	// Unchanged: this policy allowed a view with the same effect before
	// signing (signing.View.SameEffect), so the CEL rules that read
	// nothing that differs between the two stages (signed, now, hour,
	// weekday) are not evaluated again; the declarative rules and the
	// rolling totals are.
	Unchanged bool
}

// Evaluate decides on in. A refusal names the rule; an error from the
// counters refuses too (class counters), never allows.
func (p *Policy) Evaluate(ctx context.Context, in Input, opt Options) Decision {
	d, commit := p.evaluate(ctx, in, opt)
	if commit != nil {
		if err := commit(); err != nil {
			var le *LimitError
			if errors.As(err, &le) {
				return refuse(le.Rule, ClassMaxDaily, "%s", le.Error())
			}
			return refuse(ClassCounters, ClassCounters, "record the rolling total: %v", err)
		}
	}
	return d
}

// EvaluateAsync is Evaluate with the durable add of the rolling totals
// started in the background (or queued at once for the journal's next
// commit, on counters that take it so): wait returns once it is done (nil:
// counted), so the caller can overlap it with other durable work (the
// audit entry) before the broadcast. Until then the amounts are reserved
// in memory.
func (p *Policy) EvaluateAsync(ctx context.Context, in Input, opt Options) (d Decision, wait func() error) {
	d, commit := p.evaluate(ctx, in, opt)
	if commit == nil {
		return d, func() error { return nil }
	}
	if _, ok := p.queuedAdder(); ok {
		err := commit() // the add's error, already made (evaluate)
		return d, func() error { return err }
	}
	done := make(chan error, 1)
	go func() { done <- commit() }()
	return d, func() error { return <-done }
}

// evaluate decides; commit, if not nil, makes the rolling-total adds
// durable (the amounts are reserved until it returns).
func (p *Policy) evaluate(ctx context.Context, in Input, opt Options) (Decision, func() error) {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	secs, labels := p.sections(&in)
	chain := strings.ToUpper(in.Chain)
	rules := p.rulesFor(chain)
	if len(secs) == 0 && p.f.Unlisted != "allow" {
		return refuse(ClassUnlisted, ClassUnlisted, "no rule covers %s transactions of these wallets (policy: unlisted: refuse)", chain), nil
	}
	v := in.View
	act := pooledActivation(&in, v, labels, in.Now)
	defer act.release() // after the decision's text is made; charges that outlive it are copied

	// Undecoded: refused unless a section or a CEL rule allows it.
	if v == nil || !v.Complete() {
		why := "the transaction could not be decoded"
		if v == nil && in.DecodeErr != nil {
			why = "the transaction could not be decoded: " + in.DecodeErr.Error()
		} else if v != nil {
			why = "the decoder does not fully understand the transaction: " + strings.Join(v.Unknown, "; ")
		}
		allowedBy := ""
		for _, s := range secs {
			if s.r.AllowUndecoded {
				allowedBy = s.name + ".allowUndecoded"
				break
			}
		}
		for _, c := range rules {
			if allowedBy != "" {
				break
			}
			if c.rule.Effect != EffectAllowUndecoded {
				continue
			}
			ok, err := evalBool(c.prg, act)
			if err != nil {
				return refuse("rules["+c.rule.Name+"]", ClassCEL, "rule %s could not be evaluated: %v", c.rule.Name, err), nil
			}
			if ok {
				allowedBy = "rules[" + c.rule.Name + "]"
			}
		}
		if allowedBy == "" {
			return refuse(ClassUndecoded, ClassUndecoded, "%s; refused unless a rule allows it (allowUndecoded)", why), nil
		}
	}

	// Declarative rules, section by section.
	charges := make([]charge, 0, 4) // on the stack (todo copies what it keeps)
	if v != nil {
		native := act.sent("")
		if native == nil {
			native = new(big.Int)
		}
		dests := v.Destinations()
		toks := tokensOf(chain, v)
		for _, s := range secs {
			r := s.r
			if len(r.TimeWindows) > 0 {
				inside := false
				for _, w := range r.TimeWindows {
					if w.contains(in.Now) {
						inside = true
						break
					}
				}
				if !inside {
					return refuse(s.name+".timeWindows", ClassTimeWindows, "%s is outside the signing windows of %s", in.Now.UTC().Format(time.RFC3339), s.name), nil
				}
			}
			if len(r.Destinations) > 0 {
				ds := p.dests[r]
				if ds == nil { // a rule New did not see
					ds = compileDests(r.Destinations)
				}
				for _, d := range dests {
					if !ds.allows(v.Family, d) {
						return refuse(s.name+".destinations", ClassDestinations, "destination %s is not among the allowed destinations of %s", d, s.name), nil
					}
				}
				if v.Method == signing.MethodDeploy {
					return refuse(s.name+".destinations", ClassDestinations, "a contract creation has no destination, and %s allows only listed ones", s.name), nil
				}
			}
			if r.MaxAmount != nil && native.Cmp(r.MaxAmount.big()) > 0 {
				return refuse(s.name+".maxAmount", ClassMaxAmount, "amount %s is above %s's maxAmount %s", native, s.name, r.MaxAmount.big()), nil
			}
			if r.MaxFee != nil {
				switch {
				case v.Fee == nil && opt.FeeLater:
				case v.Fee == nil:
					return refuse(s.name+".maxFee", ClassMaxFee, "the fee is not known before signing (the node fills gas or price), and %s has a maxFee", s.name), nil
				case v.Fee.Cmp(r.MaxFee.big()) > 0:
					return refuse(s.name+".maxFee", ClassMaxFee, "fee %s is above %s's maxFee %s", v.Fee, s.name, r.MaxFee.big()), nil
				}
			}
			if r.MaxDaily != nil && native.Sign() > 0 {
				charges = append(charges, charge{key: s.native(), rule: s.daily(), limit: r.MaxDaily.big(), amount: native})
			} else if native.Sign() > 0 && !opt.DryRun && p.counters != nil && p.f.needsCounters() {
				// count even without a limit here, so that a limit added
				// later sees the past day: only when counters exist anyway.
				charges = append(charges, charge{key: s.native(), amount: native})
			}
			for _, t := range toks {
				c := findToken(chain, r.Tokens, t.key)
				if c == nil {
					if len(r.Tokens) > 0 {
						return refuse(s.name+".tokens", ClassTokens, "token %s is not among the tokens of %s", t.id, s.name), nil
					}
					continue
				}
				if !t.known && (c.MaxAmount != nil || c.MaxDaily != nil) {
					return refuse(s.name+".tokens["+c.Token+"].maxAmount", ClassMaxAmount, "the amount of token %s is not known, and %s limits it", t.id, s.name), nil
				}
				if c.MaxAmount != nil && t.amount.Cmp(c.MaxAmount.big()) > 0 {
					return refuse(s.name+".tokens["+c.Token+"].maxAmount", ClassMaxAmount, "token amount %s is above %s's maxAmount %s for %s", t.amount, s.name, c.MaxAmount.big(), c.Token), nil
				}
				if c.MaxDaily != nil && t.amount.Sign() > 0 {
					charges = append(charges, charge{key: s.key + "/token/" + t.key, rule: s.name + ".tokens[" + c.Token + "].maxDaily", limit: c.MaxDaily.big(), amount: t.amount})
				}
			}
			switch v.Method {
			case signing.MethodDeploy:
				if r.Deploy != nil && !*r.Deploy {
					return refuse(s.name+".deploy", ClassDeploy, "%s forbids contract creation (deploy: false)", s.name), nil
				}
			case signing.MethodERC20Transfer, signing.MethodERC20TransferFrom, signing.MethodERC20Approve:
				c := findContract(r.Contracts, v.Token)
				if c == nil {
					if len(r.Contracts) > 0 {
						return refuse(s.name+".contracts", ClassContracts, "%s calls to token contract %s are not allowed by %s", v.Method, v.Token, s.name), nil
					}
					continue
				}
				m := strings.TrimPrefix(v.Method, "erc20.")
				if len(c.Methods) > 0 && !slices.Contains(c.Methods, m) {
					return refuse(s.name+".contracts", ClassContracts, "%s allows %s on %s, not %s", s.name, strings.Join(c.Methods, ", "), v.Token, m), nil
				}
				amt := act.sent(v.Token)
				if amt == nil {
					amt = new(big.Int)
				}
				if c.MaxAmount != nil && amt.Cmp(c.MaxAmount.big()) > 0 {
					return refuse(s.name+".contracts["+c.Address+"].maxAmount", ClassMaxAmount, "token amount %s is above %s's maxAmount %s for %s", amt, s.name, c.MaxAmount.big(), c.Address), nil
				}
				if c.MaxDaily != nil && amt.Sign() > 0 {
					charges = append(charges, charge{key: s.key + "/token/" + strings.ToLower(c.Address), rule: s.name + ".contracts[" + c.Address + "].maxDaily", limit: c.MaxDaily.big(), amount: amt})
				}
			}
		}
		// Token transfers (non-EVM) need a section that lists the token.
		for _, t := range toks {
			listed := false
			for _, s := range secs {
				listed = listed || findToken(chain, s.r.Tokens, t.key) != nil
			}
			if !listed {
				return refuse(ClassTokens, ClassTokens, "transfer of token %s: no rule lists this token (tokens:)", t.id), nil
			}
		}
		// ERC-20 calls need a section that lists the contract; deployment
		// needs one that turns it on.
		switch v.Method {
		case signing.MethodDeploy:
			on := false
			for _, s := range secs {
				if s.r.Deploy != nil && *s.r.Deploy {
					on = true
				}
			}
			if !on {
				return refuse(ClassDeploy, ClassDeploy, "contract creation is off (set deploy: true in the chain's or wallet's rules)"), nil
			}
		case signing.MethodERC20Transfer, signing.MethodERC20TransferFrom, signing.MethodERC20Approve:
			listed := false
			for _, s := range secs {
				if findContract(s.r.Contracts, v.Token) != nil {
					listed = true
				}
			}
			if !listed {
				return refuse(ClassContracts, ClassContracts, "%s on token contract %s: no rule lists this contract (contracts:)", v.Method, v.Token), nil
			}
		}
	}

	// Custom rules.
	for _, c := range rules {
		if c.rule.Effect == EffectAllowUndecoded || (opt.Unchanged && !c.staged) {
			continue
		}
		ok, err := evalBool(c.prg, act)
		if err != nil {
			return refuse("rules["+c.rule.Name+"]", ClassCEL, "rule %s could not be evaluated: %v", c.rule.Name, err), nil
		}
		if (c.rule.Effect == EffectRequire && !ok) || (c.rule.Effect == EffectDeny && ok) {
			return refuse("rules["+c.rule.Name+"]", ClassCEL, "rule %s (%s): %s", c.rule.Name, c.rule.Effect, c.rule.Expr), nil
		}
	}

	// Rolling totals last: check every limit, then add. The check and a
	// reservation of the amount happen under the lock; the durable adds
	// run outside it, so transactions do not queue behind each other's
	// disk writes. A reservation counts until its add is done, so
	// concurrent checks never see less than was approved.
	var commit func() error
	if len(charges) > 0 {
		if p.counters == nil {
			return refuse(charges[0].rule, ClassCounters, "no daemon state for rolling totals"), nil
		}
		p.mu.Lock()
		todo := make([]charge, 0, 4) // on the stack: a closure below takes a copy
		for _, c := range charges {
			if p.charged[c.key][in.ID] {
				continue // this id counted already (decided again after a failed broadcast)
			}
			todo = append(todo, c)
			if c.limit == nil {
				continue
			}
			// p's scratch numbers (mu is held): four allocations a
			// transaction otherwise.
			sum, total := &p.sum, &p.total
			if err := p.totalOf(ctx, c.key, in.Now, sum); err != nil {
				p.mu.Unlock()
				return refuse(c.rule, ClassCounters, "read the rolling total: %v", err), nil
			}
			total.Add(sum, c.amount)
			if total.Cmp(c.limit) > 0 {
				d := refuse(c.rule, ClassMaxDaily, "%s in the last 24 hours plus %s is %s, above the limit %s", sum, c.amount, total, c.limit)
				p.mu.Unlock()
				return d, nil
			}
		}
		_, shared := p.counters.(SharedCounters)
		la, queued := p.queuedAdder()
		switch {
		case opt.DryRun || len(todo) == 0:
			p.mu.Unlock()
		case queued:
			// Queued in memory (the transaction's journal Record makes the
			// adds durable before its broadcast), so made here, under the
			// lock of the check: no concurrent check sees an amount both
			// reserved and added (a refusal of what fits), and none costs a
			// reservation or a goroutine.
			var err error
			for _, c := range todo {
				if err = la.AddLater(ctx, c.key, in.ID, in.Now, c.amount); err != nil {
					break
				}
				p.noteAdded(c.key, in.ID, in.Now, c.amount)
			}
			p.mu.Unlock()
			if err != nil {
				commit = func() error { return err }
			}
		case shared:
			// The database checks every limit again and adds in one step
			// (AddWithin): it decides between concurrent transactions, of
			// this daemon or of others. No reservation: a check between an
			// add's commit and the release of its reservation counted the
			// amount twice, and refused what fitted.
			p.mu.Unlock()
			in, todo := in, ownCharges(todo) // copies: in and todo stay on the stack on the other paths
			commit = func() error {
				err := p.add(ctx, in, todo)
				if err == nil {
					p.mu.Lock()
					for _, c := range todo {
						p.noteAdded(c.key, in.ID, in.Now, c.amount)
					}
					p.mu.Unlock()
				}
				return err
			}
		default:
			// An add that is a durable write of its own: the amount is
			// reserved under the lock, and added outside it.
			for _, c := range todo {
				p.reserve(c.key, c.amount)
			}
			p.mu.Unlock()
			in, todo := in, ownCharges(todo)
			commit = func() error {
				err := p.add(ctx, in, todo)
				p.mu.Lock()
				defer p.mu.Unlock()
				for _, c := range todo {
					p.reserve(c.key, new(big.Int).Neg(c.amount))
					if err == nil {
						p.noteAdded(c.key, in.ID, in.Now, c.amount)
					}
				}
				return err
			}
		}
	}
	return Decision{Allowed: true, Rule: allowedBy(secs), Reason: "allowed"}, commit
}

// allowedBy names the sections that allowed a transaction.
func allowedBy(secs []section) string {
	switch len(secs) {
	case 0:
		return "unlisted: allow"
	case 1:
		return secs[0].name
	}
	names := make([]string, 0, len(secs))
	for _, s := range secs {
		names = append(names, s.name)
	}
	return strings.Join(names, ", ")
}

// ownCharges copies cs, amounts included, for a commit that runs after
// evaluate returned (an amount may be in its pooled activation).
func ownCharges(cs []charge) []charge {
	out := slices.Clone(cs)
	for i := range out {
		out[i].amount = new(big.Int).Set(out[i].amount)
	}
	return out
}

// charge is an amount to add to a rolling total, with its limit (nil: count
// only).
type charge struct {
	key, rule string
	limit     *big.Int
	amount    *big.Int
}

// laterAdder is implemented by counters that make an add durable with
// their next durable write (the file journal: the Record of the
// transaction, which the daemon awaits before the broadcast), so the add
// costs no fsync of its own. That holds when the counters are the
// daemon's own journal, as gokms daemon wires them.
type laterAdder interface {
	AddLater(ctx context.Context, key, ref string, at time.Time, amount *big.Int) error
}

// queuedAdder returns the counters' AddLater when they have one and are
// not shared (with shared counters the add checks the limits again, in the
// database).
func (p *Policy) queuedAdder() (laterAdder, bool) {
	if _, shared := p.counters.(SharedCounters); shared {
		return nil, false
	}
	la, ok := p.counters.(laterAdder)
	return la, ok
}

// add records the charges: with shared counters (PostgreSQL), durably and
// checking every limit again in the same atomic step (a *LimitError if one
// is exceeded); on counters that can, durably with their next durable
// write (the transaction's journal record, before its broadcast); else
// durably, one add each.
func (p *Policy) add(ctx context.Context, in Input, charges []charge) error {
	if sc, ok := p.counters.(SharedCounters); ok {
		adds := make([]LimitedAdd, len(charges))
		for i, c := range charges {
			adds[i] = LimitedAdd{Key: c.key, Amount: c.amount, Limit: c.limit}
		}
		refused, sum, err := sc.AddWithin(ctx, in.ID, in.Now, in.Now.Add(-Window24h), adds)
		if err != nil {
			return err
		}
		if refused >= 0 {
			c := charges[refused]
			return &LimitError{Rule: c.rule, Sum: sum, Amount: c.amount, Limit: c.limit}
		}
		return nil
	}
	add := p.counters.Add
	if la, ok := p.counters.(laterAdder); ok {
		add = la.AddLater
	}
	for _, c := range charges {
		if err := add(ctx, c.key, in.ID, in.Now, c.amount); err != nil {
			return err
		}
	}
	return nil
}

// CacheTotals lets the policy trust a rolling total read from the
// counters for refresh before reading it again (adds made by this process
// count at once). Use it only when no other process adds to the counters
// (the file journal, which one daemon holds locked): reading a total scans
// the counters. Amounts that leave the 24-hour window stay counted until
// the next read, which errs on the safe side. Without it (the default, and
// what daemons sharing a database need), every check reads the counters.
func (p *Policy) CacheTotals(refresh time.Duration) {
	p.mu.Lock()
	p.refresh = refresh
	p.mu.Unlock()
}

type cachedTotal struct {
	base  *big.Int // the counters' total when read
	read  time.Time
	local *big.Int // added by this process since (a running sum: a check costs no more as adds pile up)
}

// totalOf sets sum to the rolling total of key at now: the counters' figure
// (read at most every TotalsRefresh), what this process added since, and
// what it has reserved. Called with mu held.
func (p *Policy) totalOf(ctx context.Context, key string, now time.Time, sum *big.Int) error {
	ct := p.cache[key]
	if ct == nil || now.Sub(ct.read) > p.refresh || now.Before(ct.read) {
		base, err := p.counters.SumSince(ctx, key, now.Add(-Window24h))
		if err != nil {
			return err
		}
		ct = &cachedTotal{base: base, read: now, local: new(big.Int)}
		p.cache[key] = ct
	}
	sum.Add(ct.base, ct.local)
	if r := p.reserved[key]; r != nil {
		sum.Add(sum, r)
	}
	return nil
}

func (p *Policy) reserve(key string, amount *big.Int) {
	if p.reserved[key] == nil {
		p.reserved[key] = new(big.Int)
	}
	p.reserved[key].Add(p.reserved[key], amount)
	if p.reserved[key].Sign() == 0 {
		delete(p.reserved, key)
	}
}

// noteAdded counts a durable add in the cached total and remembers that
// the id counted. Called with mu held.
func (p *Policy) noteAdded(key, id string, at time.Time, amount *big.Int) {
	if ct := p.cache[key]; ct != nil {
		ct.local.Add(ct.local, amount)
	}
	m := p.charged[key]
	if m == nil {
		m = map[string]bool{}
		p.charged[key] = m
	}
	m[id] = true
	p.chargedAt = append(p.chargedAt, chargedID{key: key, id: id, at: at})
	// Forget ids older than the window (their amounts left it).
	for len(p.chargedAt) > 0 && at.Sub(p.chargedAt[0].at) > Window24h {
		c := p.chargedAt[0]
		delete(p.charged[c.key], c.id)
		p.chargedAt = p.chargedAt[1:]
	}
}

type chargedID struct {
	key, id string
	at      time.Time
}

func findContract(cs []*Contract, token string) *Contract {
	for _, c := range cs {
		if normHex(c.Address) == normHex(token) {
			return c
		}
	}
	return nil
}

// normHex lower-cases an EVM address and folds XDC's prefix to 0x.
func normHex(a string) string {
	a = strings.ToLower(strings.TrimSpace(a))
	if strings.HasPrefix(a, "xdc") {
		a = "0x" + a[3:]
	}
	return a
}

// destAllowed matches a destination against addresses and prefixes (a
// trailing *). EVM hex compares without case; bech32 addresses are lower
// case; base58 compares exactly; a Bitcoin Cash cashaddr is compared as the
// legacy address of the same hash (the form views show).
func destAllowed(family, d string, allowed []string) bool {
	return compileDests(allowed).allows(family, d)
}

// destSet is a destinations list normalised once (New), both ways: the
// list's entries were normalised again for every destination of every
// transaction (a cashaddr decode each).
type destSet struct{ hex, other []destPattern }

type destPattern struct {
	s      string
	prefix bool // s ended in "*"
}

func compileDests(allowed []string) *destSet {
	ds := &destSet{}
	for _, a := range allowed {
		p, prefix := strings.CutSuffix(a, "*")
		ds.hex = append(ds.hex, destPattern{normDest(true, p), prefix})
		ds.other = append(ds.other, destPattern{normDest(false, p), prefix})
	}
	return ds
}

func (ds *destSet) allows(family, d string) bool {
	hex := family == signing.ViewEVM || family == vet.ViewFamily
	pats := ds.other
	if hex {
		pats = ds.hex
	}
	// A view's address is in the normal form already: one equal to a
	// listed (normalised) address is allowed without normalising it, a
	// cashaddr decode that was most of a check's cost. The same answer,
	// as normalising is idempotent.
	for _, p := range pats {
		if !p.prefix && d == p.s {
			return true
		}
	}
	d = normDest(hex, d)
	for _, p := range pats {
		if p.prefix && strings.HasPrefix(d, p.s) || !p.prefix && d == p.s {
			return true
		}
	}
	return false
}

func normDest(hex bool, s string) string {
	if hex {
		return normHex(s) // 0x hex: letter case is only a checksum
	}
	if legacy, ok := wallet.CashAddrToLegacy(s); ok {
		return legacy
	}
	if strings.ToUpper(s) == s && strings.Contains(s, "1") {
		return strings.ToLower(s) // upper-case bech32
	}
	return s
}

func evalBool(prg cel.Program, act *celView) (bool, error) {
	out, _, err := prg.Eval(act)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("gave %v, not a bool", out.Value())
	}
	return b, nil
}
