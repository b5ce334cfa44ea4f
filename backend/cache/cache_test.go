package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/backendtest"
	"github.com/gokms/gokms/backend/memory"
)

// counting wraps a backend and counts the calls that reach it, standing in
// for a remote store where every call is a network round trip.
type counting struct {
	backend.SecretBackend
	gets, lists atomic.Int64
	gate        chan struct{} // if set, Get waits on it
}

func (c *counting) Get(ctx context.Context, id string) (backend.Record, error) {
	c.gets.Add(1)
	if c.gate != nil {
		<-c.gate
	}
	return c.SecretBackend.Get(ctx, id)
}

func (c *counting) List(ctx context.Context) ([]backend.Meta, error) {
	c.lists.Add(1)
	return c.SecretBackend.List(ctx)
}

// clock is a manual clock for TTL tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func rec(id, secret string) backend.Record {
	return backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "ETH", Secret: []byte(secret)}
}

func setup(t *testing.T, o Options) (*Cache, *counting, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if o.Now == nil {
		o.Now = clk.now
	}
	inner := &counting{SecretBackend: memory.New()}
	c := New(inner, o)
	t.Cleanup(func() { _ = c.Close() })
	return c, inner, clk
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(*testing.T) backend.SecretBackend {
		return New(memory.New(), Options{TTL: time.Minute, MaxEntries: 64})
	})
}

// With a tiny bound the suite exercises eviction on every call.
func TestConformanceTinyCache(t *testing.T) {
	backendtest.Run(t, func(*testing.T) backend.SecretBackend {
		return New(memory.New(), Options{TTL: time.Minute, MaxEntries: 2})
	})
}

func TestGetServedFromCacheWithinTTL(t *testing.T) {
	ctx := context.Background()
	c, inner, clk := setup(t, Options{TTL: 10 * time.Second})
	if err := c.Put(ctx, rec("a", "secret-a")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		r, err := c.Get(ctx, "a")
		if err != nil || string(r.Secret) != "secret-a" {
			t.Fatalf("Get: %v", err)
		}
		r.Zero() // the caller's copy; must not affect the cache
		clk.add(time.Second - time.Millisecond)
	}
	if n := inner.gets.Load(); n != 1 {
		t.Fatalf("wrapped backend saw %d Gets within the TTL, want 1", n)
	}
	if s := c.Stats(); s.Hits != 9 || s.Misses != 1 || s.InnerGets != 1 {
		t.Fatalf("stats %+v", s)
	}
	clk.add(time.Second) // past the TTL
	if _, err := c.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if n := inner.gets.Load(); n != 2 {
		t.Fatalf("after TTL: %d inner Gets, want 2", n)
	}
}

