package policy

import (
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/interpreter"

	"github.com/gokms/gokms/signing"
)

// The CEL view (documented in docs/policy.md). Amounts are doubles in the
// base unit: CEL has no big integers, and a double is exact to 2^53 and
// within 1e-16 beyond, which is what limits need; the declarative limits
// (maxAmount, maxDaily, maxFee) compare exactly.
func celEnv() (*cel.Env, error) {
	flow := cel.MapType(cel.StringType, cel.DynType)
	return cel.NewEnv(
		cel.Variable("chain", cel.StringType),
		cel.Variable("family", cel.StringType),
		cel.Variable("testnet", cel.BoolType),
		cel.Variable("wallets", cel.ListType(cel.StringType)),
		cel.Variable("labels", cel.ListType(cel.StringType)),
		cel.Variable("inputs", cel.ListType(flow)),
		cel.Variable("outputs", cel.ListType(flow)),
		cel.Variable("destinations", cel.ListType(cel.StringType)),
		cel.Variable("amount", cel.DoubleType),
		cel.Variable("tokenAmount", cel.DoubleType),
		cel.Variable("fee", cel.DoubleType),
		cel.Variable("feeKnown", cel.BoolType),
		cel.Variable("token", cel.StringType),
		cel.Variable("method", cel.StringType),
		cel.Variable("complete", cel.BoolType),
		cel.Variable("decoded", cel.BoolType),
		cel.Variable("unknown", cel.ListType(cel.StringType)),
		cel.Variable("signed", cel.BoolType),
		cel.Variable("now", cel.TimestampType),
		cel.Variable("hour", cel.IntType),
		cel.Variable("weekday", cel.IntType),
	)
}

type compiled struct {
	rule *CELRule
	prg  cel.Program
	// limited: the program counts its cost as it runs (celCostLimit);
	// false when the rule's worst case is known and far below it.
	limited bool
	// staged: the rule reads what changes between the check before
	// signing and the one after (signed, now, hour, weekday).
	staged bool
}

// celCostLimit bounds one rule's evaluation (a runaway comprehension over
// a large transaction must not stall the daemon).
const celCostLimit = 1_000_000

// celBoundedCost is the worst-case cost, estimated before the rule ever
// runs, under which a rule is evaluated without counting its cost: a rule
// that compares a few variables ("amount >= 546.0") can never come near
// celCostLimit, and the counting doubled its evaluation time in the drain
// benchmark. Anything whose cost grows with the transaction (a
// comprehension over outputs, a string function on an address) has no
// finite estimate and keeps the limit.
const celBoundedCost = celCostLimit / 100

// stagedVars are the CEL variables whose value differs between the check
// before signing and the one after, with the same transaction effect.
var stagedVars = map[string]bool{"signed": true, "now": true, "hour": true, "weekday": true}

