package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// File is the default Sink: a JSON-lines file, mode 0600, locked while
// open, appended to and fsynced (several appends waiting share one fsync).
// Beside it, <path>.head holds the seq and hash of an entry at or near the
// end (the last one written at the last fsync, or within writeDelay of
// the last write), so that entries cut from the end are noticed too
// (Verify).
type File struct {
	path string
	f    *os.File
	head *os.File

	mu      sync.Mutex // orders appends
	enc     lineEncoder
	headBuf [headWidth + 1]byte
	seq     uint64
	prev    string
	// pending holds the lines appended and not yet written to the file:
	// what a failed write left, written by the next append, the next
	// fsync or within writeDelay. Under mu.
	pending  []byte
	flushing bool        // a delayed write is scheduled
	flusher  *time.Timer // the delayed write (writeDelay)
	written  uint64      // last seq written to the file
	// headSeq and headHash name the last entry written to the file;
	// headStale: the head file does not name it yet (writeHead).
	headSeq   uint64
	headHash  string
	headStale bool
	syncMu    sync.Mutex // one fsync at a time
	synced    uint64     // last seq known durable
	closeErr  error

	// Group fsync (syncTo): waiting counts the appends waiting for one;
	// full tells the one gathering that syncTarget wait; busy says the
	// last fsync had company, lastSync when it ended (UnixNano).
	waiting  atomic.Int64
	full     chan struct{}
	busy     bool // under syncMu
	lastSync atomic.Int64
	gathered atomic.Int64 // fsyncs that waited for company (tests)
	syncs    atomic.Int64 // fsyncs done (tests)
	// held: a journal writes the held lines before each of its commits
	// (WriteBeforeCommits), so Hold leaves them for it.
	held atomic.Bool
}

// syncWindow is how long an fsync lets appends gather while the log is
// busy (the last fsync had company), unless syncTarget wait sooner. An
// fsync costs this VM's disk 2-4 ms and its kernel about 100 µs of CPU,
// and each one forces a commit of the filesystem's journal that the
// daemon's journal fsync then waits behind. The daemon waits for the
// entry while its journal commits (also in 10 ms groups) and off its
// concurrency slot, so the window costs latency, not throughput; a lone
// append after an idle spell syncs at once.
const (
	syncWindow = 10 * time.Millisecond
	syncTarget = 32
)

// writeDelay is how soon a write of unsynced lines that failed is tried
// again (an entry appended with sync reports the failure instead), and
// how soon the head names an unsynced entry: rewritten with every entry,
// it was two of the trail's five syscalls a transaction. Unsynced
// entries (the "broadcast" and "completed" events, which follow the
// fsynced "signed" entry) are written before Append returns: held in
// memory for the next fsync instead (tried on 2026-12-03, 7ca59ce), a
// SIGKILL lost the "completed" entries of its last few milliseconds, which
// nothing writes later.
const writeDelay = 10 * time.Millisecond

// pendingMax is the size of unwritten lines that is written at once, and
// pendingLimit the size past which appends fail (writes keep failing).
const (
	pendingMax   = 64 << 10
	pendingLimit = 16 << 20
)

// DefaultName is the audit log's file name beside the wallet store.
const DefaultName = "audit.log"

// PathBeside returns the audit log path in the directory of the store file.
func PathBeside(storePath string) string { return filepath.Join(filepath.Dir(storePath), DefaultName) }

// ErrLocked: another process has the audit log open.
var ErrLocked = errors.New("audit log is in use by another process (another gokms daemon?); give each daemon its own --audit file")

// OpenFile opens (creating, mode 0600) the audit log at path for
// appending. A last line cut short by a crash (never acknowledged, so
// nothing was broadcast on the strength of it) is dropped.
func OpenFile(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit log %s: %w", path, ErrLocked)
	}
	fl := &File{path: path, f: f, full: make(chan struct{}, 1)}
	if err := fl.recover(); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	if fl.head, err = os.OpenFile(path+".head", os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("open audit log head: %w", err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		fl.Close()
		return nil, err
	}
	fl.written, fl.synced = fl.seq, fl.seq
	return fl, nil
}

// Path returns the log's path.
func (f *File) Path() string { return f.path }

