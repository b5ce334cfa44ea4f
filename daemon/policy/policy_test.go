package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/wallet"
)

// btcAddr returns a testnet P2WPKH address and its script, from a label.
func btcAddr(t testing.TB, label string) (string, []byte) {
	h := sha256.Sum256([]byte(label))
	a, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(h[:]), &chaincfg.TestNet3Params)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := txscript.PayToAddrScript(a)
	return a.EncodeAddress(), s
}

func txid(label string) string {
	h := sha256.Sum256([]byte(label))
	return hex.EncodeToString(h[:])
}

// btcTx: from `from`, pay amount to `to`, change back, fee as given.
func btcTx(t testing.TB, n int, fromScript, toScript []byte, amount, fee int64) string {
	const in = 10_000_000
	s, err := utxotest.BitcoreJSON([]utxotest.Input{{TxID: txid(fmt.Sprint("in", n)), Script: fromScript, Satoshis: in}},
		[]utxotest.Output{{Script: toScript, Satoshis: amount}, {Script: fromScript, Satoshis: in - amount - fee}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	evmToken = "0x687422eea2cb73b5d3e242ba5456b782919afc85"
	evmGood  = "0x1111111111111111111111111111111111111111"
	evmBad   = "0x2222222222222222222222222222222222222222"
)

func word(hexAddrOrNum string) string {
	s := strings.TrimPrefix(hexAddrOrNum, "0x")
	return strings.Repeat("0", 64-len(s)) + s
}

func ethTx(to, value, data string, gas, price int64) string {
	s := `{"to":"` + to + `","value":"` + value + `"`
	if data != "" {
		s += `,"data":"` + data + `"`
	}
	return s + fmt.Sprintf(`,"gas":"%d","gasPrice":"%d","nonce":3}`, gas, price)
}

func erc20(sel, to string, amount int64) string {
	return "0x" + sel + word(to) + word(big.NewInt(amount).Text(16))
}

const testPolicy = `
version: 1
chains:
  BTC:
    destinations: ["%s", "tb1qallowedprefix*"]
    maxAmount: 1000000
    maxDaily: 2500000
    maxFee: 20000
  ETH:
    destinations: ["` + evmGood + `"]
    maxAmount: "2000000000000000000"
    maxFee: 2100000000000000
    contracts:
      - address: "` + evmToken + `"
        methods: [transfer]
        maxAmount: 1000
        maxDaily: 1500
wallets:
  - label: night-owl
    signatureIds: [owl]
    timeWindows: [{from: "22:00", to: "06:00"}]
rules:
  - name: no-dust
    expr: "amount == 0.0 || amount >= 546.0"
  - name: no-op-return
    chains: [BTC]
    effect: deny
    expr: "outputs.exists(o, o.address == '' && o.amount == 0.0)"
`

func TestPolicyTable(t *testing.T) {
	good, goodScript := btcAddr(t, "good")
	_, badScript := btcAddr(t, "bad")
	_, fromScript := btcAddr(t, "from")
	f, err := Parse([]byte(fmt.Sprintf(testPolicy, good)))
	if err != nil {
		t.Fatal(err)
	}
	j := journal.NewMemory()
	p, err := New(f, j)
	if err != nil {
		t.Fatal(err)
	}
	noon := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	night := time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)
	type tc struct {
		name, chain, tx string
		ids             []string
		now             time.Time
		rule            string // "" allowed
	}
	cases := []tc{
		{"btc allowed", "BTC", btcTx(t, 1, fromScript, goodScript, 900_000, 1000), nil, noon, ""},
		{"btc over amount", "BTC", btcTx(t, 2, fromScript, goodScript, 1_000_001, 1000), nil, noon, "chains.BTC.maxAmount"},
		{"btc wrong destination", "BTC", btcTx(t, 3, fromScript, badScript, 1000, 1000), nil, noon, "chains.BTC.destinations"},
		{"btc high fee", "BTC", btcTx(t, 4, fromScript, goodScript, 1000, 20001), nil, noon, "chains.BTC.maxFee"},
		{"btc dust (cel)", "BTC", btcTx(t, 5, fromScript, goodScript, 100, 1000), nil, noon, "rules[no-dust]"},
		{"btc second allowed", "BTC", btcTx(t, 6, fromScript, goodScript, 900_000, 1000), nil, noon, ""},
		{"btc over 24h total", "BTC", btcTx(t, 7, fromScript, goodScript, 900_000, 1000), nil, noon, "chains.BTC.maxDaily"},
		{"btc a day later", "BTC", btcTx(t, 8, fromScript, goodScript, 900_000, 1000), nil, noon.Add(25 * time.Hour), ""},
		{"btc undecodable", "BTC", `{"version":2,"inputs":[]}`, nil, noon, "undecoded"},
		{"btc unknown script", "BTC", btcTx(t, 9, fromScript, []byte{txscript.OP_TRUE}, 1000, 1000), nil, noon, "undecoded"},
		{"btc outside window", "BTC", btcTx(t, 10, fromScript, goodScript, 1000, 1000), []string{"owl"}, noon, "wallets[night-owl].timeWindows"},
		{"btc inside window", "BTC", btcTx(t, 11, fromScript, goodScript, 1000, 1000), []string{"owl"}, night.Add(48 * time.Hour), ""},
		{"eth allowed", "ETH", ethTx(evmGood, "1000000000000000000", "", 21000, 1e9), nil, noon, ""},
		{"eth over amount", "ETH", ethTx(evmGood, "2000000000000000001", "", 21000, 1e9), nil, noon, "chains.ETH.maxAmount"},
		{"eth wrong destination", "ETH", ethTx(evmBad, "1", "", 21000, 1e9), nil, noon, "chains.ETH.destinations"},
		{"eth high fee", "ETH", ethTx(evmGood, "1000", "", 21000, 2e11), nil, noon, "chains.ETH.maxFee"},
		{"erc20 allowed", "ETH", ethTx(evmToken, "0", erc20("a9059cbb", evmGood, 1000), 60000, 1e9), nil, noon, ""},
		{"erc20 over token amount", "ETH", ethTx(evmToken, "0", erc20("a9059cbb", evmGood, 1001), 60000, 1e9), nil, noon, "chains.ETH.contracts[" + evmToken + "].maxAmount"},
		{"erc20 over token daily", "ETH", ethTx(evmToken, "0", erc20("a9059cbb", evmGood, 501), 60000, 1e9), nil, noon, "chains.ETH.contracts[" + evmToken + "].maxDaily"},
		{"erc20 wrong recipient", "ETH", ethTx(evmToken, "0", erc20("a9059cbb", evmBad, 1), 60000, 1e9), nil, noon, "chains.ETH.destinations"},
		{"erc20 approve not allowed", "ETH", ethTx(evmToken, "0", erc20("095ea7b3", evmGood, 1), 60000, 1e9), nil, noon, "chains.ETH.contracts"},
		{"unknown token contract", "ETH", ethTx(evmGood, "0", erc20("a9059cbb", evmGood, 1), 60000, 1e9), nil, noon, "chains.ETH.contracts"},
		{"unknown contract call", "ETH", ethTx(evmGood, "0", "0xdeadbeef", 60000, 1e9), nil, noon, "undecoded"},
		{"deploy off", "ETH", `{"data":"0x6080","gas":"60000","gasPrice":"1","nonce":1}`, nil, noon, "chains.ETH.destinations"},
		{"unlisted chain", "LTC", btcTx(t, 12, fromScript, goodScript, 1000, 1000), nil, noon, "unlisted"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, derr := Decode(c.chain, true, c.tx, "")
			d := p.Evaluate(context.Background(), Input{ID: fmt.Sprint("id", i), Chain: c.chain, Testnet: true, SignatureIDs: c.ids, View: v, DecodeErr: derr, Now: c.now}, Options{})
			if c.rule == "" {
				if !d.Allowed {
					t.Fatalf("refused: %+v", d)
				}
				return
			}
			if d.Allowed || d.Rule != c.rule {
				t.Fatalf("decision %+v, want refused by %s", d, c.rule)
			}
		})
	}
}

