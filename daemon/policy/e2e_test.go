package policy_test

// The policy and the audit trail through the real daemon: wallets in a
// store, pending transactions in the Tatum stand-in, the daemon's approver
// chain with the policy and the trail, a real journal file for the rolling
// totals, and (EVM) go-ethereum's simulated chain behind the stand-in's
// broadcast. Nothing refused may ever reach a broadcast.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/audit"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/policy"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/evm/evmtest"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func key(label string) *btcec.PrivateKey {
	h := sha256.Sum256([]byte("policy e2e " + label))
	k, _ := btcec.PrivKeyFromBytes(h[:])
	return k
}

func p2wpkh(k *btcec.PrivateKey) (string, []byte) {
	a, _ := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(k.PubKey().SerializeCompressed()), &chaincfg.TestNet3Params)
	s, _ := txscript.PayToAddrScript(a)
	return a.EncodeAddress(), s
}

// node is one daemon of the test, with its policy and audit trail.
type node struct {
	d      *daemon.Daemon
	m      *daemon.Metrics
	trail  *audit.Trail
	sink   *audit.File
	path   string
	logs   *syncBuf
	closed bool
}

func (n *node) close(t *testing.T) {
	if !n.closed {
		n.closed = true
		if err := n.sink.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// startNode builds a daemon with policy pol and an audit log in dir.
func startNode(t *testing.T, name, pol string, dir string, srv *tatumtest.Server, store backend.SecretBackend, j journal.Journal, chain string) *node {
	t.Helper()
	n := &node{logs: &syncBuf{}, path: filepath.Join(dir, name+"-audit.log")}
	log := slog.New(slog.NewJSONHandler(n.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f, err := policy.Parse([]byte(pol))
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.New(f, j)
	if err != nil {
		t.Fatal(err)
	}
	n.m = daemon.NewMetrics()
	a, err := policy.NewApprover(p, n.m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	if n.sink, err = audit.OpenFile(n.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.close(t) })
	n.trail = audit.NewTrail(n.sink, name, log)
	a.OnDecide = n.trail.NotePolicy
	api := tatum.New(tatum.Options{BaseURL: srv.URL, APIKey: srv.APIKey, Logger: log, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Timeout: 30 * time.Second})
	n.d, err = daemon.New(daemon.Config{Backend: store, API: api, Signers: signers, Chains: []string{chain}, Testnet: true, Logger: log, Concurrency: 4,
		Journal: j, Owner: name, Metrics: n.m, Approvers: []daemon.Approver{a, n.trail.Approver()},
		OnDecision: n.trail.OnDecision, OnEvent: n.trail.OnEvent})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// btcStore is a memory store holding k as the testnet BTC wallet id.
func btcStore(t *testing.T, id string, k *btcec.PrivateKey) backend.SecretBackend {
	t.Helper()
	store := memory.New()
	wif, _ := btcutil.NewWIF(k, &chaincfg.TestNet3Params, true)
	if err := store.Put(context.Background(), backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "BTC", Testnet: true, Secret: []byte(wif.String())}); err != nil {
		t.Fatal(err)
	}
	return store
}

func reportFor(srv *tatumtest.Server, id string) string {
	var out []string
	for _, e := range srv.Errors() {
		if e.SignatureID == id {
			out = append(out, e.Error)
		}
	}
	return strings.Join(out, " | ")
}

func entriesFor(t *testing.T, path, id string) []audit.Entry {
	t.Helper()
	es, err := audit.List(path, audit.Filter{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestPolicyUTXOThroughDaemon: a table of BTC transactions against the
// policy, over three cycles and two daemons sharing one journal (the
// rolling 24-hour total is theirs together).
func TestPolicyUTXOThroughDaemon(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	from := key("from")
	store := btcStore(t, "btc-a", from)
	j, err := journal.OpenFile(filepath.Join(dir, "journal.db"), journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	srv := tatumtest.New(tatumtest.Options{})
	t.Cleanup(srv.Close)
	// As a node does: the txid is the hash of the transaction.
	srv.SetBroadcaster("BTC", func(_ context.Context, txData string) (string, error) {
		raw, err := hex.DecodeString(txData)
		if err != nil {
			return "", err
		}
		var tx wire.MsgTx
		if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
			return "", err
		}
		return tx.TxHash().String(), nil
	})

	good, goodScript := p2wpkh(key("good"))
	_, badScript := p2wpkh(key("bad"))
	_, fromScript := p2wpkh(from)
	pol := fmt.Sprintf(`version: 1
chains:
  BTC:
    destinations: ["%s"]
    maxAmount: 500000
    maxDaily: 800000
    maxFee: 5000
`, good)
	a := startNode(t, "daemon-a", pol, dir, srv, store, j, "BTC")
	b := startNode(t, "daemon-b", pol, dir, srv, store, j, "BTC")

	n := 0
	spend := func(outs ...utxotest.Output) string {
		n++
		h := sha256.Sum256([]byte(fmt.Sprint("prev ", n)))
		s, err := utxotest.BitcoreJSON([]utxotest.Input{{TxID: hex.EncodeToString(h[:]), Vout: 0, Script: fromScript, Satoshis: 1_000_000}}, outs, 0)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pay := func(script []byte, amount, fee int64) string {
		return spend(utxotest.Output{Script: script, Satoshis: amount}, utxotest.Output{Script: fromScript, Satoshis: 1_000_000 - amount - fee})
	}
	type tc struct {
		name string
		on   *node
		tx   string
		rule string // "" allowed
	}
	cycles := [][]tc{
		{
			{"allowed", a, pay(goodScript, 400_000, 1000), ""},
			{"over amount", a, pay(goodScript, 500_001, 1000), "chains.BTC.maxAmount"},
			{"wrong destination", a, pay(badScript, 1000, 1000), "chains.BTC.destinations"},
			{"high fee", a, pay(goodScript, 1000, 5001), "chains.BTC.maxFee"},
			{"unknown script", a, spend(utxotest.Output{Script: []byte{txscript.OP_TRUE}, Satoshis: 990_000}), "undecoded"},
			{"undecodable", a, `{"version":2,"inputs":"nope"}`, "undecoded"},
		},
		{{"second daemon, within the day's total", b, pay(goodScript, 300_000, 1000), ""}},
		{{"over the 24h total of both daemons", a, pay(goodScript, 200_000, 1000), "chains.BTC.maxDaily"}},
	}
	var all []struct {
		tc
		id string
	}
	for ci, cyc := range cycles {
		var ids []string
		for _, c := range cyc {
			id := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: c.tx, Hashes: []string{"btc-a"}})
			ids = append(ids, id)
			all = append(all, struct {
				tc
				id string
			}{c, id})
		}
		cyc[0].on.d.RunCycle(ctx)
		for i, c := range cyc {
			id := ids[i]
			if c.rule == "" {
				if _, ok := srv.Completed(id); !ok || srv.Broadcasts(id) != 1 {
					t.Errorf("cycle %d %s: not broadcast once (broadcasts %d); reports: %s", ci, c.name, srv.Broadcasts(id), reportFor(srv, id))
				}
				continue
			}
			if srv.Broadcasts(id) != 0 {
				t.Errorf("cycle %d %s: REFUSED TRANSACTION BROADCAST", ci, c.name)
			}
			if r := reportFor(srv, id); !strings.Contains(r, "policy refused: rule "+c.rule+":") {
				t.Errorf("cycle %d %s: report %q does not name rule %s", ci, c.name, r, c.rule)
			}
		}
	}
	// Later cycles: refused ones stay refused, nothing new is broadcast.
	a.d.RunCycle(ctx)
	for _, c := range all {
		if c.rule != "" && srv.Broadcasts(c.id) != 0 {
			t.Errorf("%s: broadcast on a later cycle", c.name)
		}
	}
	// Metrics count the refusals by rule class.
	rec := httptest.NewRecorder()
	a.d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, class := range []string{"maxAmount", "destinations", "maxFee", "undecoded", "maxDaily"} {
		if !strings.Contains(rec.Body.String(), `gokms_policy_refused_total{chain="BTC",rule="`+class+`"}`) {
			t.Errorf("/metrics has no gokms_policy_refused_total for %s", class)
		}
	}

	// The audit trail of daemon A: every decision, intact.
	a.close(t)
	b.close(t)
	for _, nd := range []*node{a, b} {
		r, err := audit.Verify(nd.path)
		if err != nil || !r.OK() || r.Entries == 0 {
			t.Fatalf("%s: verify %+v %v", nd.path, r, err)
		}
	}
	for _, c := range all {
		path := c.on.path
		es := entriesFor(t, path, c.id)
		if len(es) == 0 {
			t.Errorf("%s: no audit entry", c.name)
			continue
		}
		if c.rule == "" {
			var signed, done *audit.Entry
			for i := range es {
				switch es[i].Event {
				case "signed":
					signed = &es[i]
				case daemon.EventCompleted:
					done = &es[i]
				}
			}
			if signed == nil || done == nil || signed.TxID == "" || signed.TxID != done.TxID || len(signed.Destinations) != 1 ||
				signed.Destinations[0].Address != good || signed.Fee != "1000" || signed.SignatureIDs[0] != "btc-a" || !strings.HasPrefix(signed.Rule, "chains.BTC") {
				t.Errorf("%s: audit entries %+v", c.name, es)
			}
			continue
		}
		if es[0].Result != "refused" || es[0].Approver != "policy" || es[0].Rule != c.rule || len(es[0].SignatureIDs) != 1 || es[0].SignatureIDs[0] != "btc-a" {
			t.Errorf("%s: first audit entry %+v, want refused by policy rule %s", c.name, es[0], c.rule)
		}
	}
	// Never a secret in the log.
	wif, _ := btcutil.NewWIF(from, &chaincfg.TestNet3Params, true)
	for _, nd := range []*node{a, b} {
		raw, _ := os.ReadFile(nd.path)
		for _, s := range []string{wif.String(), hex.EncodeToString(from.Serialize())} {
			if strings.Contains(string(raw), s) || strings.Contains(nd.logs.String(), s) {
				t.Fatal("a secret reached the audit log or the daemon log")
			}
		}
	}
}

// TestPolicyEVMThroughDaemon: ETH transfers and ERC-20 calls on
// go-ethereum's simulated chain, signed by the real daemon, checked by the
// policy on the signed bytes; balances prove what was (not) paid.
func TestPolicyEVMThroughDaemon(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	b, _ := hex.DecodeString("8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63")
	pk, _ := btcec.PrivKeyFromBytes(b)
	sender := crypto.PubkeyToAddress(*pk.PubKey().ToECDSA())
	store := memory.New()
	if err := store.Put(ctx, backend.Record{ID: "evm-pk", Kind: backend.PrivateKey, Chain: "ETH", Testnet: true, Secret: []byte("0x" + hex.EncodeToString(b)), Address: sender.Hex()}); err != nil {
		t.Fatal(err)
	}
	chain := evmtest.Start(t, 11155111, types.GenesisAlloc{sender: {Balance: new(big.Int).Mul(big.NewInt(1000), evmtest.Ether)}})
	tk := evmtest.LoadToken(t)
	token := chain.Deploy(t, pk.ToECDSA(), tk.DeployData(t, "Test", "TST", big.NewInt(1_000_000)))
	other := chain.Deploy(t, pk.ToECDSA(), tk.DeployData(t, "Other", "OTH", big.NewInt(1_000_000)))
	srv := tatumtest.New(tatumtest.Options{})
	t.Cleanup(srv.Close)
	srv.SetBroadcaster("ETH", func(ctx context.Context, txData string) (string, error) {
		h, err := chain.SendRaw(ctx, txData)
		if err != nil {
			return "", err
		}
		chain.Commit()
		return h.Hex(), nil
	})
	useEVMNode(t, chain.URL)
	j, err := journal.OpenFile(filepath.Join(dir, "journal.db"), journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })

	good := common.HexToAddress("0x687422eEA2cB73B5d3e242bA5456b782919AFc85")
	bad := common.HexToAddress("0x3333333333333333333333333333333333333333")
	pol := fmt.Sprintf(`version: 1
chains:
  ETH:
    destinations: ["%s"]
    maxAmount: "1000000000000000000"
    maxDaily: "1500000000000000000"
    maxFee: "10000000000000000"
    contracts:
      - address: "%s"
        methods: [transfer]
        maxAmount: 1000
`, good.Hex(), token.Hex())
	nd := startNode(t, "evm", pol, dir, srv, store, j, "ETH")
	eth := func(v int64, milli bool) string {
		x := new(big.Int).Mul(big.NewInt(v), evmtest.Ether)
		if milli {
			x.Div(x, big.NewInt(1000))
		}
		return x.String()
	}
	data := func(d []byte) string { return hexutil.Encode(d) }
	cases := []struct {
		name, tx, rule string
	}{
		{"allowed", `{"to":"` + good.Hex() + `","value":"` + eth(500, true) + `"}`, ""},
		{"over amount", `{"to":"` + good.Hex() + `","value":"` + eth(2, false) + `"}`, "chains.ETH.maxAmount"},
		{"wrong destination", `{"to":"` + bad.Hex() + `","value":"1"}`, "chains.ETH.destinations"},
		{"high fee", `{"to":"` + good.Hex() + `","value":"1","gas":"21000","gasPrice":"1000000000000"}`, "chains.ETH.maxFee"},
		{"erc20 allowed", `{"to":"` + token.Hex() + `","data":"` + data(tk.TransferData(t, good, big.NewInt(500))) + `"}`, ""},
		{"erc20 over token amount", `{"to":"` + token.Hex() + `","data":"` + data(tk.TransferData(t, good, big.NewInt(1001))) + `"}`, "chains.ETH.contracts[" + token.Hex() + "].maxAmount"},
		{"erc20 unlisted contract", `{"to":"` + other.Hex() + `","data":"` + data(tk.TransferData(t, good, big.NewInt(5))) + `"}`, "chains.ETH.contracts"},
		{"unknown contract call", `{"to":"` + token.Hex() + `","data":"0xdeadbeef"}`, "undecoded"},
		{"deploy", `{"data":"0x6080604052"}`, "chains.ETH.destinations"},
		{"undecodable", `{"to":"` + good.Hex() + `","value":"1","surprise":true}`, "undecoded"},
	}
	before := chain.Balance(t, good)
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = srv.Enqueue(tatum.PendingTransaction{Chain: "ETH", SerializedTransaction: c.tx, Hashes: []string{"evm-pk"}})
	}
	nd.d.RunCycle(ctx)
	nd.d.RunCycle(ctx)
	for i, c := range cases {
		if c.rule == "" {
			if _, ok := srv.Completed(ids[i]); !ok || srv.Broadcasts(ids[i]) != 1 {
				t.Errorf("%s: not broadcast once; reports %s", c.name, reportFor(srv, ids[i]))
			}
			continue
		}
		if srv.Broadcasts(ids[i]) != 0 {
			t.Errorf("%s: REFUSED TRANSACTION BROADCAST", c.name)
		}
		if r := reportFor(srv, ids[i]); !strings.Contains(r, "policy refused: rule "+c.rule+":") {
			t.Errorf("%s: report %q does not name rule %s", c.name, r, c.rule)
		}
	}
	// Over later cycles: 0.6 ETH more passes (1.1 of 1.5 in 24 hours),
	// then 0.5 ETH more does not.
	more := srv.Enqueue(tatum.PendingTransaction{Chain: "ETH", SerializedTransaction: `{"to":"` + good.Hex() + `","value":"` + eth(600, true) + `"}`, Hashes: []string{"evm-pk"}})
	nd.d.RunCycle(ctx)
	over := srv.Enqueue(tatum.PendingTransaction{Chain: "ETH", SerializedTransaction: `{"to":"` + good.Hex() + `","value":"` + eth(500, true) + `"}`, Hashes: []string{"evm-pk"}})
	nd.d.RunCycle(ctx)
	if _, ok := srv.Completed(more); !ok {
		t.Errorf("0.6 ETH within the daily total not paid: %s", reportFor(srv, more))
	}
	if srv.Broadcasts(over) != 0 || !strings.Contains(reportFor(srv, over), "policy refused: rule chains.ETH.maxDaily:") {
		t.Errorf("over the daily total: broadcasts %d, report %q", srv.Broadcasts(over), reportFor(srv, over))
	}
	// The chain agrees: exactly 0.5 + 0.6 ETH and 500 tokens reached good.
	if got := new(big.Int).Sub(chain.Balance(t, good), before); got.String() != eth(1100, true) {
		t.Errorf("recipient received %s wei", got)
	}
	if got := chain.BalanceOf(t, tk, token, good); got.Int64() != 500 {
		t.Errorf("recipient holds %s tokens", got)
	}
	if got := chain.BalanceOf(t, tk, other, good); got.Sign() != 0 {
		t.Errorf("recipient holds %s of the unlisted token", got)
	}
	nd.close(t)
	if r, err := audit.Verify(nd.path); err != nil || !r.OK() {
		t.Fatalf("verify %+v %v", r, err)
	}
	es := entriesFor(t, nd.path, ids[4])
	found := false
	for _, e := range es {
		if e.Event == "signed" && len(e.Destinations) == 1 && e.Destinations[0].Token == token.Hex() && e.Destinations[0].Amount == "500" {
			found = true
		}
	}
	if !found {
		t.Errorf("erc20 signed entry missing token destination: %+v", es)
	}
}

// TestPolicyJudgesSignedBytes: a signer that signs something other than
// the pending transaction (a bug, or a compromised signing path) is caught
// after signing: the pending transaction pays the allowed destination, the
// signed bytes pay another, and the policy, reading the signed bytes,
// refuses before anything is journaled or broadcast: by a declarative rule
// and by a CEL rule (the CEL rules skip the check after signing only when
// the signed bytes have the effect checked before). A CEL rule that reads
// what the stage changes ("signed") is evaluated after signing even when
// the bytes are the honest ones.
func TestPolicyJudgesSignedBytes(t *testing.T) {
	good, goodScript := p2wpkh(key("good"))
	_, evilScript := p2wpkh(key("evil"))
	for _, c := range []struct {
		name, pol string
		evil      bool
		rule      string
	}{
		{"destinations", "version: 1\nchains:\n  BTC:\n    destinations: [\"" + good + "\"]\n", true, "chains.BTC.destinations"},
		{"cel", "version: 1\nunlisted: allow\nrules:\n  - name: only-good\n    effect: require\n    expr: \"destinations.all(d, d == '" + good + "')\"\n", true, "rules[only-good]"},
		{"cel-bounded", "version: 1\nunlisted: allow\nrules:\n  - name: one-output\n    effect: require\n    expr: \"size(destinations) == 1 && amount == 90000.0 && fee == 10000.0 && destinations[0] == '" + good + "'\"\n", true, "rules[one-output]"},
		{"cel-staged", "version: 1\nunlisted: allow\nrules:\n  - name: never-signed\n    effect: require\n    expr: \"!signed\"\n", false, "rules[never-signed]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			from := key("from")
			_, fromScript := p2wpkh(from)
			store := btcStore(t, "btc-a", from)
			srv := tatumtest.New(tatumtest.Options{})
			t.Cleanup(srv.Close)
			j := journal.NewMemory()
			h := sha256.Sum256([]byte("prev evil"))
			in := []utxotest.Input{{TxID: hex.EncodeToString(h[:]), Script: fromScript, Satoshis: 100000}}
			honest, _ := utxotest.BitcoreJSON(in, []utxotest.Output{{Script: goodScript, Satoshis: 90000}}, 0)
			evil, _ := utxotest.BitcoreJSON(in, []utxotest.Output{{Script: evilScript, Satoshis: 90000}}, 0)
			nd := startNode(t, "evil-signer", c.pol, dir, srv, store, j, "BTC")
			// Rebuild the daemon with a signer that swaps in the evil transaction.
			f, err := policy.Parse([]byte(c.pol))
			if err != nil {
				t.Fatal(err)
			}
			p, _ := policy.New(f, j)
			pa, _ := policy.NewApprover(p, nil)
			pa.OnDecide = nd.trail.NotePolicy
			api := tatum.New(tatum.Options{BaseURL: srv.URL, APIKey: srv.APIKey, Timeout: 10 * time.Second})
			d, err := daemon.New(daemon.Config{Backend: store, API: api, Signers: signers, Chains: []string{"BTC"}, Testnet: true, Journal: j,
				Logger: slog.New(slog.NewJSONHandler(nd.logs, nil)), Approvers: []daemon.Approver{pa, nd.trail.Approver()},
				OnDecision: nd.trail.OnDecision, OnEvent: nd.trail.OnEvent,
				Sign: func(ctx context.Context, req signing.Request, ks signing.KeySource) (signing.Signed, error) {
					if c.evil {
						req.SerializedTransaction = evil
					}
					return signers.SignDetailed(ctx, req, ks)
				}})
			if err != nil {
				t.Fatal(err)
			}
			id := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: honest, Hashes: []string{"btc-a"}})
			d.RunCycle(ctx)
			if srv.Broadcasts(id) != 0 {
				t.Fatal("the policy refuses the signed bytes, and they were broadcast")
			}
			if r := reportFor(srv, id); !strings.Contains(r, c.rule) {
				t.Fatalf("report %q, want rule %s", r, c.rule)
			}
			if e, err := j.Get(ctx, id); err == nil {
				t.Fatalf("refused transaction journaled: %+v", e)
			}
			es := entriesFor(t, nd.path, id)
			if len(es) == 0 || es[0].Stage != string(daemon.StageSigned) || es[0].Result != "refused" {
				t.Fatalf("audit %+v", es)
			}
		})
	}
}

// TestAuditRecordsEveryDecision: signed, refused by policy, refused by the
// four-eye service, and failed (a wallet the store does not hold) all land
// in the log, each once, and the log verifies.
func TestAuditRecordsEveryDecision(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	from := key("from")
	_, fromScript := p2wpkh(from)
	good, goodScript := p2wpkh(key("good"))
	store := btcStore(t, "btc-a", from)
	srv := tatumtest.New(tatumtest.Options{})
	t.Cleanup(srv.Close)
	var veto sync.Map
	fourEye := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, no := veto.Load(strings.TrimPrefix(r.URL.Path, "/approve/")); no {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(fourEye.Close)
	n := 0
	pay := func(amount int64) string {
		n++
		h := sha256.Sum256([]byte(fmt.Sprint("every prev ", n)))
		s, _ := utxotest.BitcoreJSON([]utxotest.Input{{TxID: hex.EncodeToString(h[:]), Script: fromScript, Satoshis: 100000}},
			[]utxotest.Output{{Script: goodScript, Satoshis: amount}, {Script: fromScript, Satoshis: 99000 - amount}}, 0)
		return s
	}
	pol := "version: 1\nchains:\n  BTC:\n    destinations: [\"" + good + "\"]\n    maxAmount: 50000\n"
	f, _ := policy.Parse([]byte(pol))
	p, _ := policy.New(f, nil)
	pa, _ := policy.NewApprover(p, nil)
	path := filepath.Join(dir, "audit.log")
	sink, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr := audit.NewTrail(sink, "every", nil)
	pa.OnDecide = tr.NotePolicy
	api := tatum.New(tatum.Options{BaseURL: srv.URL, APIKey: srv.APIKey, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Timeout: 10 * time.Second})
	d, err := daemon.New(daemon.Config{Backend: store, API: api, Signers: signers, Chains: []string{"BTC"}, Testnet: true, Journal: journal.NewMemory(),
		ExternalURL: fourEye.URL + "/approve", Approvers: []daemon.Approver{pa, tr.Approver()},
		OnDecision: tr.OnDecision, OnEvent: tr.OnEvent, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	signed := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: pay(1000), Hashes: []string{"btc-a"}})
	byPolicy := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: pay(60000), Hashes: []string{"btc-a"}})
	byFourEye := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: pay(1000), Hashes: []string{"btc-a"}})
	veto.Store(byFourEye, true)
	failed := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: pay(1000), Hashes: []string{"btc-a", "not-in-store"}})
	d.RunCycle(ctx)
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err := audit.Verify(path); err != nil || !r.OK() {
		t.Fatalf("verify %+v %v", r, err)
	}
	want := map[string]string{signed: "completed", byPolicy: "decision/refused/policy", byFourEye: "decision/refused/four-eye", failed: "failed"}
	for id, w := range want {
		es := entriesFor(t, path, id)
		got := []string{}
		for _, e := range es {
			k := e.Event
			if e.Event == "decision" {
				k += "/" + e.Result + "/" + e.Approver
			}
			got = append(got, k)
		}
		if !slices.Contains(got, w) {
			t.Errorf("%s: entries %v, want %s", id, got, w)
		}
		// Every entry names the wallets, a four-eye refusal too (four-eye
		// answers before the trail's approver is asked).
		for _, e := range es {
			if !slices.Contains(e.SignatureIDs, "btc-a") {
				t.Errorf("%s: %s entry without the signatureIds: %+v", id, e.Event, e)
			}
		}
		if srv.Broadcasts(id) != 0 && id != signed {
			t.Errorf("%s broadcast", id)
		}
	}
}

