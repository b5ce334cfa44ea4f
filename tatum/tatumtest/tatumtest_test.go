package tatumtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

func do(t *testing.T, s *tatumtest.Server, method, path, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-api-key", s.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestEnqueueAndPendingAccessors(t *testing.T) {
	s := tatumtest.New(tatumtest.Options{})
	defer s.Close()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("not on loopback: %s", s.URL)
	}
	id := s.Enqueue(tatum.PendingTransaction{Chain: "BTC", Hashes: []string{"k"}})
	if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id) {
		t.Fatalf("generated id %q", id)
	}
	tx := tatum.PendingTransaction{ID: "x", Chain: "BTC", Hashes: []string{"k"}}
	s.Enqueue(tx)
	tx.Hashes[0] = "changed" // Enqueue kept its own copy
	if p := s.Pending(); len(p) != 2 || p[1].Hashes[0] != "k" {
		t.Fatalf("pending %+v", p)
	}
	if st, _, _ := do(t, s, "PUT", "/v3/kms/x/tx1", ""); st != 204 {
		t.Fatalf("complete: %d", st)
	}
	if p := s.Pending(); len(p) != 1 {
		t.Fatalf("completed one still pending: %+v", p)
	}
	s.Enqueue(tatum.PendingTransaction{ID: "x", Chain: "BTC", Hashes: []string{"k"}}) // reopened
	if _, ok := s.Completed("x"); ok || len(s.Pending()) != 2 {
		t.Fatal("re-enqueue did not reopen")
	}
	// GET shows Tatum's nulls; pending filters by chain case-insensitively.
	_, _, body := do(t, s, "GET", "/v3/kms/x", "")
	if !strings.Contains(body, `"withdrawalId":null`) || !strings.Contains(body, `"index":null`) {
		t.Fatalf("GET body %s", body)
	}
	st, _, body := do(t, s, "POST", "/v3/kms/pending/btc", `{"signatureIds":["k"]}`)
	var got []map[string]any
	if st != 200 || json.Unmarshal([]byte(body), &got) != nil || len(got) != 2 {
		t.Fatalf("pending: %d %s", st, body)
	}
}

func TestFaultTimesAndMatching(t *testing.T) {
	s := tatumtest.New(tatumtest.Options{LatestVersion: "9.0.0;WARN;upgrade"})
	defer s.Close()
	s.Enqueue(tatum.PendingTransaction{ID: "f", Chain: "BTC", Hashes: []string{"k"}})
	s.Inject(tatumtest.Fault{Path: "/v3/kms/f", Method: "DELETE", Status: 503}) // other methods unaffected
	s.Inject(tatumtest.Fault{Path: "/v3/kms/", Status: 500, Times: 2})
	var codes []int
	for i := 0; i < 3; i++ {
		st, h, _ := do(t, s, "GET", "/v3/kms/f", "")
		codes = append(codes, st)
		if h.Get("x-ttm-kms-latest-version") != "9.0.0;WARN;upgrade" {
			t.Errorf("no version header on answer %d", i)
		}
	}
	if codes[0] != 500 || codes[1] != 500 || codes[2] != 200 {
		t.Fatalf("codes %v, want [500 500 200]", codes)
	}
	if st, _, _ := do(t, s, "DELETE", "/v3/kms/f", ""); st != 503 {
		t.Fatalf("DELETE fault: %d", st)
	}
	if _, ok := s.Deleted("f"); ok {
		t.Fatal("a fault before handling deleted")
	}
	s.Inject(tatumtest.Fault{Path: "/v3/kms/f", Status: 429, RetryAfter: 1500 * time.Millisecond, Times: -1})
	for i := 0; i < 5; i++ {
		st, h, body := do(t, s, "GET", "/v3/kms/f", "")
		if st != 429 || h.Get("Retry-After") != "2" || !strings.Contains(body, `"statusCode":429`) {
			t.Fatalf("429 fault: %d %v %s", st, h, body)
		}
	}
	s.ClearFaults()
	if st, _, _ := do(t, s, "GET", "/v3/kms/f", ""); st != 200 {
		t.Fatalf("after ClearFaults: %d", st)
	}
	reqs := s.Requests()
	if len(reqs) != 10 || reqs[0].Fault == "" || reqs[2].Fault != "" || reqs[0].Status != 500 || reqs[9].Status != 200 {
		t.Fatalf("request log %+v", reqs)
	}
	if !strings.Contains(reqs[3].Fault, "status 503") {
		t.Fatalf("fault description %q", reqs[3].Fault)
	}
}

func TestBroadcasterCompletesAndCounts(t *testing.T) {
	s := tatumtest.New(tatumtest.Options{})
	defer s.Close()
	s.Enqueue(tatum.PendingTransaction{ID: "b", Chain: "DOGE", Hashes: []string{"k"}})
	var seen string
	s.SetBroadcaster("doge", func(_ context.Context, txData string) (string, error) {
		seen = txData
		return "dtx", nil
	})
	st, _, body := do(t, s, "POST", "/v3/dogecoin/broadcast", `{"txData":"0100","signatureId":"b"}`)
	if st != 200 || body != `{"txId":"dtx","completed":true}` || seen != "0100" {
		t.Fatalf("%d %s %q", st, body, seen)
	}
	// Reset after handling: the node got it, the client gets nothing.
	s.Inject(tatumtest.Fault{Path: "/v3/dogecoin/", Reset: true, AfterHandling: true})
	req, _ := http.NewRequest("POST", s.URL+"/v3/dogecoin/broadcast", strings.NewReader(`{"txData":"0100","signatureId":"b"}`))
	req.Header.Set("x-api-key", s.APIKey)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("no error after a reset")
	}
	if n := s.Broadcasts("b"); n != 2 {
		t.Fatalf("Broadcasts = %d, want 2", n)
	}
	// Without a signatureId: broadcast only, nothing completed.
	st, _, body = do(t, s, "POST", "/v3/dogecoin/broadcast", `{"txData":"0200"}`)
	if st != 200 || body != `{"txId":"dtx","completed":false}` {
		t.Fatalf("%d %s", st, body)
	}
}
