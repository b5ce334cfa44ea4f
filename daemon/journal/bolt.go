package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterr "go.etcd.io/bbolt/errors"
)

// DefaultName is the journal file's name beside the wallet store.
const DefaultName = "gokms-journal.db"

// PathBeside returns the default journal path for a store file: the same
// directory, DefaultName.
func PathBeside(storePath string) string {
	return filepath.Join(filepath.Dir(storePath), DefaultName)
}

var (
	bEntries  = []byte("entries")
	bNonces   = []byte("nonces")
	bCounters = []byte("counters")
	bMeta     = []byte("meta")
	// bOpen indexes the entries not completed (id -> 1), so that the
	// daemon's every-cycle List(open) reads those, not the whole history
	// (completed entries stay forever, to recognise a replay).
	bOpen = []byte("open")
	// metaOpenIndex marks a file whose bOpen is complete (built at the
	// first writable open of a file from before it).
	metaOpenIndex = []byte("open-index")
)

// putEntry writes e and keeps bOpen in step with its state.
func putEntry(tx txn, e Entry) error {
	_, err := putEntryRaw(tx, e)
	return err
}

// putEntryRaw is putEntry, returning the bytes written (for entryMemo).
func putEntryRaw(tx txn, e Entry) ([]byte, error) {
	raw, err := encodeEntry(&e)
	if err != nil {
		return nil, err
	}
	if err := tx.Bucket(bEntries).Put([]byte(e.ID), raw); err != nil {
		return nil, err
	}
	if e.State == StateCompleted {
		return raw, tx.Bucket(bOpen).Delete([]byte(e.ID))
	}
	return raw, tx.Bucket(bOpen).Put([]byte(e.ID), []byte{1})
}

// entryMemo remembers the open entries this process wrote, with the bytes
// it wrote them as, so that a mark riding a commit reads its entry without
// decoding it (the JSON decode of an entry, its signed bytes included, was
// a sixth of the file journal's CPU in the EVM drain). A memo is used only
// while the bytes stored under its id are exactly the bytes it was written
// as, so it is never staler than a decode of them: a write that did not
// commit, or another write of the id, leaves other bytes there, and the
// entry is decoded.
type entryMemo struct {
	mu sync.Mutex
	m  map[string]memoEntry
}

type memoEntry struct {
	raw []byte
	e   Entry
}

// memoMax bounds the memo (an entry and its bytes, some 2 KB each); a
// full memo makes room for a new entry by dropping another.
const memoMax = 4096

// put remembers e as written as raw (e is copied: the memo shares nothing
// with the caller); a completed entry is forgotten, it takes no more marks.
func (m *entryMemo) put(e Entry, raw []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.State == StateCompleted {
		delete(m.m, e.ID)
		return
	}
	if m.m == nil {
		m.m = map[string]memoEntry{}
	}
	if _, ok := m.m[e.ID]; !ok && len(m.m) >= memoMax {
		for id := range m.m { // full of entries that took no mark: make room
			delete(m.m, id)
			break
		}
	}
	m.m[e.ID] = memoEntry{raw: raw, e: detached(e)}
}

// get returns the entry stored as raw under id, if it is the memo's.
func (m *entryMemo) get(id string, raw []byte) (Entry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	me, ok := m.m[id]
	if !ok {
		return Entry{}, false
	}
	if !bytes.Equal(me.raw, raw) {
		delete(m.m, id) // written since by a path that keeps no memo
		return Entry{}, false
	}
	return detached(me.e), true
}

// detached is a copy of e that shares no memory with it.
func detached(e Entry) Entry {
	e.SignatureIDs = slices.Clone(e.SignatureIDs)
	if e.Nonce != nil {
		n := *e.Nonce
		e.Nonce = &n
	}
	return e
}

func (m *entryMemo) drop(id string) {
	m.mu.Lock()
	delete(m.m, id)
	m.mu.Unlock()
}

