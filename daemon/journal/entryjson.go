package journal

import (
	"encoding/json"
	"strconv"
	"time"
)

// encodeEntry is json.Marshal(e), written out by hand (TestEncodeEntry
// compares the two): the file journal encodes every entry twice (at
// Record, and with its marks), and the reflection was 3.5 µs of each. A
// string with a byte json.Marshal escapes, or a time it would refuse, is
// left to it, so the bytes are always the ones it writes.
func encodeEntry(e *Entry) ([]byte, error) {
	for _, t := range [...]time.Time{e.RecordedAt, e.UpdatedAt, e.CompletedAt} {
		if !plainTime(t) {
			return marshalEntry(*e)
		}
	}
	// The keys and the times take under 320 bytes; the strings, as is.
	n := 320 + len(e.ID) + len(e.Chain) + len(e.WithdrawalID) + len(e.SignedTx) + len(e.TxID) + len(e.Sender) + len(e.State) + len(e.LastError) + len(e.Owner)
	for _, s := range e.SignatureIDs {
		n += len(s) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, `{"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"chain":`...)
	b = appendString(b, e.Chain)
	b = append(b, `,"testnet":`...)
	b = strconv.AppendBool(b, e.Testnet)
	if len(e.SignatureIDs) > 0 {
		b = append(b, `,"signatureIds":[`...)
		for i, s := range e.SignatureIDs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		b = append(b, ']')
	}
	if e.WithdrawalID != "" {
		b = append(b, `,"withdrawalId":`...)
		b = appendString(b, e.WithdrawalID)
	}
	b = append(b, `,"signedTx":`...)
	b = appendString(b, e.SignedTx)
	if e.TxID != "" {
		b = append(b, `,"txId":`...)
		b = appendString(b, e.TxID)
	}
	if e.Sender != "" {
		b = append(b, `,"sender":`...)
		b = appendString(b, e.Sender)
	}
	if e.Nonce != nil {
		b = append(b, `,"nonce":`...)
		b = strconv.AppendUint(b, *e.Nonce, 10)
	}
	b = append(b, `,"state":`...)
	b = appendString(b, string(e.State))
	b = append(b, `,"broadcasts":`...)
	b = strconv.AppendInt(b, int64(e.Broadcasts), 10)
	if e.LastError != "" {
		b = append(b, `,"lastError":`...)
		b = appendString(b, e.LastError)
	}
	if e.Owner != "" {
		b = append(b, `,"owner":`...)
		b = appendString(b, e.Owner)
	}
	b = append(b, `,"recordedAt":"`...)
	b = e.RecordedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","updatedAt":"`...)
	b = e.UpdatedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if !e.CompletedAt.IsZero() {
		b = append(b, `,"completedAt":"`...)
		b = e.CompletedAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// marshalEntry is json.Marshal(e); e is a copy, so that encodeEntry's
// entry does not escape to the heap on the common path.
func marshalEntry(e Entry) ([]byte, error) { return json.Marshal(e) }

// plainTime reports whether json.Marshal writes t as its RFC 3339 form
// (it refuses a year outside 0-9999 and a zone 24 hours or more away).
func plainTime(t time.Time) bool {
	_, off := t.Zone()
	y := t.Year()
	return y >= 0 && y <= 9999 && off > -24*3600 && off < 24*3600
}

// appendString appends s as json.Marshal writes it: as is between quotes
// when every byte is printable ASCII that it does not escape, else as
// json.Marshal escapes it (control characters, quotes, backslashes, HTML's
// <, > and &, and everything past ASCII, where it also replaces invalid
// UTF-8).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !asIs[s[i]] {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// asIs: the bytes json.Marshal writes unescaped in a string.
var asIs = func() (t [256]bool) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()
