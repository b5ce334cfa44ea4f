package tatum_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// logBuf collects a client's log output (slog handlers serialize writes,
// the mutex covers reads while calls may still run).
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type env struct {
	t      *testing.T
	srv    *tatumtest.Server
	c      *tatum.Client
	logs   *logBuf
	sleeps []time.Duration
	mu     sync.Mutex
}

// newEnv starts a stand-in and a client with instant backoff (sleeps are
// recorded, not slept) and a debug logger into a buffer. After the test it
// checks that neither the API key nor any txData reached the logs.
func newEnv(t *testing.T, so tatumtest.Options, mod func(*tatum.Options)) *env {
	t.Helper()
	e := &env{t: t, logs: &logBuf{}}
	e.srv = tatumtest.New(so)
	t.Cleanup(e.srv.Close)
	o := tatum.Options{
		BaseURL:    e.srv.URL,
		APIKey:     e.srv.APIKey,
		Timeout:    5 * time.Second,
		MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 80 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&o)
	}
	e.c = tatum.New(o)
	tatum.SetSleep(e.c, func(ctx context.Context, d time.Duration) error {
		e.mu.Lock()
		e.sleeps = append(e.sleeps, d)
		e.mu.Unlock()
		return ctx.Err()
	})
	tatum.SetJitter(e.c, func() float64 { return 1 }) // upper bound of the jitter
	t.Cleanup(func() {
		logs := e.logs.String()
		if strings.Contains(logs, e.srv.APIKey) {
			t.Errorf("the API key leaked into the logs:\n%s", logs)
		}
		if strings.Contains(logs, "TXDATA-") {
			t.Errorf("txData leaked into the logs:\n%s", logs)
		}
	})
	return e
}

func (e *env) slept() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.sleeps)
}

func u32(v uint32) *uint32 { return &v }

func btcTx(id string, hashes ...string) tatum.PendingTransaction {
	return tatum.PendingTransaction{ID: id, Chain: "BTC", SerializedTransaction: `{"hash":"` + id + `"}`, Hashes: hashes}
}

func TestPendingWireAndFiltering(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, func(o *tatum.Options) { o.ClientVersion = "8.0.1" })
	ctx := context.Background()
	e.srv.Enqueue(btcTx("a1", "pk-1"))
	e.srv.Enqueue(tatum.PendingTransaction{ID: "a2", Chain: "BTC", SerializedTransaction: "{}", Hashes: []string{},
		Index: u32(7), Signatures: []tatum.Signature{{ID: "mn-1", Index: u32(3)}}})
	e.srv.Enqueue(tatum.PendingTransaction{ID: "a3", Chain: "BTC", SerializedTransaction: "{}", Hashes: []string{"mn-1"},
		WithdrawalID: "w-1", WithdrawalResponses: json.RawMessage(`[{"vIn":"-1"}]`)})
	e.srv.Enqueue(btcTx("other-wallet", "pk-9"))
	ltc := btcTx("ltc", "pk-1")
	ltc.Chain = "LTC"
	e.srv.Enqueue(ltc)
	done := btcTx("done", "pk-1")
	done.TxID = "abc"
	e.srv.Enqueue(done)

	got, err := e.c.Pending(ctx, "BTC", []string{"pk-1", "mn-1"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range got {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{"a1", "a2", "a3"}) {
		t.Fatalf("pending ids = %v, want [a1 a2 a3]", ids)
	}
	if got[0].Index != nil || got[0].WithdrawalID != "" || got[0].WithdrawalResponses != nil || got[0].TxID != "" {
		t.Errorf("nulls not decoded to zero values: %+v", got[0])
	}
	if got[1].Index == nil || *got[1].Index != 7 || len(got[1].Signatures) != 1 || *got[1].Signatures[0].Index != 3 {
		t.Errorf("index/signatures not decoded: %+v", got[1])
	}
	if got[2].WithdrawalID != "w-1" || string(got[2].WithdrawalResponses) != `[{"vIn":"-1"}]` {
		t.Errorf("withdrawal fields not decoded: %+v", got[2])
	}

	reqs := e.srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/v3/kms/pending/BTC" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if string(r.Body) != `{"signatureIds":["pk-1","mn-1"]}` {
		t.Errorf("body %s", r.Body)
	}
	for h, want := range map[string]string{
		"x-api-key":                e.srv.APIKey,
		"x-ttm-kms-client-version": "8.0.1",
		"Content-Type":             "application/json",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
}

// The example of DESIGN.md / Tatum's KMS guide, verbatim.
func TestDecodeGuideExample(t *testing.T) {
	const js = `{
  "withdrawalId": null,
  "chain": "BTC",
  "serializedTransaction": "{\"hash\":\"81e62bdfbfc7bcb66c2a2f17335d033fd98b84c1188a7bb379a2dce9f1cda989\",\"version\":2,\"inputs\":[{\"prevTxId\":\"121702fd7acd1b2cca6bd19658009140730ba26ca67cd222c00f952a111e11f4\",\"outputIndex\":0,\"sequenceNumber\":4294967295,\"script\":\"\",\"scriptString\":\"\",\"output\":{\"satoshis\":2000,\"script\":\"76a914c8e668ee829837a2355c1e234a41f53f86b8156c88ac\"}}],\"outputs\":[{\"satoshis\":1000,\"script\":\"001487c70889f0a1d2f632d216a01472dde71f062aa7\"}],\"nLockTime\":0}",
  "hashes": ["b8eb99cd-ba04-4031-a65f-11d6420ebdd1"],
  "index": null,
  "withdrawalResponses": null,
  "txId": "f7572ef070d381612b7594940cc73ec008e796b37a73ff031f3855d2a23c9ade",
  "id": "61fe7c68cf2fbc595cbb89dd"
}`
	var p tatum.PendingTransaction
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		t.Fatal(err)
	}
	if p.ID != "61fe7c68cf2fbc595cbb89dd" || p.Chain != "BTC" || p.WithdrawalID != "" || p.Index != nil ||
		p.WithdrawalResponses != nil || len(p.Hashes) != 1 || p.Hashes[0] != "b8eb99cd-ba04-4031-a65f-11d6420ebdd1" ||
		p.TxID != "f7572ef070d381612b7594940cc73ec008e796b37a73ff031f3855d2a23c9ade" ||
		!strings.Contains(p.SerializedTransaction, `"prevTxId":"121702fd`) {
		t.Fatalf("decoded %+v", p)
	}
	for _, bad := range []string{`{"index": -1}`, `{"index": "3"}`, `{"hashes": "x"}`, `[`} {
		if err := json.Unmarshal([]byte(bad), &p); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
}

func TestPendingLimit(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, nil)
	ctx := context.Background()
	ids := make([]string, tatum.MaxSignatureIDs+1)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	_, err := e.c.Pending(ctx, "BTC", ids)
	if !errors.Is(err, tatum.ErrTooManySignatureIDs) || !strings.Contains(err.Error(), "25001") || !strings.Contains(err.Error(), "25000") {
		t.Fatalf("err = %v, want ErrTooManySignatureIDs naming the counts", err)
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent over the limit", n)
	}
	e.srv.Enqueue(btcTx("last", ids[tatum.MaxSignatureIDs-1]))
	got, err := e.c.Pending(ctx, "BTC", ids[:tatum.MaxSignatureIDs])
	if err != nil || len(got) != 1 || got[0].ID != "last" {
		t.Fatalf("exactly 25,000 ids: %v, %v", got, err)
	}
	if got, err := e.c.Pending(ctx, "BTC", nil); err != nil || got != nil {
		t.Fatalf("no ids: %v %v", got, err)
	}
	if n := len(e.srv.Requests()); n != 1 {
		t.Fatalf("%d requests, want 1 (none for an empty id list)", n)
	}
	if _, err := e.c.Pending(ctx, "", []string{"x"}); err == nil {
		t.Fatal("empty chain accepted")
	}
}

