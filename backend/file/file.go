// Package file is gokms's default secret store: one encrypted local file,
// no server needed. The format is specified in docs/file-format.md.
//
// The file is a bbolt database (atomic, fsync'd commits and a cross-process
// file lock). A header holds the Argon2id parameters and salt and the random
// data key wrapped under the password key; each record is sealed with
// XChaCha20-Poly1305 under the data key, with its id as associated data.
//
// The database is opened per operation, never for the life of the process:
// Get and List take a shared lock, Put and Delete an exclusive one, so a
// long-running daemon and short CLI commands share a store and each sees
// the others' records at once. The password is turned into a key once, at
// Open; the data key then stays in memory until Close.
package file

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/gokms/gokms/backend"
)

// Errors beyond the backend sentinels.
var (
	// ErrTatumKMSFormat means the file is a tatum-kms wallet.dat (crypto-js
	// AES text, "U2FsdGVkX1..."), which gokms converts with
	// `gokms import tatum-kms <path>` rather than opening in place.
	ErrTatumKMSFormat = errors.New("file is a tatum-kms wallet, not a gokms store")
	// ErrNotStore means the file is neither a gokms store nor a damaged one.
	ErrNotStore = errors.New("not a gokms wallet store")
	// ErrClosed is returned by a Store used after Close.
	ErrClosed = errors.New("wallet store is closed")
)

// DefaultLockTimeout bounds how long an operation waits for another process
// that holds the store's lock; then it fails with backend.ErrLocked.
const DefaultLockTimeout = 30 * time.Second

// KDFEnv names the environment variable the "file" opener reads when it
// creates a store: "test" (InsecureTestKDF, for test suites only),
// "default", or "t=N,m=KiB,p=N". Existing stores always use their header.
const KDFEnv = "GOKMS_KDF"

// Options tune Create and Open.
type Options struct {
	// KDF sets the Argon2id cost of a store being created; nil means
	// DefaultKDF. Open ignores it: a store keeps the costs in its header.
	KDF *KDFParams
	// MaxKDF makes Open refuse a header whose costs exceed it before
	// running the KDF, and Create refuse to make such a store; nil means
	// DefaultMaxKDF.
	MaxKDF *KDFParams
	// LockTimeout bounds the wait for another process's lock; 0 means
	// DefaultLockTimeout.
	LockTimeout time.Duration
	// Logger receives diagnostics (never secrets); nil discards them.
	Logger *slog.Logger
}

func (o Options) lockTimeout() time.Duration {
	if o.LockTimeout > 0 {
		return o.LockTimeout
	}
	return DefaultLockTimeout
}