// recover finds the last complete entry and drops a torn tail.
func (f *File) recover() error {
	st, err := f.f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size == 0 {
		return nil
	}
	// Read backwards in chunks until the last complete line is found.
	const chunk = 64 << 10
	var tail []byte
	end := size
	for off := size; ; {
		n := int64(chunk)
		if off < n {
			n = off
		}
		off -= n
		buf := make([]byte, n)
		if _, err := f.f.ReadAt(buf, off); err != nil {
			return err
		}
		tail = append(buf, tail...)
		// the complete part ends at the last newline
		last := bytes.LastIndexByte(tail, '\n')
		if last >= 0 {
			end = off + int64(last) + 1
			prevNL := bytes.LastIndexByte(tail[:last], '\n')
			if prevNL >= 0 || off == 0 {
				line := tail[prevNL+1 : last]
				var e Entry
				if err := json.Unmarshal(line, &e); err != nil {
					return fmt.Errorf("last entry is not valid JSON (run gokms audit verify): %w", err)
				}
				f.seq, f.prev = e.Seq, e.Hash
				break
			}
		} else if off == 0 {
			end = 0
			break
		}
		if off == 0 {
			break
		}
	}
	if end < size {
		if err := f.f.Truncate(end); err != nil {
			return fmt.Errorf("drop the torn last line: %w", err)
		}
	}
	return nil
}

// Append implements Sink. The entry and every one before it are written
// when Append returns, and with sync fsynced too; without sync, a failed
// write is retried within writeDelay (and reported by the next synced
// append).
func (f *File) Append(_ context.Context, e *Entry, sync bool) error {
	f.mu.Lock()
	if f.f == nil {
		f.mu.Unlock()
		return errors.New("audit log is closed")
	}
	if len(f.pending) > pendingLimit {
		err := f.writeOut() // the writes failed so far: try once more
		if err != nil {
			f.mu.Unlock()
			return err
		}
	}
	if err := f.add(e); err != nil {
		f.mu.Unlock()
		return err
	}
	seq := e.Seq
	// Written now, synced or not: a crash of the process (a SIGKILL, an
	// OOM kill) must not lose an entry (the Sink contract). Held for the
	// next fsync instead (7ca59ce), a SIGKILL lost the "completed" entries
	// of its last few milliseconds, which the restarted daemon, no longer
	// seeing those ids pending, never wrote, and "signed" entries whose
	// rule then appeared nowhere (TestDaemonPolicyAuditSIGKILL).
	werr := f.writeOut()
	if !sync {
		if werr != nil || f.headStale {
			f.writeSoon() // kept: retried, and the next synced append reports it
		}
		f.mu.Unlock()
		return nil
	}
	f.mu.Unlock()
	return f.syncTo(seq, true) // writes what a failed write left pending, or fails
}

// Hold implements Holder: Append without sync, but once
// WriteBeforeCommits has given the log to a journal, the line is left for
// the next write: another append's, Sync's, the journal's before its next
// commit, or within writeDelay. Without a journal it is Append.
func (f *File) Hold(ctx context.Context, e *Entry) error {
	if !f.held.Load() {
		return f.Append(ctx, e, false)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return errors.New("audit log is closed")
	}
	if len(f.pending) > pendingLimit {
		if err := f.writeOut(); err != nil { // the writes failed so far: try once more
			return err
		}
	}
	if err := f.add(e); err != nil {
		return err
	}
	f.writeSoon()
	return nil
}

// Committer is a journal that runs a function before each of its commits
// (journal.File).
type Committer interface{ BeforeCommit(func()) }

// WriteBeforeCommits has j write the held lines (Hold) before each of its
// commits: a line held before a write was queued to j is in the file
// before that write is durable. One write(2) then carries the lines of a
// whole commit, where each was one (two a transaction: 3-4 µs each in the
// drain benchmark).
func (f *File) WriteBeforeCommits(j Committer) {
	j.BeforeCommit(f.writeHeld)
	f.held.Store(true)
}

// writeHeld writes the pending lines (a failed write leaves them pending,
// retried within writeDelay and reported by the next Sync).
func (f *File) writeHeld() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil || len(f.pending) == 0 {
		return
	}
	if err := f.writeOut(); err != nil || f.headStale {
		f.writeSoon()
	}
}

// add chains e to the log and appends its line to pending. Called with mu
// held.
func (f *File) add(e *Entry) error {
	e.Seq, e.Prev = f.seq+1, f.prev
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	line, err := f.enc.line(e)
	if err != nil {
		return fmt.Errorf("encode audit entry: %w", err)
	}
	f.pending = append(f.pending, line...)
	f.seq, f.prev = e.Seq, e.Hash
	return nil
}

// Sync implements Syncer: it returns once the entry seq and every one
// before it are durable, with one fsync for every entry written before it
// (or an error: an entry that could not be written, a failed fsync, a
// closed log). It does not wait for more appends to gather, as a synced
// Append does: its callers (the trail's signed entries, written before the
// daemon's journal commit and synced once it returns) come together.
func (f *File) Sync(_ context.Context, seq uint64) error { return f.syncTo(seq, false) }