func TestGetDeleteComplete(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, nil)
	ctx := context.Background()
	e.srv.Enqueue(btcTx("t1", "pk-1"))
	e.srv.Enqueue(btcTx("t2", "pk-1"))
	e.srv.Enqueue(btcTx("t3", "pk-1"))

	p, err := e.c.Get(ctx, "t1")
	if err != nil || p.ID != "t1" || p.TxID != "" || p.Hashes[0] != "pk-1" {
		t.Fatalf("Get = %+v, %v", p, err)
	}
	raw, err := e.c.GetJSON(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"withdrawalId":null`, `"index":null`, `"withdrawalResponses":null`, `"id":"t1"`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("GetJSON %s lacks %s", raw, want)
		}
	}

	if err := e.c.Complete(ctx, "t1", "txid-1"); err != nil {
		t.Fatal(err)
	}
	if id, ok := e.srv.Completed("t1"); !ok || id != "txid-1" {
		t.Fatalf("Completed = %q %v", id, ok)
	}
	if p, err := e.c.Get(ctx, "t1"); err != nil || p.TxID != "txid-1" {
		t.Fatalf("after complete: %+v %v", p, err)
	}

	if err := e.c.Delete(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	if revert, ok := e.srv.Deleted("t2"); !ok || !revert {
		t.Fatalf("Deleted(t2) = %v %v, want revert=true", revert, ok)
	}
	if err := e.c.DeleteRevert(ctx, "t3", false); err != nil {
		t.Fatal(err)
	}
	if revert, ok := e.srv.Deleted("t3"); !ok || revert {
		t.Fatalf("Deleted(t3) = %v %v, want revert=false", revert, ok)
	}
	if got, _ := e.c.Pending(ctx, "BTC", []string{"pk-1"}); len(got) != 0 {
		t.Fatalf("completed/deleted still pending: %+v", got)
	}

	var paths []string
	for _, r := range e.srv.Requests() {
		paths = append(paths, r.Method+" "+r.Path+"?"+r.RawQuery)
	}
	want := []string{"GET /v3/kms/t1?", "GET /v3/kms/t1?", "PUT /v3/kms/t1/txid-1?", "GET /v3/kms/t1?",
		"DELETE /v3/kms/t2?revert=true", "DELETE /v3/kms/t3?revert=false", "POST /v3/kms/pending/BTC?"}
	if !slices.Equal(paths, want) {
		t.Errorf("requests\n%v\nwant\n%v", paths, want)
	}

	// Unknown ids: Tatum's 403 kms.missing, not retried.
	for name, call := range map[string]func() error{
		"get":      func() error { _, err := e.c.Get(ctx, "nope"); return err },
		"delete":   func() error { return e.c.Delete(ctx, "nope") },
		"complete": func() error { return e.c.Complete(ctx, "nope", "x") },
		"deleted":  func() error { _, err := e.c.Get(ctx, "t2"); return err },
	} {
		err := call()
		var ae *tatum.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 403 || !tatum.IsNotFound(err) || !strings.Contains(err.Error(), "kms.missing") {
			t.Errorf("%s unknown id: %v", name, err)
		}
	}
	for _, bad := range []func() error{
		func() error { _, err := e.c.Get(ctx, ""); return err },
		func() error { return e.c.Delete(ctx, " ") },
		func() error { return e.c.Complete(ctx, "t1", "") },
	} {
		if err := bad(); err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("empty id: %v", err)
		}
	}
	if len(e.slept()) != 0 {
		t.Errorf("4xx answers were retried: %v", e.slept())
	}
}

func TestIDsArePathEscaped(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, nil)
	_, err := e.c.Get(context.Background(), "../tatum/kms/batch")
	if !tatum.IsNotFound(err) {
		t.Fatalf("err = %v", err)
	}
	if r := e.srv.Requests()[0]; r.Path != "/v3/kms/../tatum/kms/batch" || r.Method != "GET" {
		t.Fatalf("request %s %s", r.Method, r.Path)
	}
}

func TestReportErrors(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, nil)
	ctx := context.Background()
	if err := e.c.ReportErrors(ctx, nil); err != nil || len(e.srv.Requests()) != 0 {
		t.Fatalf("empty report: %v, %d requests", err, len(e.srv.Requests()))
	}
	errs := []tatum.ErrorReport{{SignatureID: "p1", Error: "no key"}, {SignatureID: "p2", Error: `quote " and newline` + "\n"}}
	if err := e.c.ReportErrors(ctx, errs); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.Errors(); !slices.Equal(got, errs) {
		t.Fatalf("recorded %v", got)
	}
	r := e.srv.Requests()[0]
	if r.Method != "POST" || r.Path != "/v3/tatum/kms/batch" ||
		string(r.Body) != `{"errors":[{"signatureId":"p1","error":"no key"},{"signatureId":"p2","error":"quote \" and newline\n"}]}` {
		t.Fatalf("request %s %s %s", r.Method, r.Path, r.Body)
	}
}

