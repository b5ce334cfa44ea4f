package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// runTx runs the real app in-process against the stand-in and returns the
// exit code, stdout and stderr. The environment is isolated (HOME, no API
// key or URL inherited) and restored afterwards, because the app exports
// --apiKey as TATUM_API_KEY as tatum-kms does.
func runTx(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{envAPIKey, envAPIURL, "GOKMS_LOG_LEVEL", "GOKMS_LOG_FORMAT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	var out, errb bytes.Buffer
	code := runMain(append([]string{"gokms"}, args...), devnull, &out, &errb)
	return code, out.String(), errb.String()
}

func newStandIn(t *testing.T) *tatumtest.Server {
	s := tatumtest.New(tatumtest.Options{})
	t.Cleanup(s.Close)
	return s
}

func noKeyLeak(t *testing.T, key string, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		if strings.Contains(o, key) {
			t.Errorf("the API key appears in the output:\n%s", o)
		}
	}
}

func TestGetTransaction(t *testing.T) {
	s := newStandIn(t)
	idx := uint32(4)
	s.Enqueue(tatum.PendingTransaction{ID: "61fe7c68cf2fbc595cbb89dd", Chain: "BTC", SerializedTransaction: `{"hash":"81e6"}`,
		Hashes: []string{"b8eb99cd-ba04-4031-a65f-11d6420ebdd1"}, Signatures: []tatum.Signature{{ID: "mn", Index: &idx}}})
	env := map[string]string{envAPIURL: s.URL}

	// --apiKey after the arguments, as tatum-kms users write it.
	code, out, errOut := runTx(t, env, "gettransaction", "61fe7c68cf2fbc595cbb89dd", "--apiKey", s.APIKey)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	want := `{
  "withdrawalId": null,
  "chain": "BTC",
  "serializedTransaction": "{\"hash\":\"81e6\"}",
  "hashes": [
    "b8eb99cd-ba04-4031-a65f-11d6420ebdd1"
  ],
  "index": null,
  "signatures": [
    {
      "id": "mn",
      "index": 4
    }
  ],
  "withdrawalResponses": null,
  "id": "61fe7c68cf2fbc595cbb89dd"
}
`
	if out != want {
		t.Fatalf("stdout\n%s\nwant\n%s", out, want)
	}
	noKeyLeak(t, s.APIKey, out, errOut)

	// Completed: the txId shows; the key from TATUM_API_KEY.
	s.Enqueue(tatum.PendingTransaction{ID: "done", Chain: "LTC", Hashes: []string{"k"}, TxID: "f757"})
	env[envAPIKey] = s.APIKey
	code, out, errOut = runTx(t, env, "gettransaction", "done")
	var got tatum.PendingTransaction
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.TxID != "f757" || got.Chain != "LTC" {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, out, errOut)
	}
	for _, r := range s.Requests() {
		if r.Header.Get("x-api-key") != s.APIKey || r.Header.Get("x-ttm-kms-client-version") != tatum.CompatVersion ||
			!strings.HasPrefix(r.Header.Get("User-Agent"), "gokms/") {
			t.Errorf("request headers %v", r.Header)
		}
	}
}