// FileOptions configures OpenFile.
type FileOptions struct {
	// LockTimeout is how long to wait for another process's lock before
	// failing with ErrLocked (default 200 ms).
	LockTimeout time.Duration
	// ReadOnly opens for reading (the CLI's list/show); it still needs the
	// daemon to be stopped, since the daemon holds an exclusive lock.
	ReadOnly bool
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// File is the embedded journal: a bbolt file (mode 0600) under an exclusive
// lock held while it is open, so a second daemon on the same journal refuses
// to start. Concurrent writes commit in groups, one fsync'd bbolt
// transaction per group (groupKV); a write returns once its group is
// durable. Leases and
// fencing tokens are real (the suite checks them), though one process
// holding the lock makes contention across processes impossible.
type File struct {
	kvJournal
	path string
}

// kvJournal is the journal logic over a transactional key-value store
// (bbolt for File, maps for Memory).
type kvJournal struct {
	s   kv
	now func() time.Time
	ls  leases
	// epoch counts the opens of a File (kept for diagnostics: leases are
	// in memory, so those of a dead process vanished with it).
	epoch uint64
	// indexed: bOpen lists every entry not completed (false only for a
	// read-only open of a file from before the index: List scans).
	indexed bool

	// Broadcasts and completions are written behind (File only):
	// MarkBroadcast and MarkCompleted return at once; the queued marks ride
	// along with the next commit of any write (the next Record, while the
	// daemon drains), or a flusher commits them within completionDelay.
	// Readers see them at once. A mark lost in a crash only leaves the
	// entry at an earlier state, as a crash just before the mark would:
	// "signed" is resolved with GET /v3/kms/{id}, then the node, and at
	// worst the same bytes are resent; it is never signed again, because
	// the signed entry itself was durable before the broadcast.
	deferCompletion bool
	lazyMu          sync.Mutex
	lazy            map[string]completion
	lazyAdds        map[string][]byte // counterKey -> counterRec JSON (AddLater)
	lazyPrunes      map[string]bool   // counterKeys of aged adds to delete (SumSince)
	flushOnce       sync.Once
	stopFlush       chan struct{}
	flushDone       chan struct{}

	memo entryMemo // for the marks' rides (File only)
}

// completion is a queued mark: a broadcast (txID known) or a completion.
type completion struct {
	txID      string
	at        time.Time
	completed bool
	// completedAt is kept when a broadcast mark follows a completion.
	completedAt time.Time
}

// apply applies the mark to e, as MarkBroadcast or MarkCompleted would.
func (c completion) apply(e *Entry) {
	e.TxID, e.LastError = c.txID, ""
	switch {
	case c.completed:
		e.State, e.CompletedAt = StateCompleted, c.completedAt
	case e.State != StateCompleted:
		e.State = StateBroadcast
	}
	e.UpdatedAt = c.at
}

// completionDelay bounds how long a mark waits for its commit.
const completionDelay = 25 * time.Millisecond

var (
	_ Journal = (*File)(nil)
	_ Journal = (*Memory)(nil)
)

// OpenFile opens (creating, mode 0600) the journal at path.
func OpenFile(path string, o FileOptions) (*File, error) {
	if o.LockTimeout <= 0 {
		o.LockTimeout = 200 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if !o.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("journal %s: %w", path, err)
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("journal %s: %w (has a daemon ever run with this store?)", path, err)
	}
	var epoch uint64
	// The free list is not written with every commit (it is rebuilt from
	// the pages at open), which keeps a commit to the pages it changed.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockTimeout, ReadOnly: o.ReadOnly,
		NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolterr.ErrTimeout) {
			return nil, fmt.Errorf("journal %s: %w: only one daemon may use a journal file; stop the other one (or give this one its own --journal) and try again", path, ErrLocked)
		}
		return nil, fmt.Errorf("journal %s: open: %w (if the file is damaged, move it aside; every pending transaction it recorded must then be checked by hand)", path, err)
	}
	if !o.ReadOnly {
		// An existing file keeps its mode under bolt.Open: tighten it.
		if err := os.Chmod(path, 0o600); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("journal %s: %w", path, err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bEntries, bNonces, bCounters, bMeta, bOpen} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			if err := pruneCounters(tx, o.Now()); err != nil {
				return err
			}
			m := tx.Bucket(bMeta)
			if m.Get(metaOpenIndex) == nil {
				if err := buildOpenIndex(tx); err != nil {
					return err
				}
				if err := m.Put(metaOpenIndex, []byte("1")); err != nil {
					return err
				}
			}
			if v := m.Get([]byte("epoch")); v != nil {
				n, err := strconv.ParseUint(string(v), 10, 64)
				if err != nil {
					return fmt.Errorf("damaged epoch %q", v)
				}
				epoch = n
			}
			epoch++
			return m.Put([]byte("epoch"), []byte(strconv.FormatUint(epoch, 10)))
		})
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("journal %s: %w", path, err)
		}
	}
	indexed := !o.ReadOnly
	if o.ReadOnly {
		_ = db.View(func(tx *bolt.Tx) error {
			m := tx.Bucket(bMeta)
			indexed = m != nil && m.Get(metaOpenIndex) != nil
			return nil
		})
	}
	g := newGroupKV(db)
	f := &File{kvJournal: kvJournal{s: g, now: o.Now, epoch: epoch, indexed: indexed, deferCompletion: !o.ReadOnly}, path: path}
	g.rider = f.takeLazy
	return f, nil
}

// buildOpenIndex fills bOpen from the entries of a file written before it.
func buildOpenIndex(tx *bolt.Tx) error {
	open := tx.Bucket(bOpen)
	return tx.Bucket(bEntries).ForEach(func(k, v []byte) error {
		var e struct{ State State }
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("journal record %q is damaged: %w", k, err)
		}
		if e.State == StateCompleted {
			return nil
		}
		return open.Put(k, []byte{1})
	})
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// BeforeCommit adds fn to what runs at the start of every commit of the
// journal, in the committer, once the commit's writes are collected and
// before any of them (or the deferred marks and counter adds that ride
// with them) is written: whatever a writer did before its write was
// queued (Record, MarkCompleted...) is done before that write is durable.
// The audit trail writes its held lines so (audit.File.WriteBeforeCommits):
// a crash of the process once the journal holds a transaction cannot lose
// its entry. fn must be quick and must not use the journal.
func (f *File) BeforeCommit(fn func()) {
	g, ok := f.s.(*groupKV)
	if !ok {
		return // read-only: no commits
	}
	g.hooksMu.Lock()
	g.before = append(slices.Clip(g.before), fn)
	g.hooksMu.Unlock()
}

