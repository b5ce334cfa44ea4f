package azure_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/azure"
	"github.com/gokms/gokms/backend/azure/azuretest"
	"github.com/gokms/gokms/backend/backendtest"
)

func clientOptions(s *azuretest.Server) *azsecrets.ClientOptions {
	return &azsecrets.ClientOptions{
		ClientOptions: azcore.ClientOptions{
			Transport: s.Client(),
			Retry:     policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 2 * time.Second},
		},
		// The stand-in lives on 127.0.0.1, not under vault.azure.net.
		DisableChallengeResourceVerification: true,
	}
}

func newBackend(t *testing.T, s *azuretest.Server, prefix string, purge bool) *azure.Backend {
	t.Helper()
	b, err := azure.New(azure.Options{VaultURL: s.URL, Credential: s.Credential(), Prefix: prefix, Purge: purge, ClientOptions: clientOptions(s)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConformance(t *testing.T) {
	s := azuretest.New()
	defer s.Close()
	n := 0
	var mu sync.Mutex
	backendtest.Run(t, func(t *testing.T) backend.SecretBackend {
		mu.Lock()
		n++
		prefix := "t" + strings.Repeat("x", n%5) + string(rune('a'+n)) + "-" // a fresh namespace per subtest
		mu.Unlock()
		return newBackend(t, s, prefix, true)
	})
}

var ctx = context.Background()

const key = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"

func record(id string) backend.Record {
	return backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "ETH", Secret: []byte(key), Address: "0x2c7536e3605d9c16a7a3d7b1898e529396a65c23"}
}

func TestChallengeThenBearer(t *testing.T) {
	s := azuretest.New()
	defer s.Close()
	b := newBackend(t, s, "", false)
	if err := b.Put(ctx, record("4a5e1e4b-aaaa-4bbb-8ccc-123456789abc")); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, "4a5e1e4b-aaaa-4bbb-8ccc-123456789abc")
	if err != nil || string(got.Secret) != key {
		t.Fatalf("Get: %v", err)
	}
	if s.Versions("gokms-4a5e1e4b-aaaa-4bbb-8ccc-123456789abc") != 1 {
		t.Fatal("a Tatum UUID should map to the readable name gokms-<uuid>")
	}
}

func TestWrongToken(t *testing.T) {
	s := azuretest.New()
	defer s.Close()
	other := azuretest.New() // its credential hands out a token this vault does not accept
	defer other.Close()
	other.TenantID = s.TenantID
	b, err := azure.New(azure.Options{VaultURL: s.URL, Credential: other.Credential(), ClientOptions: clientOptions(s)})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Put(ctx, record("x"))
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "authentication") {
		t.Fatalf("Put with a rejected token = %v", err)
	}
	if strings.Contains(err.Error(), other.Token) || strings.Contains(err.Error(), key) {
		t.Fatal("error contains the token or the secret")
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	s := azuretest.New()
	defer s.Close()
	b := newBackend(t, s, "", false)
	s.Inject(azuretest.Fault{Method: "PUT", PathPrefix: "/secrets/", Status: 429, Code: "Throttled", Times: 2, RetryAfter: "1"})
	s.Inject(azuretest.Fault{Method: "GET", PathPrefix: "/secrets/", Status: 503, Times: 1})
	if err := b.Put(ctx, record("thr")); err != nil {
		t.Fatalf("Put through 429s and a 503: %v", err)
	}
	if got := s.Requests("PUT secrets/*"); got != 3 {
		t.Fatalf("PUT requests = %d, want 3", got)
	}
	// Exhausted retries give a clear error.
	s.Inject(azuretest.Fault{Method: "GET", Status: 500, Times: 10})
	if _, err := b.Get(ctx, "thr"); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("Get against a failing vault = %v", err)
	}
}