func (o Options) maxKDF() KDFParams {
	if o.MaxKDF != nil {
		return *o.MaxKDF
	}
	return DefaultMaxKDF
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Store is an unlocked wallet store. It is safe for concurrent use.
type Store struct {
	path  string
	opts  Options
	plock *sync.RWMutex // shared by every Store of this path in the process

	qmu     sync.Mutex    // guards queue and writing (group commit)
	queue   []*putRequest // Put requests waiting for the next transaction
	writing bool          // a leader is writing

	mu     sync.RWMutex // guards the fields below; ops hold it shared
	key    []byte       // data key
	hdr    []byte       // header as unlocked; a change means another process re-keyed
	kdf    KDFParams
	closed bool
}

var (
	pathLocksMu sync.Mutex
	pathLocks   = map[string]*sync.RWMutex{}
)

// pathLock serialises a process's own operations on one file, so its
// goroutines queue on a mutex instead of polling the file lock.
func pathLock(path string) *sync.RWMutex {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	pathLocksMu.Lock()
	defer pathLocksMu.Unlock()
	l, ok := pathLocks[path]
	if !ok {
		l = new(sync.RWMutex)
		pathLocks[path] = l
	}
	return l
}

// Open unlocks the existing store at path. A wrong password gives an error
// wrapping backend.ErrBadPassword; a tatum-kms wallet.dat one wrapping
// ErrTatumKMSFormat; a missing file one wrapping fs.ErrNotExist; a damaged
// file one wrapping backend.ErrCorrupt. Open never modifies the file.
func Open(path string, password []byte, opts Options) (*Store, error) {
	path = filepath.Clean(path)
	if err := classify(path); err != nil {
		return nil, err
	}
	s := &Store{path: path, opts: opts, plock: pathLock(path)}
	var raw []byte
	err := s.withDB(context.Background(), false, func(h *dbHandle) error {
		// Check the whole page graph once per unlock: bbolt itself would
		// loop forever or fault on some damage (see verify.go).
		data, unmap, err := mapFile(h.file, h.size)
		if err != nil {
			return err
		}
		defer unmap()
		if err := verifyLayout(data, h.db.Info().PageSize, uint64(h.tx.ID())); err != nil {
			return fmt.Errorf("%w: %w", backend.ErrCorrupt, err)
		}
		b := h.tx.Bucket(bucketMeta)
		if b == nil || h.tx.Bucket(bucketRecords) == nil {
			return fmt.Errorf("%w: a bbolt database without the gokms buckets", ErrNotStore)
		}
		raw = bytes.Clone(b.Get(keyHeader))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open wallet store %s: %w", path, err)
	}
	hdr, err := decodeHeader(raw)
	if err != nil {
		return nil, fmt.Errorf("open wallet store %s: %w: %w", path, backend.ErrCorrupt, err)
	}
	if m := opts.maxKDF(); hdr.KDF.exceeds(m) {
		return nil, fmt.Errorf("open wallet store %s: %w: its header asks for %v, above the most gokms runs before checking a password (%v); "+
			"gokms never makes such a store, so the file was altered: restore it from a backup", path, backend.ErrCorrupt, hdr.KDF, m)
	}
	// The KDF runs without holding the file lock: it is the slow part.
	plain, err := hdr.unwrap(password)
	if err != nil {
		return nil, fmt.Errorf("open wallet store %s: %w", path, err)
	}
	key := newKeyBuf(opts.logger())
	copy(key, plain)
	zero(plain)
	s.key, s.hdr, s.kdf = key, raw, hdr.KDF
	return s, nil
}

// Create makes a new, empty store at path (directories are created with mode
// 0700, the file with 0600) and returns it unlocked. It fails with an error
// wrapping fs.ErrExist if path exists, also when another process creates it
// at the same moment.
func Create(path string, password []byte, opts Options) (*Store, error) {
	path = filepath.Clean(path)
	params := DefaultKDF
	if opts.KDF != nil {
		params = *opts.KDF
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("create wallet store %s: %w", path, err)
	}
	if m := opts.maxKDF(); params.exceeds(m) {
		return nil, fmt.Errorf("create wallet store %s: %v is above what gokms opens (%v)", path, params, m)
	}
	if len(password) == 0 {
		return nil, fmt.Errorf("create wallet store %s: empty password", path)
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("create wallet store %s: %w", path, fs.ErrExist)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create wallet store %s: %w", path, err)
	}
	key := newKeyBuf(opts.logger())
	if _, err := rand.Read(key); err != nil {
		freeKeyBuf(key)
		return nil, err
	}
	hdr, err := newHeader(password, params, key)
	if err != nil {
		return nil, fmt.Errorf("create wallet store %s: %w", path, err)
	}
	// Build the store under a temporary name and link it into place: the
	// link fails if path appeared meanwhile, so two creators cannot
	// overwrite each other, and no half-initialised file is ever at path.
	tmp, err := writeNewStore(path, "create", hdr, nil)
	if err != nil {
		freeKeyBuf(key)
		return nil, fmt.Errorf("create wallet store %s: %w", path, err)
	}
	defer os.Remove(tmp)
	if err := linkNew(tmp, path); err != nil {
		freeKeyBuf(key)
		return nil, fmt.Errorf("create wallet store %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		freeKeyBuf(key)
		return nil, fmt.Errorf("create wallet store %s: %w", path, err)
	}
	if params.weakerThan(DefaultKDF) {
		opts.logger().Warn("wallet store created with a KDF weaker than the default", "path", path, "kdf", params.String(), "default", DefaultKDF.String())
	}
	return &Store{path: path, opts: opts, plock: pathLock(path), key: key, hdr: hdr, kdf: params}, nil
}

// linkNew puts tmp at path only if path does not exist.
func linkNew(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	// Some filesystems have no hard links; fall back to a rename after a
	// check (a creator racing in the gap would be overwritten; document).
	if _, serr := os.Lstat(path); serr == nil {
		return fs.ErrExist
	}
	return os.Rename(tmp, path)
}

// writeNewStore writes a complete store (header plus already sealed
// records, sorted by id) to a new temporary file next to path, fsyncs it and
// returns its name. Only ciphertext is ever written.
func writeNewStore(path, purpose string, hdr []byte, fill func(b *bolt.Bucket) error) (string, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".gokms-"+purpose+"-"+hex.EncodeToString(rnd[:]))
	var f *os.File
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{
		FreelistType: bolt.FreelistMapType,
		NoStatistics: true,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			fh, err := os.OpenFile(name, flag|os.O_CREATE|os.O_EXCL, perm)
			f = fh
			return fh, err
		},
	})
	if err != nil {
		return "", err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		mb, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := mb.Put(keyHeader, hdr); err != nil {
			return err
		}
		rb, err := tx.CreateBucket(bucketRecords)
		if err != nil {
			return err
		}
		if fill != nil {
			rb.FillPercent = 1 // written in key order: pack pages full
			return fill(rb)
		}
		return nil
	})
	if err == nil {
		// bbolt fdatasyncs each commit; a full fsync also settles the
		// inode (size, mode) before the file is linked into place.
		err = f.Sync()
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsync'd there; renames are journaled
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// classify looks at path before bbolt does, so that a missing file, a
// tatum-kms wallet or a foreign file gets a precise error and is never
// handed to bbolt (which would initialise an empty file).
func classify(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("open wallet store %s: %w", path, fs.ErrNotExist)
		}
		return fmt.Errorf("open wallet store %s: %w", path, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("open wallet store %s: is a directory: %w", path, ErrNotStore)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("open wallet store %s: not a regular file: %w", path, ErrNotStore)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open wallet store %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 65536+64)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("open wallet store %s: %w", path, err)
	}
	head = head[:n]
	switch {
	case n == 0:
		return fmt.Errorf("open wallet store %s: empty file: %w", path, ErrNotStore)
	case isTatumKMS(head):
		return fmt.Errorf("open wallet store %s: %w; convert it with: gokms import tatum-kms %s --in-place (keeps the original as %s.tatum-kms)", path, ErrTatumKMSFormat, path, path)
	case !hasBoltMagic(head):
		return fmt.Errorf("open wallet store %s: %w", path, ErrNotStore)
	}
	return nil
}

