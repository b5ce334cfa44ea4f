package algo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
)

// referenceTypedArray is the obvious encoding/json reading of a
// Uint8Array's JSON, kept to check the scanner against.
func referenceTypedArray(v []byte) ([]byte, bool) {
	var m map[string]json.Number
	d := json.NewDecoder(bytes.NewReader(v))
	if err := d.Decode(&m); err != nil || m == nil || d.More() {
		return nil, false
	}
	out := make([]byte, len(m))
	for i := range out {
		n, ok := m[strconv.Itoa(i)]
		if !ok {
			return nil, false
		}
		x, err := strconv.ParseUint(n.String(), 10, 8)
		if err != nil {
			return nil, false
		}
		out[i] = byte(x)
	}
	return out, true
}

var typedArraySeeds = []string{
	`{}`, `{"0":1}`, `{"0":1,"1":255}`, `{"1":2,"0":1}`, `{ "0" : 7 , "1":8 }`,
	`{"0":256}`, `{"0":-1}`, `{"0":1.5}`, `{"1":1}`, `{"0":1,"0":2}`, `{"00":1}`, `{"0":01}`,
	`{"0":1,}`, `[1,2]`, `{"0":"1"}`, `{"a":1}`, `{"0":1 "1":2}`, `{"99999":1}`,
}

func TestTypedArray(t *testing.T) {
	for _, s := range typedArraySeeds {
		got, err := jsTypedArray(json.RawMessage(s))
		want, ok := referenceTypedArray([]byte(s))
		// The scanner may be stricter than the reference (duplicate keys,
		// leading zeros), never looser.
		if err == nil && (!ok || !bytes.Equal(got, want)) {
			t.Errorf("%s: scanner %x, reference %x %v", s, got, want, ok)
		}
		if err != nil && ok && s != `{"0":1,"0":2}` && s != `{"0":"1"}` {
			t.Errorf("%s: scanner refused (%v), reference read %x", s, err, want)
		}
	}
}

func FuzzTypedArray(f *testing.F) {
	for _, s := range typedArraySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			return // the outer decoder has already refused it
		}
		got, err := jsTypedArray(json.RawMessage(s))
		if err != nil {
			return
		}
		want, ok := referenceTypedArray([]byte(s))
		if !ok || !bytes.Equal(got, want) {
			panic(fmt.Sprintf("%q: scanner %x, reference %x %v", s, got, want, ok))
		}
	})
}