// writeSoon writes the pending lines now if they are many, else within
// writeDelay. A failed write leaves them pending for the next one and is
// not this append's error (its entry is kept): the next synced append
// reports it. Called with mu held.
func (f *File) writeSoon() {
	if len(f.pending) >= pendingMax && f.writeOut() == nil {
		f.writeHead()
		return
	}
	if !f.flushing && (len(f.pending) > 0 || f.headStale) {
		f.flushing = true
		if f.flusher == nil {
			f.flusher = time.AfterFunc(writeDelay, f.delayedWrite)
		} else {
			f.flusher.Reset(writeDelay)
		}
	}
}

func (f *File) delayedWrite() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushing = false
	if f.f == nil {
		return
	}
	err := f.writeOut()
	f.writeHead()
	if err != nil && len(f.pending) > 0 {
		f.flushing = true
		f.flusher.Reset(writeDelay) // try again
	}
}

// writeOut writes the pending lines in order (the head follows, by
// writeHead). What a failed or short write left out stays pending, first,
// so that the file never skips an entry: the next write carries on where
// this one stopped. Called with mu held.
func (f *File) writeOut() error {
	if len(f.pending) == 0 {
		return nil
	}
	n, err := f.f.Write(f.pending)
	f.pending = f.pending[:copy(f.pending, f.pending[n:])]
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	f.written = f.seq
	f.headSeq, f.headHash, f.headStale = f.seq, f.prev, true
	return nil
}

// Flush writes the entries appended so far to the file (without an
// fsync), so that a reader of the file sees them now rather than within
// writeDelay.
func (f *File) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return errors.New("audit log is closed")
	}
	err := f.writeOut()
	f.writeHead()
	return err
}

// syncTo returns once seq is durable; one fsync covers every line written
// before it (group commit), and with gather, while the log is busy, the
// fsync waits up to syncWindow for more (syncTarget waiting cut it short).
func (f *File) syncTo(seq uint64, gather bool) error {
	if f.waiting.Add(1) == syncTarget {
		select {
		case f.full <- struct{}{}: // the one gathering goes now
		default:
		}
	}
	defer f.waiting.Add(-1)
	f.syncMu.Lock()
	defer f.syncMu.Unlock()
	if f.synced >= seq {
		return nil
	}
	if f.busy && time.Since(time.Unix(0, f.lastSync.Load())) >= syncWindow {
		f.busy = false // idle: this append starts a burst and syncs at once
	}
	if gather && f.busy && f.waiting.Load() < syncTarget {
		select {
		case <-f.full: // stale, from a group that was full already
		default:
		}
		f.gathered.Add(1)
		t := time.NewTimer(syncWindow)
		select {
		case <-t.C:
		case <-f.full:
			t.Stop()
		}
	}
	f.mu.Lock()
	file := f.f
	var werr error
	if file != nil {
		werr = f.writeOut() // every line appended so far, this one's too
	}
	upTo := f.written
	f.mu.Unlock()
	if file == nil {
		return errors.New("audit log is closed")
	}
	if upTo < seq {
		if werr == nil {
			werr = errors.New("write audit log: the entry was not written")
		}
		return werr
	}
	company := f.waiting.Load() > 1
	f.syncs.Add(1)
	err := file.Sync()
	f.lastSync.Store(time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("fsync audit log: %w", err)
	}
	f.synced, f.busy = upTo, company
	// After the fsync: the head names the entries it made durable (or
	// ones written since), which the log on disk holds after a crash of
	// the host unless they came later than the fsync.
	f.mu.Lock()
	f.writeHead()
	f.mu.Unlock()
	return nil
}

// writeHead records the last written entry's seq and hash beside the log,
// if it changed (best effort, no fsync: after a host crash the head may
// lag the log, never lead it in practice, since it is written after the
// line). Called with mu held.
func (f *File) writeHead() {
	if f.head == nil || !f.headStale {
		return
	}
	f.headStale = false
	// Padded to a fixed width, so each write overwrites the last in place
	// (no truncate, one syscall). The JSON of head, written out by hand:
	// the hash is hex.
	b := append(f.headBuf[:0], `{"seq":`...)
	b = strconv.AppendUint(b, f.headSeq, 10)
	b = append(b, `,"hash":"`...)
	b = append(b, f.headHash...)
	b = append(b, `"}`...)
	for len(b) < headWidth {
		b = append(b, ' ')
	}
	b = append(b, '\n')
	_, _ = f.head.WriteAt(b, 0)
}

// headWidth fits {"seq":<20 digits>,"hash":"<64 hex>"}.
const headWidth = 104

type head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// Close syncs and closes the log.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return f.closeErr
	}
	if f.flusher != nil {
		f.flusher.Stop()
	}
	err := f.writeOut()
	if serr := f.f.Sync(); err == nil {
		err = serr
	}
	f.writeHead()
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if f.head != nil {
		f.head.Close()
	}
	f.f, f.head, f.closeErr = nil, nil, err
	return err
}

