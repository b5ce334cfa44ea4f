package daemon_test

// The five attacks of issue 12, played by someone who controls the Tatum
// API (or the network in front of the approvals service). Each test fails
// when the check it covers is removed.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/signing/evm/evmtest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// Attack 1: an approvals service behind a sign-in proxy redirects an
// unauthenticated check to a login page that answers 200. Neither that nor
// any other non-2xx, a timeout, a reset or a cut-off body approves.
func TestAttackFourEyeStrict(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		client  *http.Client
	}{
		{name: "redirect to a 200 login page", handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/login" {
				_, _ = io.WriteString(w, "<html>sign in</html>")
				return
			}
			http.Redirect(w, r, "/login", http.StatusFound)
		}},
		{name: "307 keeps the method", handler: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/login" {
				w.WriteHeader(http.StatusOK)
				return
			}
			http.Redirect(w, r, "/login", http.StatusTemporaryRedirect)
		}},
		{name: "304", handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) }},
		{name: "100-level and 500", handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }},
		{name: "timeout", client: &http.Client{Timeout: 200 * time.Millisecond}, handler: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}},
		{name: "reset", handler: func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.(*net.TCPConn).SetLinger(0)
			_ = conn.Close()
		}},
		{name: "body cut off", handler: func(w http.ResponseWriter, r *http.Request) {
			conn, buf, _ := w.(http.Hijacker).Hijack()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\napproved")
			_ = buf.Flush()
			_ = conn.(*net.TCPConn).SetLinger(0)
			_ = conn.Close()
		}},
	}
	for _, method := range []string{"GET", "POST"} {
		for _, tc := range cases {
			t.Run(method+"/"+tc.name, func(t *testing.T) {
				f := newFixture(t)
				id := f.enqueuePK()
				var asked atomic.Int32
				ext := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					asked.Add(1)
					tc.handler(w, r)
				}))
				defer ext.Close()
				d := f.daemon(func(c *daemon.Config) {
					c.ExternalURL, c.ExternalURLMethod, c.HTTPClient = ext.URL+"/kms/approve", method, tc.client
				})
				if err := d.RunOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
				if asked.Load() == 0 {
					t.Fatal("the approvals service was never asked")
				}
				if n := f.srv.Broadcasts(id); n != 0 {
					t.Fatalf("%s counted as approval: broadcast %d times", tc.name, n)
				}
				if !strings.Contains(f.logs.String(), "four-eye check refused") {
					t.Fatal("refusal not logged")
				}
			})
		}
	}
}

// The same service answering 2xx directly approves (the check is not
// simply refusing everything).
func TestFourEyeDirect2xxApproves(t *testing.T) {
	for _, code := range []int{200, 204} {
		f := newFixture(t)
		id := f.enqueuePK()
		var path string
		ext := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			path = r.URL.EscapedPath()
			w.WriteHeader(code)
		}))
		d := f.daemon(func(c *daemon.Config) { c.ExternalURL = ext.URL + "/kms/approve/" })
		if err := d.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		ext.Close()
		f.requireCompleted(id)
		if path != "/kms/approve/"+id {
			t.Fatalf("asked %q", path)
		}
	}
}

// Attack 2: a pending id that walks out of the approval path. The daemon
// refuses ids that are not Tatum ids, reports them, and never asks anyone
// about them; ids that pass are path-escaped.
func TestAttackPendingIDOutsideCharset(t *testing.T) {
	f := newFixture(t)
	var paths []string
	var mu sync.Mutex
	ext := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/healthz" { // an ordinary router's health check
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Error(w, "not approved", http.StatusForbidden)
	}))
	defer ext.Close()
	bad := []string{"../../healthz", "..%2F..%2Fhealthz", "61FE7C68CF2FBC595CBB89DD", "61fe7c68cf2fbc595cbb89d", "61fe7c68cf2fbc595cbb89dd/x", "61fe7c68cf2fbc595cbb89dd?x=1", ""}
	for _, id := range bad[:len(bad)-1] {
		f.srv.Enqueue(tatum.PendingTransaction{ID: id, Chain: "BTC", SerializedTransaction: f.spend(f.pk), Hashes: []string{"pk"}})
	}
	d := f.daemon(func(c *daemon.Config) { c.ExternalURL = ext.URL + "/kms/approve" })
	err := d.RunOnce(context.Background())
	if err == nil {
		t.Fatal("RunOnce: no failure for refused ids")
	}
	for _, p := range paths {
		if p == "/healthz" {
			t.Fatal("the id walked out of the approval path to /healthz")
		}
	}
	if len(paths) != 0 {
		t.Fatalf("the approvals service was asked about invalid ids: %v", paths)
	}
	reported := map[string]string{}
	for _, e := range f.srv.Errors() {
		reported[e.SignatureID] = e.Error
	}
	for _, id := range bad[:len(bad)-1] {
		if f.srv.Broadcasts(id) != 0 {
			t.Errorf("%q was broadcast", id)
		}
		if !strings.Contains(reported[id], "not a Tatum id") {
			t.Errorf("%q: reported %q, want a clear error", id, reported[id])
		}
	}
	// The approver on its own (another daemon loop) escapes and validates too.
	fe, err := daemon.NewFourEye(ext.URL+"/kms/approve", "GET", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = fe.Approve(context.Background(), &daemon.Proposal{Stage: daemon.StageRequest, Pending: tatum.PendingTransaction{ID: "../../healthz"}},
		func(context.Context, *daemon.Proposal) error { return nil })
	if err == nil || len(paths) != 0 {
		t.Fatalf("four-eye approver approved %q (asked %v)", "../../healthz", paths)
	}
}

