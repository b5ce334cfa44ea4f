package policy

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/signing"
)

// tokenVector is one committed npm vector of a token transfer: the pending
// transaction and (where the journaled form is simple to rebuild) the
// signed bytes.
type tokenVector struct {
	chain, name        string
	testnet            bool
	serialized, signed string
}

func tokenVectors(t *testing.T) []tokenVector {
	var out []tokenVector
	var tron struct {
		Transactions []struct{ Kind, Name, SerializedTransaction, TxData string }
	}
	readVectors(t, "tron", &tron)
	for _, k := range []string{"trc20", "trc10"} {
		for _, v := range tron.Transactions {
			if v.Kind == k {
				out = append(out, tokenVector{"TRON", v.Name, false, v.SerializedTransaction, v.TxData})
				break
			}
		}
	}
	var sol struct {
		Vectors []struct {
			Kind, Name, Wire     string
			LastValidBlockHeight uint64
			Pending              struct{ SerializedTransaction string }
		}
	}
	readVectors(t, "sol", &sol)
	for _, v := range sol.Vectors {
		if v.Kind == "spl" && v.Name == "spl-0" {
			signed, _ := json.Marshal(map[string]any{"transaction": v.Wire, "lastValidBlockHeight": v.LastValidBlockHeight})
			out = append(out, tokenVector{"SOL", v.Name, false, v.Pending.SerializedTransaction, string(signed)})
		}
	}
	var xlm struct {
		Vectors []struct {
			Kind, Name, TxData string
			Testnet            bool
			Pending            struct{ SerializedTransaction string }
		}
	}
	readVectors(t, "xlm", &xlm)
	for _, v := range xlm.Vectors {
		if v.Kind == "asset" {
			out = append(out, tokenVector{"XLM", v.Name, v.Testnet, v.Pending.SerializedTransaction, v.TxData})
			break
		}
	}
	var algo struct {
		Transactions []struct {
			Kind, Name, SerializedTransaction, TxData string
			Testnet                                   bool
		}
	}
	readVectors(t, "algo", &algo)
	for _, v := range algo.Transactions {
		if v.Kind == "axfer" {
			out = append(out, tokenVector{"ALGO", v.Name, v.Testnet, v.SerializedTransaction, v.TxData})
			break
		}
	}
	var egld struct {
		Transactions []struct {
			Kind, Name, SerializedTransaction, TxData string
			Testnet                                   bool
		}
	}
	readVectors(t, "egld", &egld)
	for _, v := range egld.Transactions {
		if v.Name == "esdt transfer" {
			out = append(out, tokenVector{"EGLD", v.Name, v.Testnet, v.SerializedTransaction, v.TxData})
		}
	}
	var vet struct {
		Transactions []struct {
			Name, SerializedTransaction, RawTransaction string
			Testnet                                     bool
		}
	}
	readVectors(t, "vet", &vet)
	for _, v := range vet.Transactions {
		if v.Name == "vip180 transfer" {
			out = append(out, tokenVector{"VET", v.Name, v.Testnet, v.SerializedTransaction, v.RawTransaction})
		}
	}
	var flow struct {
		Pending []struct {
			Kind    string
			Testnet bool
			Pending struct{ ID, SerializedTransaction string }
		}
	}
	readVectors(t, "flow", &flow)
	for _, v := range flow.Pending {
		if v.Kind == "token" {
			// Before signing only: the journaled form of FLOW is the
			// signer's; signing/flow's view test checks that the signed
			// view has the same outputs.
			out = append(out, tokenVector{"FLOW", v.Pending.ID, v.Testnet, v.Pending.SerializedTransaction, ""})
			break
		}
	}
	if len(out) != 8 {
		t.Fatalf("%d token vectors, want 8 (TRC-20, TRC-10, SOL, XLM, ALGO, EGLD, VET, FLOW)", len(out))
	}
	return out
}

// otherToken is a well-formed token id of chain that is not id.
func otherToken(chain, id string) string {
	switch chain {
	case "TRON":
		if decimalID(id) {
			return "1000002"
		}
		return base58.CheckEncode(bytes.Repeat([]byte{0x11}, 20), 0x41)
	case "SOL":
		return "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
	case "XLM":
		// The same issuer, another code; and the code in another case is
		// another asset.
		code, issuer, _ := strings.Cut(id, ":")
		return strings.ToLower(code) + ":" + issuer
	case "ALGO":
		return "31566704"
	case "EGLD":
		return "USDC-c76f1f"
	case "VET":
		return "0x0000000000000000000000000000456e65726770"
	case "FLOW":
		return "A.0000000000000001.FUSD"
	}
	panic(chain)
}

