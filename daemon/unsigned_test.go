package daemon_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// XRP, TRON and BNB wallets in the store, pending transactions for them at
// Tatum: the daemon warns (once, naming chains and counts), counts them in
// a metric, reports each pending id to Tatum exactly once over several
// cycles, never broadcasts them, and still signs BTC.
func TestUnsignableChainsAreReportedNotSkipped(t *testing.T) {
	f := newFixture(t)
	const xrpSeed = "snoPBrXtMeMyMHUVTgbuqAfg1SUTb" // ripple-keypairs' documented test seed
	f.secrets = append(f.secrets, xrpSeed)
	f.put(backend.Record{ID: "xrp1", Kind: backend.PrivateKey, Chain: "XRP", Testnet: true, Secret: []byte(xrpSeed)})
	f.put(backend.Record{ID: "tron1", Kind: backend.Mnemonic, Chain: "TRON", Testnet: true, Secret: []byte(mnemonic), Xpub: "xpub-tron"})
	f.put(backend.Record{ID: "tron2", Kind: backend.PrivateKey, Chain: "TRON", Testnet: true, Secret: []byte("aa")})
	f.put(backend.Record{ID: "bnb1", Kind: backend.PrivateKey, Chain: "BNB", Testnet: true, Secret: []byte("bb")})
	// Another network's wallet is not this daemon's business.
	f.put(backend.Record{ID: "xrp-main", Kind: backend.PrivateKey, Chain: "XRP", Secret: []byte(xrpSeed)})

	xrpTx := f.srv.Enqueue(tatum.PendingTransaction{Chain: "XRP", SerializedTransaction: `{"TransactionType":"Payment"}`, Hashes: []string{"xrp1"}})
	i := uint32(0)
	tronTx := f.srv.Enqueue(tatum.PendingTransaction{Chain: "TRON", SerializedTransaction: `{"txID":"00"}`, Signatures: []tatum.Signature{{ID: "tron1", Index: &i}}})
	tronTx2 := f.srv.Enqueue(tatum.PendingTransaction{Chain: "TRON", SerializedTransaction: `{"txID":"01"}`, Hashes: []string{"tron2"}})
	bnbTx := f.srv.Enqueue(tatum.PendingTransaction{Chain: "BNB", SerializedTransaction: `{}`, Hashes: []string{"bnb1"}})
	btcTx := f.enqueuePK()

	var events []daemon.Event
	d := f.daemon(func(c *daemon.Config) { c.OnEvent = func(e daemon.Event) { events = append(events, e) } })
	// The first report fails: nothing may be marked reported, so the next
	// cycle sends it again.
	f.srv.Inject(tatumtest.Fault{Path: "/v3/tatum/kms/batch", Status: http.StatusBadRequest, Times: -1})
	st := d.RunCycle(context.Background())
	if st.Unsignable != 4 {
		t.Errorf("first cycle: %d unsignable, want 4 (%+v)", st.Unsignable, st)
	}
	if n := len(f.srv.Errors()); n != 0 {
		t.Fatalf("the stand-in took %d reports through a failing endpoint", n)
	}
	f.srv.ClearFaults()
	for range 3 {
		d.RunCycle(context.Background())
	}

	got := map[string][]string{}
	for _, e := range f.srv.Errors() {
		got[e.SignatureID] = append(got[e.SignatureID], e.Error)
	}
	for id, chain := range map[string]string{xrpTx: "XRP", tronTx: "TRON", tronTx2: "TRON", bnbTx: "BNB"} {
		if len(got[id]) != 1 {
			t.Errorf("%s (%s) reported %d times, want once: %q", id, chain, len(got[id]), got[id])
			continue
		}
		if !strings.HasPrefix(got[id][0], "gokms cannot sign "+chain+": ") {
			t.Errorf("%s report %q does not say gokms cannot sign %s", id, got[id][0], chain)
		}
		if f.srv.Broadcasts(id) != 0 {
			t.Errorf("%s (%s) was broadcast", id, chain)
		}
	}
	if msg := strings.Join(got[bnbTx], ""); !strings.Contains(msg, "shut down in December 2024") {
		t.Errorf("BNB report %q does not say the chain was shut down", msg)
	}
	if len(got) != 4 {
		t.Errorf("reports for %d ids, want the 4 unsignable ones: %v", len(got), got)
	}
	for _, p := range []string{"/v3/xrp/broadcast", "/v3/tron/broadcast", "/v3/bnb/broadcast"} {
		if n := f.srv.CountRequests("POST", p); n != 0 {
			t.Errorf("POST %s called %d times", p, n)
		}
	}
	f.requireCompleted(btcTx)
	n := 0
	for _, e := range events {
		if e.Kind == daemon.EventUnsignable {
			n++
		}
	}
	// Seen in cycle 1 (report failed) and cycle 2 (sent): 8 audit events, then none.
	if n != 8 {
		t.Errorf("%d unsignable events, want 8", n)
	}

	// One warning (the counts did not change), naming chains and counts.
	logs := f.logs.String()
	if c := strings.Count(logs, "stored wallets of chains gokms cannot sign"); c != 1 {
		t.Errorf("warning logged %d times, want once:\n%s", c, logs)
	}
	if !strings.Contains(logs, `"wallets":"BNB (testnet): 1, TRON (testnet): 2, XRP (testnet): 1"`) {
		t.Errorf("warning does not name the chains and counts:\n%s", logs)
	}

	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`gokms_daemon_unsigned_wallets{chain="XRP"} 1`,
		`gokms_daemon_unsigned_wallets{chain="TRON"} 2`,
		`gokms_daemon_unsigned_wallets{chain="BNB"} 1`,
		`gokms_daemon_unsigned_reported_total{chain="TRON"} 2`,
		`gokms_daemon_unsigned_reported_total{chain="XRP"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// A wallet stored meanwhile changes the counts: warned again, metric follows.
	f.put(backend.Record{ID: "xrp2", Kind: backend.PrivateKey, Chain: "XRP", Testnet: true, Secret: []byte(xrpSeed)})
	d.RunCycle(context.Background())
	if !strings.Contains(f.logs.String(), `"wallets":"BNB (testnet): 1, TRON (testnet): 2, XRP (testnet): 2"`) {
		t.Errorf("changed counts not warned")
	}
	rec = httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `gokms_daemon_unsigned_wallets{chain="XRP"} 2`) {
		t.Errorf("metric did not follow the store")
	}
}

// --wallets limits the unsignable wallets polled and counted to the listed ones.
func TestUnsignableRespectsWallets(t *testing.T) {
	f := newFixture(t)
	f.put(backend.Record{ID: "xrp1", Kind: backend.PrivateKey, Chain: "XRP", Testnet: true, Secret: []byte("s1")})
	f.put(backend.Record{ID: "xrp2", Kind: backend.PrivateKey, Chain: "XRP", Testnet: true, Secret: []byte("s2")})
	listed := f.srv.Enqueue(tatum.PendingTransaction{Chain: "XRP", SerializedTransaction: `{}`, Hashes: []string{"xrp1"}})
	other := f.srv.Enqueue(tatum.PendingTransaction{Chain: "XRP", SerializedTransaction: `{}`, Hashes: []string{"xrp2"}})
	d := f.daemon(func(c *daemon.Config) { c.Wallets = []string{"pk", "xrp1"} })
	d.RunCycle(context.Background())
	var ids []string
	for _, e := range f.srv.Errors() {
		ids = append(ids, e.SignatureID)
	}
	if len(ids) != 1 || ids[0] != listed {
		t.Errorf("reported %v, want only %s (not %s)", ids, listed, other)
	}
	if !strings.Contains(f.logs.String(), `"wallets":"XRP (testnet): 1"`) {
		t.Errorf("warning does not count only the listed wallet:\n%s", f.logs.String())
	}
}

func TestUnsignableWalletsCountsMetadataOnly(t *testing.T) {
	got := daemon.FormatChainCounts(daemon.UnsignableWallets(utxoSigners, []backend.Meta{
		{ID: "a", Chain: "BTC"}, {ID: "b", Chain: "xrp", Testnet: true}, {ID: "c", Chain: "XRP"},
		{ID: "d", Chain: "XRP", Testnet: true}, {ID: "e", Chain: "TRON"},
	}))
	if want := "TRON: 1, XRP: 1, XRP (testnet): 2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := daemon.FormatChainCounts(nil); got != "none" {
		t.Errorf("empty: %q", got)
	}
}

func TestChainBNBRefused(t *testing.T) {
	f := newFixture(t)
	_, err := daemon.New(daemon.Config{Backend: f.store, API: f.api, Signers: utxoSigners, Testnet: true, Logger: f.log, Chains: []string{"BNB"}})
	if err == nil || !strings.Contains(err.Error(), "shut down in December 2024") {
		t.Fatalf("--chain BNB: %v", err)
	}
}
