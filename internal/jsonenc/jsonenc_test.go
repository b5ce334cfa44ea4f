package jsonenc

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestAppendString: json.Marshal's bytes for every single byte, for
// strings that need escaping (HTML, U+2028, invalid UTF-8) and for random
// ones, after a prefix it keeps.
func TestAppendString(t *testing.T) {
	cases := []string{"", "plain 0x1f", `q"uote`, `back\slash`, "<a>&", "tab\t", "\u2028\u2029", "é日本", "bad \xff", "\xc3", "\x7f"}
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.UintN(256))
			if r.IntN(4) > 0 {
				b[i] = byte(0x20 + r.UintN(0x5f)) // mostly printable
			}
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("k:"), s); string(got) != "k:"+string(want) {
			t.Fatalf("%q: %s, want k:%s", s, got, want)
		}
	}
}

// TestAppendFields: the omitempty helpers write nothing for empty values,
// and what json.Marshal writes for a struct field otherwise.
func TestAppendFields(t *testing.T) {
	type rec struct {
		A  string   `json:"a"`
		B  string   `json:"b,omitempty"`
		SS []string `json:"ss,omitempty"`
	}
	for _, v := range []rec{{}, {A: "x<", B: "y"}, {SS: []string{"1", `"2"`}}, {SS: []string{}}, {A: "a", B: "", SS: []string{""}}} {
		want, _ := json.Marshal(v)
		b := AppendField([]byte("{"), `"a":`, v.A)
		b = AppendOmitEmpty(b, `,"b":`, v.B)
		b = AppendStrings(b, `,"ss":`, v.SS)
		if got := string(append(b, '}')); got != string(want) {
			t.Fatalf("%+v: %s, want %s", v, got, want)
		}
	}
}
