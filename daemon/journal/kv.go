package journal

import (
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucket, txn and kv are the little of bbolt the journal logic uses, so the
// same logic runs over maps (Memory).
type bucket interface {
	Get(k []byte) []byte
	Put(k, v []byte) error
	Delete(k []byte) error
	ForEach(fn func(k, v []byte) error) error
}

type txn interface{ Bucket(name []byte) bucket }

type kv interface {
	update(fn func(txn) error) error
	view(fn func(txn) error) error
	close() error
}

type boltKV struct{ db *bolt.DB }

type boltTxn struct{ tx *bolt.Tx }

func (t boltTxn) Bucket(name []byte) bucket {
	if b := t.tx.Bucket(name); b != nil {
		return b
	}
	return emptyBucket{} // a read-only view of a journal that never wrote
}

// update commits through bbolt's Batch: concurrent writers (the daemon's
// workers) share one fsync'd commit instead of queueing for one each. It
// returns once the commit is durable. fn may run twice (a batch that fails
// is retried one function at a time), so it only touches the transaction.
func (k boltKV) update(fn func(txn) error) error {
	return k.db.Batch(func(tx *bolt.Tx) error { return fn(boltTxn{tx}) })
}

func (k boltKV) view(fn func(txn) error) error {
	return k.db.View(func(tx *bolt.Tx) error { return fn(boltTxn{tx}) })
}

func (k boltKV) close() error { return k.db.Close() }

type emptyBucket struct{}

func (emptyBucket) Get([]byte) []byte                     { return nil }
func (emptyBucket) Put(_, _ []byte) error                 { return bolt.ErrTxNotWritable }
func (emptyBucket) Delete([]byte) error                   { return bolt.ErrTxNotWritable }
func (emptyBucket) ForEach(func(k, v []byte) error) error { return nil }

// Memory is a journal that lives in memory only: it forgets everything on
// exit, so it protects nothing across a restart. It exists for tests and to
// measure what the file journal's durability costs (the benchmarks).
type Memory struct{ kvJournal }

// NewMemory returns an empty in-memory journal.
func NewMemory() *Memory {
	return &Memory{kvJournal{s: &memKV{data: map[string]map[string][]byte{}}, now: time.Now}}
}

type memKV struct {
	mu   sync.RWMutex
	data map[string]map[string][]byte
}

// memTxn buffers writes and applies them only if the update succeeds, as
// a bbolt transaction would.
type memTxn struct {
	kv     *memKV
	writes map[string]map[string][]byte // nil value: deleted
}

type memBucket struct {
	t    *memTxn
	name string
}

func (t *memTxn) Bucket(name []byte) bucket { return memBucket{t, string(name)} }

func (b memBucket) Get(k []byte) []byte {
	if w, ok := b.t.writes[b.name][string(k)]; ok {
		return w
	}
	return b.t.kv.data[b.name][string(k)]
}

func (b memBucket) Put(k, v []byte) error {
	if b.t.writes == nil {
		return bolt.ErrTxNotWritable
	}
	if b.t.writes[b.name] == nil {
		b.t.writes[b.name] = map[string][]byte{}
	}
	b.t.writes[b.name][string(k)] = append([]byte(nil), v...)
	return nil
}

func (b memBucket) Delete(k []byte) error {
	if b.t.writes == nil {
		return bolt.ErrTxNotWritable
	}
	if b.t.writes[b.name] == nil {
		b.t.writes[b.name] = map[string][]byte{}
	}
	b.t.writes[b.name][string(k)] = nil
	return nil
}

func (b memBucket) ForEach(fn func(k, v []byte) error) error {
	keys := map[string]bool{}
	for k := range b.t.kv.data[b.name] {
		keys[k] = true
	}
	for k := range b.t.writes[b.name] {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if v := b.Get([]byte(k)); v != nil {
			if err := fn([]byte(k), v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memKV) update(fn func(txn) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &memTxn{kv: m, writes: map[string]map[string][]byte{}}
	if err := fn(t); err != nil {
		return err
	}
	for name, ws := range t.writes {
		if m.data[name] == nil {
			m.data[name] = map[string][]byte{}
		}
		for k, v := range ws {
			if v == nil {
				delete(m.data[name], k)
			} else {
				m.data[name][k] = v
			}
		}
	}
	return nil
}

func (m *memKV) view(fn func(txn) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn(&memTxn{kv: m})
}

func (m *memKV) close() error { return nil }
