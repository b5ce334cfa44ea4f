// Package memory is an in-process SecretBackend: the reference
// implementation of the conformance suite, and a fast backend for tests of
// the layers above (signing, daemon, decorators). It keeps nothing on disk.
package memory

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/gokms/gokms/backend"
)

// Backend is a map guarded by a mutex.
type Backend struct {
	mu   sync.RWMutex
	recs map[string]backend.Record
	now  func() time.Time
}

// New returns an empty backend.
func New() *Backend {
	return &Backend{recs: map[string]backend.Record{}, now: time.Now}
}

func clone(r backend.Record) backend.Record { return r.Clone() }

// Put implements backend.SecretBackend.
func (b *Backend) Put(ctx context.Context, r backend.Record) error {
	return b.PutBatch(ctx, []backend.Record{r})
}

// PutBatch implements backend.BatchPutter: all or nothing.
func (b *Backend) PutBatch(_ context.Context, rs []backend.Record) error {
	seen := map[string]bool{}
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("memory backend: %w", err)
		}
		if seen[r.ID] {
			return fmt.Errorf("memory backend: signatureId %s twice in one batch: %w", r.ID, backend.ErrExists)
		}
		seen[r.ID] = true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range rs {
		if _, ok := b.recs[r.ID]; ok {
			return fmt.Errorf("memory backend: signatureId %s: %w", r.ID, backend.ErrExists)
		}
	}
	for _, r := range rs {
		r = clone(r)
		if r.Created.IsZero() {
			r.Created = b.now().UTC()
		}
		b.recs[r.ID] = r
	}
	return nil
}

// Get implements backend.SecretBackend.
func (b *Backend) Get(_ context.Context, id string) (backend.Record, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	r, ok := b.recs[id]
	if !ok {
		return backend.Record{}, fmt.Errorf("memory backend: signatureId %s: %w", id, backend.ErrNotFound)
	}
	return clone(r), nil
}

// Delete implements backend.SecretBackend.
func (b *Backend) Delete(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.recs[id]
	if !ok {
		return fmt.Errorf("memory backend: signatureId %s: %w", id, backend.ErrNotFound)
	}
	r.Zero()
	delete(b.recs, id)
	return nil
}

// List implements backend.SecretBackend.
func (b *Backend) List(context.Context) ([]backend.Meta, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	l := make([]backend.Meta, 0, len(b.recs))
	for _, r := range b.recs {
		l = append(l, r.Meta())
	}
	sort.Slice(l, func(i, j int) bool { return l[i].ID < l[j].ID })
	return l, nil
}

// Close zeroes every secret.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, r := range b.recs {
		r.Zero()
		delete(b.recs, id)
	}
	return nil
}

// Driver is memory:// for a backend.Registry: for tests and demos, it
// forgets everything on exit.
func Driver() backend.Driver {
	return backend.Driver{Schemes: []string{"memory"}, Local: true, About: "memory://: tests and demos, forgotten on exit",
		Open: func(context.Context, *url.URL, backend.OpenConfig) (backend.SecretBackend, error) {
			return New(), nil
		}}
}