// isTatumKMS recognises crypto-js's AES.encrypt(...).toString() output,
// OpenSSL's "Salted__" format in base64, as tatum-kms writes wallet.dat.
func isTatumKMS(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	return bytes.HasPrefix(t, []byte("U2FsdGVkX1")) || bytes.HasPrefix(t, []byte("Salted__"))
}

// dbHandle is one open of the bbolt file for one operation.
type dbHandle struct {
	db   *bolt.DB
	tx   *bolt.Tx
	file *os.File // bbolt's descriptor, for fstat and the layout check
	size int64
}

var errPanic = errors.New("internal error reading the store")

// guard runs fn so that nothing bbolt does on a damaged file can crash the
// process: a page fault in the mapping becomes a panic (SetPanicOnFault),
// and every panic becomes an error wrapping backend.ErrCorrupt.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %w: %v", backend.ErrCorrupt, errPanic, r)
		}
	}()
	return fn()
}

// withDB opens the file (shared lock for reads, exclusive for writes), runs
// fn in one transaction (committed with fsync when write), and closes it.
func (s *Store) withDB(ctx context.Context, write bool, fn func(h *dbHandle) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if write {
		s.plock.Lock()
		defer s.plock.Unlock()
	} else {
		s.plock.RLock()
		defer s.plock.RUnlock()
	}
	timeout := s.opts.lockTimeout()
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d)
		if timeout <= 0 {
			return context.DeadlineExceeded
		}
	}
	return guard(func() error {
		h, err := openDB(s.path, write, timeout)
		if err != nil {
			return err
		}
		defer h.db.Close()
		run := func(tx *bolt.Tx) error {
			h.tx = tx
			// bbolt maps pages up to its high-water mark; a shorter file
			// (truncated copy) would fault on access.
			if tx.Size() > h.size {
				return fmt.Errorf("%w: file is truncated (%d bytes, the database needs %d)", backend.ErrCorrupt, h.size, tx.Size())
			}
			return fn(h)
		}
		if write {
			return h.db.Update(run)
		}
		return h.db.View(run)
	})
}