// TestAuditWithoutPolicy: the trail alone (no policy decoded the
// transaction) records the destinations and fee decoded from the signed
// bytes, from the one parse it shares with the signer.
func TestAuditWithoutPolicy(t *testing.T) {
	ctx := context.Background()
	from := key("alone from")
	_, fromScript := p2wpkh(from)
	dest, destScript := p2wpkh(key("alone dest"))
	store := btcStore(t, "btc-a", from)
	srv := tatumtest.New(tatumtest.Options{})
	t.Cleanup(srv.Close)
	path := filepath.Join(t.TempDir(), "audit.log")
	sink, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr := audit.NewTrail(sink, "alone", nil)
	api := tatum.New(tatum.Options{BaseURL: srv.URL, APIKey: srv.APIKey, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Timeout: 10 * time.Second})
	d, err := daemon.New(daemon.Config{Backend: store, API: api, Signers: signers, Chains: []string{"BTC"}, Testnet: true, Journal: journal.NewMemory(),
		Approvers: []daemon.Approver{tr.Approver()}, OnDecision: tr.OnDecision, OnEvent: tr.OnEvent, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("alone prev"))
	s, _ := utxotest.BitcoreJSON([]utxotest.Input{{TxID: hex.EncodeToString(h[:]), Script: fromScript, Satoshis: 100000}},
		[]utxotest.Output{{Script: destScript, Satoshis: 31337}, {Script: fromScript, Satoshis: 68000}}, 0)
	id := srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: s, Hashes: []string{"btc-a"}})
	if cs := d.RunCycle(ctx); cs.Broadcast != 1 {
		t.Fatalf("cycle %+v", cs)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range entriesFor(t, path, id) {
		if e.Event != "signed" {
			continue
		}
		found = true
		if len(e.Destinations) != 1 || e.Destinations[0].Address != dest || e.Destinations[0].Amount != "31337" || e.Fee != "663" || e.TxID == "" {
			t.Errorf("signed entry %+v, want %s 31337, fee 663 and the txid", e, dest)
		}
	}
	if !found {
		t.Fatal("no signed entry")
	}
}
