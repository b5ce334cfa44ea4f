// Package audit is gokms's tamper-evident audit trail: every decision of
// the daemon (signed, refused by policy, refused by four-eye, failed,
// broadcast, completed) as one JSON line, each carrying the hash of the one
// before (a hash chain). The line that records a signed transaction is
// fsynced before that transaction is broadcast. Verify finds an edited,
// removed or reordered entry and names it.
//
// Entries hold what was decided and about what (ids, chain, decoded
// destinations and amounts, fee, txid, rule), never a secret.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strconv"
	"time"

	"github.com/gokms/gokms/internal/jsonenc"
)

// Entry is one line of the audit log.
type Entry struct {
	Seq          uint64    `json:"seq"`
	Time         time.Time `json:"time"`
	Instance     string    `json:"instance"`
	Event        string    `json:"event"` // decision, signed, broadcast, completed, refused, failed, ...
	PendingID    string    `json:"pendingId"`
	Chain        string    `json:"chain"`
	SignatureIDs []string  `json:"signatureIds,omitempty"`
	Destinations []Dest    `json:"destinations,omitempty"`
	Fee          string    `json:"fee,omitempty"`
	TxID         string    `json:"txId,omitempty"`
	Stage        string    `json:"stage,omitempty"`
	Approver     string    `json:"approver,omitempty"`
	Rule         string    `json:"rule,omitempty"`
	Result       string    `json:"result"` // approved, refused, signed, broadcast, completed, failed, ...
	Detail       string    `json:"detail,omitempty"`
	// Prev is the hash of the entry before ("" for the first); Hash is
	// this entry's, over its line up to the hash field.
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// Dest is one decoded destination of a transaction.
type Dest struct {
	Address string `json:"address"`
	Amount  string `json:"amount"`
	Token   string `json:"token,omitempty"`
}

// Sink stores entries durably and in order. Append fills Seq, Prev and
// Hash; with sync it returns only once the entry is durable (fsync), and
// without it, once a crash of the process (not of the host) cannot lose
// it. The file sink is the default; a database sink (several daemons on a
// shared state) implements the same interface.
type Sink interface {
	Append(ctx context.Context, e *Entry, sync bool) error
	Close() error
}

// Syncer is a Sink that makes entries appended without sync durable on
// request (the file: one fsync covers every line written before it). The
// trail writes its "signed" entry before the daemon journals the
// transaction and syncs it once the journal's commit returned, so that the
// entries of one journal commit share one fsync. A Sink that is not a
// Syncer gets the entry appended with sync, before the journal's commit.
type Syncer interface {
	// Sync returns once the entry seq and every one before it are durable.
	Sync(ctx context.Context, seq uint64) error
}

// Holder is a Sink that can hold an entry appended without sync for its
// next write, which comes before the daemon's next journal commit (the
// file, once given to the journal: File.WriteBeforeCommits). The trail
// holds the "signed" entry, appended before the transaction's Record is
// queued, and the "completed" entry, appended before the completion mark
// is: each is then in the file before the journal's write is durable, as
// an appended one is, and the entries of one commit share one write.
type Holder interface {
	Hold(ctx context.Context, e *Entry) error
}

// hashField is the suffix every line ends with: the hash, last.
const hashField = `,"hash":"`

// encode writes e as its line (no newline): the JSON of e without the
// hash, then the hash of those bytes. Hash = sha256(line up to the hash
// field, closed with "}").
func encode(e *Entry) ([]byte, error) {
	var le lineEncoder
	line, err := le.line(e)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(line[:len(line)-1]), nil
}

// lineEncoder encodes entries into one buffer it reuses (the file sink's,
// under its lock): an append allocated about 2.5 KB otherwise. It writes
// the bytes json.Marshal writes for an Entry, field by field
// (TestLineFormat, FuzzLine): reflection was most of an append's CPU.
// closeBrace ends the body a line's hash covers (a package variable: a
// literal passed to the hash's Write is an allocation every line).
var closeBrace = []byte{'}'}

type lineEncoder struct {
	buf []byte
	h   hash.Hash
	sum [sha256.Size]byte
}

// line sets e.Hash and returns e's line with its newline, valid until the
// next call.
func (le *lineEncoder) line(e *Entry) ([]byte, error) {
	if le.h == nil {
		le.h = sha256.New()
	}
	b, err := appendBody(le.buf[:0], e)
	if err != nil {
		return nil, err
	}
	le.h.Reset()
	le.h.Write(b)
	le.h.Write(closeBrace)
	sum := le.h.Sum(le.sum[:0])
	b = append(b, hashField...)
	n := len(b)
	b = hex.AppendEncode(b, sum)
	e.Hash = string(b[n:])
	b = append(b, '"', '}', '\n')
	le.buf = b
	return b, nil
}

// appendBody appends json.Marshal's bytes of e up to its hash field (which
// is last): {"seq":...,"prev":"..."
func appendBody(b []byte, e *Entry) ([]byte, error) {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"time":`...)
	var err error
	if b, err = appendTime(b, e.Time); err != nil {
		return nil, err
	}
	b = jsonenc.AppendField(b, `,"instance":`, e.Instance)
	b = jsonenc.AppendField(b, `,"event":`, e.Event)
	b = jsonenc.AppendField(b, `,"pendingId":`, e.PendingID)
	b = jsonenc.AppendField(b, `,"chain":`, e.Chain)
	b = jsonenc.AppendStrings(b, `,"signatureIds":`, e.SignatureIDs)
	if len(e.Destinations) > 0 {
		b = append(b, `,"destinations":[`...)
		for i, d := range e.Destinations {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendField(b, `{"address":`, d.Address)
			b = jsonenc.AppendField(b, `,"amount":`, d.Amount)
			b = jsonenc.AppendOmitEmpty(b, `,"token":`, d.Token)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = jsonenc.AppendOmitEmpty(b, `,"fee":`, e.Fee)
	b = jsonenc.AppendOmitEmpty(b, `,"txId":`, e.TxID)
	b = jsonenc.AppendOmitEmpty(b, `,"stage":`, e.Stage)
	b = jsonenc.AppendOmitEmpty(b, `,"approver":`, e.Approver)
	b = jsonenc.AppendOmitEmpty(b, `,"rule":`, e.Rule)
	b = jsonenc.AppendField(b, `,"result":`, e.Result)
	b = jsonenc.AppendOmitEmpty(b, `,"detail":`, e.Detail)
	b = jsonenc.AppendField(b, `,"prev":`, e.Prev)
	return b, nil
}

// appendTime appends t as json.Marshal does: RFC 3339 with nanoseconds,
// quoted. A time that is not UTC, or outside the years it can write, is
// json.Marshal's (with its error).
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); t.Location() != time.UTC || y < 0 || y > 9999 {
		q, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		return append(b, q...), nil
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// lineHash recomputes the hash of a line and returns it with the hash the
// line claims.
func lineHash(line []byte) (computed, claimed string, ok bool) {
	const n = 64
	if len(line) < len(hashField)+n+2 || line[len(line)-1] != '}' || line[len(line)-2] != '"' {
		return "", "", false
	}
	cut := len(line) - 2 - n - len(hashField)
	if string(line[cut:cut+len(hashField)]) != hashField {
		return "", "", false
	}
	claimed = string(line[cut+len(hashField) : len(line)-2])
	h := sha256.Sum256(append(append([]byte{}, line[:cut]...), '}'))
	return hex.EncodeToString(h[:]), claimed, true
}