func TestBroadcastPaths(t *testing.T) {
	want := map[string]string{
		"BTC": "bitcoin", "LTC": "litecoin", "DOGE": "dogecoin", "BCH": "bcash", "ETH": "ethereum",
		"BSC": "bsc", "MATIC": "polygon", "CELO": "celo", "KLAY": "klaytn", "ONE": "one", "XDC": "xdc",
		"KCS": "kcs", "TRON": "tron", "XRP": "xrp", "XLM": "xlm", "ALGO": "algorand", "EGLD": "egld",
		"VET": "vet", "FLOW": "flow", "ADA": "ada", "SOL": "solana", "BNB": "bnb",
	}
	for chain, name := range want {
		p, err := tatum.BroadcastPath(chain)
		if err != nil || p != "/v3/"+name+"/broadcast" {
			t.Errorf("%s: %q %v", chain, p, err)
		}
		if c, ok := tatum.ChainForBroadcastPath(name); !ok || c != chain {
			t.Errorf("inverse of %s: %q", name, c)
		}
	}
	if len(tatum.BroadcastChains()) != len(want) {
		t.Errorf("BroadcastChains = %v", tatum.BroadcastChains())
	}
	if p, err := tatum.BroadcastPath("btc"); err != nil || p != "/v3/bitcoin/broadcast" {
		t.Errorf("lower case: %q %v", p, err)
	}
	if _, err := tatum.BroadcastPath("NOPE"); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("unknown chain: %v", err)
	}
}

func TestBroadcast(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, nil)
	ctx := context.Background()
	for i, chain := range []string{"BTC", "LTC", "DOGE", "BCH"} {
		id := fmt.Sprintf("b%d", i)
		tx := btcTx(id, "pk")
		tx.Chain = chain
		e.srv.Enqueue(tx)
		var gotTx atomic.Value
		e.srv.SetBroadcaster(chain, func(_ context.Context, txData string) (string, error) {
			gotTx.Store(txData)
			return "node-" + id, nil
		})
		res, err := e.c.Broadcast(ctx, chain, "TXDATA-"+id, id)
		if err != nil || res.TxID != "node-"+id || !res.Completed {
			t.Fatalf("%s: %+v %v", chain, res, err)
		}
		if gotTx.Load() != "TXDATA-"+id {
			t.Errorf("%s: node got %v", chain, gotTx.Load())
		}
		if txid, ok := e.srv.Completed(id); !ok || txid != "node-"+id {
			t.Errorf("%s: completed %q %v", chain, txid, ok)
		}
		if n := e.srv.Broadcasts(id); n != 1 {
			t.Errorf("%s: broadcast %d times", chain, n)
		}
	}
	reqs := e.srv.Requests()
	wantPaths := []string{"/v3/bitcoin/broadcast", "/v3/litecoin/broadcast", "/v3/dogecoin/broadcast", "/v3/bcash/broadcast"}
	for i, r := range reqs {
		if r.Method != "POST" || r.Path != wantPaths[i] || string(r.Body) != fmt.Sprintf(`{"txData":"TXDATA-b%d","signatureId":"b%d"}`, i, i) {
			t.Errorf("request %d: %s %s %s", i, r.Method, r.Path, r.Body)
		}
	}

	// Default broadcaster: deterministic hash of txData.
	e.srv.Enqueue(tatum.PendingTransaction{ID: "eth", Chain: "ETH", Hashes: []string{"k"}})
	res, err := e.c.Broadcast(ctx, "ETH", "TXDATA-eth", "eth")
	if err != nil || len(res.TxID) != 64 {
		t.Fatalf("default broadcaster: %+v %v", res, err)
	}

	// The node refuses: a final 403, not retried, not ambiguous.
	e.srv.Enqueue(btcTx("bad", "pk"))
	e.srv.SetBroadcaster("BTC", func(context.Context, string) (string, error) {
		return "", errors.New("bad-txns-inputs-missingorspent")
	})
	_, err = e.c.Broadcast(ctx, "BTC", "TXDATA-bad", "bad")
	var ae *tatum.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 403 || ae.ErrorCode != "bitcoin.broadcast.failed" ||
		!strings.Contains(err.Error(), "bad-txns-inputs-missingorspent") || errors.Is(err, tatum.ErrAmbiguous) {
		t.Fatalf("refused broadcast: %v", err)
	}
	if n := e.srv.Broadcasts("bad"); n != 1 {
		t.Fatalf("refused broadcast sent %d times", n)
	}
	if _, ok := e.srv.Completed("bad"); ok {
		t.Fatal("refused broadcast completed")
	}

	// Input checks, no request.
	before := len(e.srv.Requests())
	if _, err := e.c.Broadcast(ctx, "NOPE", "TXDATA-x", "x"); err == nil {
		t.Error("unknown chain accepted")
	}
	if _, err := e.c.Broadcast(ctx, "BTC", "", "x"); err == nil {
		t.Error("empty txData accepted")
	}
	if n := len(e.srv.Requests()); n != before {
		t.Errorf("invalid input sent %d requests", n-before)
	}
}

