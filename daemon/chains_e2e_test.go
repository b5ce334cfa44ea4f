package daemon_test

// The shared part of the daemon end-to-end tests of the chains wired through
// kms.Signers' family list (TRON, SOL, XLM, XRP: tron_e2e_test.go, ...): the
// Set is the one `gokms daemon` builds, the Tatum API the stand-in, the
// journal a file reopened across a restart, four-eye a real HTTP server.

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// chainWorld is the BTC fixture (its wallets "pk" and "mn" serve as
// another chain's wallets) plus the signers kms.Signers builds, a file
// journal and a four-eye server that refuses the ids in deny.
type chainWorld struct {
	*fixture
	chain string
	set   *signing.Set
	jpath string
	j     *journal.File
	ext   *httptest.Server

	// beforeSign, if set, runs before each signature, under signMu (SOL
	// gives the node the blockhash of the SDK's vector for the id).
	beforeSign func(req signing.Request)
	signMu     sync.Mutex

	mu     sync.Mutex
	signs  map[string]int  // signatures made per pending id, across restarts
	asked  map[string]bool // four-eye requests per pending id
	denied map[string]bool
}

func newChainWorld(t *testing.T, chain string, cfg kms.SignerConfig) *chainWorld {
	t.Helper()
	w := &chainWorld{fixture: newFixture(t), chain: chain, signs: map[string]int{}, asked: map[string]bool{}, denied: map[string]bool{}}
	cfg.Testnet = true
	set, closeSet, err := kms.Signers(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeSet)
	w.set = set
	w.jpath = filepath.Join(t.TempDir(), journal.DefaultName)
	w.j = openJournal(t, w.jpath)
	t.Cleanup(func() { _ = w.j.Close() })
	w.ext = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/approve/")
		w.mu.Lock()
		w.asked[id] = true
		deny := w.denied[id]
		w.mu.Unlock()
		if deny {
			http.Error(rw, "unknown transaction", http.StatusNotFound)
		}
	}))
	t.Cleanup(w.ext.Close)
	return w
}

// daemon is a daemon for w.chain on the journal, with four-eye, counting
// the signatures it makes.
func (w *chainWorld) daemon() *daemon.Daemon {
	metas, err := w.store.List(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	var ids []string
	for _, m := range metas {
		ids = append(ids, m.ID)
	}
	return w.fixture.daemon(func(c *daemon.Config) {
		c.Signers = w.set
		// Every stored wallet polled for the chain, the BTC ones too, so that
		// the API can list a transaction naming another chain's wallet.
		c.Wallets = ids
		c.Chains = []string{w.chain}
		c.Journal = w.j
		c.ExternalURL = w.ext.URL + "/approve/"
		c.Sign = func(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
			if w.beforeSign != nil {
				w.signMu.Lock()
				defer w.signMu.Unlock()
				w.beforeSign(req)
			}
			s, err := w.set.SignDetailed(ctx, req, keys)
			if err == nil {
				w.mu.Lock()
				w.signs[req.ID]++
				w.mu.Unlock()
			}
			return s, err
		}
	})
}

// restart closes the journal and opens it again, as a new process would.
func (w *chainWorld) restart() {
	w.t.Helper()
	if err := w.j.Close(); err != nil {
		w.t.Fatal(err)
	}
	w.j = openJournal(w.t, w.jpath)
}

func (w *chainWorld) signCount(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.signs[id]
}

// bodies returns the bodies of the broadcast requests for pending id, in order.
func (w *chainWorld) bodies(path, id string) []string {
	var out []string
	for _, r := range w.srv.Requests() {
		if r.Method == http.MethodPost && r.Path == path && strings.Contains(string(r.Body), `"signatureId":"`+id+`"`) {
			out = append(out, string(r.Body))
		}
	}
	return out
}

// tatumKMSBody is what tatum-kms posts to /v3/<chain>/broadcast:
// JSON.stringify({txData, signatureId}) (no HTML escaping).
func tatumKMSBody(txData, id string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		TxData      string `json:"txData"`
		SignatureID string `json:"signatureId"`
	}{txData, id})
	return strings.TrimSuffix(b.String(), "\n")
}

// e2eTx is one pending transaction and the txData tatum-kms broadcasts for
// it ("" when no SDK vector exists for it: then only the independent
// verification of the broadcaster judges it).
type e2eTx struct {
	pt     tatum.PendingTransaction
	txData string
}

// e2eRefusal is a pending transaction the signer must refuse, and what
// the report to Tatum says.
type e2eRefusal struct {
	pt   tatum.PendingTransaction
	want string
}