// TestTokenLimits: for a committed token vector of each chain with token
// limits, a policy that lists the token with maxAmount = the amount allows
// it, before and after signing; a smaller maxAmount, a list without the
// token, no list at all, a destination list without the recipient, a
// wallet rule with another token, and the maxDaily total over several
// transactions refuse it.
func TestTokenLimits(t *testing.T) {
	noon := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tv := range tokenVectors(t) {
		t.Run(tv.chain+" "+tv.name, func(t *testing.T) {
			stages := map[string]*signing.View{}
			for stage, signed := range map[string]string{"request": "", "signed": tv.signed} {
				if stage == "signed" && signed == "" {
					continue
				}
				v, err := Decode(tv.chain, tv.testnet, tv.serialized, signed)
				if err != nil {
					t.Fatalf("%s: %v", stage, err)
				}
				if !v.Complete() {
					t.Fatalf("%s: a token transfer is Unknown: %v", stage, v.Unknown)
				}
				stages[stage] = v
			}
			v := stages["request"]
			var out *signing.Flow
			for i := range v.Outputs {
				if v.Outputs[i].Token != "" {
					out = &v.Outputs[i]
				}
			}
			if out == nil || out.Amount == nil || out.Amount.Sign() <= 0 {
				t.Fatalf("no token output: %+v", v)
			}
			id, amt, rcpt := out.Token, out.Amount, out.Address
			if !validToken(tv.chain, id) {
				t.Fatalf("the view's token id %q is not one the policy accepts", id)
			}
			listed := id
			if tv.chain == "VET" {
				listed = strings.ToUpper(id[:2]) + strings.ToUpper(id[2:]) // 0X...: VET ids compare without case
				listed = "0x" + listed[2:]
			}
			less := new(big.Int).Sub(amt, big.NewInt(1))
			other := otherToken(tv.chain, id)
			c := tv.chain
			cases := []struct {
				name, pol, rule string
			}{
				{"listed", fmt.Sprintf("chains:\n  %s:\n    tokens:\n      - token: %q\n        maxAmount: %q\n", c, listed, amt.String()), ""},
				{"listed with destinations", fmt.Sprintf("chains:\n  %s:\n    destinations: [%q]\n    tokens: [{token: %q}]\n", c, rcpt, listed), ""},
				{"listed in a wallet rule", fmt.Sprintf("chains:\n  %s: {}\nwallets:\n  - label: w\n    signatureIds: [w1]\n    tokens: [{token: %q}]\n", c, listed), ""},
				{"over maxAmount", fmt.Sprintf("chains:\n  %s:\n    tokens:\n      - token: %q\n        maxAmount: %q\n", c, listed, less.String()), "chains." + c + ".tokens[" + listed + "].maxAmount"},
				{"another token listed", fmt.Sprintf("chains:\n  %s:\n    tokens: [{token: %q}]\n", c, other), "chains." + c + ".tokens"},
				{"no token list", fmt.Sprintf("chains:\n  %s:\n    maxAmount: 1000000\n", c), "tokens"},
				{"no token list, allowUndecoded", fmt.Sprintf("chains:\n  %s:\n    allowUndecoded: true\n", c), "tokens"},
				{"unlisted: allow", fmt.Sprintf("unlisted: allow\nchains:\n  BTC: {}\n"), "tokens"},
				{"wrong recipient", fmt.Sprintf("chains:\n  %s:\n    destinations: [\"%sX\"]\n    tokens: [{token: %q}]\n", c, rcpt, listed), "chains." + c + ".destinations"},
				{"wallet rule lists another token", fmt.Sprintf("chains:\n  %s:\n    tokens: [{token: %q}]\nwallets:\n  - label: w\n    signatureIds: [w1]\n    tokens: [{token: %q}]\n", c, listed, other), "wallets[w].tokens"},
				{"wallet rule over maxAmount", fmt.Sprintf("chains:\n  %s:\n    tokens: [{token: %q}]\nwallets:\n  - label: w\n    signatureIds: [w1]\n    tokens: [{token: %q, maxAmount: %q}]\n", c, listed, listed, less.String()), "wallets[w].tokens[" + listed + "].maxAmount"},
			}
			for _, k := range cases {
				f, err := Parse([]byte("version: 1\n" + k.pol))
				if err != nil {
					t.Fatalf("%s: %v", k.name, err)
				}
				p, err := New(f, nil)
				if err != nil {
					t.Fatal(err)
				}
				for stage, sv := range stages {
					opt := Options{}
					if stage == "request" {
						opt = Options{DryRun: true, FeeLater: true}
					}
					d := p.Evaluate(context.Background(), Input{ID: k.name, Chain: c, SignatureIDs: []string{"w1"}, View: sv, Now: noon}, opt)
					if k.rule == "" && !d.Allowed {
						t.Errorf("%s (%s): refused %+v", k.name, stage, d)
					}
					if k.rule != "" && (d.Allowed || d.Rule != k.rule) {
						t.Errorf("%s (%s): %+v, want refused by %s", k.name, stage, d, k.rule)
					}
				}
			}
			// maxDaily: twice the amount minus one passes one transaction,
			// not two (per token, per section); another token does not
			// count against it.
			v = stages["signed"]
			if v == nil {
				v = stages["request"]
			}
			daily := new(big.Int).Sub(new(big.Int).Mul(amt, big.NewInt(2)), big.NewInt(1))
			for _, sec := range []struct{ pol, rule string }{
				{fmt.Sprintf("chains:\n  %s:\n    tokens:\n      - token: %q\n        maxDaily: %q\n      - token: %q\n", c, listed, daily.String(), other), "chains." + c + ".tokens[" + listed + "].maxDaily"},
				{fmt.Sprintf("chains:\n  %s: {}\nwallets:\n  - label: w\n    signatureIds: [w1]\n    tokens: [{token: %q, maxDaily: %q}]\n", c, listed, daily.String()), "wallets[w].tokens[" + listed + "].maxDaily"},
			} {
				f, err := Parse([]byte("version: 1\n" + sec.pol))
				if err != nil {
					t.Fatal(err)
				}
				j := journal.NewMemory()
				p, err := New(f, j)
				if err != nil {
					t.Fatal(err)
				}
				for i, want := range []bool{true, false, false} {
					d := p.Evaluate(context.Background(), Input{ID: fmt.Sprint("daily", i), Chain: c, SignatureIDs: []string{"w1"}, View: v, Now: noon.Add(time.Duration(i) * time.Minute)}, Options{})
					if d.Allowed != want || (!want && d.Rule != sec.rule) {
						t.Errorf("daily %d: %+v, want allowed %v (%s)", i, d, want, sec.rule)
					}
				}
				// The counter is the token's, in the view's form of the id.
				key := "policy/chain/" + c + "/token/" + tokenKey(c, id)
				if strings.HasPrefix(sec.rule, "wallets") {
					key = "policy/wallet/" + c + "/wallets[w]/token/" + tokenKey(c, id)
				}
				if sum, err := j.SumSince(context.Background(), key, noon.Add(-time.Hour)); err != nil || sum.Cmp(amt) != 0 {
					t.Errorf("counter %s: %v %v, want %s", key, sum, err, amt)
				}
				// A day later it passes again.
				if d := p.Evaluate(context.Background(), Input{ID: "next day", Chain: c, SignatureIDs: []string{"w1"}, View: v, Now: noon.Add(25 * time.Hour)}, Options{}); !d.Allowed {
					t.Errorf("next day: %+v", d)
				}
			}
		})
	}
}