// Problem is one thing Verify found wrong.
type Problem struct {
	Line int    `json:"line"` // 1-based line of the log
	Seq  uint64 `json:"seq,omitempty"`
	What string `json:"what"`
}

func (p Problem) String() string {
	if p.Seq > 0 {
		return fmt.Sprintf("line %d (entry %d): %s", p.Line, p.Seq, p.What)
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.What)
}

// Report is Verify's result.
type Report struct {
	Entries  int       `json:"entries"`
	LastSeq  uint64    `json:"lastSeq"`
	LastHash string    `json:"lastHash"`
	Torn     bool      `json:"torn"` // a last line cut short by a crash (not an entry; dropped on the next open)
	Problems []Problem `json:"problems"`
}

// OK reports whether the chain is intact.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify reads the log at path and checks the chain: every line's hash
// matches its content (else it was edited), seqs run 1, 2, 3... (a gap is a
// removed entry, a step back a reordering), every prev is the hash of the
// entry before (else an entry was replaced), and the head file beside the
// log is not ahead of it (else entries were cut from the end).
func Verify(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	defer f.Close()
	r := &Report{}
	var (
		prevSeq  uint64
		prevHash string
		lineNo   int
		hashes   = map[uint64]string{}
	)
	br := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		lineNo++
		if line[len(line)-1] != '\n' {
			r.Torn = true // the last line, never acknowledged
			break
		}
		line = line[:len(line)-1]
		add := func(seq uint64, format string, args ...any) {
			r.Problems = append(r.Problems, Problem{Line: lineNo, Seq: seq, What: fmt.Sprintf(format, args...)})
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			add(0, "not an audit entry (edited): %v", err)
			prevHash = ""
			continue
		}
		r.Entries++
		computed, claimed, ok := lineHash(line)
		switch {
		case !ok:
			add(e.Seq, "edited: the hash field is missing or moved")
		case computed != claimed:
			add(e.Seq, "edited: its content does not match its hash")
		}
		switch {
		case e.Seq == prevSeq+1:
			if e.Prev != prevHash && ok && computed == claimed {
				if prevSeq == 0 {
					add(e.Seq, "the first entry names a previous entry: entries before it were removed")
				} else {
					add(e.Seq, "its prev is not the hash of entry %d: entry %d was replaced or edited", prevSeq, prevSeq)
				}
			}
		case e.Seq > prevSeq+1:
			if e.Seq == prevSeq+2 {
				add(e.Seq, "entry %d is missing: removed", prevSeq+1)
			} else {
				add(e.Seq, "entries %d to %d are missing: removed", prevSeq+1, e.Seq-1)
			}
		default:
			add(e.Seq, "out of order after entry %d: entries reordered (or entry %d duplicated)", prevSeq, e.Seq)
		}
		if e.Seq > prevSeq {
			prevSeq = e.Seq
		}
		prevHash = claimed
		hashes[e.Seq] = claimed
		r.LastSeq, r.LastHash = e.Seq, claimed
	}
	if b, err := os.ReadFile(path + ".head"); err == nil && len(bytes.TrimSpace(b)) > 0 {
		var h head
		if err := json.Unmarshal(bytes.TrimSpace(b), &h); err != nil {
			r.Problems = append(r.Problems, Problem{Line: lineNo, What: "the head file " + path + ".head is not valid: edited"})
		} else if h.Seq > r.LastSeq {
			r.Problems = append(r.Problems, Problem{Line: lineNo, Seq: r.LastSeq, What: fmt.Sprintf("the log ends at entry %d but its head file names entry %d: entries %d to %d were removed from the end", r.LastSeq, h.Seq, r.LastSeq+1, h.Seq)})
		} else if got, ok := hashes[h.Seq]; h.Seq > 0 && (!ok || got != h.Hash) {
			r.Problems = append(r.Problems, Problem{Seq: h.Seq, What: fmt.Sprintf("entry %d does not match the head file's hash: the log was rewritten from entry %d or before", h.Seq, h.Seq)})
		}
	}
	return r, nil
}

// Filter selects entries for List.
type Filter struct {
	Since  time.Time
	Chain  string
	Wallet string // a signatureId
	ID     string // a pending id
}

// List returns the entries of the log at path that match f, in order.
func List(path string, f Filter) ([]Entry, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	defer fh.Close()
	var out []Entry
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("audit log line %d is not an entry (run gokms audit verify): %w", n, err)
		}
		if !f.Since.IsZero() && e.Time.Before(f.Since) {
			continue
		}
		if f.Chain != "" && !strings.EqualFold(e.Chain, f.Chain) {
			continue
		}
		if f.Wallet != "" && !slices.Contains(e.SignatureIDs, f.Wallet) {
			continue
		}
		if f.ID != "" && e.PendingID != f.ID {
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
