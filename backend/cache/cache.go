// Package cache is a bounded read cache in front of a remote SecretBackend
// (HashiCorp Vault, Azure Key Vault), so the daemon resolves a signatureId
// from the remote store at most once per TTL however many transactions
// need it, and concurrent lookups of the same id make one remote call.
//
// It is itself a backend.SecretBackend (a decorator): Get and List are
// served from memory while fresh; Put and Delete go to the wrapped backend
// and drop what the cache held for that id (and the cached List). Errors are
// never cached, so a record stored by another process is seen on the next
// Get after a miss. Cached secrets are private copies; callers get their own
// copy, and a copy is zeroed when it expires, is evicted or the cache closes.
//
// Changes made by other processes become visible within TTL: choose a TTL
// no longer than the staleness the deployment accepts (a deleted record may
// still be served for up to TTL).
package cache

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/gokms/gokms/backend"
)

// Options bound the cache.
type Options struct {
	// TTL is how long an entry is served without asking the wrapped
	// backend. Zero means DefaultTTL.
	TTL time.Duration
	// MaxEntries bounds the number of cached records (least recently used
	// are evicted first). Zero means DefaultMaxEntries.
	MaxEntries int
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
}

// Defaults: one daemon cycle is 5 s by default (tatum-kms --period).
const (
	DefaultTTL        = 30 * time.Second
	DefaultMaxEntries = 10000
)

// Stats counts cache traffic.
type Stats struct {
	Hits, Misses  int64 // Gets served from memory / not
	InnerGets     int64 // Gets that reached the wrapped backend (misses minus coalesced ones)
	ListHits      int64
	InnerLists    int64
	Evictions     int64 // entries dropped for the size bound
	Invalidations int64 // entries dropped by Put/Delete
}

type entry struct {
	id      string
	rec     backend.Record // private copy
	expires time.Time
	elem    *list.Element
}

// Cache wraps a SecretBackend. It is safe for concurrent use.
type Cache struct {
	inner backend.SecretBackend
	ttl   time.Duration
	max   int
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
	lru     *list.List // front = most recently used
	// epoch counts Puts and Deletes. A lookup that started before one
	// neither stores its result nor is joined by later lookups, so a
	// record changed by this process is never served stale.
	epoch     uint64
	listCache []backend.Meta
	listExp   time.Time

	flight singleflight.Group
	stats  struct {
		hits, misses, innerGets, listHits, innerLists, evictions, invalidations atomic.Int64
	}
}

var _ backend.SecretBackend = (*Cache)(nil)

// New wraps inner.
func New(inner backend.SecretBackend, o Options) *Cache {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Cache{inner: inner, ttl: o.TTL, max: o.MaxEntries, now: o.Now, entries: map[string]*entry{}, lru: list.New()}
}

// Stats returns the counters so far.
func (c *Cache) Stats() Stats {
	return Stats{
		Hits: c.stats.hits.Load(), Misses: c.stats.misses.Load(), InnerGets: c.stats.innerGets.Load(),
		ListHits: c.stats.listHits.Load(), InnerLists: c.stats.innerLists.Load(),
		Evictions: c.stats.evictions.Load(), Invalidations: c.stats.invalidations.Load(),
	}
}

// Len is the number of cached records.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func clone(r backend.Record) backend.Record { return r.Clone() }

