package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCELVariables reads every variable of the documented CEL view, for a
// decoded transaction and for one that could not be decoded: each
// expression must hold. The view is built lazily (celView), so a variable
// it gave wrongly or not at all fails here.
func TestCELVariables(t *testing.T) {
	good, goodScript := btcAddr(t, "good")
	from, fromScript := btcAddr(t, "from")
	v, err := Decode("BTC", true, btcTx(t, 1, fromScript, goodScript, 900_000, 1000), "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 23, 30, 0, 0, time.FixedZone("x", 3600)) // 22:30 UTC, a Wednesday
	in := &Input{ID: "id", Chain: "btc", Testnet: true, SignatureIDs: []string{"w1", "w2"}, View: v, Now: now}
	decoded := []string{
		"chain == 'BTC'", "family == 'utxo'", "testnet", "wallets == ['w1', 'w2']", "labels == ['hot']",
		fmt.Sprintf("inputs.size() == 1 && inputs[0].address == '%s' && inputs[0].amount == 10000000.0 && !inputs[0].change && inputs[0].script != ''", from),
		fmt.Sprintf("outputs.size() == 2 && outputs[0].address == '%s' && outputs[0].amount == 900000.0 && !outputs[0].change && outputs[1].change", good),
		fmt.Sprintf("destinations == ['%s']", good),
		"amount == 900000.0", "tokenAmount == 0.0", "fee == 1000.0", "feeKnown", "token == ''", "method == 'transfer'",
		"complete", "decoded", "unknown == []", "!signed",
		"now == timestamp('2026-12-02T22:30:00Z')", "hour == 22", "weekday == 3",
		"amount + fee == 901000.0", // one variable read twice in an expression
	}
	undecoded := []string{
		"chain == 'BTC'", "family == ''", "testnet", "wallets == ['w1', 'w2']", "labels == []",
		"inputs == []", "outputs == []", "destinations == []", "amount == 0.0", "tokenAmount == 0.0", "fee == 0.0",
		"!feeKnown", "token == ''", "method == ''", "!complete", "!decoded", "unknown == ['no inputs']", "!signed", "hour == 22",
	}
	run := func(name string, in *Input, labels []string, exprs []string) {
		var rules []*CELRule
		for i, e := range exprs {
			rules = append(rules, &CELRule{Name: fmt.Sprint(i), Expr: e})
		}
		prgs, err := compileRules(rules)
		if err != nil {
			t.Fatal(err)
		}
		act := activation(in, in.View, labels, in.Now)
		for _, c := range prgs {
			ok, err := evalBool(c.prg, act)
			if err != nil || !ok {
				t.Errorf("%s: %s gave %v, %v", name, c.rule.Expr, ok, err)
			}
		}
	}
	run("decoded", in, []string{"hot"}, decoded)
	un := *in
	un.View, un.DecodeErr = nil, errors.New("no inputs")
	run("undecoded", &un, nil, undecoded)
}

// TestCELCostLimit: a rule whose cost grows with the transaction is
// stopped at celCostLimit (a pending transaction with many outputs must
// not stall the daemon), and refuses; a rule whose worst case is a few
// comparisons runs without the count, and a rule that reads a variable the
// stage changes is marked to be evaluated again after signing.
func TestCELCostLimit(t *testing.T) {
	_, fromScript := btcAddr(t, "from")
	_, toScript := btcAddr(t, "to")
	v, err := Decode("BTC", true, btcTx(t, 1, fromScript, toScript, 900_000, 1000), "")
	if err != nil {
		t.Fatal(err)
	}
	for len(v.Outputs) < 120 { // 120³ steps: past the limit
		v.Outputs = append(v.Outputs, v.Outputs[0])
	}
	rules := []*CELRule{
		{Name: "cubic", Effect: EffectRequire, Expr: "outputs.all(a, outputs.all(b, outputs.all(c, a.amount + b.amount + c.amount >= 0.0)))"},
		{Name: "flat", Effect: EffectRequire, Expr: "amount >= 546.0 && fee < 5000.0 && size(outputs) > 1"},
		{Name: "clock", Effect: EffectRequire, Expr: "hour < 24"},
	}
	prgs, err := compileRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ limited, staged bool }{{true, false}, {false, false}, {false, true}}
	for i, c := range prgs {
		if c.limited != want[i].limited || c.staged != want[i].staged {
			t.Errorf("%s: limited %v staged %v, want %+v", c.rule.Name, c.limited, c.staged, want[i])
		}
	}
	in := &Input{ID: "id", Chain: "BTC", Testnet: true, View: v, Now: time.Now()}
	p := &Policy{f: &File{Unlisted: "allow"}, anyChain: prgs[:1]}
	if d, _ := p.evaluate(context.Background(), *in, Options{}); d.Allowed || d.Class != ClassCEL || !strings.Contains(d.Reason, "cost limit") {
		t.Fatalf("runaway rule decided %+v, want a refusal by the rule at the cost limit", d)
	}
	if ok, err := evalBool(prgs[1].prg, activation(in, v, nil, in.Now)); err != nil || !ok {
		t.Fatalf("flat rule: %v %v", ok, err)
	}
}