// Close releases the store (for File, the lock).
func (f *kvJournal) Close() error {
	f.flushOnce.Do(func() {}) // no flusher may start from here on
	f.lazyMu.Lock()
	stop := f.stopFlush
	f.stopFlush = nil
	f.lazyMu.Unlock()
	if stop != nil {
		close(stop)
		<-f.flushDone
	}
	ferr := f.flush()
	if err := f.s.close(); err != nil {
		return err
	}
	return ferr
}

// markOf returns the queued mark of id. Readers take it before they open
// their read transaction and apply it after: a mark leaves the queue once
// its commit is done, so one taken after a snapshot from before that
// commit would be missing from both (a completed entry read as signed).
// Marks only move an entry forward, so applying one the snapshot already
// holds changes nothing.
func (f *kvJournal) markOf(id string) (completion, bool) {
	f.lazyMu.Lock()
	defer f.lazyMu.Unlock()
	c, ok := f.lazy[id]
	return c, ok
}

// marks returns a copy of the queued marks (for List; see markOf).
func (f *kvJournal) marks() map[string]completion {
	f.lazyMu.Lock()
	defer f.lazyMu.Unlock()
	return maps.Clone(f.lazy)
}

// takeLazy returns the deferred writes for the next commit: the queued
// counter adds (a must: no write commits without them; they stay queued,
// and visible to SumSince, until a commit of theirs succeeded) and the
// queued marks. The marks, too, stay queued, and visible to readers
// through overlay, until their commit succeeded: readers see the last
// committed state until then, so a mark taken out at the start of a commit
// would vanish for its duration (a completed entry read back as signed).
// A mark replaced meanwhile by a newer one stays for the next commit.
func (f *kvJournal) takeLazy() []ride {
	f.lazyMu.Lock()
	marks := maps.Clone(f.lazy)
	adds := maps.Clone(f.lazyAdds)
	prunes := slices.Sorted(maps.Keys(f.lazyPrunes))
	f.lazyMu.Unlock()
	var rides []ride
	if len(prunes) > 0 {
		rides = append(rides, ride{fn: func(tx txn) error {
			b := tx.Bucket(bCounters)
			cutoff := f.now().Add(-CounterRetention)
			for _, k := range prunes {
				if _, queued := adds[k]; queued {
					continue // kept, so the queued add stays a repeat of it (as SumSince counts)
				}
				v := b.Get([]byte(k))
				if v == nil {
					continue
				}
				if at, _, err := decodeCounter(v); err != nil || !at.Before(cutoff) {
					continue
				}
				if err := b.Delete([]byte(k)); err != nil {
					return err
				}
			}
			return nil
		}, done: func(err error) {
			if err != nil {
				return // queued still: the next commit tries again
			}
			f.lazyMu.Lock()
			for _, k := range prunes {
				delete(f.lazyPrunes, k)
			}
			f.lazyMu.Unlock()
		}})
	}
	if len(adds) > 0 {
		rides = append(rides, ride{must: true, fn: func(tx txn) error {
			b := tx.Bucket(bCounters)
			for _, k := range slices.Sorted(maps.Keys(adds)) {
				if b.Get([]byte(k)) != nil {
					continue // once per (key, ref)
				}
				if err := b.Put([]byte(k), adds[k]); err != nil {
					return err
				}
			}
			return nil
		}, done: func(err error) {
			if err != nil {
				return
			}
			f.lazyMu.Lock()
			for k := range adds {
				delete(f.lazyAdds, k)
			}
			f.lazyMu.Unlock()
		}})
	}
	if len(marks) > 0 {
		rides = append(rides, ride{fn: func(tx txn) error {
			for _, id := range slices.Sorted(maps.Keys(marks)) {
				raw := tx.Bucket(bEntries).Get([]byte(id))
				if raw == nil {
					continue // forgotten meanwhile
				}
				e, ok := f.memo.get(id, raw)
				if !ok {
					if err := json.Unmarshal(raw, &e); err != nil {
						return fmt.Errorf("journal record %q is damaged: %w", id, err)
					}
				}
				marks[id].apply(&e)
				raw, err := putEntryRaw(tx, e)
				if err != nil {
					return err
				}
				f.memo.put(e, raw)
			}
			return nil
		}, done: func(err error) {
			if err != nil {
				return // still queued: the next commit writes them
			}
			f.lazyMu.Lock()
			for id, c := range marks {
				if cur, ok := f.lazy[id]; ok && cur == c {
					delete(f.lazy, id) // durable now; a newer mark stays
				}
			}
			f.lazyMu.Unlock()
		}})
	}
	return rides
}

