package algo

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode: no input panics Decode, every failure is a refusal, and what
// it accepts encodes (the encoder's own invariants hold).
func FuzzDecode(f *testing.F) {
	v := load(f)
	for _, tc := range v.Transactions {
		f.Add(tc.SerializedTransaction)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tx, err := Decode(s)
		if err != nil {
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("error is not a refusal: %v", err)
			}
			return
		}
		if len(tx.Sender) != 32 || len(tx.Receiver) != 32 || len(tx.GenesisHash) != 32 || tx.LastRound == 0 {
			t.Fatalf("accepted an incomplete transaction: %+v", tx)
		}
		if !bytes.HasPrefix(tx.BytesToSign(), []byte("TX")) {
			t.Fatal("bytes to sign without TX")
		}
	})
}