func TestSoftDelete(t *testing.T) {
	s := azuretest.New()
	defer s.Close()
	b := newBackend(t, s, "", false) // no purge permission
	r := record("sd")
	if err := b.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "sd"); err != nil {
		t.Fatal(err)
	}
	if !s.Deleted("gokms-sd") {
		t.Fatal("Delete without purge should leave the secret soft-deleted")
	}
	if _, err := b.Get(ctx, "sd"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Get of a deleted record = %v", err)
	}
	// A different record under the same id: clear error, not a bare 409.
	other := record("sd")
	other.Secret = []byte("0x" + strings.Repeat("11", 32))
	err := b.Put(ctx, other)
	if !errors.Is(err, backend.ErrExists) || !strings.Contains(err.Error(), "soft-delete") || !strings.Contains(err.Error(), "purge") {
		t.Fatalf("Put over a soft-deleted different record = %v", err)
	}
	// The same record again recovers it.
	if err := b.Put(ctx, r); err != nil {
		t.Fatalf("Put of the identical record should recover it: %v", err)
	}
	got, err := b.Get(ctx, "sd")
	if err != nil || string(got.Secret) != key {
		t.Fatalf("Get after recover: %v", err)
	}
	// With purge, delete leaves nothing behind and the id can be reused.
	pb := newBackend(t, s, "", true)
	if err := pb.Delete(ctx, "sd"); err != nil {
		t.Fatal(err)
	}
	if s.Deleted("gokms-sd") {
		t.Fatal("purge left the secret in retention")
	}
	if err := pb.Put(ctx, other); err != nil {
		t.Fatal(err)
	}
}

// Two writers race on one signatureId: the first content wins, the loser gets ErrExists.
func TestConcurrentCreateKeepsFirst(t *testing.T) {
	s := azuretest.New()
	defer s.Close()
	b := newBackend(t, s, "", false)
	var once sync.Once
	s.OnRequest = func(r *http.Request) {
		if r.Method == http.MethodPut && r.Header.Get("Authorization") != "" {
			once.Do(func() {
				// Another gokms stores a different record under the same id right
				// after our existence check.
				s.SetDirect("gokms-race", `{"v":1,"id":"race","kind":"privateKey","chain":"BTC","testnet":false,"secret":"b3RoZXI=","created":"2026-01-01T00:00:00Z"}`,
					azure.ContentType, map[string]string{"signatureId": "race", "kind": "privateKey", "chain": "BTC", "testnet": "false"})
				time.Sleep(1100 * time.Millisecond) // versions carry second-resolution creation times
			})
		}
	}
	err := b.Put(ctx, record("race"))
	if !errors.Is(err, backend.ErrExists) {
		t.Fatalf("losing writer got %v, want ErrExists", err)
	}
	got, err := b.Get(ctx, "race")
	if err != nil || string(got.Secret) != "other" || got.Chain != "BTC" {
		t.Fatalf("the first writer's record must stay current: %v", err)
	}
}

func TestListReadsNoValues(t *testing.T) {
	s := azuretest.New()
	defer s.Close()
	s.PageSize = 3
	b := newBackend(t, s, "", false)
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		if err := b.Put(ctx, record(id)); err != nil {
			t.Fatal(err)
		}
	}
	// A secret that is not ours is ignored.
	s.SetDirect("gokms-zzz", "not json", "text/plain", nil)
	s.SetDirect("unrelated", "x", "", nil)
	lists, reads := s.Requests("GET secrets"), s.Requests("GET secrets/*")
	l, err := b.List(ctx)
	if err != nil || len(l) != 7 {
		t.Fatalf("List = %d records, %v", len(l), err)
	}
	// 9 secrets at 3 per page: 3 list requests, and no GET of any single secret.
	if got := s.Requests("GET secrets") - lists; got != 3 {
		t.Fatalf("List made %d list requests, want 3 pages", got)
	}
	if got := s.Requests("GET secrets/*") - reads; got != 0 {
		t.Fatalf("List read %d secrets, want none", got)
	}
}
