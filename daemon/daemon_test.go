package daemon_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
	"github.com/gokms/gokms/wallet"
)

const mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// fixture is a testnet store with a BTC private-key wallet "pk" and a BTC
// mnemonic wallet "mn", a Tatum stand-in and a client for it.
type fixture struct {
	t       *testing.T
	srv     *tatumtest.Server
	store   *memory.Backend
	api     *tatum.Client
	logs    *syncBuf
	log     *slog.Logger
	pk      *btcec.PrivateKey
	wif     string
	secrets []string
	n       int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, store: memory.New(), logs: &syncBuf{}}
	f.log = slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.srv = tatumtest.New(tatumtest.Options{})
	t.Cleanup(f.srv.Close)
	f.api = tatum.New(tatum.Options{BaseURL: f.srv.URL, APIKey: f.srv.APIKey, Logger: f.log,
		MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Timeout: 5 * time.Second})
	h := sha256.Sum256([]byte("daemon test key " + t.Name()))
	f.pk, _ = btcec.PrivKeyFromBytes(h[:])
	w, _ := btcutil.NewWIF(f.pk, &chaincfg.TestNet3Params, true)
	f.wif = w.String()
	f.secrets = []string{mnemonic, f.wif, hex.EncodeToString(f.pk.Serialize()), "abandon abandon"}
	f.put(backend.Record{ID: "pk", Kind: backend.PrivateKey, Chain: "BTC", Testnet: true, Secret: []byte(f.wif)})
	f.put(backend.Record{ID: "mn", Kind: backend.Mnemonic, Chain: "BTC", Testnet: true, Secret: []byte(mnemonic)})
	t.Cleanup(f.noSecretsLogged)
	return f
}

func (f *fixture) put(r backend.Record) {
	f.t.Helper()
	if err := f.store.Put(context.Background(), r); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) noSecretsLogged() {
	logs := f.logs.String()
	for _, s := range f.secrets {
		if strings.Contains(logs, s) {
			f.t.Errorf("a secret appears in the daemon's log")
		}
	}
	for _, e := range f.srv.Errors() {
		for _, s := range f.secrets {
			if strings.Contains(e.Error, s) {
				f.t.Errorf("a secret appears in an error report")
			}
		}
	}
}

func (f *fixture) mnKey(i uint32) *btcec.PrivateKey {
	k, err := wallet.DeriveKey(wallet.BTC, mnemonic, i, true)
	if err != nil {
		f.t.Fatal(err)
	}
	return k
}

func p2wpkh(k *btcec.PrivateKey) []byte {
	a, _ := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(k.PubKey().SerializeCompressed()), &chaincfg.TestNet3Params)
	s, _ := txscript.PayToAddrScript(a)
	return s
}

func p2pkh(k *btcec.PrivateKey) []byte {
	a, _ := btcutil.NewAddressPubKeyHash(btcutil.Hash160(k.PubKey().SerializeCompressed()), &chaincfg.TestNet3Params)
	s, _ := txscript.PayToAddrScript(a)
	return s
}

// spend returns bitcore JSON spending a fresh fake output of each key.
func (f *fixture) spend(keys ...*btcec.PrivateKey) string {
	f.t.Helper()
	var ins []utxotest.Input
	for i, k := range keys {
		f.n++
		h := sha256.Sum256([]byte(fmt.Sprintf("%s prev %d", f.t.Name(), f.n)))
		script := p2wpkh(k)
		if i%2 == 1 {
			script = p2pkh(k)
		}
		ins = append(ins, utxotest.Input{TxID: hex.EncodeToString(h[:]), Vout: uint32(i), Script: script, Satoshis: 100000})
	}
	s, err := utxotest.BitcoreJSON(ins, []utxotest.Output{{Script: p2wpkh(f.pk), Satoshis: int64(len(keys))*100000 - 1000}}, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// enqueuePK enqueues a BTC transfer from the private-key wallet.
func (f *fixture) enqueuePK() string {
	return f.srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: f.spend(f.pk), Hashes: []string{"pk"}})
}

