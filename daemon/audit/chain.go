package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// This file holds what a Sink other than the file (the PostgreSQL one, in
// package pgjournal) needs to write and check the same hash chain: the line
// encoding and a verifier fed one stored line at a time.

// EventSigned is the event of the entry written before a transaction is
// journaled and broadcast (Trail's approver).
const EventSigned = "signed"

// EncodeLine sets e.Hash and returns e's line (no newline): the bytes a
// sink stores and Verify checks. The caller sets Seq and Prev first.
func EncodeLine(e *Entry) ([]byte, error) { return encode(e) }

// ChainVerifier checks stored lines in the order of their position (a
// row's seq in a table), as Verify checks the lines of a file: every
// line's hash matches its content (else edited), seqs run 1, 2, 3... (a
// gap is a removed entry, a step back a reordering), every prev is the
// hash of the entry before (else an entry was replaced or edited).
type ChainVerifier struct {
	r        Report
	pos      int
	prevSeq  uint64
	prevHash string
	hashes   map[uint64]string
}

// NewChainVerifier returns an empty verifier.
func NewChainVerifier() *ChainVerifier { return &ChainVerifier{hashes: map[uint64]string{}} }

// Line checks the next stored line. at names where it is stored (its row
// seq); a line whose own seq differs was moved there. It returns the
// decoded entry (nil if the line is not one).
func (v *ChainVerifier) Line(at uint64, line []byte) *Entry {
	v.pos++
	add := func(seq uint64, format string, args ...any) {
		v.r.Problems = append(v.r.Problems, Problem{Line: v.pos, Seq: seq, What: fmt.Sprintf(format, args...)})
	}
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil {
		add(at, "not an audit entry (edited): %v", err)
		v.prevHash = ""
		return nil
	}
	v.r.Entries++
	computed, claimed, ok := lineHash(line)
	switch {
	case !ok:
		add(e.Seq, "edited: the hash field is missing or moved")
	case computed != claimed:
		add(e.Seq, "edited: its content does not match its hash")
	}
	if at != 0 && e.Seq != at {
		add(e.Seq, "stored as entry %d: entries reordered or moved", at)
	}
	switch {
	case e.Seq == v.prevSeq+1:
		if e.Prev != v.prevHash && ok && computed == claimed {
			if v.prevSeq == 0 {
				add(e.Seq, "the first entry names a previous entry: entries before it were removed")
			} else {
				add(e.Seq, "its prev is not the hash of entry %d: entry %d was replaced or edited", v.prevSeq, v.prevSeq)
			}
		}
	case e.Seq > v.prevSeq+1:
		if e.Seq == v.prevSeq+2 {
			add(e.Seq, "entry %d is missing: removed", v.prevSeq+1)
		} else {
			add(e.Seq, "entries %d to %d are missing: removed", v.prevSeq+1, e.Seq-1)
		}
	default:
		add(e.Seq, "out of order after entry %d: entries reordered (or entry %d duplicated)", v.prevSeq, e.Seq)
	}
	if e.Seq > v.prevSeq {
		v.prevSeq = e.Seq
	}
	v.prevHash = claimed
	v.hashes[e.Seq] = claimed
	v.r.LastSeq, v.r.LastHash = e.Seq, claimed
	return &e
}

// Problem adds a problem found outside the lines (a stored column that
// disagrees with its line, say).
func (v *ChainVerifier) Problem(seq uint64, format string, args ...any) {
	v.r.Problems = append(v.r.Problems, Problem{Line: v.pos, Seq: seq, What: fmt.Sprintf(format, args...)})
}

// Head checks the last entry the sink recorded separately (seq 0: none):
// entries cut from the end, or a chain rewritten from some entry on.
func (v *ChainVerifier) Head(seq uint64, hash string) {
	switch {
	case seq > v.r.LastSeq:
		v.r.Problems = append(v.r.Problems, Problem{Line: v.pos, Seq: v.r.LastSeq, What: fmt.Sprintf("the log ends at entry %d but its head names entry %d: entries %d to %d were removed from the end", v.r.LastSeq, seq, v.r.LastSeq+1, seq)})
	case seq > 0 && v.hashes[seq] != hash:
		v.r.Problems = append(v.r.Problems, Problem{Seq: seq, What: fmt.Sprintf("entry %d does not match the head's hash: the log was rewritten from entry %d or before", seq, seq)})
	case seq < v.r.LastSeq:
		v.r.Problems = append(v.r.Problems, Problem{Seq: seq, What: fmt.Sprintf("the head names entry %d but the log goes on to entry %d: entries were added behind the writers' back", seq, v.r.LastSeq)})
	}
}

// Report returns what was found.
func (v *ChainVerifier) Report() *Report {
	r := v.r
	return &r
}

// Matches reports whether e passes f (as List filters).
func (f Filter) Matches(e *Entry) bool {
	if !f.Since.IsZero() && e.Time.Before(f.Since) {
		return false
	}
	if f.Chain != "" && !strings.EqualFold(e.Chain, f.Chain) {
		return false
	}
	if f.Wallet != "" && !slices.Contains(e.SignatureIDs, f.Wallet) {
		return false
	}
	if f.ID != "" && e.PendingID != f.ID {
		return false
	}
	return true
}