// TestTokenIDCase: ids compare as the chain's ids do. A base58 id in
// another letter case is another (invalid) id; an XLM asset code in
// another case is another asset; VET hex folds case; FLOW's address folds
// case.
func TestTokenIDCase(t *testing.T) {
	for _, c := range []struct {
		chain, listed, view string
		match               bool
	}{
		{"VET", "0x0000000000000000000000000000456E65726779", "0x0000000000000000000000000000456e65726779", true},
		{"FLOW", "A.3C5959B568896393.FUSD", "A.3c5959b568896393.FUSD", true},
		{"XLM", "usdc:GBBD47IF6LWK7P7MDEVSCWR7DPUWV3NY3DTQEVFL4NAT4AQH3ZLLFLA5", "USDC:GBBD47IF6LWK7P7MDEVSCWR7DPUWV3NY3DTQEVFL4NAT4AQH3ZLLFLA5", false},
		{"ALGO", "31566704", "31566704", true},
		{"EGLD", "USDC-c76f1f", "USDC-C76F1F", false},
		{"TRON", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "tr7nhqjekqxgtci8q8zy4pl8otszgjlj6t", false},
		{"SOL", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "EPJFWDD5AUFQSSQEM2QN1XZYBAPC8G4WEGGKZWYTDT1V", false},
	} {
		f, err := Parse([]byte(fmt.Sprintf("version: 1\nchains:\n  %s:\n    tokens: [{token: %q}]\n", c.chain, c.listed)))
		if err != nil {
			t.Fatalf("%s: %v", c.chain, err)
		}
		p, _ := New(f, nil)
		v := &signing.View{Chain: c.chain, Family: strings.ToLower(c.chain), Method: signing.MethodTransfer,
			Outputs: []signing.Flow{{Address: "r", Amount: big.NewInt(1), Token: c.view}}}
		d := p.Evaluate(context.Background(), Input{ID: "x", Chain: c.chain, View: v}, Options{})
		if d.Allowed != c.match {
			t.Errorf("%s: listed %s, view %s: %+v", c.chain, c.listed, c.view, d)
		}
	}
}