// Get implements backend.SecretBackend.
func (c *Cache) Get(ctx context.Context, id string) (backend.Record, error) {
	if r, ok := c.fresh(id); ok {
		c.stats.hits.Add(1)
		return r, nil
	}
	c.mu.Lock()
	if e, ok := c.entries[id]; ok && !c.now().Before(e.expires) {
		c.dropLocked(e) // expired: zero it now rather than at eviction
	}
	epoch := c.epoch
	c.mu.Unlock()
	c.stats.misses.Add(1)

	// Concurrent misses for the same id in the same epoch share one call.
	// The shared result is the cache's own copy; each caller gets a clone.
	v, err, shared := c.flight.Do(fmt.Sprintf("%d\x00%s", epoch, id), func() (interface{}, error) {
		// A flight that finished just before this one began may have
		// cached the record already.
		if r, ok := c.fresh(id); ok {
			return r, nil
		}
		c.stats.innerGets.Add(1)
		r, err := c.inner.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		c.store(id, r, epoch)
		return r, nil
	})
	if err != nil {
		return backend.Record{}, err
	}
	if !shared {
		return v.(backend.Record), nil // the caller's alone: the cache kept its own copy
	}
	return clone(v.(backend.Record)), nil
}

// fresh returns a copy of id's entry if it has not expired.
func (c *Cache) fresh(id string) (backend.Record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || !c.now().Before(e.expires) {
		return backend.Record{}, false
	}
	c.lru.MoveToFront(e.elem)
	return clone(e.rec), true
}

// store caches r (which the cache then owns) unless a Put or Delete
// happened since the lookup began.
func (c *Cache) store(id string, r backend.Record, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		return
	}
	if old, ok := c.entries[id]; ok {
		c.dropLocked(old)
	}
	e := &entry{id: id, rec: clone(r), expires: c.now().Add(c.ttl)}
	e.elem = c.lru.PushFront(e)
	c.entries[id] = e
	for len(c.entries) > c.max {
		c.dropLocked(c.lru.Back().Value.(*entry))
		c.stats.evictions.Add(1)
	}
}

// dropLocked removes e and zeroes its secret.
func (c *Cache) dropLocked(e *entry) {
	c.lru.Remove(e.elem)
	delete(c.entries, e.id)
	e.rec.Zero()
}

// invalidate forgets id and the cached List, and starts a new epoch.
func (c *Cache) invalidate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if e, ok := c.entries[id]; ok {
		c.dropLocked(e)
		c.stats.invalidations.Add(1)
	}
	c.listCache = nil
}

// Put implements backend.SecretBackend. The record is not cached: the next
// Get reads what the wrapped backend actually stored.
func (c *Cache) Put(ctx context.Context, r backend.Record) error {
	defer c.invalidate(r.ID)
	return c.inner.Put(ctx, r)
}

// PutBatch keeps the wrapped backend's all-or-nothing batches.
func (c *Cache) PutBatch(ctx context.Context, rs []backend.Record) error {
	defer func() {
		for _, r := range rs {
			c.invalidate(r.ID)
		}
	}()
	return backend.PutAll(ctx, c.inner, rs)
}

// Delete implements backend.SecretBackend.
func (c *Cache) Delete(ctx context.Context, id string) error {
	// Drop before and after: no Get may serve the record once Delete has
	// started, nor cache it while Delete runs.
	c.invalidate(id)
	defer c.invalidate(id)
	return c.inner.Delete(ctx, id)
}

// List implements backend.SecretBackend; the listing is cached for TTL too.
func (c *Cache) List(ctx context.Context) ([]backend.Meta, error) {
	c.mu.Lock()
	if c.listCache != nil && c.now().Before(c.listExp) {
		l := append([]backend.Meta(nil), c.listCache...)
		c.mu.Unlock()
		c.stats.listHits.Add(1)
		return l, nil
	}
	epoch := c.epoch
	c.mu.Unlock()
	c.stats.innerLists.Add(1)
	l, err := c.inner.List(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.epoch == epoch {
		c.listCache = append(make([]backend.Meta, 0, len(l)), l...)
		c.listExp = c.now().Add(c.ttl)
	}
	c.mu.Unlock()
	return l, nil
}

// Close zeroes every cached secret and closes the wrapped backend.
func (c *Cache) Close() error {
	c.mu.Lock()
	for _, e := range c.entries {
		c.dropLocked(e)
	}
	c.listCache = nil
	c.mu.Unlock()
	return c.inner.Close()
}