// enqueueMN enqueues a BTC transfer from index i of the mnemonic wallet.
func (f *fixture) enqueueMN(i uint32) string {
	return f.srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: f.spend(f.mnKey(i)),
		Signatures: []tatum.Signature{{ID: "mn", Index: &i}}})
}

func (f *fixture) daemon(mod func(*daemon.Config)) *daemon.Daemon {
	f.t.Helper()
	cfg := daemon.Config{Backend: f.store, API: f.api, Signers: utxoSigners, Testnet: true, Logger: f.log, Concurrency: 4}
	if mod != nil {
		mod(&cfg)
	}
	d, err := daemon.New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func (f *fixture) requireCompleted(ids ...string) {
	f.t.Helper()
	for _, id := range ids {
		if _, ok := f.srv.Completed(id); !ok {
			f.t.Errorf("%s not completed; reports %v", id, f.srv.Errors())
		}
		if n := f.srv.Broadcasts(id); n != 1 {
			f.t.Errorf("%s broadcast %d times", id, n)
		}
	}
}

func TestSignsAndBroadcastsEverything(t *testing.T) {
	f := newFixture(t)
	var signedTx sync.Map
	f.srv.SetBroadcaster("BTC", func(_ context.Context, txData string) (string, error) {
		h := sha256.Sum256([]byte(txData))
		signedTx.Store(hex.EncodeToString(h[:]), txData)
		return hex.EncodeToString(h[:]), nil
	})
	ids := []string{f.enqueuePK(), f.enqueueMN(0), f.enqueueMN(7),
		// two inputs, one key from each wallet kind
		f.srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: f.spend(f.pk, f.mnKey(3)),
			Hashes: []string{"pk"}, Signatures: []tatum.Signature{{ID: "mn", Index: u32(3)}}})}
	d := f.daemon(nil)
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.requireCompleted(ids...)
	if len(f.srv.Errors()) != 0 {
		t.Fatalf("errors reported: %v", f.srv.Errors())
	}
	n := 0
	signedTx.Range(func(_, v any) bool { n++; return true })
	if n != len(ids) {
		t.Fatalf("%d distinct transactions broadcast", n)
	}
	// One pending call per chain with wallets, listing both wallets.
	if c := f.srv.CountRequests("POST", "/v3/kms/pending/BTC"); c != 1 {
		t.Fatalf("%d pending calls", c)
	}
	var body struct{ SignatureIDs []string }
	for _, r := range f.srv.Requests() {
		if r.Path == "/v3/kms/pending/BTC" {
			_ = json.Unmarshal(r.Body, &body)
		}
	}
	if strings.Join(body.SignatureIDs, ",") != "pk,mn" && strings.Join(body.SignatureIDs, ",") != "mn,pk" {
		t.Fatalf("polled ids %v", body.SignatureIDs)
	}
	// A second cycle finds nothing to do.
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.requireCompleted(ids...)
}

