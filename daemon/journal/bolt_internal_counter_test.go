package journal

import (
	"encoding/json"
	"math/big"
	"testing"
	"time"
)

// TestEncodeCounter: the hand-written counter row is json.Marshal's bytes,
// for UTC and zoned times, with and without nanoseconds, and amounts
// zero, negative and past 64 bits.
func TestEncodeCounter(t *testing.T) {
	zone := time.FixedZone("x", -(3*3600 + 30*60))
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	times := []time.Time{
		time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 3, 17, 0, 0, 120, time.UTC),
		time.Date(1999, 1, 2, 3, 4, 5, 600000000, zone),
		time.Now(),
		{},
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1890, 1, 1, 0, 0, 0, 0, time.FixedZone("lmt", 17*60+30)), // an offset with seconds
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 25*3600)),  // past 24 hours
	}
	for _, at := range times {
		for _, amt := range []*big.Int{big.NewInt(0), big.NewInt(-5), big.NewInt(150000), huge} {
			want, wantErr := json.Marshal(counterRec{At: at, Amount: amt.String()})
			got, err := encodeCounter(at, amt)
			if (err != nil) != (wantErr != nil) || string(got) != string(want) {
				t.Errorf("%v %v: got %s (%v), json.Marshal %s (%v)", at, amt, got, err, want, wantErr)
			}
		}
	}
}
