package journal

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/gokms/gokms/internal/jsonenc"
)

// encodeEntry is json.Marshal(e), written out by hand (TestEncodeEntry
// compares the two): the file journal encodes every entry twice (at
// Record, and with its marks), and the reflection was 3.5 µs of each. A
// time json.Marshal would refuse is left to it, as jsonenc leaves it the
// strings it escapes, so the bytes are always the ones it writes.
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
	b = jsonenc.AppendField(b, `{"id":`, e.ID)
	b = jsonenc.AppendField(b, `,"chain":`, e.Chain)
	b = append(b, `,"testnet":`...)
	b = strconv.AppendBool(b, e.Testnet)
	b = jsonenc.AppendStrings(b, `,"signatureIds":`, e.SignatureIDs)
	b = jsonenc.AppendOmitEmpty(b, `,"withdrawalId":`, e.WithdrawalID)
	b = jsonenc.AppendField(b, `,"signedTx":`, e.SignedTx)
	b = jsonenc.AppendOmitEmpty(b, `,"txId":`, e.TxID)
	b = jsonenc.AppendOmitEmpty(b, `,"sender":`, e.Sender)
	if e.Nonce != nil {
		b = append(b, `,"nonce":`...)
		b = strconv.AppendUint(b, *e.Nonce, 10)
	}
	b = jsonenc.AppendField(b, `,"state":`, string(e.State))
	b = append(b, `,"broadcasts":`...)
	b = strconv.AppendInt(b, int64(e.Broadcasts), 10)
	b = jsonenc.AppendOmitEmpty(b, `,"lastError":`, e.LastError)
	b = jsonenc.AppendOmitEmpty(b, `,"owner":`, e.Owner)
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