// runChainE2E drives the common part: every tx signed once, broadcast with
// tatum-kms's body and completed; a four-eye refusal neither signed nor
// reported; each refusal and another chain's wallet reported to
// /v3/tatum/kms/batch; a completed id listed again refused. path is the
// chain's broadcast endpoint. crash, if set, runs between the first cycle
// and the replay (the restart scenario of each chain).
func runChainE2E(t *testing.T, w *chainWorld, path string, txs []e2eTx, refusals []e2eRefusal, crash func(t *testing.T)) {
	t.Helper()
	for _, tx := range txs {
		w.srv.Enqueue(tx.pt)
	}
	denied := txs[0].pt
	denied.ID = tid(t.Name() + " four-eye denied")
	w.mu.Lock()
	w.denied[denied.ID] = true
	w.mu.Unlock()
	w.srv.Enqueue(denied)
	for _, r := range refusals {
		w.srv.Enqueue(r.pt)
	}
	// Another chain's wallet: the BTC wallet "pk" named by this chain's transaction.
	cross := txs[0].pt
	cross.ID, cross.Hashes, cross.Signatures, cross.Index = tid(t.Name()+" cross chain"), []string{"pk"}, nil, nil
	w.srv.Enqueue(cross)

	d := w.daemon()
	d.RunCycle(context.Background())

	for _, tx := range txs {
		id := tx.pt.ID
		if _, ok := w.srv.Completed(id); !ok {
			t.Errorf("%s not completed; reports %+v", id, w.srv.Errors())
			continue
		}
		got := w.bodies(path, id)
		if want := tatumKMSBody(tx.txData, id); len(got) != 1 || (tx.txData != "" && got[0] != want) {
			t.Errorf("%s: broadcast bodies %q, want tatum-kms's %q once", id, got, want)
		}
		if n := w.signCount(id); n != 1 {
			t.Errorf("%s signed %d times", id, n)
		}
		if !w.asked[id] {
			t.Errorf("%s signed without the four-eye check", id)
		}
	}
	if !w.asked[denied.ID] || w.signCount(denied.ID) != 0 || len(w.bodies(path, denied.ID)) != 0 {
		t.Errorf("four-eye refusal: asked %v, signed %d, broadcast %d", w.asked[denied.ID], w.signCount(denied.ID), len(w.bodies(path, denied.ID)))
	}
	for _, e := range w.srv.Errors() {
		if e.SignatureID == denied.ID {
			t.Errorf("a four-eye refusal was reported as a failure: %s", e.Error)
		}
	}
	for _, r := range refusals {
		requireReported(t, w.srv, r.pt.ID, r.want)
		if w.signCount(r.pt.ID) != 0 || len(w.bodies(path, r.pt.ID)) != 0 {
			t.Errorf("%s: refused transaction signed or broadcast", r.pt.ID)
		}
	}
	requireReported(t, w.srv, cross.ID, "is a BTC wallet, but the transaction is for "+w.chain)
	if w.signCount(cross.ID) != 0 {
		t.Error("signed with another chain's wallet")
	}

	if crash != nil {
		crash(t)
	}

	// The API lists a completed id again: refused, nothing signed or sent.
	w.restart()
	before := len(w.bodies(path, txs[0].pt.ID))
	w.srv.Enqueue(txs[0].pt)
	w.daemon().RunCycle(context.Background())
	requireReported(t, w.srv, txs[0].pt.ID, "refusing to sign it twice")
	if n := w.signCount(txs[0].pt.ID); n != 1 || len(w.bodies(path, txs[0].pt.ID)) != before {
		t.Errorf("replayed id signed %d times, broadcast %d more times", n, len(w.bodies(path, txs[0].pt.ID))-before)
	}
	w.noSecretsInJournal()
}

// crashResend: the broadcast fails (500 before Tatum acts), the daemon
// stops; a restarted daemon resends the journaled bytes, never signs again.
func (w *chainWorld) crashResend(t *testing.T, path string, tx e2eTx) {
	t.Helper()
	w.srv.Inject(faultOn(path))
	w.srv.Enqueue(tx.pt)
	w.daemon().RunCycle(context.Background())
	w.srv.ClearFaults()
	requireReported(t, w.srv, tx.pt.ID, "resends the same signed transaction")
	if _, ok := w.srv.Completed(tx.pt.ID); ok {
		t.Fatal("completed although the broadcast failed")
	}
	w.restart()
	w.daemon().RunCycle(context.Background())
	if _, ok := w.srv.Completed(tx.pt.ID); !ok {
		t.Fatalf("not completed after the restart; reports %+v", w.srv.Errors())
	}
	want := tatumKMSBody(tx.txData, tx.pt.ID)
	got := w.bodies(path, tx.pt.ID)
	if len(got) != 2 || got[0] != want || got[1] != want {
		t.Errorf("bodies %q, want the same signed transaction twice", got)
	}
	if n := w.signCount(tx.pt.ID); n != 1 {
		t.Errorf("signed %d times across the restart", n)
	}
}

func faultOn(path string) tatumtest.Fault {
	return tatumtest.Fault{Path: path, Method: http.MethodPost, Status: http.StatusForbidden}
}

// noSecretsInJournal: the journal file holds signed transactions, never keys.
func (w *chainWorld) noSecretsInJournal() {
	w.t.Helper()
	b, err := os.ReadFile(w.jpath)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, s := range w.secrets {
		if bytes.Contains(b, []byte(s)) {
			w.t.Error("a secret appears in the journal")
		}
	}
}

// The wired chains are signed, so the daemon's "unsignable wallets"
// warning, metric and reports no longer count them, and --chain takes them.
func TestWiredChainsAreSignable(t *testing.T) {
	set, closeSet, err := kms.Signers(kms.SignerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeSet()
	wired := []string{"TRON", "SOL", "XLM", "XRP"}
	var metas []backend.Meta
	for _, c := range wired {
		metas = append(metas, backend.Meta{ID: c + "-main", Chain: c}, backend.Meta{ID: c + "-test", Chain: strings.ToLower(c), Testnet: true})
	}
	if got := daemon.UnsignableWallets(set, metas); len(got) != 0 {
		t.Fatalf("counted as unsignable: %s", daemon.FormatChainCounts(got))
	}
	if _, err := daemon.New(daemon.Config{Backend: memory.New(), API: tatum.New(tatum.Options{}), Testnet: true, Signers: set, Chains: wired,
		Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatalf("--chain %s: %v", strings.Join(wired, ","), err)
	}
}