func TestFailuresAreReportedAndDoNotStopOthers(t *testing.T) {
	f := newFixture(t)
	good := f.enqueuePK()
	unknown := f.srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: f.spend(f.pk), Hashes: []string{"pk", "ghost"}})
	noIndex := f.srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: f.spend(f.mnKey(0)), Hashes: []string{"mn"}})
	wrongKey := f.srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: f.spend(f.mnKey(1)), Signatures: []tatum.Signature{{ID: "mn", Index: u32(2)}}})
	rejected := f.enqueueMN(4)
	f.srv.SetBroadcaster("BTC", func(_ context.Context, txData string) (string, error) {
		if strings.Contains(txData, hex.EncodeToString(f.mnKey(4).PubKey().SerializeCompressed())) {
			return "", fmt.Errorf("bad-txns-inputs-missingorspent")
		}
		h := sha256.Sum256([]byte(txData))
		return hex.EncodeToString(h[:]), nil
	})
	d := f.daemon(nil)
	err := d.RunOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "4 of 5 pending transaction(s) failed") {
		t.Fatalf("RunOnce: %v", err)
	}
	f.requireCompleted(good)
	want := map[string]string{
		unknown:  "signatureId ghost: no such wallet",
		noIndex:  "signatureId mn is a mnemonic wallet, but the transaction gives no index",
		wrongKey: "controlled by none of the keys of signatureId mn index 2",
		rejected: "bad-txns-inputs-missingorspent",
	}
	got := map[string]string{}
	for _, e := range f.srv.Errors() {
		got[e.SignatureID] = e.Error
	}
	for id, w := range want {
		if !strings.Contains(got[id], w) {
			t.Errorf("report for %s = %q, want it to contain %q", id, got[id], w)
		}
		if _, ok := f.srv.Completed(id); ok {
			t.Errorf("%s completed", id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("reports: %v", got)
	}
	if c := f.srv.CountRequests("POST", "/v3/tatum/kms/batch"); c != 1 {
		t.Errorf("%d batch calls, want one per cycle", c)
	}
	for _, id := range []string{unknown, noIndex, wrongKey} {
		if n := f.srv.Broadcasts(id); n != 0 {
			t.Errorf("%s broadcast %d times", id, n)
		}
	}
}

func TestFourEye(t *testing.T) {
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			f := newFixture(t)
			approved := f.enqueuePK()
			refused := f.enqueueMN(1)
			var mu sync.Mutex
			asked := map[string]string{}
			ext := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id := strings.TrimPrefix(r.URL.Path, "/approve/")
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				asked[id] = r.Method + " " + string(b)
				mu.Unlock()
				if id != approved {
					http.Error(w, "unknown transaction", http.StatusNotFound)
				}
			}))
			defer ext.Close()
			d := f.daemon(func(c *daemon.Config) {
				c.ExternalURL = ext.URL + "/approve/"
				c.ExternalURLMethod = strings.ToLower(method)
			})
			if err := d.RunOnce(context.Background()); err != nil {
				t.Fatal(err) // a refusal is not a failure
			}
			f.requireCompleted(approved)
			if _, ok := f.srv.Completed(refused); ok || f.srv.Broadcasts(refused) != 0 {
				t.Fatal("refused transaction was broadcast")
			}
			if len(f.srv.Errors()) != 0 {
				t.Fatalf("refusal reported as failure: %v", f.srv.Errors())
			}
			if !strings.HasPrefix(asked[approved], method) || !strings.HasPrefix(asked[refused], method) {
				t.Fatalf("asked %v", asked)
			}
			if method == "POST" && !strings.Contains(asked[refused], `"id":"`+refused+`"`) {
				t.Fatalf("POST body %q lacks the pending transaction", asked[refused])
			}
			if !strings.Contains(f.logs.String(), "four-eye check refused") {
				t.Fatal("refusal not logged")
			}
			// An unreachable endpoint refuses too.
			ext.Close()
			again := f.enqueuePK()
			if err := d.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if f.srv.Broadcasts(again) != 0 {
				t.Fatal("signed without a four-eye answer")
			}
		})
	}
}

