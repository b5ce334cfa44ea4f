package daemon_test

// The shared end-to-end checks of the chains wired for issue 16 (ALGO,
// EGLD, VET, ADA, FLOW): each chain's file gives a case, and
// runChainCase plays the daemon against the Tatum stand-in and the chain's
// node stand-in: the broadcast body is the one tatum-kms posts (the npm
// vectors' txData), the signature verifies independently, four-eye
// applies, failures reach /v3/tatum/kms/batch, the journal keeps a
// transaction at most once across a restart and a relisting, wallets are
// bound to their chain and network, and no secret reaches a log or report.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/utxo"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

type chainE2E struct {
	chain   string
	family  func(t *testing.T) signing.Family // on the case's node stand-in
	records []backend.Record                  // the chain's testnet wallets
	secrets []string                          // what must never be logged
	pending tatum.PendingTransaction          // signs to want (ID empty)
	path    string                            // where tatum-kms posts it
	// body is the JSON body tatum-kms posts for pending id.
	body func(id string) map[string]any
	// verify checks the broadcast txData's signature independently of
	// gokms's signer.
	verify func(t *testing.T, txData string)
	// mainnet is a mainnet record of the chain (network binding).
	mainnet backend.Record
	// sender: the chain's signer sends the journaled bytes itself
	// (signing.Sender) and Tatum is told the chain's txId, not the bytes.
	sender bool
	// once, if set, checks at the end of the at-most-once run that the
	// chain received the transaction once (the node stand-in's count).
	once func(t *testing.T)
}

// countingSign counts the daemon's signatures.
func countingSign(set *signing.Set, n *atomic.Int32) daemon.SignFunc {
	return func(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
		n.Add(1)
		return set.SignDetailed(ctx, req, keys)
	}
}

// set is the case's family with the UTXO one (the BTC wallet "pk" of the
// fixture plays the other chain's wallet).
func (c chainE2E) set(t *testing.T) *signing.Set {
	s, err := signing.NewSet(c.family(t), utxo.Family())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (c chainE2E) fixture(t *testing.T) *fixture {
	f := newFixture(t)
	for _, r := range c.records {
		f.put(r)
	}
	f.secrets = append(f.secrets, c.secrets...)
	return f
}

// bodies returns the JSON bodies posted to path.
func bodies(srv *tatumtest.Server, path string) []map[string]any {
	var out []map[string]any
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && r.Path == path {
			var m map[string]any
			_ = json.Unmarshal(r.Body, &m)
			out = append(out, m)
		}
	}
	return out
}

