package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
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
	bLeases   = []byte("leases")
	bNonces   = []byte("nonces")
	bCounters = []byte("counters")
	bMeta     = []byte("meta")
)

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
// to start. Every write is one fsync'd bbolt transaction. Leases and
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
	// epoch counts the opens of a File. A lease taken under an older epoch
	// belongs to a process that no longer holds the lock: it is dead, so a
	// restarted daemon need not wait for its leases to expire.
	epoch uint64
}

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
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockTimeout, ReadOnly: o.ReadOnly})
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
			for _, b := range [][]byte{bEntries, bLeases, bNonces, bCounters, bMeta} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			m := tx.Bucket(bMeta)
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
	return &File{kvJournal: kvJournal{s: boltKV{db}, now: o.Now, epoch: epoch}, path: path}, nil
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// Close releases the store (for File, the lock).
func (f *kvJournal) Close() error { return f.s.close() }

// leaseRec is a lease as stored: the token survives releases so tokens only grow.
type leaseRec struct {
	Lease
	Epoch    uint64   `json:"epoch,omitempty"`
	Released bool     `json:"released,omitempty"`
	Nonces   []string `json:"nonces,omitempty"` // nonce keys this id holds a reservation on
}

type nonceRec struct {
	Next uint64            `json:"next"`
	Free []uint64          `json:"free,omitempty"`
	Res  map[string]uint64 `json:"res,omitempty"` // pending id -> reserved, not yet recorded
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
	var l Lease
	var ent *Entry
	err := f.update(ctx, func(tx txn) error {
		now := f.now()
		var lr leaseRec
		if _, err := getJSON(tx.Bucket(bLeases), id, &lr); err != nil {
			return err
		}
		if f.live(lr, now) && lr.Owner != owner {
			return fmt.Errorf("%s: %w (%s, until %s)", id, ErrClaimed, lr.Owner, lr.Expires.UTC().Format(time.RFC3339))
		}
		lr.Lease = Lease{ID: id, Owner: owner, Token: lr.Token + 1, Expires: now.Add(ttl)}
		lr.Released, lr.Epoch = false, f.epoch
		if err := putJSON(tx.Bucket(bLeases), id, lr); err != nil {
			return err
		}
		l = lr.Lease
		var e Entry
		ok, err := getJSON(tx.Bucket(bEntries), id, &e)
		if err != nil {
			return err
		}
		if ok {
			ent = &e
		}
		return nil
	})
	if err != nil {
		return Lease{}, nil, err
	}
	return l, ent, nil
}

// live says whether a stored lease still holds.
func (f *kvJournal) live(lr leaseRec, now time.Time) bool {
	return !lr.Released && lr.Owner != "" && lr.Epoch == f.epoch && now.Before(lr.Expires)
}

// fence loads the live lease record of l or fails with ErrFenced.
func (f *kvJournal) fence(tx txn, l Lease) (leaseRec, error) {
	var lr leaseRec
	ok, err := getJSON(tx.Bucket(bLeases), l.ID, &lr)
	if err != nil {
		return lr, err
	}
	if !ok || lr.Released || lr.Token != l.Token || lr.Owner != l.Owner || lr.Epoch != f.epoch {
		return lr, fmt.Errorf("%s (token %d): %w", l.ID, l.Token, ErrFenced)
	}
	return lr, nil
}

// Renew implements Journal.
func (f *kvJournal) Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	err := f.update(ctx, func(tx txn) error {
		lr, err := f.fence(tx, l)
		if err != nil {
			return err
		}
		lr.Expires = f.now().Add(ttl)
		l = lr.Lease
		return putJSON(tx.Bucket(bLeases), l.ID, lr)
	})
	return l, err
}

// Release implements Journal.
func (f *kvJournal) Release(ctx context.Context, l Lease) error {
	return f.update(ctx, func(tx txn) error {
		lr, err := f.fence(tx, l)
		if err != nil {
			return err
		}
		if tx.Bucket(bEntries).Get([]byte(l.ID)) == nil {
			// Never recorded: hand its reserved nonces back.
			for _, ks := range lr.Nonces {
				if err := f.freeReservation(tx, ks, l.ID); err != nil {
					return err
				}
			}
		}
		lr.Nonces = nil
		lr.Released = true
		return putJSON(tx.Bucket(bLeases), l.ID, lr)
	})
}