// TestCounterOncePerID: evaluating the same pending id again (a restart)
// does not count it twice.
func TestCounterOncePerID(t *testing.T) {
	good, goodScript := btcAddr(t, "good")
	_, fromScript := btcAddr(t, "from")
	f, err := Parse([]byte("version: 1\nchains:\n  BTC:\n    destinations: [\"" + good + "\"]\n    maxDaily: 1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := New(f, journal.NewMemory())
	v, err := Decode("BTC", true, btcTx(t, 1, fromScript, goodScript, 600, 100), "")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if d := p.Evaluate(context.Background(), Input{ID: "same", Chain: "BTC", View: v}, Options{}); !d.Allowed {
			t.Fatalf("round %d: %+v", i, d)
		}
	}
	if d := p.Evaluate(context.Background(), Input{ID: "other", Chain: "BTC", View: v}, Options{}); d.Allowed || d.Class != ClassMaxDaily {
		t.Fatalf("second id: %+v", d)
	}
	// A dry run never counts.
	p2, _ := New(f, journal.NewMemory())
	for i := 0; i < 3; i++ {
		if d := p2.Evaluate(context.Background(), Input{ID: fmt.Sprint(i), Chain: "BTC", View: v}, Options{DryRun: true}); !d.Allowed {
			t.Fatalf("dry run %d: %+v", i, d)
		}
	}
}

func TestAllowUndecoded(t *testing.T) {
	_, fromScript := btcAddr(t, "from")
	tx := btcTx(t, 1, fromScript, []byte{txscript.OP_TRUE}, 1000, 100)
	for _, pol := range []string{
		"version: 1\nchains:\n  BTC:\n    allowUndecoded: true\n",
		"version: 1\nchains:\n  BTC: {}\nrules:\n  - name: op-true-ok\n    effect: allowUndecoded\n    expr: \"unknown.size() == 1 && amount <= 1000.0\"\n",
	} {
		f, err := Parse([]byte(pol))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := New(f, nil)
		v, _ := Decode("BTC", true, tx, "")
		if d := p.Evaluate(context.Background(), Input{ID: "x", Chain: "BTC", View: v}, Options{}); !d.Allowed {
			t.Fatalf("%s: %+v", pol, d)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"version: 2\nchains: {BTC: {}}":                                            "want `version: 1`",
		"version: 1\nchains: {BTC: {maxAmmount: 5}}":                               "unknown field",
		"version: 1\nchains: {BTC: {maxAmount: 1.5}}":                              "whole number",
		"version: 1\nchains: {BTC: {maxAmount: -1}}":                               "whole number",
		"version: 1\nchains: {XYZ: {}}":                                            "no decoder",
		"version: 1\nchains: {BTC: {destinations: ['*']}}":                         "lone *",
		"version: 1\nchains: {BTC: {contracts: [{address: '0x1'}]}}":               "EVM chains",
		"version: 1\nchains: {ETH: {contracts: [{address: 'x'}]}}":                 "0x-hex",
		"version: 1\nchains: {BTC: {timeWindows: [{from: '25:00', to: '01:00'}]}}": "HH:MM",
		"version: 1\nrules: [{name: a, expr: 'amount +'}]":                         "rules[a]",
		"version: 1\nrules: [{name: a, expr: 'amount'}]":                           "want bool",
		"version: 1\nrules: [{name: a, expr: 'nosuchvar > 1'}]":                    "undeclared",
		"version: 1\nwallets: [{label: x}]":                                        "no signatureIds",
		"version: 1":                                                               "no chains",
		"{\"version\": 1, \"chains\": {\"ETH\": {\"maxFee\": \"12x\"}}}":           "whole number",
	}
	for in, want := range cases {
		if _, err := Parse([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
	// maxDaily without counters.
	f, err := Parse([]byte("version: 1\nchains: {BTC: {maxDaily: 5}}"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(f, nil); err == nil {
		t.Fatal("maxDaily accepted without counters")
	}
}

func TestWindows(t *testing.T) {
	w := &Window{From: "22:00", To: "06:00", Days: []string{"fri"}}
	if err := w.compile(); err != nil {
		t.Fatal(err)
	}
	fri := time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC) // a Friday
	if !w.contains(fri) || !w.contains(fri.Add(3*time.Hour)) || w.contains(fri.Add(8*time.Hour)) || w.contains(fri.Add(-24*time.Hour)) {
		t.Fatal("overnight window wrong")
	}
}

// TestDailyLimitConcurrent: 50 concurrent transactions of 100 against a
// 24-hour limit of 1000: exactly 10 pass, never more (the check and the
// reservation are atomic even though the durable adds run unlocked).
// dailyLimit1000 is a BTC policy with a daily limit of 1000 sat and a
// 100-sat payment it allows.
func dailyLimit1000(t *testing.T) (*File, *signing.View) {
	t.Helper()
	good, goodScript := btcAddr(t, "good")
	_, fromScript := btcAddr(t, "from")
	f, err := Parse([]byte("version: 1\nchains:\n  BTC:\n    destinations: [\"" + good + "\"]\n    maxDaily: 1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := Decode("BTC", true, btcTx(t, 1, fromScript, goodScript, 100, 100), "")
	if err != nil {
		t.Fatal(err)
	}
	return f, v
}

func TestDailyLimitConcurrent(t *testing.T) {
	f, v := dailyLimit1000(t)
	for _, cache := range []bool{false, true} {
		// queued: the journal's AddLater, made under the check's lock;
		// durable: Add only, so the check reserves and the add runs outside
		// the lock.
		for _, queued := range []bool{true, false} {
			t.Run(fmt.Sprint("cache=", cache, "/queued=", queued), func(t *testing.T) { dailyConcurrent(t, f, v, cache, queued) })
		}
	}
}

// addOnly hides the journal's AddLater from the policy.
type addOnly struct{ c Counters }

func (a addOnly) Add(ctx context.Context, key, ref string, at time.Time, amount *big.Int) error {
	return a.c.Add(ctx, key, ref, at, amount)
}

func (a addOnly) SumSince(ctx context.Context, key string, since time.Time) (*big.Int, error) {
	return a.c.SumSince(ctx, key, since)
}

func dailyConcurrent(t *testing.T, f *File, v *signing.View, cache, queued bool) {
	j, err := journal.OpenFile(t.TempDir()+"/j.db", journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var c Counters = j
	if !queued {
		c = addOnly{j}
	}
	p, _ := New(f, c)
	if cache {
		p.CacheTotals(time.Hour)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d := p.Evaluate(context.Background(), Input{ID: fmt.Sprint("c", i), Chain: "BTC", View: v}, Options{})
			if d.Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			} else if d.Class != ClassMaxDaily {
				t.Errorf("refused by %s: %s", d.Rule, d.Reason)
			}
		}(i)
	}
	wg.Wait()
	// Never more than the limit. With a durable add outside the lock and
	// every check reading the counters, a check between an add and the
	// release of its reservation counts that amount twice and may refuse
	// what fits (the safe side; docs/policy.md, "Rolling totals"): there
	// only the limit is exact.
	exact := cache || queued
	if allowed > 10 || exact && allowed != 10 || allowed == 0 {
		t.Fatalf("%d transactions of 100 passed a daily limit of 1000", allowed)
	}
	// Later, one by one (every add done): exactly what the limit has left
	// passes (nothing, where the concurrent ones used it all).
	late := 0
	for i := 0; i < 15; i++ {
		if d := p.Evaluate(context.Background(), Input{ID: fmt.Sprint("late", i), Chain: "BTC", View: v}, Options{}); d.Allowed {
			late++
		}
	}
	if allowed+late != 10 {
		t.Fatalf("%d concurrent and then %d sequential transactions passed a daily limit of 1000 (want 10 in all)", allowed, late)
	}
}

// failAdd's adds fail (a full disk); failAddLater's queued adds too.
type failAdd struct{ Counters }

func (failAdd) Add(context.Context, string, string, time.Time, *big.Int) error {
	return errors.New("disk full")
}

type failAddLater struct{ failAdd }

func (failAddLater) AddLater(context.Context, string, string, time.Time, *big.Int) error {
	return errors.New("queue full")
}

// A transaction whose rolling total cannot be recorded is refused (it
// would not count against the limit), whether the add is queued or
// durable, and is not counted in the cached total either.
func TestUnrecordedTotalRefuses(t *testing.T) {
	f, v := dailyLimit1000(t)
	j := journal.NewMemory()
	for name, c := range map[string]Counters{"durable": failAdd{j}, "queued": failAddLater{failAdd{j}}} {
		t.Run(name, func(t *testing.T) {
			p, err := New(f, c)
			if err != nil {
				t.Fatal(err)
			}
			p.CacheTotals(time.Hour)
			d := p.Evaluate(context.Background(), Input{ID: "a", Chain: "BTC", View: v}, Options{})
			if d.Allowed || d.Class != ClassCounters {
				t.Fatalf("allowed with an unrecorded rolling total: %+v", d)
			}
			d, wait := p.EvaluateAsync(context.Background(), Input{ID: "b", Chain: "BTC", View: v}, Options{})
			if err := wait(); d.Allowed && err == nil {
				t.Fatalf("EvaluateAsync: allowed, and its wait reports no error")
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			var sum big.Int
			if err := p.totalOf(context.Background(), "policy/chain/BTC/native", time.Now(), &sum); err != nil || sum.Sign() != 0 {
				t.Fatalf("total after failed adds: %v, %v; want 0 (counted nothing, reserved nothing)", &sum, err)
			}
		})
	}
}

// A BCH destination may be written as cashaddr (with or without its
// prefix) or legacy; views show legacy, and both forms match it.
func TestBCHCashAddrDestinations(t *testing.T) {
	mk := func(label string) (legacy, cash string, script []byte) {
		h := sha256.Sum256([]byte(label))
		k, _ := btcec.PrivKeyFromBytes(h[:])
		a, err := btcutil.NewAddressPubKeyHash(btcutil.Hash160(k.PubKey().SerializeCompressed()), &chaincfg.TestNet3Params)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := txscript.PayToAddrScript(a)
		cash, err = wallet.AddressFromPublicKey(wallet.BCH, k.PubKey(), true)
		if err != nil || !strings.HasPrefix(cash, "bchtest:") {
			t.Fatalf("cashaddr %q %v", cash, err)
		}
		return a.EncodeAddress(), cash, s
	}
	good, cash, goodScript := mk("good")
	_, _, badScript := mk("bad")
	_, _, fromScript := mk("from")
	for _, dest := range []string{good, cash, strings.ToUpper(cash)} {
		f, err := Parse([]byte("version: 1\nchains:\n  BCH:\n    destinations: [\"" + dest + "\"]\n"))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := New(f, nil)
		for i, c := range []struct {
			script []byte
			ok     bool
		}{{goodScript, true}, {badScript, false}} {
			v, derr := Decode("BCH", true, btcTx(t, 100+i, fromScript, c.script, 1000, 1000), "")
			d := p.Evaluate(context.Background(), Input{ID: fmt.Sprint("bch", i, dest), Chain: "BCH", Testnet: true, View: v, DecodeErr: derr, Now: time.Now()}, Options{})
			if d.Allowed != c.ok {
				t.Errorf("destinations [%s], output %d: allowed %v (%s), want %v", dest, i, d.Allowed, d.Reason, c.ok)
			}
		}
	}
}

// Destinations compare as each chain writes addresses: hex without letter
// case (EVM, VeChain: case is a checksum), base58 exactly (SOL, TRON: case
// is part of the address).
func TestDestinationCase(t *testing.T) {
	const lower = "0x7567d83b7b8d80addcb281a71d54fc7b3364ffed"
	const mixed = "0x7567D83b7b8d80ADdCb281A71d54Fc7B3364ffed"
	for _, c := range []struct {
		family, dest, allowed string
		want                  bool
	}{
		{"vet", lower, mixed, true},
		{signing.ViewEVM, mixed, lower, true},
		{"vet", lower, "0x7567d83b7b8d80addcb281a71d54fc7b3364ffee", false},
		{"sol", "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin", "9xqewvg816bux9epjhmat23yvvm2zwbrrpzb9pusvfin", false},
		{"tron", "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8", "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8", true},
	} {
		if got := destAllowed(c.family, c.dest, []string{c.allowed}); got != c.want {
			t.Errorf("%s %s against %s: %v, want %v", c.family, c.dest, c.allowed, got, c.want)
		}
	}
}

// TestWalletDestinations: a wallet's own destinations apply to its
// transactions on top of the chain's, and only to its own (each rule's
// list is normalised once, at New, and looked up by rule).
func TestWalletDestinations(t *testing.T) {
	a, aScript := btcAddr(t, "dest a")
	b, bScript := btcAddr(t, "dest b")
	_, fromScript := btcAddr(t, "from")
	f, err := Parse([]byte(fmt.Sprintf(`version: 1
chains:
  BTC:
    destinations: ["%s", "%s"]
wallets:
  - label: only-a
    signatureIds: [wa]
    destinations: ["%s"]
  - label: only-b
    signatureIds: [wb]
    destinations: ["%s"]
`, a, b, a, b)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		wallet string
		to     []byte
		rule   string // "" allowed
	}{
		{"wa", aScript, ""},
		{"wa", bScript, "wallets[only-a].destinations"},
		{"wb", bScript, ""},
		{"wb", aScript, "wallets[only-b].destinations"},
		{"other", aScript, ""},
		{"other", bScript, ""},
	} {
		v, err := Decode("BTC", true, btcTx(t, i, fromScript, c.to, 1000, 100), "")
		if err != nil {
			t.Fatal(err)
		}
		d := p.Evaluate(context.Background(), Input{ID: fmt.Sprint(i), Chain: "BTC", Testnet: true, SignatureIDs: []string{c.wallet}, View: v}, Options{})
		if c.rule == "" && !d.Allowed || c.rule != "" && (d.Allowed || d.Rule != c.rule) {
			t.Errorf("%d: %s paying %x: %+v, want rule %q", i, c.wallet, c.to, d, c.rule)
		}
	}
}

// TestCounterKeys: rolling totals are stored under the keys daemons of
// every version share through their state (docs/policy.md): per chain
// policy/chain/<CHAIN>/native, per wallet policy/wallet/<CHAIN>/<name>/native.
// A renamed key would start every limit again from zero.
func TestCounterKeys(t *testing.T) {
	good, goodScript := btcAddr(t, "good")
	_, fromScript := btcAddr(t, "from")
	f, err := Parse([]byte("version: 1\nchains:\n  BTC:\n    destinations: [\"" + good + "\"]\n    maxDaily: 1000\n" +
		"wallets:\n  - label: hot\n    signatureIds: [w1]\n    maxDaily: 1000\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := Decode("BTC", true, btcTx(t, 1, fromScript, goodScript, 100, 100), "")
	if err != nil {
		t.Fatal(err)
	}
	j := journal.NewMemory()
	p, err := New(f, j)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Evaluate(context.Background(), Input{ID: "a", Chain: "BTC", SignatureIDs: []string{"w1"}, View: v}, Options{}); !d.Allowed {
		t.Fatalf("refused: %+v", d)
	}
	sent := v.Sent()[""]
	for _, key := range []string{"policy/chain/BTC/native", "policy/wallet/BTC/" + f.Wallets[0].Name(0) + "/native"} {
		sum, err := j.SumSince(context.Background(), key, time.Now().Add(-time.Hour))
		if err != nil || sum.Cmp(sent) != 0 {
			t.Errorf("%s: %v %v, want %s", key, sum, err, sent)
		}
	}
}
