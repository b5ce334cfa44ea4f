package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// wantLine is the line json.Marshal writes for e with its hash.
func wantLine(t testing.TB, e Entry) ([]byte, error) {
	e.Hash = ""
	b, err := json.Marshal(&e)
	if err != nil {
		return nil, err
	}
	body := b[:len(b)-len(hashField)-2]
	h := sha256.Sum256(append(bytes.Clone(body), '}'))
	e.Hash = hex.EncodeToString(h[:])
	line, err := json.Marshal(&e)
	if err != nil {
		t.Fatal(err)
	}
	return append(line, '\n'), nil
}

func checkLine(t testing.TB, le *lineEncoder, e Entry) {
	t.Helper()
	want, werr := wantLine(t, e)
	got, err := le.line(&e)
	if (err != nil) != (werr != nil) {
		t.Fatalf("error %v, json.Marshal's %v", err, werr)
	}
	if err != nil {
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("line\n%s\njson.Marshal's\n%s", got, want)
	}
	if e.Hash != string(want[len(want)-67:len(want)-3]) {
		t.Fatalf("hash %s, not the line's", e.Hash)
	}
}

// TestLineEncoder: the hand-written encoder writes json.Marshal's bytes
// for every field, omitted or not, for strings json escapes, and for times
// in other zones or outside the years RFC 3339 has (json.Marshal's error).
func TestLineEncoder(t *testing.T) {
	var le lineEncoder
	at := time.Date(2026, 12, 3, 6, 1, 2, 300400500, time.UTC)
	full := Entry{Seq: 18446744073709551615, Time: at, Instance: "i", Event: "signed", PendingID: "p", Chain: "BTC",
		SignatureIDs: []string{"a", "b"}, Destinations: []Dest{{Address: "x", Amount: "1", Token: "T"}, {Address: "y", Amount: ""}},
		Fee: "5", TxID: "t", Stage: "signed", Approver: "policy", Rule: "r", Result: "signed", Detail: "d", Prev: "00"}
	for _, e := range []Entry{
		{},
		full,
		{Seq: 1, Time: at.Truncate(time.Second), Event: "completed", SignatureIDs: []string{}, Destinations: []Dest{}, Result: "completed"},
		{Time: at.In(time.FixedZone("x", 3600)), Result: "a"},
		{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Time: at.In(time.FixedZone("far", 25*3600))}, // json.Marshal refuses an offset of 24 hours or more
		{Detail: "<script>\"&'\\ \u2028\u2029 ünï \x01\x1f\x7f \xff\xfe", Instance: "\t\n\r\b\f", Chain: "日本"},
	} {
		checkLine(t, &le, e)
	}
	// Each character json escapes, alone in a string.
	for _, c := range []string{`"`, `\`, "<", ">", "&", "\x00", "\x1f", "\x7f", "é", "\u2028", "\xff", "'", "~", " "} {
		checkLine(t, &le, Entry{Time: at, Detail: "a" + c + "b", Prev: c})
	}
}

// TestLineEncoderEveryField: an Entry with every field set (by reflection,
// so a field added to Entry or Dest later is set too) encodes as
// json.Marshal's bytes: appendBody lists the fields by hand, and one it
// does not know would silently be missing from the log.
func TestLineEncoderEveryField(t *testing.T) {
	var fill func(v reflect.Value, path string)
	fill = func(v reflect.Value, path string) {
		switch {
		case v.Type() == reflect.TypeOf(time.Time{}):
			v.Set(reflect.ValueOf(time.Date(2026, 12, 3, 7, 0, 0, 1, time.UTC)))
		case v.Kind() == reflect.String:
			v.SetString("v-" + path)
		case v.Kind() == reflect.Uint64:
			v.SetUint(42)
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				fill(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		case v.Kind() == reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			fill(v.Index(0), path+"[0]")
			fill(v.Index(1), path+"[1]")
		default:
			t.Fatalf("field %s (%s): teach appendBody and this test its kind", path, v.Type())
		}
	}
	var e Entry
	fill(reflect.ValueOf(&e).Elem(), "e")
	var le lineEncoder
	checkLine(t, &le, e)
}

// FuzzLine: json.Marshal's bytes for any strings and time.
func FuzzLine(f *testing.F) {
	f.Add("BTC", "tb1qabc", "<&>\"\\", "\u2028\xff", int64(1764741662300400500), uint64(7))
	f.Add("", "", "", "", int64(0), uint64(0))
	f.Fuzz(func(t *testing.T, a, b, c, d string, ns int64, seq uint64) {
		var le lineEncoder
		e := Entry{Seq: seq, Time: time.Unix(0, ns).UTC(), Instance: a, Event: b, PendingID: c, Chain: d,
			SignatureIDs: []string{a, d}, Destinations: []Dest{{Address: b, Amount: c, Token: d}}, Fee: a, TxID: b,
			Stage: c, Approver: d, Rule: a, Result: b, Detail: c, Prev: d}
		checkLine(t, &le, e)
		checkLine(t, &le, Entry{Time: e.Time, Result: a}) // the reused buffer leaks nothing
	})
}

// BenchmarkLine: one typical "signed" entry encoded by the file sink's
// encoder, and by json.Marshal (the baseline it replaced, reflection).
func BenchmarkLine(b *testing.B) {
	e := Entry{Seq: 123456, Time: time.Now().UTC(), Instance: "gokms-1", Event: "signed", PendingID: "66f1c0ffee0123456789abcd", Chain: "BTC",
		SignatureIDs: []string{"26d3883e-4e17-48b3-a0ee-09a3e484ac83"}, Destinations: []Dest{{Address: "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", Amount: "150000"}},
		Fee: "2000", TxID: "9c2e8f8a3b0d1e6f7a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f", Stage: "signed", Rule: "chains.BTC", Result: "signed",
		Prev: "5d41402abc4b2a76b9719d911017c592ae3a2b1c5d41402abc4b2a76b9719d91"}
	b.Run("encoder", func(b *testing.B) {
		var le lineEncoder
		b.ReportAllocs()
		for b.Loop() {
			if _, err := le.line(&e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