// flush commits the deferred writes.
func (f *kvJournal) flush() error {
	if g, ok := f.s.(*groupKV); ok && g.rider != nil {
		f.lazyMu.Lock()
		idle := len(f.lazy) == 0 && len(f.lazyAdds) == 0 && len(f.lazyPrunes) == 0
		f.lazyMu.Unlock()
		if idle {
			return nil
		}
		return g.flushRides()
	}
	rides := f.takeLazy()
	if len(rides) == 0 {
		return nil
	}
	err := f.s.update(func(tx txn) error {
		for _, r := range rides {
			if err := r.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	for _, r := range rides {
		r.done(err)
	}
	return err
}

// queueMark queues a mark for the entry of st's lease, after checking the
// entry exists. Called with the lease held.
func (f *kvJournal) queueMark(ctx context.Context, st *leaseState, mark func(prev completion, queued bool) completion) error {
	id := st.lease.ID
	// Existence only: decoding the entry (Get) was a sixth of the file
	// journal's CPU in BenchmarkRecordFlow, for a value thrown away; and
	// none when the claim knows it (a read transaction each, two a
	// transaction, were a tenth of the journal's CPU in the EVM nosign
	// drain).
	found := st.recorded
	if !found {
		if err := f.s.view(func(tx txn) error {
			found = tx.Bucket(bEntries).Get([]byte(id)) != nil
			return nil
		}); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	f.startFlusher()
	f.lazyMu.Lock()
	if f.lazy == nil {
		f.lazy = map[string]completion{}
	}
	prev, queued := f.lazy[id]
	f.lazy[id] = mark(prev, queued)
	f.lazyMu.Unlock()
	return nil
}

func (f *kvJournal) startFlusher() {
	f.flushOnce.Do(func() {
		stop, done := make(chan struct{}), make(chan struct{})
		f.lazyMu.Lock()
		f.stopFlush, f.flushDone = stop, done
		f.lazyMu.Unlock()
		go func() {
			defer close(done)
			t := time.NewTicker(completionDelay)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if g, ok := f.s.(*groupKV); ok && g.committedWithin(completionDelay) {
						// Commits are going on, and each one's rider
						// takes the queued writes: a flush would write
						// them twice.
						continue
					}
					_ = f.flush() // kept queued on error; retried next tick and at Close
				}
			}
		}()
	})
}

// Leases live in memory: the file journal is held by one process (the
// exclusive lock), so a lease never outlives it, and keeping them off the
// disk leaves two durable writes per transaction (Record, MarkCompleted).
// Nonce reservations live with the leases for the same reason: a crash
// voids them, and a reserved nonce is only bound once Record commits it.
type leaseState struct {
	mu       sync.Mutex // held by writes under this lease: fencing and the write are one step
	lease    Lease
	released bool
	nonces   map[string]uint64 // nonce key -> nonce reserved by this claim
	// recorded: the id's entry is in the store (Claim found it, or Record
	// under this claim committed it), so a mark need not look it up.
	recorded bool
}

type leases struct {
	mu    sync.Mutex
	m     map[string]*leaseState // live or recently held claims; released ones are dropped
	token uint64                 // last fencing token handed out, for any id: tokens never repeat
	// nonceMu orders reservations against each other; it is never held
	// during a durable write.
	nonceMu sync.Mutex
	// floor is the node's pending nonce last seen per key: used nonces
	// below it are pruned when the next entry is recorded.
	floor map[string]uint64
}

func (ls *leases) state(id string) *leaseState {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.m == nil {
		ls.m = map[string]*leaseState{}
	}
	st := ls.m[id]
	if st == nil {
		st = &leaseState{}
		ls.m[id] = st
	}
	return st
}

func (st *leaseState) live(now time.Time) bool {
	return st.lease.Owner != "" && !st.released && now.Before(st.lease.Expires)
}

// nonceRec is one account sequence: the nonces bound to journaled entries
// that the node's pending nonce has not passed yet (pruned as it does).
type nonceRec struct {
	Used []uint64 `json:"used,omitempty"` // sorted
	// Spent is one past the highest nonce pruned from Used: every nonce
	// below it was bound to a journaled entry or lies below one that was.
	Spent uint64 `json:"spent,omitempty"`
}

func nonceKeyString(k NonceKey) string {
	return k.Chain + "|" + strconv.FormatBool(k.Testnet) + "|" + k.Sender
}

func getJSON(b bucket, key string, v any) (bool, error) {
	raw := b.Get([]byte(key))
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("journal record %q is damaged: %w", key, err)
	}
	return true, nil
}

func putJSON(b bucket, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), raw)
}

