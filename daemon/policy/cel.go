package policy

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/google/cel-go/cel"

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
}

// celCostLimit bounds one rule's evaluation (a runaway comprehension over
// a large transaction must not stall the daemon).
const celCostLimit = 1_000_000

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
		prg, err := env.Program(ast, cel.CostLimit(celCostLimit))
		if err != nil {
			return nil, fmt.Errorf("rules[%s]: %w", r.Name, err)
		}
		out = append(out, compiled{rule: r, prg: prg})
	}
	return out, nil
}

func fl(b *big.Int) float64 {
	if b == nil {
		return 0
	}
	f, _ := new(big.Float).SetInt(b).Float64()
	return f
}

// activation is the CEL view of one transaction. v may be nil (the
// transaction could not be decoded at all).
func activation(in *Input, v *signing.View, labels []string, now time.Time) map[string]any {
	flows := func(l []signing.Flow) []map[string]any {
		out := make([]map[string]any, 0, len(l))
		for _, f := range l {
			out = append(out, map[string]any{"address": f.Address, "amount": fl(f.Amount), "token": f.Token, "change": f.Change, "script": f.Script})
		}
		return out
	}
	a := map[string]any{
		"chain": strings.ToUpper(in.Chain), "testnet": in.Testnet, "wallets": nonNil(in.SignatureIDs), "labels": nonNil(labels),
		"family": "", "inputs": []map[string]any{}, "outputs": []map[string]any{}, "destinations": []string{},
		"amount": 0.0, "tokenAmount": 0.0, "fee": 0.0, "feeKnown": false, "token": "", "method": "",
		"complete": false, "decoded": v != nil, "unknown": []string{}, "signed": false,
		"now": now.UTC(), "hour": int64(now.UTC().Hour()), "weekday": int64(now.UTC().Weekday()),
	}
	if v == nil {
		if in.DecodeErr != nil {
			a["unknown"] = []string{in.DecodeErr.Error()}
		}
		return a
	}
	sent := v.Sent()
	a["family"] = v.Family
	a["inputs"], a["outputs"] = flows(v.Inputs), flows(v.Outputs)
	a["destinations"] = nonNil(v.Destinations())
	a["amount"] = fl(sent[""])
	if v.Token != "" {
		a["tokenAmount"] = fl(sent[strings.ToLower(v.Token)])
	}
	if v.Fee != nil {
		a["fee"], a["feeKnown"] = fl(v.Fee), true
	}
	a["token"], a["method"] = v.Token, v.Method
	a["complete"] = v.Complete()
	a["unknown"] = nonNil(v.Unknown)
	a["signed"] = v.Signed
	return a
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
