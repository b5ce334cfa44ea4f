package azuretest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Raw-HTTP checks of the stand-in against Key Vault's documented wire
// behaviour, independent of the SDK and of our backend.
func call(t *testing.T, s *Server, method, url, body string, auth bool) (*http.Response, map[string]any) {
	t.Helper()
	if !strings.HasPrefix(url, "https://") {
		url = s.URL + url
	}
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if auth {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestWire(t *testing.T) {
	s := New()
	defer s.Close()
	const v = "?api-version=2026-04-01"

	resp, body := call(t, s, "GET", "/secrets/x"+v, "", false)
	ch := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != 401 || !strings.HasPrefix(ch, `Bearer authorization="https://login.microsoftonline.com/`) ||
		!strings.Contains(ch, `resource="https://vault.azure.net"`) || errCode(body) != "Unauthorized" {
		t.Fatalf("challenge: %d %q %v", resp.StatusCode, ch, body)
	}
	if resp, body = call(t, s, "GET", "/secrets/x", "", true); resp.StatusCode != 400 || errCode(body) != "BadParameter" {
		t.Fatalf("missing api-version: %d %v", resp.StatusCode, body)
	}
	if resp, body = call(t, s, "GET", "/secrets/nope"+v, "", true); resp.StatusCode != 404 || errCode(body) != "SecretNotFound" {
		t.Fatalf("not found: %d %v", resp.StatusCode, body)
	}
	if resp, _ = call(t, s, "PUT", "/secrets/bad_name"+v, `{"value":"x"}`, true); resp.StatusCode != 400 {
		t.Fatalf("invalid name: %d", resp.StatusCode)
	}

	resp, body = call(t, s, "PUT", "/secrets/My-Secret"+v, `{"value":"one","contentType":"text/plain","tags":{"a":"b"}}`, true)
	id, _ := body["id"].(string)
	attrs, _ := body["attributes"].(map[string]any)
	if resp.StatusCode != 200 || body["value"] != "one" || !strings.Contains(id, "/secrets/My-Secret/") || attrs["enabled"] != true ||
		attrs["recoveryLevel"] == nil {
		t.Fatalf("set: %d %v", resp.StatusCode, body)
	}
	call(t, s, "PUT", "/secrets/my-secret"+v, `{"value":"two"}`, true) // names are case-insensitive: a new version
	if _, body = call(t, s, "GET", "/secrets/MY-SECRET/"+v, "", true); body["value"] != "two" {
		t.Fatalf("latest version: %v", body)
	}
	firstVersion := id[strings.LastIndex(id, "/")+1:]
	if _, body = call(t, s, "GET", "/secrets/my-secret/"+firstVersion+v, "", true); body["value"] != "one" {
		t.Fatalf("specific version: %v", body)
	}
	if resp, body = call(t, s, "PATCH", "/secrets/my-secret/"+firstVersion+v, `{"attributes":{"enabled":false}}`, true); resp.StatusCode != 200 || body["value"] != nil {
		t.Fatalf("patch: %d %v", resp.StatusCode, body)
	}
	if resp, _ = call(t, s, "GET", "/secrets/my-secret/"+firstVersion+v, "", true); resp.StatusCode != 403 {
		t.Fatalf("disabled version: %d", resp.StatusCode)
	}

	for _, n := range []string{"a", "b", "c", "d"} {
		call(t, s, "PUT", "/secrets/"+n+v, `{"value":"x"}`, true)
	}
	_, body = call(t, s, "GET", "/secrets"+v+"&maxresults=2", "", true)
	var names []string
	for {
		for _, it := range body["value"].([]any) {
			m := it.(map[string]any)
			if m["value"] != nil {
				t.Fatal("list returned a secret value")
			}
			names = append(names, m["id"].(string))
		}
		next, _ := body["nextLink"].(string)
		if next == "" {
			break
		}
		_, body = call(t, s, "GET", next, "", true)
	}
	if len(names) != 5 {
		t.Fatalf("paged list returned %d secrets: %v", len(names), names)
	}

	if resp, body = call(t, s, "DELETE", "/secrets/a"+v, "", true); resp.StatusCode != 200 || body["recoveryId"] == nil || body["scheduledPurgeDate"] == nil {
		t.Fatalf("delete: %d %v", resp.StatusCode, body)
	}
	if resp, body = call(t, s, "PUT", "/secrets/a"+v, `{"value":"y"}`, true); resp.StatusCode != 409 || errCode(body) != "Conflict" ||
		body["error"].(map[string]any)["innererror"].(map[string]any)["code"] != "ObjectIsDeletedButRecoverable" {
		t.Fatalf("set over soft-deleted: %d %v", resp.StatusCode, body)
	}
	if _, body = call(t, s, "GET", "/deletedsecrets/a"+v, "", true); body["value"] != "x" {
		t.Fatalf("get deleted: %v", body)
	}
	if resp, _ = call(t, s, "POST", "/deletedsecrets/a/recover"+v, "", true); resp.StatusCode != 200 {
		t.Fatalf("recover: %d", resp.StatusCode)
	}
	call(t, s, "DELETE", "/secrets/a"+v, "", true)
	if resp, _ = call(t, s, "DELETE", "/deletedsecrets/a"+v, "", true); resp.StatusCode != 204 {
		t.Fatalf("purge: %d", resp.StatusCode)
	}
	if resp, _ = call(t, s, "PUT", "/secrets/a"+v, `{"value":"z"}`, true); resp.StatusCode != 200 {
		t.Fatalf("reuse after purge: %d", resp.StatusCode)
	}

	s.Inject(Fault{Status: 429, Code: "Throttled", Times: 1, RetryAfter: "3"})
	if resp, body = call(t, s, "GET", "/secrets/a"+v, "", true); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" || errCode(body) != "Throttled" {
		t.Fatalf("throttle: %d %v", resp.StatusCode, body)
	}
}
