package nodehttp

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// A redirect is an error, and the request (with its x-api-key) never
// reaches the target.
func TestRedirectNotFollowed(t *testing.T) {
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
	}))
	defer target.Close()
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/steal", code)
		}))
		req, _ := http.NewRequest(http.MethodPost, node.URL, nil)
		req.Header.Set("x-api-key", "secret-key")
		res, err := Client(5 * time.Second).Do(req)
		if err == nil {
			res.Body.Close()
		}
		node.Close()
		if !errors.Is(err, ErrRedirect) {
			t.Errorf("%d: err %v, want ErrRedirect", code, err)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
}