// evmDaemon builds a daemon over w with a journal.
func (w *evmWorld) daemonWith(t testing.TB, logs *syncBuf, mod func(*daemon.Config)) *daemon.Daemon {
	t.Helper()
	if logs == nil {
		logs = &syncBuf{}
	}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := tatum.New(tatum.Options{BaseURL: w.srv.URL, APIKey: w.srv.APIKey, Logger: log, Timeout: 5 * time.Second,
		MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	cfg := daemon.Config{Backend: w.store, API: api, Signers: w.signers, Chains: []string{"ETH"}, Testnet: true, Concurrency: 4, Logger: log}
	if mod != nil {
		mod(&cfg)
	}
	d, err := daemon.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func openJournal(t testing.TB, path string) *journal.File {
	t.Helper()
	j, err := journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// Attack 3: one approved EVM pending id paid several times — after an
// ambiguous broadcast and a restart, after a poll that missed the id, and
// when the API lists the completed id again. On the simulated chain the
// recipient must receive exactly one payment.
func TestAttackEVMPaidOnce(t *testing.T) {
	w := newEVMWorld(t, 1)
	rcpt := common.HexToAddress("0x00000000000000000000000000000000000a77ac")
	jpath := filepath.Join(t.TempDir(), journal.DefaultName)
	i0 := uint32(0)
	pt := tatum.PendingTransaction{ID: tid("pay once"), Chain: "ETH", Hashes: []string{"evm-mn"}, Index: &i0,
		SerializedTransaction: fmt.Sprintf(`{"to":"%s","value":"%s"}`, rcpt.Hex(), evmtest.Ether.String())}
	id := w.srv.Enqueue(pt)

	// 1. The node accepts the transaction, but the answer is lost and the
	//    check GET /v3/kms/{id} fails too: the outcome is unknown.
	w.srv.Inject(tatumtest.Fault{Path: "/v3/ethereum/broadcast", Reset: true, AfterHandling: true})
	w.srv.Inject(tatumtest.Fault{Path: "/v3/kms/" + id, Method: "GET", Status: 500, Times: -1})
	j := openJournal(t, jpath)
	d := w.daemonWith(t, nil, func(c *daemon.Config) { c.Journal = j })
	st := d.RunCycle(context.Background())
	if st.Broadcast != 0 || w.srv.Broadcasts(id) != 1 {
		t.Fatalf("first cycle: %+v, %d broadcasts", st, w.srv.Broadcasts(id))
	}
	// The stand-in completed it (it did broadcast); make Tatum list it again
	// as if it had not, and let one poll miss it.
	w.srv.Enqueue(pt)
	w.srv.Inject(tatumtest.Fault{Path: "/v3/kms/pending/ETH", Status: 200, Body: "[]"})
	d.RunCycle(context.Background())
	// 2. Restart (the in-memory state of the old code died here).
	_ = j.Close()
	w.srv.ClearFaults()
	j = openJournal(t, jpath)
	d = w.daemonWith(t, nil, func(c *daemon.Config) { c.Journal = j })
	// The journaled transaction is on chain: completed without a resend.
	d.RunCycle(context.Background())
	sent := func() int { return w.srv.CountRequests("POST", "/v3/ethereum/broadcast") }
	if _, ok := w.srv.Completed(id); !ok || sent() != 1 {
		t.Fatalf("after restart: completed %v, %d broadcasts (want 1); reports %+v", ok, sent(), w.srv.Errors())
	}
	// 3. The API lists the completed id again, also after a restart.
	for k := 0; k < 3; k++ {
		w.srv.Enqueue(pt)
		d.RunCycle(context.Background())
		if k == 1 {
			_ = j.Close()
			j = openJournal(t, jpath)
			d = w.daemonWith(t, nil, func(c *daemon.Config) { c.Journal = j })
		}
	}
	defer j.Close()
	if sent() != 1 {
		t.Fatalf("%d broadcasts for one pending id, want 1", sent())
	}
	w.chain.Commit()
	if got := w.chain.Balance(t, rcpt); got.Cmp(evmtest.Ether) != 0 {
		t.Fatalf("recipient received %s wei for one pending id, want exactly 1 ETH (%s)", got, evmtest.Ether)
	}
	e, err := j.Get(context.Background(), id)
	if err != nil || e.Nonce == nil || *e.Nonce != 0 {
		t.Fatalf("journal entry %+v, %v", e, err)
	}
	var replayed bool
	for _, r := range w.srv.Errors() {
		if r.SignatureID == id && strings.Contains(r.Error, "refusing to sign it twice") {
			replayed = true
		}
	}
	if !replayed {
		t.Fatalf("the replayed completed id was not reported: %+v", w.srv.Errors())
	}
	// The next transaction from the same key takes the next nonce: the
	// journal neither reused nor skipped one.
	next := w.srv.Enqueue(tatum.PendingTransaction{Chain: "ETH", Hashes: []string{"evm-mn"}, Index: &i0,
		SerializedTransaction: fmt.Sprintf(`{"to":"%s","value":"1"}`, rcpt.Hex())})
	d.RunCycle(context.Background())
	tx, _ := w.mined(t, next)
	if tx.Nonce() != 1 {
		t.Fatalf("next transaction nonce %d, want 1", tx.Nonce())
	}
}

// Attack 4a (UTXO): a pending transaction of another chain in the answer to
// a BTC poll, and an LTC transaction naming a BTC wallet.
func TestAttackCrossChainUTXO(t *testing.T) {
	f := newFixture(t)
	ltc := tatum.PendingTransaction{ID: tid("ltc in btc poll"), Chain: "LTC", SerializedTransaction: f.spend(f.pk), Hashes: []string{"pk"}}
	body, _ := json.Marshal([]tatum.PendingTransaction{ltc})
	f.srv.Enqueue(ltc)
	f.srv.Inject(tatumtest.Fault{Path: "/v3/kms/pending/BTC", Status: 200, Body: string(body)})
	d := f.daemon(func(c *daemon.Config) { c.Chains = []string{"BTC"} })
	_ = d.RunOnce(context.Background())
	if f.srv.Broadcasts(ltc.ID) != 0 {
		t.Fatal("a --chain BTC daemon signed an LTC transaction")
	}
	requireReported(t, f.srv, ltc.ID, "listed when polling BTC")

	// Polling LTC too: the LTC transaction names the BTC wallet "pk".
	f2 := newFixture(t)
	ltc2 := tatum.PendingTransaction{ID: tid("ltc with btc wallet"), Chain: "LTC", SerializedTransaction: f2.spend(f2.pk), Hashes: []string{"pk"}}
	f2.srv.Enqueue(ltc2)
	d2 := f2.daemon(func(c *daemon.Config) { c.Chains = []string{"BTC", "LTC"}; c.Wallets = []string{"pk"} })
	_ = d2.RunOnce(context.Background())
	if f2.srv.Broadcasts(ltc2.ID) != 0 {
		t.Fatal("an LTC transaction was signed with a BTC wallet")
	}
	requireReported(t, f2.srv, ltc2.ID, "is a BTC wallet, but the transaction is for LTC")
}

func requireReported(t *testing.T, srv *tatumtest.Server, id, want string) {
	t.Helper()
	for _, e := range srv.Errors() {
		if e.SignatureID == id && strings.Contains(e.Error, want) {
			return
		}
	}
	t.Fatalf("%s: no report containing %q; reports %+v", id, want, srv.Errors())
}

// Attack 4b (EVM): a BSC transaction (chain id 97) in the answer to an ETH
// poll; a BSC transaction naming the ETH wallet when BSC is polled; and the
// explicit family opt-in that allows the latter.
func TestAttackCrossChainEVM(t *testing.T) {
	w := newEVMWorld(t, 0)
	bsc := func(name string) tatum.PendingTransaction {
		return tatum.PendingTransaction{ID: tid(name), Chain: "BSC", Hashes: []string{"evm-pk"},
			SerializedTransaction: fmt.Sprintf(`{"to":"%s","value":"7","gas":"21000","gasPrice":"1000000000","nonce":5,"chainId":97}`, evmRecipient)}
	}
	var bscSent atomic.Int32
	w.srv.SetBroadcaster("BSC", func(ctx context.Context, txData string) (string, error) {
		bscSent.Add(1)
		var tx types.Transaction
		b, _ := hexutil.Decode(txData)
		if err := tx.UnmarshalBinary(b); err != nil {
			return "", err
		}
		if tx.ChainId().Int64() != 97 {
			return "", fmt.Errorf("chain id %s", tx.ChainId())
		}
		return tx.Hash().Hex(), nil
	})
	// a. A BSC transaction when polling only ETH.
	a := bsc("bsc in eth poll")
	w.srv.Enqueue(a)
	body, _ := json.Marshal([]tatum.PendingTransaction{a})
	w.srv.Inject(tatumtest.Fault{Path: "/v3/kms/pending/ETH", Status: 200, Body: string(body)})
	w.daemonWith(t, nil, nil).RunCycle(context.Background())
	if bscSent.Load() != 0 || w.srv.Broadcasts(a.ID) != 0 {
		t.Fatal("a daemon polling only ETH signed a BSC transaction")
	}
	requireReported(t, w.srv, a.ID, "listed when polling ETH")
	// b. Polling BSC too, the BSC transaction names the ETH wallet.
	w.srv.ClearFaults()
	b := bsc("bsc with eth wallet")
	w.srv.Enqueue(b)
	w.daemonWith(t, nil, func(c *daemon.Config) { c.Chains = []string{"ETH", "BSC"}; c.Wallets = []string{"evm-pk"} }).RunCycle(context.Background())
	if bscSent.Load() != 0 {
		t.Fatal("a BSC transaction was signed with an ETH wallet")
	}
	requireReported(t, w.srv, b.ID, "--chain-family EVM")
	// c. With the explicit opt-in, one key signs for every EVM chain.
	c := bsc("bsc with eth wallet allowed")
	w.srv.Enqueue(c)
	w.daemonWith(t, nil, func(cfg *daemon.Config) {
		cfg.Chains, cfg.Wallets, cfg.Families = []string{"ETH", "BSC"}, []string{"evm-pk"}, []string{"EVM"}
	}).RunCycle(context.Background())
	if _, ok := w.srv.Completed(c.ID); !ok || bscSent.Load() == 0 {
		t.Fatalf("with --chain-family EVM the BSC transaction was not signed: %+v", w.srv.Errors())
	}
}

// Attack 5: --wallets bounds which keys sign, not only what is polled.
func TestAttackWalletsBoundKeys(t *testing.T) {
	f := newFixture(t)
	// Polled by "pk", but also needs the mnemonic wallet's key.
	both := f.srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: f.spend(f.pk, f.mnKey(4)),
		Hashes: []string{"pk"}, Signatures: []tatum.Signature{{ID: "mn", Index: u32(4)}}})
	ok := f.enqueuePK()
	d := f.daemon(func(c *daemon.Config) { c.Wallets = []string{"pk"} })
	_ = d.RunOnce(context.Background())
	if f.srv.Broadcasts(both) != 0 {
		t.Fatal("a wallet outside --wallets signed")
	}
	requireReported(t, f.srv, both, "not in the daemon's --wallets list")
	f.requireCompleted(ok)
}

// A testnet daemon refuses a mainnet wallet (and the reverse), for every chain.
func TestNetworkBinding(t *testing.T) {
	f := newFixture(t)
	w, _ := btcutil.NewWIF(f.pk, &chaincfg.MainNetParams, true)
	f.put(backend.Record{ID: "main", Kind: backend.PrivateKey, Chain: "BTC", Testnet: false, Secret: []byte(w.String())})
	id := f.srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: f.spend(f.pk), Hashes: []string{"main"}})
	d := f.daemon(func(c *daemon.Config) { c.Wallets = []string{"main"} })
	_ = d.RunOnce(context.Background())
	if f.srv.Broadcasts(id) != 0 {
		t.Fatal("a testnet daemon signed with a mainnet wallet")
	}
	requireReported(t, f.srv, id, "is a mainnet wallet, but the daemon runs on testnet")
}

var _ = big.NewInt