func (f *kvJournal) freeReservation(tx txn, ks, id string) error {
	var nr nonceRec
	if _, err := getJSON(tx.Bucket(bNonces), ks, &nr); err != nil {
		return err
	}
	n, ok := nr.Res[id]
	if !ok {
		return nil
	}
	delete(nr.Res, id)
	if !slices.Contains(nr.Free, n) {
		nr.Free = append(nr.Free, n)
		slices.Sort(nr.Free)
	}
	return putJSON(tx.Bucket(bNonces), ks, nr)
}

// ReserveNonce implements Journal.
func (f *kvJournal) ReserveNonce(ctx context.Context, l Lease, k NonceKey, pending uint64) (uint64, error) {
	if k.Chain == "" || k.Sender == "" {
		return 0, errors.New("journal: nonce key needs a chain and a sender")
	}
	ks := nonceKeyString(k)
	var out uint64
	err := f.update(ctx, func(tx txn) error {
		lr, err := f.fence(tx, l)
		if err != nil {
			return err
		}
		if tx.Bucket(bEntries).Get([]byte(l.ID)) != nil {
			return fmt.Errorf("%s: %w: its nonce is in the journal", l.ID, ErrExists)
		}
		var nr nonceRec
		if _, err := getJSON(tx.Bucket(bNonces), ks, &nr); err != nil {
			return err
		}
		if nr.Res == nil {
			nr.Res = map[string]uint64{}
		}
		now := f.now()
		// Reservations of ids that crashed before recording (lease gone,
		// no entry) are free again.
		for id, n := range nr.Res {
			if id == l.ID {
				continue
			}
			var o leaseRec
			if _, err := getJSON(tx.Bucket(bLeases), id, &o); err != nil {
				return err
			}
			if !f.live(o, now) && tx.Bucket(bEntries).Get([]byte(id)) == nil {
				delete(nr.Res, id)
				nr.Free = append(nr.Free, n)
			}
		}
		// Nonces below the node's pending one are used (by us or another
		// wallet user): never hand them out.
		nr.Free = slices.DeleteFunc(nr.Free, func(n uint64) bool { return n < pending })
		slices.Sort(nr.Free)
		nr.Free = slices.Compact(nr.Free)
		if n, ok := nr.Res[l.ID]; ok && n >= pending {
			out = n
		} else {
			if ok {
				delete(nr.Res, l.ID)
			}
			if len(nr.Free) > 0 {
				out, nr.Free = nr.Free[0], nr.Free[1:]
			} else {
				out = max(nr.Next, pending)
			}
			nr.Res[l.ID] = out
		}
		if out >= nr.Next {
			nr.Next = out + 1
		}
		if !slices.Contains(lr.Nonces, ks) {
			lr.Nonces = append(lr.Nonces, ks)
			if err := putJSON(tx.Bucket(bLeases), l.ID, lr); err != nil {
				return err
			}
		}
		return putJSON(tx.Bucket(bNonces), ks, nr)
	})
	return out, err
}

// Record implements Journal.
func (f *kvJournal) Record(ctx context.Context, l Lease, e Entry) error {
	if e.ID != l.ID {
		return fmt.Errorf("journal: record %q under the lease of %q", e.ID, l.ID)
	}
	if e.SignedTx == "" || e.Chain == "" {
		return errors.New("journal: record needs the chain and the signed transaction")
	}
	return f.update(ctx, func(tx txn) error {
		lr, err := f.fence(tx, l)
		if err != nil {
			return err
		}
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
			delete(nr.Res, e.ID)
			nr.Free = slices.DeleteFunc(nr.Free, func(n uint64) bool { return n == *e.Nonce })
			if *e.Nonce >= nr.Next {
				nr.Next = *e.Nonce + 1
			}
			if err := putJSON(tx.Bucket(bNonces), ks, nr); err != nil {
				return err
			}
		}
		// Reservations on other keys (none in practice) are freed.
		for _, ks := range lr.Nonces {
			if err := f.freeReservation(tx, ks, e.ID); err != nil {
				return err
			}
		}
		return putJSON(tx.Bucket(bEntries), e.ID, e)
	})
}

func (f *kvJournal) mutate(ctx context.Context, l Lease, fn func(e *Entry) error) error {
	return f.update(ctx, func(tx txn) error {
		if _, err := f.fence(tx, l); err != nil {
			return err
		}
		var e Entry
		ok, err := getJSON(tx.Bucket(bEntries), l.ID, &e)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s: %w", l.ID, ErrNotFound)
		}
		if err := fn(&e); err != nil {
			return err
		}
		e.UpdatedAt = f.now()
		return putJSON(tx.Bucket(bEntries), l.ID, e)
	})
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
	return f.mutate(ctx, l, func(e *Entry) error {
		e.TxID = txID
		if e.State != StateCompleted {
			e.State = StateBroadcast
		}
		e.LastError = ""
		return nil
	})
}