func TestExpiredAndEvictedSecretsAreZeroed(t *testing.T) {
	ctx := context.Background()
	c, _, clk := setup(t, Options{TTL: time.Second, MaxEntries: 2})
	for _, id := range []string{"a", "b", "c"} {
		if err := c.Put(ctx, rec(id, "secret-"+id)); err != nil {
			t.Fatal(err)
		}
	}
	cached := func(id string) []byte {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.entries[id].rec.Secret
	}
	mustGet := func(id string) {
		t.Helper()
		if _, err := c.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	mustGet("a")
	mustGet("b")
	aBytes := cached("a")
	mustGet("a") // a is now most recently used, b the eviction candidate
	bBytes := cached("b")
	mustGet("c") // evicts b
	if c.Len() != 2 {
		t.Fatalf("cache holds %d entries, bound is 2", c.Len())
	}
	if !allZero(bBytes) {
		t.Fatal("evicted secret was not zeroed")
	}
	if allZero(aBytes) {
		t.Fatal("the recently used entry was evicted instead")
	}
	if s := c.Stats(); s.Evictions != 1 {
		t.Fatalf("evictions = %d", s.Evictions)
	}
	clk.add(2 * time.Second)
	mustGet("a") // expired: refetched, old copy zeroed
	if !allZero(aBytes) {
		t.Fatal("expired secret was not zeroed")
	}
	cBytes := cached("c")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !allZero(cBytes) {
		t.Fatal("Close did not zero cached secrets")
	}
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return len(b) > 0
}

func TestPutAndDeleteInvalidate(t *testing.T) {
	ctx := context.Background()
	c, inner, _ := setup(t, Options{TTL: time.Hour})
	if err := c.Put(ctx, rec("a", "one")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "a"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound (served stale from cache?)", err)
	}
	if l, err := c.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("List after Delete = %v, %v; want empty", l, err)
	}
	// Stored again with another secret: the new one is served.
	if err := c.Put(ctx, rec("a", "two")); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Get(ctx, "a"); err != nil || string(r.Secret) != "two" {
		t.Fatalf("Get after re-Put: %v", err)
	}
	if l, err := c.List(ctx); err != nil || len(l) != 1 {
		t.Fatalf("List after re-Put = %v, %v", l, err)
	}
	if inner.lists.Load() != 3 {
		t.Fatalf("inner Lists = %d, want 3 (each after an invalidation)", inner.lists.Load())
	}
	if _, err := c.List(ctx); err != nil || inner.lists.Load() != 3 {
		t.Fatalf("a fresh List was not served from the cache (%d inner Lists)", inner.lists.Load())
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	ctx := context.Background()
	c, inner, _ := setup(t, Options{TTL: time.Hour})
	if _, err := c.Get(ctx, "later"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Get = %v", err)
	}
	// Another process stores it (straight into the shared store).
	if err := inner.SecretBackend.Put(ctx, rec("later", "s")); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Get(ctx, "later"); err != nil || string(r.Secret) != "s" {
		t.Fatalf("Get after another process stored it = %v (a not-found was cached?)", err)
	}
	if inner.gets.Load() != 2 {
		t.Fatalf("inner Gets = %d", inner.gets.Load())
	}
}

func TestReturnedCopiesAreIndependent(t *testing.T) {
	ctx := context.Background()
	c, _, _ := setup(t, Options{})
	if err := c.Put(ctx, rec("a", "secret")); err != nil {
		t.Fatal(err)
	}
	r1, _ := c.Get(ctx, "a")
	r2, _ := c.Get(ctx, "a")
	r1.Secret[0] = 'X'
	r1.Zero()
	if string(r2.Secret) != "secret" {
		t.Fatal("two Gets share a secret slice")
	}
	if r3, _ := c.Get(ctx, "a"); string(r3.Secret) != "secret" {
		t.Fatal("zeroing a returned record changed the cached one")
	}
}

// Concurrent Gets of one id while it is being fetched make one call to the
// wrapped backend: the daemon's workers signing several transactions of the
// same signatureId in one cycle.
func TestConcurrentMissesMakeOneCall(t *testing.T) {
	ctx := context.Background()
	c, inner, _ := setup(t, Options{TTL: time.Hour})
	if err := c.Put(ctx, rec("hot", "secret")); err != nil {
		t.Fatal(err)
	}
	inner.gate = make(chan struct{})
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.Get(ctx, "hot")
			if err == nil && string(r.Secret) != "secret" {
				err = fmt.Errorf("wrong secret")
			}
			errs <- err
		}()
	}
	close(inner.gate) // whoever arrives after the first flight finds the entry cached
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if g := inner.gets.Load(); g != 1 {
		t.Fatalf("%d concurrent Gets made %d calls to the wrapped backend, want 1", n, g)
	}
}

func TestPutFailureStillInvalidates(t *testing.T) {
	ctx := context.Background()
	c, _, _ := setup(t, Options{TTL: time.Hour})
	if err := c.Put(ctx, rec("a", "one")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, rec("a", "two")); !errors.Is(err, backend.ErrExists) {
		t.Fatalf("duplicate Put = %v", err)
	}
	if r, err := c.Get(ctx, "a"); err != nil || string(r.Secret) != "one" {
		t.Fatalf("Get after refused Put: %v", err)
	}
}

// BenchmarkDaemonCycle models one daemon cycle: 200 pending transactions
// signed by 20 distinct signatureIds, against a wrapped store with a
// simulated 200µs round trip (a Vault on the LAN is slower). It reports the
// calls that reach the store per cycle; compare the two sub-benchmarks.
func BenchmarkDaemonCycle(b *testing.B) {
	const txs, ids = 200, 20
	for _, cached := range []bool{false, true} {
		name := "uncached"
		if cached {
			name = "cached"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			inner := &slow{counting: counting{SecretBackend: memory.New()}, rtt: 200 * time.Microsecond}
			for i := 0; i < ids; i++ {
				if err := inner.SecretBackend.Put(ctx, rec(fmt.Sprintf("id-%d", i), "secret")); err != nil {
					b.Fatal(err)
				}
			}
			var store backend.SecretBackend = inner
			clk := &clock{t: time.Now()}
			if cached {
				store = New(inner, Options{TTL: 5 * time.Second, Now: clk.now})
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				clk.add(5 * time.Second) // each iteration is a new cycle: the cache starts cold
				for tx := 0; tx < txs; tx++ {
					r, err := store.Get(ctx, fmt.Sprintf("id-%d", tx%ids))
					if err != nil {
						b.Fatal(err)
					}
					r.Zero()
				}
			}
			b.ReportMetric(float64(inner.gets.Load())/float64(b.N), "store-calls/cycle")
		})
	}
}

type slow struct {
	counting
	rtt time.Duration
}

func (s *slow) Get(ctx context.Context, id string) (backend.Record, error) {
	time.Sleep(s.rtt)
	return s.counting.Get(ctx, id)
}
