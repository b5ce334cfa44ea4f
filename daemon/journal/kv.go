package journal

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterr "go.etcd.io/bbolt/errors"
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

func (k *boltKV) view(fn func(txn) error) error {
	return k.db.View(func(tx *bolt.Tx) error { return fn(boltTxn{tx}) })
}

// groupKV is bbolt with group commit, as a database's log does it: a
// writer queues its function and waits; one committer goroutine runs every
// function queued meanwhile in one bbolt transaction, commits it (fsync)
// once and then releases them all. A lone writer commits at once; while
// the journal is busy, the committer lets writers gather for commitWindow
// first, and those that arrive during a commit share the next one, so a
// group grows with the load and the fsync cost per write falls with it.
// update returns only once its commit is durable.
//
// Each function runs exactly once, on its own layer over the group's
// writes: a function that fails leaves no trace and fails alone, and a
// later function of the group reads what the earlier ones wrote.
type groupKV struct {
	boltKV
	mu      sync.Mutex
	wake    *sync.Cond
	queue   []*write
	running bool
	// full tells the committer gathering a group (commitWindow) that
	// groupTarget writers wait.
	full    chan struct{}
	closed  bool
	stopped chan struct{}
	// rider, if set, is asked at every commit for writes no one waits for
	// (the journal's deferred counter adds and marks), so that they share
	// the commit.
	rider func() []ride
	// lastCommit is when the last commit ended (UnixNano; 0: none yet).
	lastCommit atomic.Int64
	// gathered counts the commits that waited for writers to gather
	// (commitWindow).
	gathered atomic.Int64
	// before runs at the start of every commit (File.BeforeCommit).
	hooksMu sync.Mutex
	before  []func()
}

// ride is a write no one waits for, committed with the next group.
type ride struct {
	fn   func(txn) error
	done func(error) // the outcome of its commit
	// must: if fn fails, the whole group fails, so that no write commits
	// (and returns) without it.
	must bool
}

type write struct {
	fn   func(txn) error
	done chan error
	// rides: the write also fails with the first deferred write of its
	// commit that failed (flushRides).
	rides bool
}

var errClosed = errors.New("journal is closed")

func newGroupKV(db *bolt.DB) *groupKV {
	g := &groupKV{boltKV: boltKV{db}, full: make(chan struct{}, 1)}
	g.wake = sync.NewCond(&g.mu)
	return g
}

func (g *groupKV) update(fn func(txn) error) error {
	return g.enqueue(&write{fn: fn, done: make(chan error, 1)})
}

// flushRides commits the deferred writes (the rider's) now and returns the
// first error of theirs. They ride this commit as they ride any other: a
// flush that ran them itself as well ran each one twice in that commit (a
// completion mark applied again to its completed entry, which it then
// decoded and wrote a second time).
func (g *groupKV) flushRides() error {
	return g.enqueue(&write{fn: func(txn) error { return nil }, done: make(chan error, 1), rides: true})
}

func (g *groupKV) enqueue(w *write) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errClosed
	}
	g.start()
	g.queue = append(g.queue, w)
	g.wake.Signal()
	if len(g.queue) == groupTarget {
		select {
		case g.full <- struct{}{}: // the committer gathering a group goes now
		default:
		}
	}
	g.mu.Unlock()
	return <-w.done
}

// start starts the committer if it is not running; called with mu held.
func (g *groupKV) start() {
	if !g.running {
		g.running, g.stopped = true, make(chan struct{})
		go g.commitLoop()
	}
}

// commitWindow is how long the committer lets writers gather before a
// commit while the journal is busy (the last commit had company), unless
// groupTarget wait sooner. A commit is 15-30 page writes and two
// fdatasyncs whatever the group's size, and an fdatasync alone costs 88-132
// µs of kernel CPU on a 2-core VM; on a fast disk (0.6 ms a commit) eager
// commits took groups of 2, and their CPU and syscalls cost the daemon's
// drain about a quarter of its throughput (BenchmarkDaemonDrain: c8 0.70
// eager, 0.93 with 4 ms). 4 ms still left the EVM filled drain (1,500
// transactions a second) groups of about 15, and 10 ms halved the
// journal's CPU there (on/off 0.84 -> 0.91, means of 14 counts of
// alternating builds; 20 ms: 0.88 over 6). Writers waiting here have given their slot up (the
// daemon's offSlot), so the wait costs latency, not throughput; a lone
// writer (an idle daemon's one transaction) commits at once.
const (
	commitWindow = 10 * time.Millisecond
	groupTarget  = 32
)

