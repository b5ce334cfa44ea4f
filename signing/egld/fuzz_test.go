package egld

import (
	"errors"
	"testing"
)

// FuzzDecode: no input panics Decode, and every failure is a refusal.
func FuzzDecode(f *testing.F) {
	for _, tc := range load(f) {
		f.Add(tc.SerializedTransaction)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Decode(s)
		if err != nil {
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("error is not a refusal: %v", err)
			}
			return
		}
		if p.Value == nil || p.Value.Sign() < 0 || p.To == "" {
			t.Fatalf("accepted %+v", p)
		}
	})
}
