package restjson

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestErrorsHideTheKey: the base URL's path (Tatum puts the API key there)
// and header secrets never appear in an error.
func TestErrorsHideTheKey(t *testing.T) {
	const key = "t-6543-secret-api-key"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v3/egld/node/" + key + "/echo":
			w.WriteHeader(500)
			w.Write([]byte("bad request for /v3/egld/node/" + key + "/echo " + r.Header.Get("x-api-key")))
		case "/v3/egld/node/" + key + "/junk":
			w.Write([]byte("not json"))
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	c, err := New(srv.URL+"/v3/egld/node/"+key, nil, "hdr-secret")
	if err != nil {
		t.Fatal(err)
	}
	c.Header.Set("x-api-key", "hdr-secret")
	var out map[string]any
	for _, p := range []string{"/echo", "/junk", "/missing"} {
		err := c.Get(context.Background(), p, &out)
		if err == nil {
			t.Fatalf("%s: no error", p)
		}
		if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "hdr-secret") {
			t.Errorf("%s: error shows a secret: %v", p, err)
		}
	}
	srv.Close()
	if err := c.Post(context.Background(), "/x", []byte("{}"), &out); err == nil || strings.Contains(err.Error(), key) {
		t.Errorf("closed server: %v", err)
	}
	if _, err := New("ftp://x", nil); err == nil {
		t.Error("ftp URL accepted")
	}
}

// The default client follows no redirect: the request, with its
// x-api-key, never reaches where a node points it.
func TestDefaultClientFollowsNoRedirect(t *testing.T) {
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		_, _ = w.Write([]byte(`{}`))
	}))
	defer target.Close()
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer node.Close()
	c, err := New(node.URL, nil, "the-api-key")
	if err != nil {
		t.Fatal(err)
	}
	c.Header.Set("x-api-key", "the-api-key")
	var out map[string]any
	err = c.Get(context.Background(), "/account", &out)
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("Get through a redirecting node: %v, want an error saying it redirected", err)
	}
	if strings.Contains(err.Error(), "the-api-key") {
		t.Fatalf("error shows the key: %v", err)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
}