// openDB opens path with bbolt and takes its lock. bbolt never creates or
// initialises the file here: that is Create's job.
func openDB(path string, write bool, timeout time.Duration) (*dbHandle, error) {
	for attempt := 0; ; attempt++ {
		h := &dbHandle{}
		o := &bolt.Options{
			ReadOnly:     !write,
			Timeout:      timeout,
			FreelistType: bolt.FreelistMapType,
			NoStatistics: true,
			OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
				f, err := os.OpenFile(name, flag&^os.O_CREATE, perm)
				if err != nil {
					return nil, err
				}
				fi, err := f.Stat()
				if err == nil && fi.Size() == 0 {
					err = fmt.Errorf("empty file: %w", ErrNotStore)
				}
				if err != nil {
					f.Close()
					return nil, err
				}
				h.file = f
				return f, nil
			},
		}
		db, err := bolt.Open(path, 0o600, o)
		if err != nil {
			return nil, mapOpenError(path, write, timeout, err)
		}
		h.db = db
		// We hold the lock now. ChangePassword replaces the file by rename
		// while holding the lock on the old one; if that happened while we
		// waited, we hold a lock on a file that is no longer the store.
		cur, err := os.Stat(path)
		fi, ferr := h.file.Stat()
		if err == nil && ferr == nil && os.SameFile(cur, fi) {
			h.size = fi.Size()
			return h, nil
		}
		db.Close()
		switch {
		case err != nil && errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("the file was removed: %w", fs.ErrNotExist)
		case err != nil:
			return nil, err
		case ferr != nil:
			return nil, ferr
		case attempt >= 100:
			return nil, errors.New("the file keeps being replaced")
		}
	}
}

func mapOpenError(path string, write bool, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("another process holds its lock (waited %s): %w", timeout.Round(time.Millisecond), backend.ErrLocked)
	case errors.Is(err, ErrNotStore):
		return err
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the file was removed: %w", fs.ErrNotExist)
	case errors.Is(err, fs.ErrPermission):
		if write {
			return fmt.Errorf("cannot write: %w", err)
		}
		return err
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return fmt.Errorf("%w: %w", backend.ErrCorrupt, err)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err // an I/O error, not damage
	}
	// Everything else bbolt says about a file that passed classify (too
	// small, unreadable meta, bad page size) is damage.
	return fmt.Errorf("%w: %w", backend.ErrCorrupt, err)
}