func TestBroadcastNotAutoCompleted(t *testing.T) {
	e := newEnv(t, tatumtest.Options{NoAutoComplete: true}, nil)
	e.srv.Enqueue(btcTx("n1", "pk"))
	res, err := e.c.Broadcast(context.Background(), "BTC", "TXDATA-n1", "n1")
	if err != nil || res.Completed || res.TxID == "" {
		t.Fatalf("%+v %v", res, err)
	}
	if _, ok := e.srv.Completed("n1"); ok {
		t.Fatal("completed although the server did not")
	}
}

func TestBroadcastWithdrawal(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, nil)
	ctx := context.Background()
	e.srv.Enqueue(tatum.PendingTransaction{ID: "w", Chain: "BTC", Hashes: []string{"mn"}, WithdrawalID: "wd-1",
		WithdrawalResponses: json.RawMessage(`[{"vIn":"-1"}]`)})
	e.srv.SetBroadcaster("BTC", func(context.Context, string) (string, error) { return "wtx", nil })
	res, err := e.c.BroadcastWithdrawal(ctx, "BTC", "wd-1", "w", "TXDATA-w")
	if err != nil || res.TxID != "wtx" || !res.Completed {
		t.Fatalf("%+v %v", res, err)
	}
	r := e.srv.Requests()[0]
	if r.Path != "/v3/offchain/withdrawal/broadcast" ||
		string(r.Body) != `{"currency":"BTC","withdrawalId":"wd-1","signatureId":"w","txData":"TXDATA-w"}` {
		t.Fatalf("request %s %s", r.Path, r.Body)
	}
	if txid, ok := e.srv.Completed("w"); !ok || txid != "wtx" {
		t.Fatalf("completed %q %v", txid, ok)
	}
	// A second broadcast of a completed withdrawal: Tatum's state error.
	_, err = e.c.BroadcastWithdrawal(ctx, "BTC", "wd-1", "w", "TXDATA-w")
	var ae *tatum.APIError
	if !errors.As(err, &ae) || ae.ErrorCode != "withdrawal.unexpected.state" {
		t.Fatalf("second withdrawal broadcast: %v", err)
	}
	if _, err := e.c.BroadcastWithdrawal(ctx, "BTC", "", "w", "TXDATA-w"); err == nil {
		t.Fatal("missing withdrawalId accepted")
	}
}

