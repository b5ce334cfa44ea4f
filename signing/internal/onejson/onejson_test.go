package onejson

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestObject(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`{"to":"0x1","value":"1"}`, nil},
		{" \n{\"a\":1}\n ", nil},
		{`{"a":12345678901234567890123}`, nil}, // kept as written
		{`{"a":1}}`, ErrTrailing},              // Decoder.More says false here
		{`{"a":1}]`, ErrTrailing},
		{`{"a":1} x`, ErrTrailing},
		{`{"a":1}{"a":2}`, ErrTrailing},
		{`{"a":1},`, ErrTrailing},
		{`null`, ErrNotObject},
		{`[]`, ErrNotObject},
		{`"s"`, ErrNotObject},
		{``, ErrNotObject},
		{`{"a":`, ErrNotObject},
		{`{"a":1`, ErrNotObject},
	} {
		m, err := Object(tc.in)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (m != nil) {
			t.Errorf("%q: %v %v, want %v", tc.in, m, err, tc.want)
		}
	}
	m, _ := Object(`{"a":12345678901234567890123}`)
	var n json.Number
	if err := json.Unmarshal(m["a"], &n); err != nil || n.String() != "12345678901234567890123" {
		t.Fatalf("number %s %v", n, err)
	}
}

func TestIntoStrict(t *testing.T) {
	var v struct{ A int }
	if err := Into(`{"A":1,"B":2}`, &v, false); err != nil || v.A != 1 {
		t.Fatalf("lenient: %v %+v", err, v)
	}
	if err := Into(`{"A":1,"B":2}`, &v, true); !errors.Is(err, ErrNotObject) {
		t.Fatalf("strict with an unknown member: %v", err)
	}
	if err := Into(`{"A":1}}`, &v, true); !errors.Is(err, ErrTrailing) {
		t.Fatalf("strict, trailing: %v", err)
	}
}