// run is withDB for an unlocked store: it also checks that the header is the
// one this Store unlocked (another process may have changed the password).
func (s *Store) run(ctx context.Context, write bool, fn func(h *dbHandle, aead cipher.AEAD, rb *bolt.Bucket) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	aead, err := chacha20poly1305.NewX(s.key)
	if err != nil {
		return err
	}
	return s.runHeld(ctx, write, aead, fn)
}

// runHeld is run for a caller that already holds s.mu.
func (s *Store) runHeld(ctx context.Context, write bool, aead cipher.AEAD, fn func(h *dbHandle, aead cipher.AEAD, rb *bolt.Bucket) error) error {
	return s.withDB(ctx, write, func(h *dbHandle) error {
		if err := s.checkHeader(h.tx); err != nil {
			return err
		}
		return fn(h, aead, h.tx.Bucket(bucketRecords))
	})
}

func (s *Store) checkHeader(tx *bolt.Tx) error {
	mb, rb := tx.Bucket(bucketMeta), tx.Bucket(bucketRecords)
	if mb == nil || rb == nil {
		return fmt.Errorf("%w: the gokms buckets are gone", backend.ErrCorrupt)
	}
	if !bytes.Equal(mb.Get(keyHeader), s.hdr) {
		return fmt.Errorf("its password was changed since this process unlocked it; open it again: %w", backend.ErrBadPassword)
	}
	return nil
}

func (s *Store) errf(op string, err error) error {
	return fmt.Errorf("wallet store %s: %s: %w", s.path, op, err)
}

// Path returns the store's file path.
func (s *Store) Path() string { return s.path }

// KDF returns the Argon2id costs in the store's header.
func (s *Store) KDF() KDFParams {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.kdf
}

// Put implements backend.SecretBackend. It returns once the record is on disk.
func (s *Store) Put(ctx context.Context, r backend.Record) error {
	return s.PutBatch(ctx, []backend.Record{r})
}

// PutBatch implements backend.BatchPutter: every record in one transaction,
// one fsync; all or nothing.
func (s *Store) PutBatch(ctx context.Context, rs []backend.Record) error {
	seen := make(map[string]bool, len(rs))
	for _, r := range rs {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("wallet store %s: %w", s.path, err)
		}
		if seen[r.ID] {
			return fmt.Errorf("wallet store %s: signatureId %s twice in one batch: %w", s.path, r.ID, backend.ErrExists)
		}
		seen[r.ID] = true
	}
	if len(rs) == 0 {
		return nil
	}
	// Seal before taking the file lock: it is held only for the write. s.mu
	// stays held so that the key cannot change in between.
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return s.errf("put", ErrClosed)
	}
	aead, err := chacha20poly1305.NewX(s.key)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	sealed := make([]sealedRecord, len(rs))
	for i, r := range rs {
		if r.Created.IsZero() {
			r.Created = now
		}
		r.Created = r.Created.UTC()
		v, err := sealRecord(aead, r)
		if err != nil {
			return fmt.Errorf("wallet store %s: seal %s: %w", s.path, r.ID, err)
		}
		sealed[i] = sealedRecord{r.ID, v}
	}
	sort.Slice(sealed, func(i, j int) bool { return sealed[i].id < sealed[j].id })
	if err := s.commit(ctx, aead, sealed); err != nil {
		return s.errf("put", err)
	}
	return nil
}

type sealedRecord struct {
	id string
	v  []byte
}

// A putRequest is one PutBatch waiting to be written.
type putRequest struct {
	recs []sealedRecord
	done chan error    // the result, once durable or refused
	lead chan struct{} // closed when this request's goroutine must write
}