func TestAuthErrors(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, nil)
	ctx := context.Background()
	e.srv.Enqueue(btcTx("x", "pk"))
	cases := []struct {
		key, code, hint string
		status          int
		setup           func()
	}{
		{key: "", status: 401, code: "ip-address-key.unauthorized", hint: "TATUM_API_KEY"},
		{key: "wrong-key-0123456789", status: 401, code: "subscription.invalid", hint: "TATUM_API_KEY"},
		{key: "inactive-key-0123456789", status: 401, code: "subscription.not.active", hint: "TATUM_API_KEY",
			setup: func() { e.srv.SetKey("inactive-key-0123456789", tatumtest.KeyInactive) }},
		{key: "spent-key-0123456789", status: 403, code: "", hint: "credits",
			setup: func() { e.srv.SetKey("spent-key-0123456789", tatumtest.KeyOutOfCredits) }},
	}
	for _, tc := range cases {
		if tc.setup != nil {
			tc.setup()
		}
		c := tatum.New(tatum.Options{BaseURL: e.srv.URL, APIKey: tc.key, Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
		before := len(e.srv.Requests())
		for name, call := range map[string]func() error{
			"pending":   func() error { _, err := c.Pending(ctx, "BTC", []string{"pk"}); return err },
			"get":       func() error { _, err := c.Get(ctx, "x"); return err },
			"broadcast": func() error { _, err := c.Broadcast(ctx, "BTC", "TXDATA-x", "x"); return err },
		} {
			err := call()
			var ae *tatum.APIError
			if !errors.As(err, &ae) || ae.StatusCode != tc.status || ae.ErrorCode != tc.code || !tatum.IsAuthError(err) {
				t.Errorf("key %q %s: %v", tc.key, name, err)
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.hint) {
				t.Errorf("key %q %s: message lacks %q: %s", tc.key, name, tc.hint, msg)
			}
			if tc.key != "" && strings.Contains(msg, tc.key) {
				t.Errorf("key %q %s: the API key is in the error: %s", tc.key, name, msg)
			}
			if errors.Is(err, tatum.ErrAmbiguous) {
				t.Errorf("an auth refusal is not ambiguous: %v", err)
			}
		}
		if n := len(e.srv.Requests()) - before; n != 3 {
			t.Errorf("key %q: %d requests, want 3 (auth errors are not retried)", tc.key, n)
		}
		if strings.Contains(e.logs.String(), tc.key) && tc.key != "" {
			t.Errorf("key %q logged", tc.key)
		}
	}
	if n := e.srv.Broadcasts("x"); n != 0 {
		t.Fatalf("unauthenticated broadcast acted on: %d", n)
	}
	// The stand-in really echoes the key, so the redaction above is tested.
	resp := rawPost(t, e.srv.URL+"/v3/kms/pending/BTC", "echo-me-key", `{"signatureIds":[]}`)
	if !strings.Contains(resp, "echo-me-key") {
		t.Fatalf("stand-in does not echo the key as Tatum does: %s", resp)
	}
}

func rawPost(t *testing.T, url, key, body string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("x-api-key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b.String())
}

func TestStandInValidation(t *testing.T) {
	s := tatumtest.New(tatumtest.Options{})
	defer s.Close()
	ids := make([]string, tatumtest.MaxSignatureIDs+1)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	b, _ := json.Marshal(map[string]any{"signatureIds": ids})
	got := rawPost(t, s.URL+"/v3/kms/pending/BTC", s.APIKey, string(b))
	if !strings.HasPrefix(got, "400 ") || !strings.Contains(got, `"errorCode":"validation.failed"`) || !strings.Contains(got, "25000") {
		t.Fatalf("over the limit: %.300s", got)
	}
	for body, want := range map[string]string{
		`{}`:                     "400 ",
		`not json`:               "400 ",
		`{"signatureIds":"x"}`:   "400 ",
		`{"signatureIds":["a"]}`: "200 []",
		`{"signatureIds":[]}`:    "200 []",
	} {
		if got := rawPost(t, s.URL+"/v3/kms/pending/BTC", s.APIKey, body); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %s", body, got)
		}
	}
	if got := rawPost(t, s.URL+"/v3/bitcoin/broadcast", s.APIKey, `{"signatureId":"x"}`); !strings.HasPrefix(got, "400 ") {
		t.Errorf("broadcast without txData: %s", got)
	}
	if got := rawPost(t, s.URL+"/v3/bitcoin/broadcast", s.APIKey, `{"txData":"00","signatureId":"nope"}`); !strings.HasPrefix(got, "403 ") || !strings.Contains(got, "kms.missing") {
		t.Errorf("broadcast of unknown id: %s", got)
	}
	if got := rawPost(t, s.URL+"/v3/nochain/broadcast", s.APIKey, `{"txData":"00"}`); !strings.HasPrefix(got, "404 ") {
		t.Errorf("unknown chain path: %s", got)
	}
	if got := rawPost(t, s.URL+"/v3/tatum/kms/batch", s.APIKey, `{"errors":{}}`); !strings.HasPrefix(got, "400 ") {
		t.Errorf("batch with an object: %s", got)
	}
}

func TestRetries5xxBounded(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, func(o *tatum.Options) { o.Retries = 3 })
	ctx := context.Background()
	e.srv.Enqueue(btcTx("r", "pk"))

	e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/pending/", Status: 503, Times: 2})
	got, err := e.c.Pending(ctx, "BTC", []string{"pk"})
	if err != nil || len(got) != 1 {
		t.Fatalf("after two 503: %v %v", got, err)
	}
	if n := e.srv.CountRequests("POST", "/v3/kms/pending/BTC"); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	// Exponential backoff (jitter pinned to its upper bound): 10ms, 20ms.
	if s := e.slept(); !slices.Equal(s, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}) {
		t.Fatalf("backoff %v", s)
	}

	// A server down for good: 1 + Retries attempts, then the last error.
	e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/r", Status: 500, Times: -1})
	_, err = e.c.Get(ctx, "r")
	var ae *tatum.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 500 || !strings.Contains(err.Error(), "gave up after 4 attempts") {
		t.Fatalf("err = %v", err)
	}
	if n := e.srv.CountRequests("GET", "/v3/kms/r"); n != 4 {
		t.Fatalf("%d attempts, want 4", n)
	}
	if s := e.slept()[2:]; !slices.Equal(s, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}) {
		t.Fatalf("backoff %v", s)
	}
	e.srv.ClearFaults()

	// Backoff is capped at MaxBackoff (80ms) and jittered over its upper half.
	e2 := newEnv(t, tatumtest.Options{}, func(o *tatum.Options) { o.Retries = 6 })
	tatum.SetJitter(e2.c, func() float64 { return 0 })
	e2.srv.Inject(tatumtest.Fault{Path: "/v3/kms/", Status: 502, Times: -1})
	if _, err := e2.c.Get(ctx, "z"); err == nil {
		t.Fatal("no error")
	}
	ms := time.Millisecond
	if s, want := e2.slept(), []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 40 * ms, 40 * ms}; !slices.Equal(s, want) {
		t.Fatalf("capped backoff %v, want %v", s, want)
	}

	// Retries < 0: a single attempt.
	e3 := newEnv(t, tatumtest.Options{}, func(o *tatum.Options) { o.Retries = -1 })
	e3.srv.Inject(tatumtest.Fault{Path: "/v3/kms/", Status: 500, Times: -1})
	if _, err := e3.c.Get(ctx, "z"); err == nil || len(e3.srv.Requests()) != 1 {
		t.Fatalf("no-retry client: %v, %d requests", err, len(e3.srv.Requests()))
	}
}

func TestRetryAfter(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, func(o *tatum.Options) { o.MaxRetryAfter = 10 * time.Second })
	ctx := context.Background()
	e.srv.Enqueue(btcTx("q", "pk"))
	// Honoured although longer than the backoff (10ms).
	e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/q", Status: 429, RetryAfter: 2 * time.Second})
	if _, err := e.c.Get(ctx, "q"); err != nil {
		t.Fatal(err)
	}
	if s := e.slept(); !slices.Equal(s, []time.Duration{2 * time.Second}) {
		t.Fatalf("slept %v, want [2s]", s)
	}
	// Longer than MaxRetryAfter: fail now, no retry.
	e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/q", Status: 429, RetryAfter: time.Hour})
	_, err := e.c.Get(ctx, "q")
	var ae *tatum.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 || !strings.Contains(err.Error(), "retry after 1h0m0s") {
		t.Fatalf("err = %v", err)
	}
	if n := e.srv.CountRequests("GET", "/v3/kms/q"); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
	// Past the context deadline: fail now.
	e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/q", Status: 429, RetryAfter: 5 * time.Second})
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := e.c.Get(dctx, "q"); err == nil || !strings.Contains(err.Error(), "no time left") {
		t.Fatalf("err = %v", err)
	}
	// 429 is retried for a broadcast too: the server did not act on it.
	e.srv.Inject(tatumtest.Fault{Path: "/v3/bitcoin/broadcast", Status: 429, RetryAfter: time.Second})
	res, err := e.c.Broadcast(ctx, "BTC", "TXDATA-q", "q")
	if err != nil || res.TxID == "" || e.srv.Broadcasts("q") != 1 {
		t.Fatalf("broadcast after 429: %+v %v, %d broadcasts", res, err, e.srv.Broadcasts("q"))
	}
}

