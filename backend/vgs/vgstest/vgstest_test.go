package vgstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// These tests pin the stand-in to VGS's documented wire behaviour, with raw
// HTTP rather than our client, so the client cannot be tested against its own
// assumptions.
func do(t *testing.T, s *Server, method, path, body string, auth bool) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if auth {
		req.SetBasicAuth(s.Username, s.Password)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if buf.Len() > 0 {
		if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: body is not JSON: %q", method, path, buf.String())
		}
	}
	return resp.StatusCode, out
}

func errorStatus(t *testing.T, body map[string]any) float64 {
	t.Helper()
	errs, ok := body["errors"].([]any)
	if !ok || len(errs) == 0 {
		t.Fatalf("error body has no errors array: %v", body)
	}
	e := errs[0].(map[string]any)
	for _, k := range []string{"status", "title", "detail", "href"} {
		if _, ok := e[k]; !ok {
			t.Errorf("error object lacks %q: %v", k, e)
		}
	}
	return e["status"].(float64)
}

func TestWireBehaviour(t *testing.T) {
	s := New()
	defer s.Close()

	code, body := do(t, s, "GET", "/aliases/tok_sandbox_x", "", false)
	if code != 401 || errorStatus(t, body) != 401 {
		t.Fatalf("no credentials: %d %v", code, body)
	}

	code, body = do(t, s, "POST", "/aliases", `{"data":[{"value":"122105155","classifiers":["bank-account"],"format":"UUID","storage":"PERSISTENT"}]}`, true)
	if code != 201 {
		t.Fatalf("create: %d %v", code, body)
	}
	item := body["data"].([]any)[0].(map[string]any)
	alias := item["aliases"].([]any)[0].(map[string]any)["alias"].(string)
	if !strings.HasPrefix(alias, "tok_sandbox_") || item["value"] != "122105155" || item["storage"] != "PERSISTENT" {
		t.Fatalf("create answer: %v", item)
	}

	code, body = do(t, s, "POST", "/aliases", `{"data":[{"alias":"`+alias+`","format":"RAW_UUID"}]}`, true)
	if code != 201 || len(body["data"].([]any)[0].(map[string]any)["aliases"].([]any)) != 2 {
		t.Fatalf("reference create: %d %v", code, body)
	}

	code, body = do(t, s, "GET", "/aliases/"+alias, "", true)
	if code != 200 || body["data"].([]any)[0].(map[string]any)["value"] != "122105155" {
		t.Fatalf("reveal: %d %v", code, body)
	}
	code, body = do(t, s, "GET", "/aliases?q="+alias+",tok_sandbox_nope", "", true)
	if code != 200 || len(body["data"].(map[string]any)) != 1 {
		t.Fatalf("reveal many: %d %v", code, body)
	}
	if code, _ = do(t, s, "PUT", "/aliases/"+alias, `{"data":{"classifiers":["PII"]}}`, true); code != 204 {
		t.Fatalf("reclassify: %d", code)
	}

	var many []string
	for i := 0; i < 21; i++ {
		many = append(many, fmt.Sprintf(`{"value":"%d","format":"UUID"}`, i))
	}
	if code, body = do(t, s, "POST", "/aliases", `{"data":[`+strings.Join(many, ",")+`]}`, true); code != 400 || errorStatus(t, body) != 400 {
		t.Fatalf("21 items: %d %v", code, body)
	}
	if code, _ = do(t, s, "POST", "/aliases", `{"data":[{"value":"1","format":"NOPE"}]}`, true); code != 400 {
		t.Fatalf("bad format: %d", code)
	}
	if code, _ = do(t, s, "POST", "/aliases", `{"data":`, true); code != 400 {
		t.Fatalf("bad JSON: %d", code)
	}

	if code, _ = do(t, s, "DELETE", "/aliases/"+alias, "", true); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, body = do(t, s, "GET", "/aliases/"+alias, "", true); code != 404 || errorStatus(t, body) != 404 {
		t.Fatalf("reveal deleted: %d %v", code, body)
	}
	if code, _ = do(t, s, "DELETE", "/aliases/"+alias, "", true); code != 404 {
		t.Fatalf("delete twice: %d", code)
	}
}