// MarkCompleted implements Journal.
func (f *kvJournal) MarkCompleted(ctx context.Context, l Lease, txID string) error {
	if txID == "" {
		return fmt.Errorf("%s: %w: completed without a txId", l.ID, ErrBadTransition)
	}
	return f.mutate(ctx, l, func(e *Entry) error {
		e.TxID, e.State, e.LastError = txID, StateCompleted, ""
		e.CompletedAt = f.now()
		return nil
	})
}

// Get implements Journal.
func (f *kvJournal) Get(ctx context.Context, id string) (Entry, error) {
	var e Entry
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
	return e, err
}

// List implements Journal.
func (f *kvJournal) List(ctx context.Context, open bool) ([]Entry, error) {
	var out []Entry
	err := f.s.view(func(tx txn) error {
		b := tx.Bucket(bEntries)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("journal record %q is damaged: %w", k, err)
			}
			if !open || e.State != StateCompleted {
				out = append(out, e)
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].RecordedAt.Before(out[j].RecordedAt) })
	return out, err
}

// Forget implements Journal. An entry's EVM nonce goes back to the free
// list: if its transaction never reached the chain the gap is filled; if it
// did, the node's pending nonce has passed it and it is never handed out.
func (f *kvJournal) Forget(ctx context.Context, id string) error {
	return f.update(ctx, func(tx txn) error {
		var e Entry
		ok, err := getJSON(tx.Bucket(bEntries), id, &e)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s: %w", id, ErrNotFound)
		}
		var lr leaseRec
		if _, err := getJSON(tx.Bucket(bLeases), id, &lr); err != nil {
			return err
		}
		if f.live(lr, f.now()) {
			return fmt.Errorf("%s: %w (%s); stop the daemon first", id, ErrClaimed, lr.Owner)
		}
		if e.Nonce != nil && e.Sender != "" && e.State != StateCompleted {
			ks := nonceKeyString(NonceKey{Chain: e.Chain, Testnet: e.Testnet, Sender: e.Sender})
			var nr nonceRec
			if _, err := getJSON(tx.Bucket(bNonces), ks, &nr); err != nil {
				return err
			}
			if !slices.Contains(nr.Free, *e.Nonce) {
				nr.Free = append(nr.Free, *e.Nonce)
				slices.Sort(nr.Free)
			}
			if err := putJSON(tx.Bucket(bNonces), ks, nr); err != nil {
				return err
			}
		}
		return tx.Bucket(bEntries).Delete([]byte(id))
	})
}

type counterRec struct {
	At     time.Time `json:"at"`
	Amount string    `json:"amount"`
}

func counterKey(key, ref string) []byte { return []byte(key + "\x00" + ref) }

// Add implements Journal.
func (f *kvJournal) Add(ctx context.Context, key, ref string, at time.Time, amount *big.Int) error {
	if key == "" || ref == "" || amount == nil {
		return errors.New("journal: counter add needs a key, a ref and an amount")
	}
	return f.update(ctx, func(tx txn) error {
		b := tx.Bucket(bCounters)
		k := counterKey(key, ref)
		if b.Get(k) != nil {
			return nil
		}
		raw, err := json.Marshal(counterRec{At: at, Amount: amount.String()})
		if err != nil {
			return err
		}
		return b.Put(k, raw)
	})
}

// SumSince implements Journal.
func (f *kvJournal) SumSince(ctx context.Context, key string, since time.Time) (*big.Int, error) {
	sum := new(big.Int)
	err := f.s.view(func(tx txn) error {
		b := tx.Bucket(bCounters)
		if b == nil {
			return nil
		}
		prefix := key + "\x00"
		return b.ForEach(func(k, v []byte) error {
			if !strings.HasPrefix(string(k), prefix) {
				return nil
			}
			var r counterRec
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("journal counter %q is damaged: %w", k, err)
			}
			if r.At.Before(since) {
				return nil
			}
			n, ok := new(big.Int).SetString(r.Amount, 10)
			if !ok {
				return fmt.Errorf("journal counter %q is damaged", k)
			}
			sum.Add(sum, n)
			return nil
		})
	})
	return sum, err
}