func compileRules(rules []*CELRule) ([]compiled, error) {
	if len(rules) == 0 {
		return nil, nil
	}
	env, err := celEnv()
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	var out []compiled
	for _, r := range rules {
		ast, iss := env.Compile(r.Expr)
		if iss.Err() != nil {
			return nil, fmt.Errorf("rules[%s]: %v", r.Name, iss.Err())
		}
		if ast.OutputType() != cel.BoolType {
			return nil, fmt.Errorf("rules[%s]: the expression gives %s, want bool", r.Name, ast.OutputType())
		}
		c := compiled{rule: r, limited: true, staged: readsAny(ast, stagedVars)}
		// No size is known to the estimator: every list and string is
		// unbounded, so a finite estimate holds for any transaction.
		if est, err := env.EstimateCost(ast, unsized{}); err == nil && est.Max <= celBoundedCost {
			c.limited = false
		}
		var opts []cel.ProgramOption
		if c.limited {
			opts = append(opts, cel.CostLimit(celCostLimit))
		}
		if c.prg, err = env.Program(ast, opts...); err != nil {
			return nil, fmt.Errorf("rules[%s]: %w", r.Name, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// unsized is a cost estimator that knows no sizes (cel-go then assumes
// the worst).
type unsized struct{}

func (unsized) EstimateSize(checker.AstNode) *checker.SizeEstimate { return nil }
func (unsized) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// readsAny reports whether the checked expression refers to any of vars.
func readsAny(ast *cel.Ast, vars map[string]bool) bool {
	for _, ref := range ast.NativeRep().ReferenceMap() {
		if len(ref.OverloadIDs) == 0 && vars[ref.Name] {
			return true
		}
	}
	return false
}

func fl(b *big.Int) float64 {
	if b == nil {
		return 0
	}
	f, _ := new(big.Float).SetInt(b).Float64()
	return f
}

// activation is the CEL view of one transaction. v may be nil (the
// transaction could not be decoded at all). Each variable is built when a
// rule first reads it: a map of all of them, built for every evaluation,
// was a third of the policy's allocations in the drain benchmark, for
// rules that mostly read one or two.
func activation(in *Input, v *signing.View, labels []string, now time.Time) *celView {
	return &celView{in: *in, v: v, labels: labels, now: now.UTC()} // in copied: the caller's stays on its stack
}

// activations holds released views for evaluate, two a transaction
// (a third of the bytes the policy allocated in the drain benchmark).
var activations = sync.Pool{New: func() any { return new(celView) }}

// pooledActivation is activation from the pool: release it once nothing
// refers to it or to what it returned (sent's native sum is in it).
func pooledActivation(in *Input, v *signing.View, labels []string, now time.Time) *celView {
	a := activations.Get().(*celView)
	a.in, a.v, a.labels, a.now = *in, v, labels, now.UTC()
	return a
}

func (a *celView) release() {
	*a = celView{}
	activations.Put(a)
}

// celView implements cel-go's interpreter.Activation over one
// transaction. Not safe for concurrent use: one evaluate uses it.
type celView struct {
	in     Input
	v      *signing.View
	labels []string
	now    time.Time
	// The variables built so far: a few in place (a rule reads one or
	// two), the rest in more. A map per evaluation was the policy's
	// largest allocation in the drain benchmark.
	memo  [4]memoEntry
	nmemo int
	more  map[string]any
	// sentBy is v.Sent(), once, for a view with token outputs; a view
	// without them has only native, summed in place.
	sentBy    map[string]*big.Int
	native    big.Int
	nativeBuf [2]big.Word
	summed    bool
}

type memoEntry struct {
	name string
	x    any
}

// Parent implements interpreter.Activation.
func (a *celView) Parent() interpreter.Activation { return nil }

// ResolveName implements interpreter.Activation.
func (a *celView) ResolveName(name string) (any, bool) {
	for _, m := range a.memo[:a.nmemo] {
		if m.name == name {
			return m.x, true
		}
	}
	if x, ok := a.more[name]; ok {
		return x, true
	}
	x, ok := a.resolve(name)
	if !ok {
		return nil, false
	}
	if a.nmemo < len(a.memo) {
		a.memo[a.nmemo] = memoEntry{name, x}
		a.nmemo++
	} else {
		if a.more == nil {
			a.more = map[string]any{}
		}
		a.more[name] = x
	}
	return x, true
}

func (a *celView) resolve(name string) (any, bool) {
	in, v := &a.in, a.v
	switch name {
	case "chain":
		return strings.ToUpper(in.Chain), true
	case "testnet":
		return in.Testnet, true
	case "wallets":
		return nonNil(in.SignatureIDs), true
	case "labels":
		return nonNil(a.labels), true
	case "now":
		return a.now, true
	case "hour":
		return int64(a.now.Hour()), true
	case "weekday":
		return int64(a.now.Weekday()), true
	case "decoded":
		return v != nil, true
	case "unknown":
		if v == nil {
			if in.DecodeErr != nil {
				return []string{in.DecodeErr.Error()}, true
			}
			return []string{}, true
		}
		return nonNil(v.Unknown), true
	}
	if v == nil {
		// Undecoded: the transaction's own variables are empty.
		switch name {
		case "family", "token", "method":
			return "", true
		case "inputs", "outputs":
			return []map[string]any{}, true
		case "destinations":
			return []string{}, true
		case "amount", "tokenAmount", "fee":
			return 0.0, true
		case "feeKnown", "complete", "signed":
			return false, true
		}
		return nil, false
	}
	switch name {
	case "family":
		return v.Family, true
	case "token":
		return v.Token, true
	case "method":
		return v.Method, true
	case "inputs":
		return flows(v.Inputs), true
	case "outputs":
		return flows(v.Outputs), true
	case "destinations":
		return nonNil(v.Destinations()), true
	case "amount":
		return fl(a.sent("")), true
	case "tokenAmount":
		if v.Token == "" {
			return 0.0, true
		}
		return fl(a.sent(v.Token)), true
	case "fee":
		if v.Fee == nil {
			return 0.0, true
		}
		return fl(v.Fee), true
	case "feeKnown":
		return v.Fee != nil, true
	case "complete":
		return v.Complete(), true
	case "signed":
		return v.Signed, true
	}
	return nil, false
}

// sent is v.Sent()[strings.ToLower(token)] ("": the native coin),
// computed once for the rules and the limits; nil (or zero) if nothing of
// it is sent. Read-only.
func (a *celView) sent(token string) *big.Int {
	if !a.summed {
		a.summed = true
		tokens := false
		a.native.SetBits(a.nativeBuf[:0]) // small sums need no allocation
		for _, o := range a.v.Outputs {
			if o.Change || o.Amount == nil {
				continue
			}
			if o.Token != "" {
				tokens = true
				break
			}
			a.native.Add(&a.native, o.Amount)
		}
		if tokens {
			a.sentBy = a.v.Sent()
		}
	}
	if a.sentBy != nil {
		return a.sentBy[strings.ToLower(token)]
	}
	if token != "" {
		return nil
	}
	return &a.native // zero if nothing is sent: as nil, to every caller
}

func flows(l []signing.Flow) []map[string]any {
	out := make([]map[string]any, 0, len(l))
	for _, f := range l {
		out = append(out, map[string]any{"address": f.Address, "amount": fl(f.Amount), "token": f.Token, "change": f.Change, "script": f.Script})
	}
	return out
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