// commit writes recs durably. Concurrent callers in this process share
// transactions (group commit): the first becomes the leader and writes
// every request queued by then in one transaction and one fsync; the
// others wait, and the oldest of any newcomers leads the next round. Each
// request stays all or nothing on its own. The caller holds s.mu shared, so
// the data key cannot change while requests wait.
func (s *Store) commit(ctx context.Context, aead cipher.AEAD, recs []sealedRecord) error {
	req := &putRequest{recs: recs, done: make(chan error, 1), lead: make(chan struct{})}
	s.qmu.Lock()
	s.queue = append(s.queue, req)
	leader := !s.writing
	s.writing = true
	s.qmu.Unlock()
	if !leader {
		select {
		case err := <-req.done:
			return err
		case <-req.lead:
		}
	}
	s.qmu.Lock()
	batch := s.queue
	s.queue = nil
	s.qmu.Unlock()
	s.writeBatch(ctx, aead, batch)
	s.qmu.Lock()
	if len(s.queue) > 0 {
		close(s.queue[0].lead)
	} else {
		s.writing = false
	}
	s.qmu.Unlock()
	return <-req.done
}

// writeBatch writes the requests in one transaction and answers each.
func (s *Store) writeBatch(ctx context.Context, aead cipher.AEAD, batch []*putRequest) {
	results := make([]error, len(batch))
	err := s.runHeld(ctx, true, aead, func(_ *dbHandle, _ cipher.AEAD, rb *bolt.Bucket) error {
		taken := map[string]bool{}
		for i, req := range batch {
			results[i] = nil
			for _, e := range req.recs {
				if taken[e.id] || rb.Get([]byte(e.id)) != nil {
					results[i] = fmt.Errorf("signatureId %s: %w", e.id, backend.ErrExists)
					break
				}
			}
			if results[i] != nil {
				continue
			}
			for _, e := range req.recs {
				if err := rb.Put([]byte(e.id), e.v); err != nil {
					return fmt.Errorf("signatureId %s: %w", e.id, err) // rolls back the whole batch
				}
				taken[e.id] = true
			}
		}
		return nil
	})
	for i, req := range batch {
		if err != nil {
			results[i] = err
		}
		req.done <- results[i]
	}
}

// Get implements backend.SecretBackend.
func (s *Store) Get(ctx context.Context, id string) (backend.Record, error) {
	var r backend.Record
	err := s.run(ctx, false, func(_ *dbHandle, aead cipher.AEAD, rb *bolt.Bucket) error {
		v := rb.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("signatureId %s: %w", id, backend.ErrNotFound)
		}
		var err error
		if r, err = openRecord(aead, id, v); err != nil {
			return fmt.Errorf("signatureId %s: %w: %w", id, backend.ErrCorrupt, err)
		}
		return nil
	})
	if err != nil {
		return backend.Record{}, s.errf("get", err)
	}
	return r, nil
}

// Delete implements backend.SecretBackend. The record's ciphertext may stay
// in free pages of the file until they are reused; ChangePassword rewrites
// the file without them.
func (s *Store) Delete(ctx context.Context, id string) error {
	err := s.run(ctx, true, func(_ *dbHandle, _ cipher.AEAD, rb *bolt.Bucket) error {
		if rb.Get([]byte(id)) == nil {
			return fmt.Errorf("signatureId %s: %w", id, backend.ErrNotFound)
		}
		return rb.Delete([]byte(id))
	})
	if err != nil {
		return s.errf("delete", err)
	}
	return nil
}

// List implements backend.SecretBackend: it opens only the sealed metadata
// of each record, never a secret. Records come sorted by id.
func (s *Store) List(ctx context.Context) ([]backend.Meta, error) {
	var l []backend.Meta
	err := s.run(ctx, false, func(_ *dbHandle, aead cipher.AEAD, rb *bolt.Bucket) error {
		var sc metaScratch
		l = make([]backend.Meta, 0, rb.Stats().KeyN) // counts per page, cheap
		return rb.ForEach(func(k, v []byte) error {
			m, err := openMeta(aead, string(k), v, &sc)
			if err != nil {
				return fmt.Errorf("signatureId %s: %w: %w", k, backend.ErrCorrupt, err)
			}
			l = append(l, m)
			return nil
		})
	})
	if err != nil {
		return nil, s.errf("list", err)
	}
	return l, nil
}

