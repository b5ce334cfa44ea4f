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
	"time"
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
// under its lock): an append allocated about 2.5 KB otherwise.
type lineEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
	h   hash.Hash
	sum [sha256.Size]byte
	hex [2 * sha256.Size]byte
}

// line sets e.Hash and returns e's line with its newline, valid until the
// next call.
func (le *lineEncoder) line(e *Entry) ([]byte, error) {
	if le.enc == nil {
		le.enc, le.h = json.NewEncoder(&le.buf), sha256.New()
	}
	le.buf.Reset()
	e.Hash = ""
	if err := le.enc.Encode(e); err != nil { // as json.Marshal, and a newline
		return nil, err
	}
	// The buffer ends with `,"hash":""}` and the newline: cut it to hash
	// the rest.
	n := le.buf.Len() - len(hashField) - 3
	body := le.buf.Bytes()[:n]
	le.h.Reset()
	le.h.Write(body)
	le.h.Write([]byte{'}'})
	hex.Encode(le.hex[:], le.h.Sum(le.sum[:0]))
	e.Hash = string(le.hex[:])
	le.buf.Truncate(n)
	le.buf.WriteString(hashField)
	le.buf.Write(le.hex[:])
	le.buf.WriteString("\"}\n")
	return le.buf.Bytes(), nil
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
