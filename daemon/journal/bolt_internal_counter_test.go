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

// TestDecodeCounter: the hand-read counter row gives what json.Unmarshal
// gives (the time to the nanosecond with its offset, the amount, or an
// error), for every row encodeCounter writes and for rows it does not
// write: fields reordered or spaced, escapes, duplicate keys, trailing
// bytes, times json refuses.
func TestDecodeCounter(t *testing.T) {
	rows := []string{
		`{"amount":"5","at":"2026-12-03T17:00:00Z"}`,
		`{ "at":"2026-12-03T17:00:00Z","amount":"5"}`,
		`{"at":"2026-12-03T17:00:00Z","amount":"\u0035"}`,
		`{"at":"2026-12-03T17:00:00Z","amount":"5","amount":"6"}`,
		`{"at":"2026-12-03T17:00:00Z","amount":"5"}x`,
		`{"at":"2026-12-03T17:00:00Z","amount":"5","x":1}`,
		`{"at":"2026-12-03T25:00:00Z","amount":"5"}`,
		`{"at":"2026-12-03 17:00:00Z","amount":"5"}`,
		`{"at":"2026-12-03T17:00:00z","amount":"5"}`,
		`{"at":"2026-12-03T17:00:00+24:00","amount":"5"}`,
		`{"at":"","amount":"5"}`,
		`{"at":"2026-12-03T17:00:00Z","amount":""}`,
		`{"at":"2026-12-03T17:00:00Z","amount":"-"}`,
		`{"at":"2026-12-03T17:00:00Z"}`,
		`{}`, `null`, ``, `{"at":"2026-12-03T17:00:00Z","amount":5}`,
	}
	zone := time.FixedZone("x", -(3*3600 + 30*60))
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	for _, at := range []time.Time{time.Now(), time.Date(1999, 1, 2, 3, 4, 5, 600, zone), {}} {
		for _, amt := range []*big.Int{big.NewInt(0), big.NewInt(-5), huge} {
			b, err := encodeCounter(at, amt)
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, string(b))
		}
	}
	for _, row := range rows {
		var want counterRec
		wantErr := json.Unmarshal([]byte(row), &want)
		at, amount, err := decodeCounter([]byte(row))
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s: error %v, json.Unmarshal's %v", row, err, wantErr)
			continue
		}
		if err != nil {
			continue // damaged either way
		}
		_, off := at.Zone()
		_, wantOff := want.At.Zone()
		if !at.Equal(want.At) || off != wantOff || amount != want.Amount {
			t.Errorf("%s: got %v %q, json.Unmarshal %v %q", row, at, amount, want.At, want.Amount)
		}
	}
}