// attemptTimeout is the per-attempt timeout of the tests where an attempt
// must time out. The attempts that must succeed meanwhile are loopback
// calls of a millisecond; a second of margin keeps them safe on a loaded CI
// machine, and the subtests run in parallel to keep the wall time short.
const attemptTimeout = time.Second

func TestTimeoutAndReset(t *testing.T) {
	setup := func(t *testing.T) *env {
		t.Parallel()
		e := newEnv(t, tatumtest.Options{}, func(o *tatum.Options) {
			o.Timeout = attemptTimeout
			o.Retries = 1
		})
		e.srv.Enqueue(btcTx("s", "pk"))
		return e
	}
	ctx := context.Background()
	t.Run("stall then success", func(t *testing.T) {
		e := setup(t)
		e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/s", Delay: time.Hour})
		if p, err := e.c.Get(ctx, "s"); err != nil || p.ID != "s" {
			t.Fatalf("after a timeout: %+v %v", p, err)
		}
		if n := e.srv.CountRequests("GET", "/v3/kms/s"); n != 2 {
			t.Fatalf("%d requests", n)
		}
	})
	t.Run("stall for good", func(t *testing.T) {
		e := setup(t)
		e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/s", Delay: time.Hour, Times: 2})
		_, err := e.c.Get(ctx, "s")
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "GET /v3/kms/s") ||
			!strings.Contains(err.Error(), "gave up after 2 attempts") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("reset then success", func(t *testing.T) {
		e := setup(t)
		e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/pending/", Reset: true})
		if got, err := e.c.Pending(ctx, "BTC", []string{"pk"}); err != nil || len(got) != 1 {
			t.Fatalf("after a reset: %v %v", got, err)
		}
	})
	t.Run("reset for good", func(t *testing.T) {
		e := setup(t)
		e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/pending/", Reset: true, Times: -1})
		if _, err := e.c.Pending(ctx, "BTC", []string{"pk"}); err == nil || !strings.Contains(err.Error(), "POST /v3/kms/pending/BTC") {
			t.Fatalf("reset for good: %v", err)
		}
	})
}

func TestMalformedAnswers(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, nil)
	ctx := context.Background()
	e.srv.Enqueue(btcTx("m", "pk"))
	e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/m", Malformed: true})
	_, err := e.c.Get(ctx, "m")
	if err == nil || !strings.Contains(err.Error(), "malformed JSON") || !strings.Contains(err.Error(), "GET /v3/kms/m") {
		t.Fatalf("err = %v", err)
	}
	if n := e.srv.CountRequests("GET", "/v3/kms/m"); n != 1 {
		t.Fatalf("a malformed 200 was retried: %d requests", n)
	}
	e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/pending/", Malformed: true})
	if _, err := e.c.Pending(ctx, "BTC", []string{"pk"}); err == nil || !strings.Contains(err.Error(), "malformed JSON") {
		t.Fatalf("pending: %v", err)
	}
	// A proxy's HTML error page: retried as a 5xx, then a readable error.
	e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/m", Status: 502, Body: "<html><body>\x00Bad gateway</body></html>", Times: -1})
	_, err = e.c.Get(ctx, "m")
	var ae *tatum.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 502 || !strings.Contains(err.Error(), "non-JSON response: <html><body> Bad gateway") {
		t.Fatalf("err = %v", err)
	}
	e.srv.ClearFaults()
	// A JSON answer of the wrong shape.
	e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/m", Status: 200, Body: `[1,2]`})
	if _, err := e.c.Get(ctx, "m"); err == nil || !strings.Contains(err.Error(), "malformed JSON") {
		t.Fatalf("array for an object: %v", err)
	}
}

