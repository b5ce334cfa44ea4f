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
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	// b ends with `,"hash":""}`: cut it to hash the rest.
	body := b[:len(b)-len(hashField)-2]
	h := sha256.Sum256(append(append([]byte{}, body...), '}'))
	e.Hash = hex.EncodeToString(h[:])
	out := make([]byte, 0, len(body)+len(hashField)+len(e.Hash)+2)
	out = append(out, body...)
	out = append(out, hashField...)
	out = append(out, e.Hash...)
	out = append(out, '"', '}')
	return out, nil
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