func (f *kvJournal) update(ctx context.Context, fn func(tx txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.s.update(fn)
}

// Claim implements Journal.
func (f *kvJournal) Claim(ctx context.Context, id, owner string, ttl time.Duration) (Lease, *Entry, error) {
	if id == "" || owner == "" || ttl <= 0 {
		return Lease{}, nil, errors.New("journal: claim needs an id, an owner and a positive ttl")
	}
	if err := ctx.Err(); err != nil {
		return Lease{}, nil, err
	}
	var st *leaseState
	for {
		st = f.ls.state(id)
		st.mu.Lock()
		f.ls.mu.Lock()
		current := f.ls.m[id] == st
		f.ls.mu.Unlock()
		if current {
			break
		}
		st.mu.Unlock() // released and dropped meanwhile: take the new one
	}
	defer st.mu.Unlock()
	now := f.now()
	if st.live(now) && st.lease.Owner != owner {
		return Lease{}, nil, fmt.Errorf("%s: %w (%s, until %s)", id, ErrClaimed, st.lease.Owner, st.lease.Expires.UTC().Format(time.RFC3339))
	}
	f.ls.mu.Lock()
	f.ls.token++
	token := f.ls.token
	f.ls.mu.Unlock()
	f.ls.nonceMu.Lock()
	st.lease, st.released, st.nonces, st.recorded = Lease{ID: id, Owner: owner, Token: token, Expires: now.Add(ttl)}, false, nil, false
	f.ls.nonceMu.Unlock()
	var ent *Entry
	mark, marked := f.markOf(id)
	err := f.s.view(func(tx txn) error {
		var e Entry
		ok, err := getJSON(tx.Bucket(bEntries), id, &e)
		if ok && err == nil {
			if marked {
				mark.apply(&e)
			}
			ent = &e
		}
		return err
	})
	if err != nil {
		return Lease{}, nil, err
	}
	st.recorded = ent != nil
	return st.lease, ent, nil
}

// fenced locks the lease state of l and checks l is its live lease; the
// caller unlocks st.mu.
func (f *kvJournal) fenced(l Lease) (*leaseState, error) {
	f.ls.mu.Lock()
	st := f.ls.m[l.ID]
	f.ls.mu.Unlock()
	if st == nil {
		return nil, fmt.Errorf("%s (token %d): %w", l.ID, l.Token, ErrFenced)
	}
	st.mu.Lock()
	if st.released || st.lease.Token != l.Token || st.lease.Owner != l.Owner || l.Token == 0 {
		st.mu.Unlock()
		return nil, fmt.Errorf("%s (token %d): %w", l.ID, l.Token, ErrFenced)
	}
	return st, nil
}

// Renew implements Journal.
func (f *kvJournal) Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	st, err := f.fenced(l)
	if err != nil {
		return Lease{}, err
	}
	defer st.mu.Unlock()
	st.lease.Expires = f.now().Add(ttl)
	return st.lease, nil
}

// Release implements Journal.
func (f *kvJournal) Release(ctx context.Context, l Lease) error {
	st, err := f.fenced(l)
	if err != nil {
		return err
	}
	defer st.mu.Unlock()
	f.ls.nonceMu.Lock()
	st.released, st.nonces = true, nil
	f.ls.nonceMu.Unlock()
	f.ls.mu.Lock()
	if f.ls.m[l.ID] == st {
		delete(f.ls.m, l.ID)
	}
	f.ls.mu.Unlock()
	return nil
}

// ReserveNonce implements Journal. It writes nothing: the reservation is
// bound to the claim in memory, and the nonce becomes durable with Record.
func (f *kvJournal) ReserveNonce(ctx context.Context, l Lease, k NonceKey, pending uint64) (uint64, error) {
	if k.Chain == "" || k.Sender == "" {
		return 0, errors.New("journal: nonce key needs a chain and a sender")
	}
	st, err := f.fenced(l)
	if err != nil {
		return 0, err
	}
	defer st.mu.Unlock()
	ks := nonceKeyString(k)
	f.ls.nonceMu.Lock()
	defer f.ls.nonceMu.Unlock()
	var nr nonceRec
	var recorded bool
	err = f.s.view(func(tx txn) error {
		recorded = tx.Bucket(bEntries).Get([]byte(l.ID)) != nil
		_, err := getJSON(tx.Bucket(bNonces), ks, &nr)
		return err
	})
	if err != nil {
		return 0, err
	}
	if recorded {
		return 0, fmt.Errorf("%s: %w: its nonce is in the journal", l.ID, ErrExists)
	}
	if n, ok := st.nonces[ks]; ok && n >= pending {
		return n, nil
	}
	// Nonces reserved by other live claims on this key.
	now := f.now()
	taken := map[uint64]bool{}
	f.ls.mu.Lock()
	for id, o := range f.ls.m {
		if id == l.ID || !o.live(now) {
			continue
		}
		if n, ok := o.nonces[ks]; ok {
			taken[n] = true
		}
	}
	f.ls.mu.Unlock()
	// The lowest nonce at or above the node's pending one that no journaled
	// entry holds and no live claim reserved: a refused, failed or crashed
	// reservation leaves no gap, and a recorded one is never reused.
	used := map[uint64]bool{}
	for _, n := range nr.Used {
		used[n] = true
	}
	// A pending nonce the node gave before another worker's broadcast
	// reached it can be stale: never go below a nonce that was recorded
	// and pruned from Used (Spent), or it would be signed a second time.
	out := max(pending, nr.Spent)
	for used[out] || taken[out] {
		out++
	}
	if f.ls.floor == nil {
		f.ls.floor = map[string]uint64{}
	}
	f.ls.floor[ks] = max(f.ls.floor[ks], pending)
	if st.nonces == nil {
		st.nonces = map[string]uint64{}
	}
	st.nonces[ks] = out
	return out, nil
}