func TestTransactionCommandErrors(t *testing.T) {
	s := newStandIn(t)
	s.Enqueue(tatum.PendingTransaction{ID: "p", Chain: "BTC", Hashes: []string{"k"}})
	ok := map[string]string{envAPIURL: s.URL, envAPIKey: s.APIKey}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown id", ok, []string{"gettransaction", "nope"},
			"error: tatum API GET /v3/kms/nope: 403 kms.missing: No such KMS signature with id 'nope'.\n"},
		{"no API key", map[string]string{envAPIURL: s.URL}, []string{"gettransaction", "p"},
			"error: Required TATUM_API_KEY is not set. Please set it as env variable or pass it as argument.\n"},
		{"wrong API key", map[string]string{envAPIURL: s.URL, envAPIKey: "wrong-key-4f2a9c"}, []string{"deletetransaction", "p"},
			"error: tatum API DELETE /v3/kms/p: 401 subscription.invalid: Unable to find valid subscription for '[redacted]' (the API key is missing, invalid or inactive: set TATUM_API_KEY or --apiKey)\n"},
		{"bad URL", map[string]string{envAPIURL: "api.tatum.io", envAPIKey: "k"}, []string{"gettransaction", "p"},
			`error: TATUM_API_URL: invalid Tatum API URL "api.tatum.io": want http(s)://host[/path]` + "\n"},
		{"no id", ok, []string{"gettransaction"}, "error: usage: gokms gettransaction <id> (got 0 arguments)\n"},
		{"no txId", ok, []string{"completetransaction", "p"}, "error: usage: gokms completetransaction <id> <txId> (got 1 argument)\n"},
		{"extra arg", ok, []string{"deletetransaction", "p", "q"}, "error: usage: gokms deletetransaction <id> (got 2 arguments)\n"},
		{"unknown complete", ok, []string{"completetransaction", "nope", "abc"},
			"error: tatum API PUT /v3/kms/nope/abc: 403 kms.missing: No such KMS signature with id 'nope'.\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runTx(t, tc.env, tc.args...)
			if code != 1 || out != "" || errOut != tc.want {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant   %q", code, out, errOut, tc.want)
			}
			noKeyLeak(t, "wrong-key-4f2a9c", errOut)
			noKeyLeak(t, s.APIKey, errOut)
		})
	}
	if _, ok := s.Deleted("p"); ok {
		t.Fatal("a failed command changed the pending transaction")
	}
	if _, ok := s.Completed("p"); ok {
		t.Fatal("a failed command completed the pending transaction")
	}
}

func TestDeleteAndCompleteTransaction(t *testing.T) {
	s := newStandIn(t)
	for _, id := range []string{"d1", "d2", "c1"} {
		s.Enqueue(tatum.PendingTransaction{ID: id, Chain: "BTC", Hashes: []string{"k"}})
	}
	env := map[string]string{envAPIURL: s.URL, envAPIKey: s.APIKey}

	if code, out, errOut := runTx(t, env, "deletetransaction", "d1"); code != 0 || out != "" || errOut != "" {
		t.Fatalf("delete: exit %d %q %q", code, out, errOut)
	}
	if revert, ok := s.Deleted("d1"); !ok || !revert {
		t.Fatalf("d1 deleted=%v revert=%v, want a reverting delete", ok, revert)
	}
	if code, _, errOut := runTx(t, env, "deletetransaction", "--revert=false", "d2"); code != 0 {
		t.Fatalf("delete --revert=false: exit %d %s", code, errOut)
	}
	if revert, ok := s.Deleted("d2"); !ok || revert {
		t.Fatalf("d2 deleted=%v revert=%v, want revert=false", ok, revert)
	}

	txid := "f7572ef070d381612b7594940cc73ec008e796b37a73ff031f3855d2a23c9ade"
	if code, out, errOut := runTx(t, env, "completetransaction", "c1", txid); code != 0 || out != "" || errOut != "" {
		t.Fatalf("complete: exit %d %q %q", code, out, errOut)
	}
	if got, ok := s.Completed("c1"); !ok || got != txid {
		t.Fatalf("c1 completed %q %v", got, ok)
	}
	if p := s.Pending(); len(p) != 0 {
		t.Fatalf("still pending: %+v", p)
	}
	var seen []string
	for _, r := range s.Requests() {
		seen = append(seen, r.Method+" "+r.Path+"?"+r.RawQuery)
	}
	want := "DELETE /v3/kms/d1?revert=true DELETE /v3/kms/d2?revert=false PUT /v3/kms/c1/" + txid + "?"
	if strings.Join(seen, " ") != want {
		t.Fatalf("requests %v\nwant %s", seen, want)
	}
}

// A transient 500 is retried; the command succeeds.
func TestTransactionCommandRetries(t *testing.T) {
	s := newStandIn(t)
	s.Enqueue(tatum.PendingTransaction{ID: "r", Chain: "BTC", Hashes: []string{"k"}})
	s.Inject(tatumtest.Fault{Path: "/v3/kms/r", Status: 500})
	code, out, errOut := runTx(t, map[string]string{envAPIURL: s.URL, envAPIKey: s.APIKey}, "gettransaction", "r")
	if code != 0 || !strings.Contains(out, `"id": "r"`) {
		t.Fatalf("exit %d %q %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "retrying") {
		t.Errorf("the retry was not logged: %q", errOut)
	}
	if n := s.CountRequests("GET", "/v3/kms/r"); n != 2 {
		t.Fatalf("%d requests", n)
	}
}