// The heart of "nothing is sent twice": every way a broadcast can fail after
// the server acted resolves through GET /v3/kms/{id} without a second send,
// and every way it can fail before leaves an ErrAmbiguous, not a resend.
func TestBroadcastAmbiguity(t *testing.T) {
	cases := []struct {
		name      string
		fault     tatumtest.Fault
		getFault  *tatumtest.Fault
		opts      tatumtest.Options
		wantOK    bool
		wantSends int
	}{
		{name: "500 after broadcasting", fault: tatumtest.Fault{Status: 500, AfterHandling: true}, wantOK: true, wantSends: 1},
		{name: "502 after broadcasting", fault: tatumtest.Fault{Status: 502, AfterHandling: true}, wantOK: true, wantSends: 1},
		{name: "reset after broadcasting", fault: tatumtest.Fault{Reset: true, AfterHandling: true}, wantOK: true, wantSends: 1},
		{name: "timeout after broadcasting", fault: tatumtest.Fault{Delay: time.Hour, AfterHandling: true}, wantOK: true, wantSends: 1},
		{name: "malformed after broadcasting", fault: tatumtest.Fault{Malformed: true, AfterHandling: true}, wantOK: true, wantSends: 1},
		{name: "500 before broadcasting", fault: tatumtest.Fault{Status: 500}, wantSends: 0},
		{name: "reset before broadcasting", fault: tatumtest.Fault{Reset: true}, wantSends: 0},
		{name: "timeout before broadcasting", fault: tatumtest.Fault{Delay: time.Hour}, wantSends: 0},
		{name: "malformed without broadcasting", fault: tatumtest.Fault{Malformed: true}, wantSends: 0},
		{name: "500 after broadcasting, check fails too", fault: tatumtest.Fault{Status: 500, AfterHandling: true},
			getFault: &tatumtest.Fault{Path: "/v3/kms/", Status: 500, Times: -1}, wantSends: 1},
		{name: "500 after broadcasting, not completed by Tatum", fault: tatumtest.Fault{Status: 500, AfterHandling: true},
			opts: tatumtest.Options{NoAutoComplete: true}, wantSends: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.opts, func(o *tatum.Options) { o.Timeout = attemptTimeout })
			ctx := context.Background()
			for _, withdrawal := range []bool{false, true} {
				id := "amb"
				path := "/v3/bitcoin/broadcast"
				if withdrawal {
					id, path = "ambw", "/v3/offchain/withdrawal/broadcast"
				}
				tx := btcTx(id, "pk")
				if withdrawal {
					tx.WithdrawalID = "wd"
				}
				e.srv.Enqueue(tx)
				f := tc.fault
				f.Path = path
				e.srv.Inject(f)
				if tc.getFault != nil {
					e.srv.Inject(*tc.getFault)
				}
				var res tatum.BroadcastResult
				var err error
				if withdrawal {
					res, err = e.c.BroadcastWithdrawal(ctx, "BTC", "wd", id, "TXDATA-"+id)
				} else {
					res, err = e.c.Broadcast(ctx, "BTC", "TXDATA-"+id, id)
				}
				e.srv.ClearFaults()
				if n := e.srv.CountRequests("POST", path); n != 1 {
					t.Errorf("%s: %d broadcast requests, want 1", id, n)
				}
				if n := e.srv.Broadcasts(id); n != tc.wantSends {
					t.Errorf("%s: server acted on %d broadcasts, want %d", id, n, tc.wantSends)
				}
				if n := e.srv.CountRequests("GET", "/v3/kms/"+id); n == 0 {
					t.Errorf("%s: the outcome was not checked with GET", id)
				}
				if tc.wantOK {
					txid, _ := e.srv.Completed(id)
					if err != nil || res.TxID == "" || res.TxID != txid || !res.Completed {
						t.Errorf("%s: %+v %v, want the completed txId %q", id, res, err, txid)
					}
					continue
				}
				if !errors.Is(err, tatum.ErrAmbiguous) || res.TxID != "" {
					t.Errorf("%s: %+v %v, want ErrAmbiguous", id, res, err)
				}
				if tc.getFault != nil && (err == nil || !strings.Contains(err.Error(), "failed too")) {
					t.Errorf("%s: error does not say the check failed: %v", id, err)
				}
				if strings.Contains(fmt.Sprint(err), "TXDATA-") {
					t.Errorf("%s: txData in the error: %v", id, err)
				}
			}
		})
	}
}

// A refused connection proves the request never left: the broadcast is
// retried and sent exactly once.
func TestBroadcastRetriedWhenNeverSent(t *testing.T) {
	var dials atomic.Int32
	e := newEnv(t, tatumtest.Options{}, func(o *tatum.Options) {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		d := &net.Dialer{}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) <= 2 {
				return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
			}
			return d.DialContext(ctx, network, addr)
		}
		o.HTTPClient = &http.Client{Transport: tr}
	})
	e.srv.Enqueue(btcTx("d", "pk"))
	res, err := e.c.Broadcast(context.Background(), "BTC", "TXDATA-d", "d")
	if err != nil || res.TxID == "" {
		t.Fatalf("%+v %v", res, err)
	}
	if n := e.srv.Broadcasts("d"); n != 1 {
		t.Fatalf("sent %d times", n)
	}
	if n := len(e.slept()); n != 2 {
		t.Fatalf("%d backoffs, want 2", n)
	}
	if n := e.srv.CountRequests("GET", "/v3/kms/d"); n != 0 {
		t.Fatalf("needless GET after a refused connection: %d", n)
	}
}

func TestBroadcastCancelledCaller(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, nil)
	e.srv.Enqueue(btcTx("c", "pk"))
	e.srv.Inject(tatumtest.Fault{Path: "/v3/bitcoin/broadcast", Delay: time.Hour, AfterHandling: true})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for e.srv.Broadcasts("c") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := e.c.Broadcast(ctx, "BTC", "TXDATA-c", "c")
	if !errors.Is(err, tatum.ErrAmbiguous) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrAmbiguous wrapping context.Canceled", err)
	}
	if n := e.srv.Broadcasts("c"); n != 1 {
		t.Fatalf("sent %d times", n)
	}
}

func TestConcurrentBroadcasts(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, nil)
	const n = 64
	for i := 0; i < n; i++ {
		e.srv.Enqueue(btcTx(fmt.Sprint("c", i), "pk"))
	}
	e.srv.Inject(tatumtest.Fault{Path: "/v3/bitcoin/broadcast", Status: 500, AfterHandling: true, Times: n / 4})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if _, err := e.c.Broadcast(context.Background(), "BTC", "TXDATA-"+id, id); err != nil {
				errs <- err
			}
		}(fmt.Sprint("c", i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprint("c", i)
		if k := e.srv.Broadcasts(id); k != 1 {
			t.Errorf("%s sent %d times", id, k)
		}
		if _, ok := e.srv.Completed(id); !ok {
			t.Errorf("%s not completed", id)
		}
	}
}