// Record implements Journal.
func (f *kvJournal) Record(ctx context.Context, l Lease, e Entry) error {
	if e.ID != l.ID {
		return fmt.Errorf("journal: record %q under the lease of %q", e.ID, l.ID)
	}
	if e.SignedTx == "" || e.Chain == "" {
		return errors.New("journal: record needs the chain and the signed transaction")
	}
	st, err := f.fenced(l)
	if err != nil {
		return err
	}
	defer st.mu.Unlock()
	var floor uint64
	if e.Nonce != nil && e.Sender != "" {
		f.ls.nonceMu.Lock()
		floor = f.ls.floor[nonceKeyString(NonceKey{Chain: e.Chain, Testnet: e.Testnet, Sender: e.Sender})]
		f.ls.nonceMu.Unlock()
	}
	err = f.update(ctx, func(tx txn) error {
		if tx.Bucket(bEntries).Get([]byte(e.ID)) != nil {
			return fmt.Errorf("%s: %w", e.ID, ErrExists)
		}
		now := f.now()
		e.State, e.Owner, e.RecordedAt, e.UpdatedAt = StateSigned, l.Owner, now, now
		e.CompletedAt = time.Time{}
		if e.Nonce != nil && e.Sender != "" {
			// The nonce is bound to this entry from now on.
			ks := nonceKeyString(NonceKey{Chain: e.Chain, Testnet: e.Testnet, Sender: e.Sender})
			var nr nonceRec
			if _, err := getJSON(tx.Bucket(bNonces), ks, &nr); err != nil {
				return err
			}
			nr.Used = slices.DeleteFunc(nr.Used, func(n uint64) bool {
				if n < floor {
					nr.Spent = max(nr.Spent, n+1)
					return true
				}
				return false
			})
			if !slices.Contains(nr.Used, *e.Nonce) {
				nr.Used = append(nr.Used, *e.Nonce)
				slices.Sort(nr.Used)
			}
			if err := putJSON(tx.Bucket(bNonces), ks, nr); err != nil {
				return err
			}
		}
		raw, err := putEntryRaw(tx, e)
		if err != nil {
			return err
		}
		if f.deferCompletion {
			f.memo.put(e, raw)
		}
		return nil
	})
	if err != nil {
		return err
	}
	st.recorded = true
	f.ls.nonceMu.Lock()
	st.nonces = nil
	f.ls.nonceMu.Unlock()
	return nil
}

func (f *kvJournal) mutate(ctx context.Context, l Lease, fn func(e *Entry) error) error {
	st, err := f.fenced(l)
	if err != nil {
		return err
	}
	defer st.mu.Unlock()
	var folded *completion
	err = f.update(ctx, func(tx txn) error {
		var e Entry
		ok, err := getJSON(tx.Bucket(bEntries), l.ID, &e)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s: %w", l.ID, ErrNotFound)
		}
		// A queued mark of this entry is written with this write and
		// dropped, so that it cannot later overwrite what fn sets.
		f.lazyMu.Lock()
		if c, ok := f.lazy[l.ID]; ok {
			delete(f.lazy, l.ID)
			folded = &c
		}
		f.lazyMu.Unlock()
		if folded != nil {
			folded.apply(&e)
		}
		if err := fn(&e); err != nil {
			return err
		}
		e.UpdatedAt = f.now()
		return putEntry(tx, e)
	})
	if err != nil && folded != nil {
		f.lazyMu.Lock()
		if _, newer := f.lazy[l.ID]; !newer {
			if f.lazy == nil {
				f.lazy = map[string]completion{}
			}
			f.lazy[l.ID] = *folded
		}
		f.lazyMu.Unlock()
	}
	return err
}

// MarkAttempt implements Journal.
func (f *kvJournal) MarkAttempt(ctx context.Context, l Lease, errText string) error {
	return f.mutate(ctx, l, func(e *Entry) error {
		e.Broadcasts++
		e.LastError = errText
		return nil
	})
}

// MarkBroadcast implements Journal.
func (f *kvJournal) MarkBroadcast(ctx context.Context, l Lease, txID string) error {
	if txID == "" {
		return fmt.Errorf("%s: %w: broadcast without a txId", l.ID, ErrBadTransition)
	}
	if !f.deferCompletion {
		return f.mutate(ctx, l, func(e *Entry) error {
			completion{txID: txID}.apply(e)
			return nil
		})
	}
	st, err := f.fenced(l)
	if err != nil {
		return err
	}
	defer st.mu.Unlock()
	return f.queueMark(ctx, st, func(prev completion, queued bool) completion {
		c := completion{txID: txID, at: f.now()}
		if queued && prev.completed {
			c.completed, c.completedAt = true, prev.completedAt // stays completed
		}
		return c
	})
}

// MarkCompleted implements Journal.
func (f *kvJournal) MarkCompleted(ctx context.Context, l Lease, txID string) error {
	if txID == "" {
		return fmt.Errorf("%s: %w: completed without a txId", l.ID, ErrBadTransition)
	}
	if !f.deferCompletion {
		return f.mutate(ctx, l, func(e *Entry) error {
			now := f.now()
			completion{txID: txID, at: now, completed: true, completedAt: now}.apply(e)
			return nil
		})
	}
	st, err := f.fenced(l)
	if err != nil {
		return err
	}
	defer st.mu.Unlock()
	return f.queueMark(ctx, st, func(completion, bool) completion {
		now := f.now()
		return completion{txID: txID, at: now, completed: true, completedAt: now}
	})
}

// Get implements Journal.
func (f *kvJournal) Get(ctx context.Context, id string) (Entry, error) {
	var e Entry
	mark, marked := f.markOf(id)
	err := f.s.view(func(tx txn) error {
		b := tx.Bucket(bEntries)
		if b == nil {
			return fmt.Errorf("%s: %w", id, ErrNotFound)
		}
		ok, err := getJSON(b, id, &e)
		if err == nil && !ok {
			err = fmt.Errorf("%s: %w", id, ErrNotFound)
		}
		return err
	})
	if err == nil && marked {
		mark.apply(&e)
	}
	return e, err
}