func runChainCase(t *testing.T, c chainE2E) {
	t.Run("signs what tatum-kms signs", func(t *testing.T) {
		f := c.fixture(t)
		set := c.set(t)
		var n atomic.Int32
		id := f.srv.Enqueue(c.pending)
		d := f.daemon(func(cfg *daemon.Config) {
			cfg.Signers = set
			cfg.Sign = countingSign(set, &n)
			cfg.Chains = []string{c.chain}
		})
		if err := d.RunOnce(context.Background()); err != nil {
			t.Fatalf("%v; reports %+v", err, f.srv.Errors())
		}
		f.requireCompleted(id)
		got := bodies(f.srv, c.path)
		if len(got) != 1 || !reflect.DeepEqual(got[0], c.body(id)) {
			t.Fatalf("posted to %s:\n%v\nwant (tatum-kms)\n%v", c.path, got, c.body(id))
		}
		c.verify(t, got[0]["txData"].(string))
		if n.Load() != 1 {
			t.Fatalf("%d signatures", n.Load())
		}
	})

	t.Run("four-eye", func(t *testing.T) {
		f := c.fixture(t)
		var mu sync.Mutex
		approve := false
		ext := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if !approve {
				http.Error(w, "no", http.StatusForbidden)
			}
		}))
		defer ext.Close()
		id := f.srv.Enqueue(c.pending)
		d := f.daemon(func(cfg *daemon.Config) {
			cfg.Signers = c.set(t)
			cfg.Chains = []string{c.chain}
			cfg.ExternalURL = ext.URL + "/approve"
		})
		_ = d.RunOnce(context.Background())
		if f.srv.Broadcasts(id) != 0 || len(bodies(f.srv, c.path)) != 0 || len(f.srv.Errors()) != 0 {
			t.Fatalf("refused by four-eye, yet %d broadcasts, reports %+v", f.srv.Broadcasts(id), f.srv.Errors())
		}
		mu.Lock()
		approve = true
		mu.Unlock()
		_ = d.RunOnce(context.Background())
		f.requireCompleted(id)
	})

	t.Run("failure reported", func(t *testing.T) {
		f := c.fixture(t)
		f.srv.SetBroadcaster(c.chain, func(context.Context, string) (string, error) {
			return "", errString("node refused the transaction")
		})
		id := f.srv.Enqueue(c.pending)
		d := f.daemon(func(cfg *daemon.Config) { cfg.Signers = c.set(t); cfg.Chains = []string{c.chain} })
		_ = d.RunOnce(context.Background())
		if _, ok := f.srv.Completed(id); ok {
			t.Fatal("completed a transaction Tatum did not broadcast")
		}
		requireReported(t, f.srv, id, "node refused the transaction")
	})

	t.Run("at most once across a restart and a relisting", func(t *testing.T) {
		f := c.fixture(t)
		set := c.set(t)
		var n atomic.Int32
		jpath := filepath.Join(t.TempDir(), journal.DefaultName)
		pt := c.pending
		pt.ID = tid(c.chain + " once")
		id := f.srv.Enqueue(pt)
		// Signed and journaled; Tatum's broadcast endpoint is down.
		f.srv.Inject(tatumtest.Fault{Path: c.path, Status: http.StatusServiceUnavailable, Times: -1})
		j := openJournal(t, jpath)
		mk := func(j journal.Journal) *daemon.Daemon {
			return f.daemon(func(cfg *daemon.Config) {
				cfg.Signers = set
				cfg.Sign = countingSign(set, &n)
				cfg.Chains = []string{c.chain}
				cfg.Journal = j
			})
		}
		mk(j).RunCycle(context.Background())
		if _, ok := f.srv.Completed(id); ok || n.Load() != 1 {
			t.Fatalf("first cycle: %d signatures", n.Load())
		}
		e, err := j.Get(context.Background(), id)
		if err != nil || e.SignedTx == "" {
			t.Fatalf("not journaled: %+v %v", e, err)
		}
		// Restart: the journaled bytes are broadcast, nothing is signed again.
		_ = j.Close()
		f.srv.ClearFaults()
		j = openJournal(t, jpath)
		defer func() { _ = j.Close() }()
		d := mk(j)
		d.RunCycle(context.Background())
		if _, ok := f.srv.Completed(id); !ok || n.Load() != 1 {
			t.Fatalf("after restart: completed %v, %d signatures (want 1); reports %+v", ok, n.Load(), f.srv.Errors())
		}
		var sent []string
		for _, b := range bodies(f.srv, c.path) {
			sent = append(sent, b["txData"].(string))
		}
		if len(sent) == 0 || (!c.sender && sent[len(sent)-1] != e.SignedTx) || sent[len(sent)-1] != c.body(id)["txData"] {
			t.Fatal("the broadcast after the restart is not the journaled bytes")
		}
		// Listed again after completion: refused, never signed again.
		f.srv.Enqueue(pt)
		d.RunCycle(context.Background())
		if n.Load() != 1 {
			t.Fatalf("a completed id was signed again (%d signatures)", n.Load())
		}
		requireReported(t, f.srv, id, "refusing to sign it twice")
		if c.once != nil {
			c.once(t)
		}
	})

	t.Run("chain and network binding", func(t *testing.T) {
		f := c.fixture(t)
		f.put(c.mainnet)
		set := c.set(t)
		other := c.pending
		other.ID = tid(c.chain + " with a BTC wallet")
		retarget(&other, "pk", nil)
		main := c.pending
		main.ID = tid(c.chain + " with a mainnet wallet")
		retarget(&main, c.mainnet.ID, c.pending.Index)
		f.srv.Enqueue(other)
		f.srv.Enqueue(main)
		d := f.daemon(func(cfg *daemon.Config) {
			cfg.Signers = set
			cfg.Chains = []string{c.chain, "BTC"}
			cfg.Wallets = []string{"pk", c.mainnet.ID}
		})
		_ = d.RunOnce(context.Background())
		if f.srv.Broadcasts(other.ID)+f.srv.Broadcasts(main.ID) != 0 {
			t.Fatal("signed with a wallet of another chain or network")
		}
		requireReported(t, f.srv, other.ID, "is a BTC wallet, but the transaction is for "+c.chain)
		requireReported(t, f.srv, main.ID, "is a mainnet wallet, but the daemon runs on testnet")
	})
}

// retarget makes pt name the one wallet id (index as given).
func retarget(pt *tatum.PendingTransaction, id string, index *uint32) {
	pt.Hashes, pt.Signatures, pt.Index = []string{id}, nil, index
	if pt.WithdrawalID != "" {
		i := uint32(0)
		if index != nil {
			i = *index
		}
		pt.Hashes, pt.Signatures = nil, []tatum.Signature{{ID: id, Index: &i}}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// txBody is the {txData, signatureId} body of a chain's broadcast.
func txBody(txData string) func(id string) map[string]any {
	return func(id string) map[string]any { return map[string]any{"txData": txData, "signatureId": id} }
}

// readVectors loads testdata/<chain>/vectors.json into v.
func readVectors(t *testing.T, chain string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", chain, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// `gokms daemon --chain ALGO` (EGLD, VET, ADA, FLOW) is accepted with the Set the
// application builds, and their wallets no longer count as unsignable.
func TestChains16DaemonAccepts(t *testing.T) {
	set, closeSet, err := kms.Signers(kms.SignerConfig{Testnet: true})
	if err != nil {
		t.Fatal(err)
	}
	defer closeSet()
	chains := []string{"ALGO", "EGLD", "VET", "ADA", "FLOW"}
	if _, err := daemon.New(daemon.Config{Backend: memory.New(), API: tatum.New(tatum.Options{}), Testnet: true, Signers: set, Chains: chains}); err != nil {
		t.Fatal(err)
	}
	var metas []backend.Meta
	for _, c := range chains {
		metas = append(metas, backend.Meta{ID: c, Kind: backend.PrivateKey, Chain: c, Testnet: true})
	}
	metas = append(metas, backend.Meta{ID: "bnb", Kind: backend.PrivateKey, Chain: "BNB", Testnet: true})
	if got := daemon.FormatChainCounts(daemon.UnsignableWallets(set, metas)); got != "BNB (testnet): 1" {
		t.Fatalf("unsignable: %s", got)
	}
}