func TestDeleteRetryAfterLostAnswer(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, nil)
	e.srv.Enqueue(btcTx("del", "pk"))
	e.srv.Inject(tatumtest.Fault{Path: "/v3/kms/del", Method: "DELETE", Status: 500, AfterHandling: true})
	if err := e.c.Delete(context.Background(), "del"); err != nil {
		t.Fatalf("delete whose first answer was lost: %v", err)
	}
	if _, ok := e.srv.Deleted("del"); !ok {
		t.Fatal("not deleted")
	}
	// But a plain unknown id is still an error.
	if err := e.c.Delete(context.Background(), "del"); !tatum.IsNotFound(err) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestVersionNotice(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e := newEnv(t, tatumtest.Options{LatestVersion: "8.1.0;WARN;Please upgrade to the latest version"}, func(o *tatum.Options) {
		o.Now = clock
		o.ClientVersion = "8.0.1"
	})
	ctx := context.Background()
	e.srv.Enqueue(btcTx("v", "pk"))
	notices := func() int { return strings.Count(e.logs.String(), "newer KMS version") }
	get := func() {
		if _, err := e.c.Get(ctx, "v"); err != nil {
			t.Fatal(err)
		}
	}
	get()
	if notices() != 1 {
		t.Fatalf("%d notices after the first answer\n%s", notices(), e.logs.String())
	}
	logs := e.logs.String()
	for _, want := range []string{"level=WARN", "Please upgrade to the latest version", "current_version=8.0.1", "latest_version=8.1.0"} {
		if !strings.Contains(logs, want) {
			t.Errorf("notice lacks %q:\n%s", want, logs)
		}
	}
	for i := 0; i < 5; i++ { // within 30 s: silent
		advance(5 * time.Second)
		get()
	}
	if notices() != 1 {
		t.Fatalf("%d notices within 30 s", notices())
	}
	advance(5 * time.Second) // 30 s after the first
	get()
	if notices() != 2 {
		t.Fatalf("%d notices after 30 s", notices())
	}
	e.srv.SetLatestVersion("9.0.0;error;Your version is no longer supported")
	advance(30 * time.Second)
	get()
	if notices() != 3 || !strings.Contains(e.logs.String(), "level=ERROR") {
		t.Fatalf("ERROR level notice missing:\n%s", e.logs.String())
	}
	for _, h := range []string{"8.0.1;WARN;same", "8.0.0;WARN;older", "garbage", "8.2.0;;no level", "8.2.0;WARN;", ";WARN;x", "8.2.0-rc.1;WARN;x;y"} {
		e.srv.SetLatestVersion(h)
		advance(time.Minute)
		get()
	}
	// Only the pre-release 8.2.0-rc.1 (> 8.0.1) is a notice; its message keeps ";y".
	if notices() != 4 || !strings.Contains(e.logs.String(), "x;y") {
		t.Fatalf("%d notices for the odd headers\n%s", notices(), e.logs.String())
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"8.0.1", "8.0.1", 0}, {"8.0.2", "8.0.1", 1}, {"8.1.0", "8.0.9", 1}, {"10.0.0", "9.9.9", 1},
		{"v8.0.1", "8.0.1", 0}, {"8.0.0", "8.0.1", -1}, {"8.1", "8.1.0", 0}, {"8.1.0-rc.1", "8.1.0", -1},
		{"8.1.0-rc.2", "8.1.0-rc.10", -1}, {"8.1.0-alpha", "8.1.0-beta", -1}, {"8.1.0-1", "8.1.0-alpha", -1},
		{"8.1.0+build", "8.1.0", 0}, {"x", "8.0.0", 0}, {"1.2.3.4", "1.0.0", 0},
	} {
		if got := tatum.CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestBaseURL(t *testing.T) {
	for _, bad := range []string{"ftp://x", "api.tatum.io", "http://", "https://user:secretpw@api.tatum.io", "https://api.tatum.io/?a=1"} {
		err := tatum.ValidateBaseURL(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("password in error: %v", err)
		}
		c := tatum.New(tatum.Options{BaseURL: bad})
		if _, err := c.Get(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "invalid Tatum API URL") {
			t.Errorf("%q: call error %v", bad, err)
		}
	}
	if c := tatum.New(tatum.Options{}); c.BaseURL() != tatum.DefaultBaseURL {
		t.Errorf("default %q", c.BaseURL())
	}
	// A trailing slash and a path prefix (a reverse proxy) are kept right.
	s := tatumtest.New(tatumtest.Options{})
	defer s.Close()
	s.Enqueue(btcTx("p", "pk"))
	c := tatum.New(tatum.Options{BaseURL: s.URL + "/", APIKey: s.APIKey})
	if _, err := c.Get(context.Background(), "p"); err != nil {
		t.Fatal(err)
	}
	if r := s.Requests()[0]; r.Path != "/v3/kms/p" {
		t.Fatalf("path %q", r.Path)
	}
}

// A redirect must not carry the API key to another host.
func TestRedirectNotFollowed(t *testing.T) {
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-api-key") != "" {
			leaked.Store(true)
		}
	}))
	defer other.Close()
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redir.Close()
	c := tatum.New(tatum.Options{BaseURL: redir.URL, APIKey: "k-123", Retries: -1})
	_, err := c.Get(context.Background(), "x")
	var ae *tatum.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("err = %v", err)
	}
	if leaked.Load() {
		t.Fatal("the API key followed the redirect")
	}
}

func TestLongErrorDetailsAreCut(t *testing.T) {
	e := newEnv(t, tatumtest.Options{}, nil)
	big := strings.Repeat("ab", 5000)
	body := `{"statusCode":400,"errorCode":"validation.failed","message":"Request validation failed.","data":[{"target":{"txData":"` + big + `"}}]}`
	e.srv.Inject(tatumtest.Fault{Path: "/v3/bitcoin/broadcast", Status: 400, Body: body})
	e.srv.Enqueue(btcTx("long", "pk"))
	_, err := e.c.Broadcast(context.Background(), "BTC", "TXDATA-long", "long")
	var ae *tatum.APIError
	if !errors.As(err, &ae) || ae.ErrorCode != "validation.failed" || len(ae.Data) < 10000 {
		t.Fatalf("err = %v", err)
	}
	if n := len(err.Error()); n > 600 || !strings.Contains(err.Error(), `[{"target":{"txData":"abab`) {
		t.Fatalf("error of %d bytes: %.700s", n, err.Error())
	}
}