// Close forgets the data key. The Store must not be used afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	freeKeyBuf(s.key)
	s.key, s.closed = nil, true
	return nil
}

// ChangePassword re-encrypts the whole store under a new random data key
// wrapped by newPassword (with newParams, or the store's current KDF costs
// when nil) and replaces the file atomically: it writes a complete new file
// next to it, fsyncs it, renames it over the old one and fsyncs the
// directory, all under the exclusive lock. A crash leaves either the old
// file (old password) or the new one (new password), never a mix; the old
// password no longer opens the store, and deleted records' remnants are not
// carried over. Other processes that unlocked the store before get an error
// wrapping backend.ErrBadPassword until they open it again.
func (s *Store) ChangePassword(newPassword []byte, newParams *KDFParams) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.errf("change password", ErrClosed)
	}
	params := s.kdf
	if newParams != nil {
		params = *newParams
	}
	if err := params.Validate(); err != nil {
		return s.errf("change password", err)
	}
	if m := s.opts.maxKDF(); params.exceeds(m) {
		return s.errf("change password", fmt.Errorf("%v is above what gokms opens (%v)", params, m))
	}
	newKey := newKeyBuf(s.opts.logger())
	if _, err := rand.Read(newKey); err != nil {
		freeKeyBuf(newKey)
		return err
	}
	// Derive the new key before taking the lock; it is the slow part.
	hdr, err := newHeader(newPassword, params, newKey)
	if err != nil {
		freeKeyBuf(newKey)
		return s.errf("change password", err)
	}
	oldAEAD, err := chacha20poly1305.NewX(s.key)
	if err != nil {
		freeKeyBuf(newKey)
		return err
	}
	newAEAD, err := chacha20poly1305.NewX(newKey)
	if err != nil {
		freeKeyBuf(newKey)
		return err
	}
	// The exclusive lock on the old file is held until after the rename,
	// so no writer can commit to the old file once it has been copied.
	err = s.withDB(context.Background(), true, func(h *dbHandle) error {
		if err := s.checkHeader(h.tx); err != nil {
			return err
		}
		// Replace the file a symlink points to, not the link.
		target, err := filepath.EvalSymlinks(s.path)
		if err != nil {
			return err
		}
		removeStale(target, "rekey")
		old := h.tx.Bucket(bucketRecords)
		tmp, err := writeNewStore(target, "rekey", hdr, func(nb *bolt.Bucket) error {
			return old.ForEach(func(k, v []byte) error {
				r, err := openRecord(oldAEAD, string(k), v)
				if err != nil {
					return fmt.Errorf("signatureId %s: %w: %w", k, backend.ErrCorrupt, err)
				}
				sealed, err := sealRecord(newAEAD, r)
				r.Zero()
				if err != nil {
					return err
				}
				return nb.Put(k, sealed)
			})
		})
		if err != nil {
			return err
		}
		if fi, err := h.file.Stat(); err == nil {
			_ = os.Chmod(tmp, fi.Mode().Perm())
			chownLike(tmp, fi)
		}
		if err := os.Rename(tmp, target); err != nil {
			os.Remove(tmp)
			return err
		}
		return syncDir(filepath.Dir(target))
	})
	if err != nil {
		freeKeyBuf(newKey)
		return s.errf("change password", err)
	}
	freeKeyBuf(s.key)
	s.key, s.hdr, s.kdf = newKey, hdr, params
	return nil
}

// removeStale deletes temporary files a crashed ChangePassword left next to
// path. The caller holds the exclusive lock, so none is in progress.
func removeStale(path, purpose string) {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+globEscape(filepath.Base(path))+".gokms-"+purpose+"-*"))
	for _, m := range matches {
		os.Remove(m)
	}
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}