func TestMainnetNeedsExternalURL(t *testing.T) {
	_, err := daemon.New(daemon.Config{Backend: memory.New(), API: tatum.New(tatum.Options{}), Signers: utxoSigners})
	if err == nil || !strings.Contains(err.Error(), "--externalUrl is mandatory on mainnet") {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cfg  daemon.Config
		want string
	}{
		{daemon.Config{Testnet: true, Chains: []string{"SOL"}}, "--chain SOL: gokms cannot sign it"},
		{daemon.Config{Testnet: true, ExternalURLMethod: "PUT"}, `--externalUrlMethod "PUT": want GET or POST`},
	} {
		c.cfg.Backend, c.cfg.API, c.cfg.Signers = memory.New(), tatum.New(tatum.Options{}), utxoSigners
		if _, err := daemon.New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}

// TestBroadcast500BeforeHandling: Tatum answers 500 without broadcasting.
// The outcome is unknown to the daemon, so nothing is reported and nothing
// is signed again; the next cycle checks GET /v3/kms/{id}, sees no txId and
// sends the very same bytes once.
func TestBroadcast500BeforeHandling(t *testing.T) {
	f := newFixture(t)
	id := f.enqueuePK()
	f.srv.Inject(tatumtest.Fault{Path: "/v3/bitcoin/broadcast", Status: 500})
	var signs atomic.Int32
	d := f.daemon(func(c *daemon.Config) {
		c.Sign = func(ctx context.Context, r signing.Request, k signing.KeySource) (signing.Signed, error) {
			signs.Add(1)
			return utxoSigners.SignDetailed(ctx, r, k)
		}
	})
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.srv.Completed(id); ok || len(f.srv.Errors()) != 0 {
		t.Fatal("ambiguous broadcast completed or reported")
	}
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.requireCompleted(id)
	if signs.Load() != 1 {
		t.Fatalf("signed %d times", signs.Load())
	}
	var bodies []string
	for _, r := range f.srv.Requests() {
		if r.Path == "/v3/bitcoin/broadcast" {
			bodies = append(bodies, string(r.Body))
		}
	}
	if len(bodies) != 2 || bodies[0] != bodies[1] {
		t.Fatalf("broadcast requests differ or count %d", len(bodies))
	}
	if f.srv.CountRequests("GET", "/v3/kms/"+id) < 2 {
		t.Fatal("the second cycle did not check the transaction first")
	}
	// A third cycle has nothing left.
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.requireCompleted(id)
}

// TestBroadcast500AfterHandling: Tatum broadcast and completed, then the
// answer was lost. The client's check finds the txId: done, never resent.
func TestBroadcast500AfterHandling(t *testing.T) {
	f := newFixture(t)
	id := f.enqueueMN(2)
	f.srv.Inject(tatumtest.Fault{Path: "/v3/bitcoin/broadcast", Status: 500, AfterHandling: true})
	d := f.daemon(nil)
	for range 2 {
		if err := d.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	f.requireCompleted(id)
}

// TestAmbiguousThenBroadcastElsewhere: after an unknown outcome, the next
// cycle finds the txId on GET and does not send again.
func TestAmbiguousThenFoundBroadcast(t *testing.T) {
	f := newFixture(t)
	id := f.enqueuePK()
	// Broadcast handled, answer lost, and the client's own check fails too.
	f.srv.Inject(tatumtest.Fault{Path: "/v3/bitcoin/broadcast", Reset: true, AfterHandling: true})
	f.srv.Inject(tatumtest.Fault{Path: "/v3/kms/" + id, Method: "GET", Status: 500, Times: 4})
	d := f.daemon(func(c *daemon.Config) { c.Wallets = []string{"pk"} })
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.srv.Broadcasts(id) != 1 {
		t.Fatalf("broadcasts %d", f.srv.Broadcasts(id))
	}
	// Tatum completed it, so it is no longer pending: nothing happens.
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.requireCompleted(id)
}

// TestCompleteRetriedNotRebroadcast: Tatum does not complete the pending
// transaction itself and the daemon's PUT fails; the next cycle retries the
// PUT and never broadcasts again.
func TestCompleteRetriedNotRebroadcast(t *testing.T) {
	f := newFixture(t)
	f.srv.Close()
	f.srv = tatumtest.New(tatumtest.Options{NoAutoComplete: true})
	t.Cleanup(f.srv.Close)
	f.api = tatum.New(tatum.Options{BaseURL: f.srv.URL, APIKey: f.srv.APIKey, Logger: f.log, Retries: -1})
	id := f.enqueuePK()
	f.srv.Inject(tatumtest.Fault{Path: "/v3/kms/" + id + "/", Method: "PUT", Status: 500})
	d := f.daemon(nil)
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.srv.Completed(id); ok {
		t.Fatal("completed despite the fault")
	}
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.requireCompleted(id)
}

func TestPollFailure(t *testing.T) {
	f := newFixture(t)
	f.enqueuePK()
	f.srv.Inject(tatumtest.Fault{Path: "/v3/kms/pending/", Status: 503, Times: -1})
	d := f.daemon(nil)
	err := d.RunOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "1 chain poll(s) failed") {
		t.Fatalf("err = %v", err)
	}
	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"failing"`) {
		t.Fatalf("healthz %d %s", rec.Code, rec.Body)
	}
}

func TestTransactionIDsFilter(t *testing.T) {
	f := newFixture(t)
	a, b := f.enqueuePK(), f.enqueueMN(0)
	d := f.daemon(func(c *daemon.Config) { c.TransactionIDs = []string{b} })
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.requireCompleted(b)
	if f.srv.Broadcasts(a) != 0 {
		t.Fatal("filtered transaction broadcast")
	}
}

// TestNewWalletsPickedUp: wallets stored while the daemon runs are polled
// from the next cycle on, without a restart.
func TestNewWalletsPickedUp(t *testing.T) {
	f := newFixture(t)
	k, _ := btcec.NewPrivateKey()
	w, _ := btcutil.NewWIF(k, &chaincfg.TestNet3Params, true)
	f.secrets = append(f.secrets, w.String())
	id := f.srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: f.spend(k), Hashes: []string{"late"}})
	d := f.daemon(nil)
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.srv.Broadcasts(id) != 0 {
		t.Fatal("signed for an unknown wallet")
	}
	f.put(backend.Record{ID: "late", Kind: backend.PrivateKey, Chain: "BTC", Testnet: true, Secret: []byte(w.String())})
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.requireCompleted(id)
}

// TestConcurrencyBounded: at most Concurrency broadcasts at once, every
// transaction done once.
func TestConcurrencyBounded(t *testing.T) {
	f := newFixture(t)
	var cur, peak atomic.Int32
	f.srv.SetBroadcaster("BTC", func(_ context.Context, txData string) (string, error) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		cur.Add(-1)
		h := sha256.Sum256([]byte(txData))
		return hex.EncodeToString(h[:]), nil
	})
	var ids []string
	for i := range 24 {
		if i%2 == 0 {
			ids = append(ids, f.enqueuePK())
		} else {
			ids = append(ids, f.enqueueMN(uint32(i)))
		}
	}
	d := f.daemon(func(c *daemon.Config) { c.Concurrency = 3 })
	if err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.requireCompleted(ids...)
	if peak.Load() > 3 {
		t.Fatalf("%d broadcasts at once", peak.Load())
	}
}

// TestShutdownFinishesInFlight: when the context ends mid-cycle, the
// transactions already started complete and nothing new starts.
func TestShutdownFinishesInFlight(t *testing.T) {
	f := newFixture(t)
	const conc = 2
	const most = conc + daemon.WaitersPerSlot*conc // broadcasting, and signed waiting for a slot
	started := make(chan struct{}, most+10)
	release := make(chan struct{})
	f.srv.SetBroadcaster("BTC", func(_ context.Context, txData string) (string, error) {
		started <- struct{}{}
		<-release
		h := sha256.Sum256([]byte(txData))
		return hex.EncodeToString(h[:]), nil
	})
	var ids []string
	for range most + 10 {
		ids = append(ids, f.enqueuePK())
	}
	d := f.daemon(func(c *daemon.Config) { c.Concurrency = conc })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	<-started
	<-started
	cancel()
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	completed := 0
	for _, id := range ids {
		if _, ok := f.srv.Completed(id); ok {
			completed++
		}
		if f.srv.Broadcasts(id) > 1 {
			t.Fatal("double broadcast")
		}
	}
	// The two in flight finished, with those signed and journaled while
	// the two waited for their journal commit (at most WaitersPerSlot ×
	// Concurrency: they gave their slot up meanwhile); no others were
	// started after the cancel.
	if completed < conc || completed > most {
		t.Fatalf("%d of %d completed, want the %d in flight and at most %d journaled meanwhile", completed, len(ids), conc, most-conc)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	f := newFixture(t)
	f.enqueuePK()
	f.enqueueMN(1)
	f.srv.Enqueue(tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: f.spend(f.pk), Hashes: []string{"mn"}})
	d := f.daemon(nil)
	_ = d.RunOnce(context.Background())
	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`gokms_daemon_pending_seen_total{chain="BTC"} 3`,
		`gokms_daemon_signed_total{chain="BTC"} 2`,
		`gokms_daemon_broadcast_total{chain="BTC"} 2`,
		`gokms_daemon_failed_total{chain="BTC",stage="sign"} 1`,
		`gokms_daemon_sign_seconds_count{chain="BTC"} 3`,
		`gokms_daemon_broadcast_seconds_count{chain="BTC"} 2`,
		`gokms_daemon_cycle_seconds_count 1`,
		`gokms_daemon_in_flight 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, s := range append(f.secrets, "mn", "pk") {
		if strings.Contains(body, `"`+s+`"`) {
			t.Errorf("metrics contain %q", s)
		}
	}
	rec = httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"ok"`) {
		t.Fatalf("healthz %d %s", rec.Code, rec.Body)
	}
}

func TestCheck(t *testing.T) {
	f := newFixture(t)
	d := f.daemon(nil)
	if err := d.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	bad := &failingBackend{SecretBackend: f.store}
	d2, err := daemon.New(daemon.Config{Backend: bad, API: f.api, Signers: utxoSigners, Testnet: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := d2.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("Check = %v", err)
	}
}

type failingBackend struct{ backend.SecretBackend }

func (b *failingBackend) Get(context.Context, string) (backend.Record, error) {
	return backend.Record{}, fmt.Errorf("file backend: %w", backend.ErrBadPassword)
}

func u32(v uint32) *uint32 { return &v }

// tid turns a test's name for a pending transaction into a Tatum-style id
// (24 lower-case hex digits); an id already in that form is kept.
func tid(name string) string {
	if len(name) == 24 && strings.Trim(name, "0123456789abcdef") == "" {
		return name
	}
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:12])
}

// TestPanicIsOneFailure: a signer bug fails its transaction, not the daemon.
func TestPanicIsOneFailure(t *testing.T) {
	f := newFixture(t)
	bad, good := f.enqueueMN(3), f.enqueuePK()
	d := f.daemon(func(c *daemon.Config) {
		c.Sign = func(ctx context.Context, r signing.Request, k signing.KeySource) (signing.Signed, error) {
			if r.ID == bad {
				var m map[string]int
				m["boom"]++ // nil map write: a panic
			}
			return utxoSigners.SignDetailed(ctx, r, k)
		}
	})
	err := d.RunOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "1 of 2") {
		t.Fatalf("RunOnce: %v", err)
	}
	f.requireCompleted(good)
	if e := f.srv.Errors(); len(e) != 1 || e[0].SignatureID != bad || !strings.Contains(e[0].Error, "internal error") {
		t.Fatalf("reports %v", e)
	}
}

// keepKey is keepingApprover's Proposal.Keep key.
type keepKey struct{}

// keepingApprover keeps a value at StageRequest and records what
// StageSigned finds under its key.
type keepingApprover struct {
	mu    sync.Mutex
	found map[string]any
}

func (*keepingApprover) Name() string { return "keeper" }
func (a *keepingApprover) Approve(ctx context.Context, p *daemon.Proposal, next daemon.Next) error {
	switch p.Stage {
	case daemon.StageRequest:
		p.Keep(keepKey{}, "kept for "+p.Pending.ID)
	case daemon.StageSigned:
		v, _ := p.Kept(keepKey{})
		a.mu.Lock()
		a.found[p.Pending.ID] = v
		a.mu.Unlock()
	}
	return next(ctx, p)
}

// What an approver keeps at StageRequest it finds at StageSigned of the
// same transaction, and of no other (the policy keeps its parse of the
// pending transaction so).
func TestProposalKeptAcrossStages(t *testing.T) {
	f := newFixture(t)
	ids := []string{f.enqueuePK(), f.enqueuePK()}
	a := &keepingApprover{found: map[string]any{}}
	d := f.daemon(func(cfg *daemon.Config) { cfg.Approvers = []daemon.Approver{a} })
	if st := d.RunCycle(context.Background()); st.Broadcast != 2 {
		t.Fatalf("cycle %+v", st)
	}
	for _, id := range ids {
		if got, want := a.found[id], "kept for "+id; got != want {
			t.Errorf("%s: StageSigned found %v, want %q", id, got, want)
		}
	}
	var p daemon.Proposal // built outside the daemon: keeps nothing
	p.Keep(keepKey{}, 1)
	if v, ok := p.Kept(keepKey{}); ok {
		t.Fatalf("a proposal the daemon did not build kept %v", v)
	}
}

// shortcutApprover approves at stage without asking the approvers after
// it (a buggy or hostile approver); it passes other stages on.
type shortcutApprover struct{ stage daemon.Stage }

func (shortcutApprover) Name() string { return "shortcut" }
func (a shortcutApprover) Approve(ctx context.Context, p *daemon.Proposal, next daemon.Next) error {
	if p.Stage == a.stage {
		return nil
	}
	return next(ctx, p)
}

// copyApprover passes a copy of the proposal on at stage: what the
// approvers after it register on the copy (the audit trail's wait for its
// entry's fsync) would never reach the daemon.
type copyApprover struct{ stage daemon.Stage }

func (copyApprover) Name() string { return "copier" }
func (a copyApprover) Approve(ctx context.Context, p *daemon.Proposal, next daemon.Next) error {
	if p.Stage == a.stage {
		cp := *p
		return next(ctx, &cp)
	}
	return next(ctx, p)
}

// stagesApprover passes everything on and records the stages it saw.
type stagesApprover struct {
	mu   sync.Mutex
	seen []daemon.Stage
}

func (*stagesApprover) Name() string { return "last" }
func (a *stagesApprover) Approve(ctx context.Context, p *daemon.Proposal, next daemon.Next) error {
	a.mu.Lock()
	a.seen = append(a.seen, p.Stage)
	a.mu.Unlock()
	return next(ctx, p)
}

// An approver that approves without passing the proposal on would let a
// transaction past the approvers after it (four-eye, the audit trail):
// the daemon refuses it instead, at either stage, and broadcasts nothing.
// So does one that passes a copy on: a wait that the audit trail registers
// on the copy (BeforeBroadcast) would be lost, and the broadcast would not
// wait for the trail's fsync.
func TestApproverThatSkipsTheRestRefuses(t *testing.T) {
	for _, bad := range []func(daemon.Stage) daemon.Approver{
		func(s daemon.Stage) daemon.Approver { return shortcutApprover{s} },
		func(s daemon.Stage) daemon.Approver { return copyApprover{s} },
	} {
		for _, stage := range []daemon.Stage{daemon.StageRequest, daemon.StageSigned} {
			a := bad(stage)
			t.Run(a.Name()+"/"+string(stage), func(t *testing.T) {
				f := newFixture(t)
				id := f.enqueuePK()
				last := &stagesApprover{}
				var mu sync.Mutex
				var refusals []daemon.Decision
				d := f.daemon(func(cfg *daemon.Config) {
					cfg.Approvers = []daemon.Approver{a, last}
					cfg.OnDecision = func(dec daemon.Decision) {
						if !dec.Approved {
							mu.Lock()
							refusals = append(refusals, dec)
							mu.Unlock()
						}
					}
				})
				st := d.RunCycle(context.Background())
				if st.Broadcast != 0 || f.srv.Broadcasts(id) != 0 {
					t.Fatalf("BROADCAST past the approvers after %s: %+v", a.Name(), st)
				}
				if _, skips := a.(shortcutApprover); skips && slices.Contains(last.seen, stage) {
					t.Fatalf("the last approver saw %s: %v", stage, last.seen)
				}
				if len(refusals) != 1 || refusals[0].Approver != a.Name() || refusals[0].Stage != stage ||
					!strings.Contains(refusals[0].Reason, "approved without passing") {
					t.Fatalf("refusals %+v", refusals)
				}
			})
		}
	}
}

// New refuses more approvers than a proposal can track.
func TestTooManyApprovers(t *testing.T) {
	f := newFixture(t)
	as := make([]daemon.Approver, 65)
	for i := range as {
		as[i] = &stagesApprover{}
	}
	cfg := daemon.Config{Backend: f.store, API: f.api, Signers: utxoSigners, Testnet: true, Logger: f.log, Approvers: as}
	if _, err := daemon.New(cfg); err == nil || !strings.Contains(err.Error(), "at most 64") {
		t.Fatalf("New with 65 approvers: %v", err)
	}
}