// List implements Journal.
func (f *kvJournal) List(ctx context.Context, open bool) ([]Entry, error) {
	var out []Entry
	marks := f.marks()
	err := f.s.view(func(tx txn) error {
		b := tx.Bucket(bEntries)
		add := func(k, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("journal record %q is damaged: %w", k, err)
			}
			if c, ok := marks[e.ID]; ok {
				c.apply(&e)
			}
			if !open || e.State != StateCompleted {
				out = append(out, e)
			}
			return nil
		}
		if !open || !f.indexed {
			return b.ForEach(add)
		}
		return tx.Bucket(bOpen).ForEach(func(k, _ []byte) error {
			v := b.Get(k)
			if v == nil {
				return fmt.Errorf("journal index names %q, which has no record: the journal is damaged", k)
			}
			return add(k, v)
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].RecordedAt.Before(out[j].RecordedAt) })
	return out, err
}

// Forget implements Journal. An entry's EVM nonce goes back to the free
// list: if its transaction never reached the chain the gap is filled; if it
// did, the node's pending nonce has passed it and it is never handed out.
func (f *kvJournal) Forget(ctx context.Context, id string) error {
	st := f.ls.state(id)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.live(f.now()) {
		return fmt.Errorf("%s: %w (%s); stop the daemon first", id, ErrClaimed, st.lease.Owner)
	}
	st.recorded = false // an expired claim's marks look again
	if err := f.flush(); err != nil {
		return err
	}
	return f.update(ctx, func(tx txn) error {
		var e Entry
		ok, err := getJSON(tx.Bucket(bEntries), id, &e)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s: %w", id, ErrNotFound)
		}
		if e.Nonce != nil && e.Sender != "" && e.State != StateCompleted {
			ks := nonceKeyString(NonceKey{Chain: e.Chain, Testnet: e.Testnet, Sender: e.Sender})
			var nr nonceRec
			if _, err := getJSON(tx.Bucket(bNonces), ks, &nr); err != nil {
				return err
			}
			nr.Used = slices.DeleteFunc(nr.Used, func(n uint64) bool { return n == *e.Nonce })
			if err := putJSON(tx.Bucket(bNonces), ks, nr); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bOpen).Delete([]byte(id)); err != nil {
			return err
		}
		f.memo.drop(id)
		return tx.Bucket(bEntries).Delete([]byte(id))
	})
}

type counterRec struct {
	At     time.Time `json:"at"`
	Amount string    `json:"amount"`
}

// encodeCounter is json.Marshal of counterRec{at, amount}, written out by
// hand (TestEncodeCounter): every rolling-total add encodes one, and the
// reflection was most of AddLater's CPU. A time json.Marshal would refuse
// (a year outside 0-9999, a zone 24 hours or more away) is left to it.
func encodeCounter(at time.Time, amount *big.Int) ([]byte, error) {
	_, off := at.Zone()
	if y := at.Year(); y < 0 || y > 9999 || off <= -24*3600 || off >= 24*3600 {
		return json.Marshal(counterRec{At: at, Amount: amount.String()})
	}
	b := make([]byte, 0, 64)
	b = append(b, `{"at":"`...)
	b = at.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","amount":"`...)
	b = amount.Append(b, 10)
	return append(b, `"}`...), nil
}

// decodeCounter reads a counter row: the shape encodeCounter writes is
// read by hand (a rolling total's read decodes every add of its key, and
// json.Unmarshal was most of that read's time); any other row is left to
// json.Unmarshal, so it reads exactly what it did. TestDecodeCounter.
func decodeCounter(v []byte) (at time.Time, amount string, err error) {
	const head, mid, tail = `{"at":"`, `","amount":"`, `"}`
	if rest, ok := bytes.CutPrefix(v, []byte(head)); ok {
		if ts, am, ok := bytes.Cut(rest, []byte(mid)); ok && plain(ts, false) {
			if am, ok := bytes.CutSuffix(am, []byte(tail)); ok && plain(am, true) {
				if err := at.UnmarshalText(ts); err == nil {
					return at, string(am), nil
				}
			}
		}
	}
	var r counterRec
	if err := json.Unmarshal(v, &r); err != nil {
		return time.Time{}, "", err
	}
	return r.At, r.Amount, nil
}

// plain reports whether b holds only what the fast path may read as a
// JSON string's bytes: an RFC 3339 time's characters, or an amount's.
func plain(b []byte, amount bool) bool {
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9', c == '-':
		case !amount && (c == ':' || c == '.' || c == '+' || c == 'T' || c == 'Z'):
		default:
			return false
		}
	}
	return true
}

func counterKey(key, ref string) []byte { return []byte(key + "\x00" + ref) }

// Add implements Journal.
func (f *kvJournal) Add(ctx context.Context, key, ref string, at time.Time, amount *big.Int) error {
	if key == "" || ref == "" || amount == nil {
		return errors.New("journal: counter add needs a key, a ref and an amount")
	}
	f.lazyMu.Lock()
	_, queued := f.lazyAdds[string(counterKey(key, ref))]
	f.lazyMu.Unlock()
	if queued {
		return f.flush() // counted once; durable when Add returns
	}
	return f.update(ctx, func(tx txn) error {
		b := tx.Bucket(bCounters)
		k := counterKey(key, ref)
		if b.Get(k) != nil {
			return nil
		}
		raw, err := encodeCounter(at, amount)
		if err != nil {
			return err
		}
		return b.Put(k, raw)
	})
}

