package vet

import (
	"errors"
	"testing"
)

// FuzzDecode: no input panics Decode, and every failure is a refusal.
func FuzzDecode(f *testing.F) {
	vs := load(f)
	k := keyOf(f, vs[0])
	for _, tc := range vs {
		f.Add(tc.SerializedTransaction)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Decode(s, k)
		if err != nil {
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("error is not a refusal: %v", err)
			}
			return
		}
		if p.Value == nil || p.Value.Sign() < 0 || p.Value.BitLen() > 256 {
			t.Fatalf("accepted %+v", p)
		}
		if _, err := (&Transaction{Clause: Clause{To: p.To, Value: p.Value, Data: p.Data}}).SigningHash(); err != nil {
			t.Fatal(err)
		}
	})
}