func (g *groupKV) commitLoop() {
	defer close(g.stopped)
	busy := false
	for {
		g.mu.Lock()
		for len(g.queue) == 0 && !g.closed {
			g.wake.Wait()
		}
		if busy && !g.committedWithin(commitWindow) {
			busy = false // the journal was idle: a write that starts a burst commits at once
		}
		if busy && !g.closed && len(g.queue) < groupTarget {
			select {
			case <-g.full: // a stale one, from a group that was full already
			default:
			}
			g.mu.Unlock()
			g.gathered.Add(1)
			t := time.NewTimer(commitWindow)
			select {
			case <-t.C:
			case <-g.full:
				t.Stop()
			}
			g.mu.Lock()
		}
		group := g.queue
		g.queue = nil
		g.mu.Unlock()
		if len(group) == 0 {
			return // closed, nothing left
		}
		busy = len(group) > 1
		g.commit(group)
	}
}

// committedWithin reports whether a commit ended less than d ago (its
// rider took the deferred writes then).
func (g *groupKV) committedWithin(d time.Duration) bool {
	t := g.lastCommit.Load()
	return t != 0 && time.Since(time.Unix(0, t)) < d
}

func (g *groupKV) commit(group []*write) {
	defer func() { g.lastCommit.Store(time.Now().UnixNano()) }()
	// Before anything of this commit (its writes, collected already, and
	// the rider's) is written: what a writer did before it queued its
	// write is done before that write is durable.
	g.hooksMu.Lock()
	hooks := g.before
	g.hooksMu.Unlock()
	for _, h := range hooks {
		h()
	}
	errs := make([]error, len(group))
	var rides []ride
	var rideErrs []error
	err := g.db.Update(func(tx *bolt.Tx) error {
		base := &layer{tx: tx, w: map[string]map[string][]byte{}}
		run := func(fn func(txn) error) (err error) {
			l := &layer{tx: tx, under: base, w: map[string]map[string][]byte{}}
			defer func() {
				// A panic fails its own write (as in bbolt's Batch), not
				// the committer and every writer after it.
				if r := recover(); r != nil {
					err = fmt.Errorf("journal write panicked: %v", r)
				}
			}()
			if err := fn(l); err != nil {
				return err
			}
			base.absorb(l)
			return nil
		}
		if g.rider != nil {
			rides = g.rider()
			rideErrs = make([]error, len(rides))
			for i, r := range rides {
				if rideErrs[i] = run(r.fn); rideErrs[i] != nil && r.must {
					return fmt.Errorf("journal: a deferred write failed, so nothing of this commit is written: %w", rideErrs[i])
				}
			}
		}
		for i, w := range group {
			errs[i] = run(w.fn)
		}
		return base.apply()
	})
	var firstRideErr error
	for i, r := range rides {
		var rerr error
		if rideErrs != nil {
			rerr = rideErrs[i]
		}
		firstRideErr = cmp.Or(firstRideErr, rerr)
		r.done(cmp.Or(err, rerr))
	}
	for i, w := range group {
		if w.rides {
			w.done <- cmp.Or(err, errs[i], firstRideErr)
			continue
		}
		w.done <- cmp.Or(err, errs[i])
	}
}

func (g *groupKV) close() error {
	g.mu.Lock()
	g.closed = true
	g.wake.Signal()
	stopped := g.stopped
	g.mu.Unlock()
	if stopped != nil {
		<-stopped // the queued writes are committed first
	}
	return g.db.Close()
}

// layer is one function's writes over a bbolt transaction and the writes
// of the functions before it in the group (under). Values read from bbolt
// are only valid during the transaction, as always in bbolt.
type layer struct {
	tx    *bolt.Tx
	under *layer
	w     map[string]map[string][]byte // nil value: deleted
}