// TestTokenSeveralTokens: a transaction that moves two tokens (SOL, XLM
// can) needs both listed, and each token's limit sees only its own
// amount.
func TestTokenSeveralTokens(t *testing.T) {
	a, b := "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"
	v := &signing.View{Chain: "SOL", Family: "sol", Method: signing.MethodTransfer, Outputs: []signing.Flow{
		{Address: "r1", Amount: big.NewInt(60), Token: a}, {Address: "r2", Amount: big.NewInt(70), Token: b}, {Address: "r3", Amount: big.NewInt(50), Token: a}}}
	for pol, rule := range map[string]string{
		fmt.Sprintf("tokens: [{token: %s, maxAmount: 110}, {token: %s, maxAmount: 70}]", a, b): "",
		fmt.Sprintf("tokens: [{token: %s, maxAmount: 109}, {token: %s, maxAmount: 70}]", a, b): "chains.SOL.tokens[" + a + "].maxAmount",
		fmt.Sprintf("tokens: [{token: %s, maxAmount: 110}, {token: %s, maxAmount: 69}]", a, b): "chains.SOL.tokens[" + b + "].maxAmount",
		fmt.Sprintf("tokens: [{token: %s}]", a):                                                "chains.SOL.tokens",
	} {
		f, err := Parse([]byte("version: 1\nchains:\n  SOL:\n    " + pol + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := New(f, nil)
		d := p.Evaluate(context.Background(), Input{ID: "x", Chain: "SOL", View: v}, Options{})
		if (rule == "") != d.Allowed || (rule != "" && d.Rule != rule) {
			t.Errorf("%s: %+v, want %q", pol, d, rule)
		}
	}
}

// TestTokenMintlessSPL: a plain SPL transfer that does not name its mint
// (Tatum's transfers to an existing token account) stays Unknown: its
// Token is the source token account, which a listed mint does not cover.
func TestTokenMintlessSPL(t *testing.T) {
	var f struct {
		Vectors []struct {
			Kind, Name, Wire     string
			LastValidBlockHeight uint64
			Pending              struct{ SerializedTransaction string }
		}
	}
	readVectors(t, "sol", &f)
	found := false
	for _, vec := range f.Vectors {
		if vec.Kind != "spl" {
			continue
		}
		signed, _ := json.Marshal(map[string]any{"transaction": vec.Wire, "lastValidBlockHeight": vec.LastValidBlockHeight})
		v, err := Decode("SOL", false, vec.Pending.SerializedTransaction, string(signed))
		if err != nil {
			t.Fatal(err)
		}
		if v.Complete() {
			continue
		}
		found = true
		pf, _ := Parse([]byte("version: 1\nchains:\n  SOL:\n    tokens: [{token: EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v}]\n"))
		p, _ := New(pf, nil)
		if d := p.Evaluate(context.Background(), Input{ID: vec.Name, Chain: "SOL", View: v}, Options{}); d.Allowed || d.Rule != ClassUndecoded {
			t.Errorf("%s: %+v", vec.Name, d)
		}
		// With allowUndecoded the token rules still apply, to the source
		// token account the view names.
		pf, _ = Parse([]byte("version: 1\nchains:\n  SOL:\n    allowUndecoded: true\n    tokens: [{token: EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v}]\n"))
		p, _ = New(pf, nil)
		if d := p.Evaluate(context.Background(), Input{ID: vec.Name, Chain: "SOL", View: v}, Options{}); d.Allowed || d.Rule != "chains.SOL.tokens" {
			t.Errorf("%s with allowUndecoded: %+v", vec.Name, d)
		}
	}
	if !found {
		t.Fatal("no SPL vector without a named mint")
	}
}

// TestTokenParse: the tokens key is checked per chain.
func TestTokenParse(t *testing.T) {
	ok := map[string]string{
		"TRON": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "SOL": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
		"XLM":  "USDC:GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN",
		"ALGO": "31566704", "EGLD": "USDC-c76f1f", "VET": "0x0000000000000000000000000000456e65726779", "FLOW": "A.3c5959b568896393.FUSD",
	}
	for c, id := range ok {
		if _, err := Parse([]byte(fmt.Sprintf("version: 1\nchains:\n  %s:\n    tokens: [{token: %q, maxAmount: 5, maxDaily: \"10\"}]\n", c, id))); err != nil {
			t.Errorf("%s %s: %v", c, id, err)
		}
		if _, err := Parse([]byte(fmt.Sprintf("version: 1\nwallets:\n  - signatureIds: [a]\n    tokens: [{token: %q}]\n", id))); err != nil {
			t.Errorf("wallet %s: %v", id, err)
		}
	}
	trc10 := hex.EncodeToString([]byte("1002000"))
	_ = trc10
	bad := map[string]string{
		"chains:\n  ETH:\n    tokens: [{token: \"0xdAC17F958D2ee523a2206206994597C13D831ec7\"}]":                             "contracts:",
		"chains:\n  BSC:\n    tokens: [{token: \"0xdAC17F958D2ee523a2206206994597C13D831ec7\"}]":                             "contracts:",
		"chains:\n  BTC:\n    tokens: [{token: x}]":                                                                          "BTC has no tokens",
		"chains:\n  XRP:\n    tokens: [{token: \"USD.rhub8VRN55s94qWKDv6jmDy1pUykJzF3wq\"}]":                                 "no base unit",
		"chains:\n  ADA:\n    tokens: [{token: x}]":                                                                          "multi-asset",
		"chains:\n  TRON:\n    tokens: [{token: \"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T\"}]":                                    "want a TRC-20 contract",
		"chains:\n  TRON:\n    tokens: [{token: \"0123\"}]":                                                                  "want a TRC-20 contract",
		"chains:\n  TRON:\n    contracts: [{address: \"0xdAC17F958D2ee523a2206206994597C13D831ec7\"}]":                       "tokens:",
		"chains:\n  SOL:\n    tokens: [{token: \"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGG\"}]":                                    "want an SPL mint",
		"chains:\n  XLM:\n    tokens: [{token: \"USDC\"}]":                                                                   "CODE:ISSUER",
		"chains:\n  XLM:\n    tokens: [{token: \"USDC:GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVM\"}]":          "CODE:ISSUER",
		"chains:\n  XLM:\n    tokens: [{token: \"TOOLONGCODE13:GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN\"}]": "CODE:ISSUER",
		"chains:\n  ALGO:\n    tokens: [{token: \"031566704\"}]":                                                             "ASA id",
		"chains:\n  ALGO:\n    tokens: [{token: \"99999999999999999999\"}]":                                                  "ASA id",
		"chains:\n  EGLD:\n    tokens: [{token: \"usdc-c76f1f\"}]":                                                           "ESDT id",
		"chains:\n  VET:\n    tokens: [{token: \"0x1234\"}]":                                                                 "0x hex",
		"chains:\n  FLOW:\n    tokens: [{token: \"A.3c5959b56889639.FUSD\"}]":                                                "FUSD",
		"chains:\n  ALGO:\n    tokens: [{token: \"1\"}, {token: \"1\"}]":                                                     "listed twice",
		"chains:\n  ALGO:\n    tokens: [{token: \"1\", maxAmout: 1}]":                                                        "unknown field",
		"chains:\n  ALGO:\n    tokens: [{token: \"1\", maxAmount: 1.5}]":                                                     "whole number",
		"wallets:\n  - signatureIds: [a]\n    tokens: [{token: \"not a token\"}]":                                            "no chain's token id",
	}
	for pol, want := range bad {
		_, err := Parse([]byte("version: 1\n" + pol + "\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error with %q", pol, err, want)
		}
	}
	// The TRON base58 form a TRC-20 view writes is the one the check
	// accepts.
	b, _ := hex.DecodeString("a614f803b6fd780986a42c78ec9c7f77e6ded13c")
	if id := base58.CheckEncode(b, 0x41); !validToken("TRON", id) {
		t.Errorf("%s refused", id)
	}
}