// AddLater is Add made durable with the next durable write of the journal
// (for the daemon: the Record of the transaction it counts, before its
// broadcast), or within 25 ms, or at Close; no write returns before the
// adds queued ahead of it are durable (a commit that cannot write them
// fails whole). SumSince counts it at once. On the file journal it costs
// no fsync of its own; on the in-memory one it is Add.
func (f *kvJournal) AddLater(ctx context.Context, key, ref string, at time.Time, amount *big.Int) error {
	if !f.deferCompletion {
		return f.Add(ctx, key, ref, at, amount)
	}
	if key == "" || ref == "" || amount == nil {
		return errors.New("journal: counter add needs a key, a ref and an amount")
	}
	k := counterKey(key, ref)
	if len(k) > bolt.MaxKeySize {
		return fmt.Errorf("journal: counter key of %d bytes is too long", len(k))
	}
	raw, err := encodeCounter(at, amount)
	if err != nil {
		return err
	}
	f.startFlusher()
	f.lazyMu.Lock()
	defer f.lazyMu.Unlock()
	if f.lazyAdds == nil {
		f.lazyAdds = map[string][]byte{}
	}
	if _, ok := f.lazyAdds[string(k)]; !ok {
		f.lazyAdds[string(k)] = raw
	}
	return nil
}

// SumSince implements Journal.
func (f *kvJournal) SumSince(ctx context.Context, key string, since time.Time) (*big.Int, error) {
	sum := new(big.Int)
	prefix := key + "\x00"
	// The queued adds are read before the view: one that commits meanwhile
	// is then in the view and counted once (it leaves the queue only after
	// its commit).
	f.lazyMu.Lock()
	var queued map[string][]byte
	for k, v := range f.lazyAdds {
		if strings.HasPrefix(k, prefix) {
			if queued == nil {
				queued = map[string][]byte{}
			}
			queued[k] = v
		}
	}
	f.lazyMu.Unlock()
	cutoff := f.now().Add(-CounterRetention)
	// add counts the add v of the row k if it is since since; aged: it is
	// older than the retention (committed is whether it may be pruned).
	add := func(k, v []byte, committed bool) (aged bool, err error) {
		at, amount, err := decodeCounter(v)
		if err != nil {
			return false, fmt.Errorf("journal counter %q is damaged: %w", k, err)
		}
		if at.Before(since) {
			return committed && at.Before(cutoff), nil
		}
		n, ok := new(big.Int).SetString(amount, 10)
		if !ok {
			return false, fmt.Errorf("journal counter %q is damaged", k)
		}
		sum.Add(sum, n)
		return false, nil
	}
	var old []string
	err := f.s.view(func(tx txn) error {
		b := tx.Bucket(bCounters)
		for k, v := range queued {
			if b.Get([]byte(k)) == nil { // not committed yet
				if _, err := add([]byte(k), v, false); err != nil {
					return err
				}
			}
		}
		return forEachPrefix(b, []byte(prefix), func(k, v []byte) error {
			aged, err := add(k, v, true)
			if aged && len(old) < pruneBatch {
				old = append(old, string(k))
			}
			return err
		})
	})
	if err == nil && len(old) > 0 && f.deferCompletion {
		f.queuePrune(old)
	}
	return sum, err
}

// CounterRetention is how long a journal keeps a counter's adds: the
// policy asks for the last 24 hours; an add older than a week counts for
// nothing, however the clock was set back meanwhile, and is deleted (the
// file journal: the adds of the key SumSince reads, with the next commit,
// and every key's at the next open; PostgreSQL: at open and hourly). Kept,
// they made every read of a total slower, without end (the file journal's
// read scanned every add ever made).
const CounterRetention = 7 * 24 * time.Hour

// pruneBatch bounds the aged adds one read queues for deletion.
const pruneBatch = 4096

// queuePrune queues counter rows for deletion with the next commit.
func (f *kvJournal) queuePrune(keys []string) {
	f.lazyMu.Lock()
	defer f.lazyMu.Unlock()
	if f.lazyPrunes == nil {
		f.lazyPrunes = map[string]bool{}
	}
	for _, k := range keys {
		f.lazyPrunes[k] = true
	}
}

// forEachPrefix calls fn for the pairs of b whose key starts with prefix,
// in key order: a bbolt bucket seeks to them (a counters key's adds, not
// every key's).
func forEachPrefix(b bucket, prefix []byte, fn func(k, v []byte) error) error {
	bb, ok := b.(*bolt.Bucket)
	if !ok {
		return b.ForEach(func(k, v []byte) error {
			if !bytes.HasPrefix(k, prefix) {
				return nil
			}
			return fn(k, v)
		})
	}
	c := bb.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// pruneCounters deletes every counter add older than CounterRetention
// (at a writable open).
func pruneCounters(tx *bolt.Tx, now time.Time) error {
	b := tx.Bucket(bCounters)
	cutoff := now.Add(-CounterRetention)
	var old [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if at, _, err := decodeCounter(v); err == nil && at.Before(cutoff) {
			old = append(old, bytes.Clone(k))
		}
		return nil // a damaged add stays, for SumSince to report
	})
	if err != nil {
		return err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