func (l *layer) Bucket(name []byte) bucket { return layerBucket{l, string(name)} }

type layerBucket struct {
	l    *layer
	name string
}

func (b layerBucket) Get(k []byte) []byte {
	for l := b.l; l != nil; l = l.under {
		if v, ok := l.w[b.name][string(k)]; ok {
			return v
		}
	}
	if bb := b.l.tx.Bucket([]byte(b.name)); bb != nil {
		return bb.Get(k)
	}
	return nil
}

func (b layerBucket) set(k, v []byte) {
	if b.l.w[b.name] == nil {
		b.l.w[b.name] = map[string][]byte{}
	}
	b.l.w[b.name][string(k)] = v
}

func (b layerBucket) Put(k, v []byte) error {
	// Refused here as bbolt would refuse it, so that it fails this
	// function alone, not the group's commit.
	switch {
	case len(k) == 0:
		return bolterr.ErrKeyRequired
	case len(k) > bolt.MaxKeySize:
		return bolterr.ErrKeyTooLarge
	case int64(len(v)) > bolt.MaxValueSize:
		return bolterr.ErrValueTooLarge
	}
	b.set(k, append([]byte{}, v...))
	return nil
}

func (b layerBucket) Delete(k []byte) error {
	b.set(k, nil)
	return nil
}

func (b layerBucket) ForEach(fn func(k, v []byte) error) error {
	kvs := map[string][]byte{}
	if bb := b.l.tx.Bucket([]byte(b.name)); bb != nil {
		if err := bb.ForEach(func(k, v []byte) error { kvs[string(k)] = v; return nil }); err != nil {
			return err
		}
	}
	var layers []*layer
	for l := b.l; l != nil; l = l.under {
		layers = append(layers, l)
	}
	for _, l := range slices.Backward(layers) { // oldest first, so the newest wins
		for k, v := range l.w[b.name] {
			kvs[k] = v
		}
	}
	for _, k := range slices.Sorted(maps.Keys(kvs)) {
		if v := kvs[k]; v != nil {
			if err := fn([]byte(k), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// absorb takes the writes of a function that succeeded into the group's.
func (l *layer) absorb(top *layer) {
	for name, ws := range top.w {
		if l.w[name] == nil {
			l.w[name] = map[string][]byte{}
		}
		maps.Copy(l.w[name], ws)
	}
}

// apply writes the group's writes into the bbolt transaction.
func (l *layer) apply() error {
	for name, ws := range l.w {
		b := l.tx.Bucket([]byte(name))
		if b == nil {
			var err error
			if b, err = l.tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		for _, k := range slices.Sorted(maps.Keys(ws)) { // bbolt inserts sorted keys best
			var err error
			if v := ws[k]; v == nil {
				err = b.Delete([]byte(k))
			} else {
				err = b.Put([]byte(k), v)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

type emptyBucket struct{}

func (emptyBucket) Get([]byte) []byte                     { return nil }
func (emptyBucket) Put(_, _ []byte) error                 { return bolterr.ErrTxNotWritable }
func (emptyBucket) Delete([]byte) error                   { return bolterr.ErrTxNotWritable }
func (emptyBucket) ForEach(func(k, v []byte) error) error { return nil }

// Memory is a journal that lives in memory only: it forgets everything on
// exit, so it protects nothing across a restart. It exists for tests and to
// measure what the file journal's durability costs (the benchmarks).
type Memory struct{ kvJournal }

// NewMemory returns an empty in-memory journal.
func NewMemory() *Memory {
	return &Memory{kvJournal{s: &memKV{data: map[string]map[string][]byte{}}, now: time.Now, indexed: true}}
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
		return bolterr.ErrTxNotWritable
	}
	if b.t.writes[b.name] == nil {
		b.t.writes[b.name] = map[string][]byte{}
	}
	b.t.writes[b.name][string(k)] = append([]byte(nil), v...)
	return nil
}

func (b memBucket) Delete(k []byte) error {
	if b.t.writes == nil {
		return bolterr.ErrTxNotWritable
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
