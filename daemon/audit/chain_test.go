package audit

import (
	"bytes"
	"strings"
	"testing"
)

// ChainVerifier checks stored lines as Verify checks a file's: an intact
// chain passes; an edited line, a gap, a line stored under another seq and
// a head ahead of the lines are each named.
func TestChainVerifier(t *testing.T) {
	var lines [][]byte
	prev := ""
	for i := 1; i <= 4; i++ {
		e := &Entry{Seq: uint64(i), Prev: prev, Event: EventSigned, PendingID: strings.Repeat("a", i), Chain: "BTC", Result: "signed"}
		l, err := EncodeLine(e)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
		prev = e.Hash
	}
	check := func(ls [][]byte, at []uint64, headSeq uint64, headHash, want string) {
		t.Helper()
		v := NewChainVerifier()
		for i, l := range ls {
			v.Line(at[i], l)
		}
		v.Head(headSeq, headHash)
		r := v.Report()
		var all []string
		for _, p := range r.Problems {
			all = append(all, p.String())
		}
		got := strings.Join(all, "\n")
		if want == "" && !r.OK() || want != "" && !strings.Contains(got, want) {
			t.Fatalf("problems %q, want %q", got, want)
		}
	}
	check(lines, []uint64{1, 2, 3, 4}, 4, prev, "")
	edited := append([][]byte{}, lines...)
	edited[1] = bytes.Replace(lines[1], []byte(`"chain":"BTC"`), []byte(`"chain":"LTC"`), 1)
	check(edited, []uint64{1, 2, 3, 4}, 4, prev, "(entry 2): edited: its content does not match its hash")
	check([][]byte{lines[0], lines[2], lines[3]}, []uint64{1, 3, 4}, 4, prev, "entry 2 is missing: removed")
	check([][]byte{lines[0], lines[2], lines[1], lines[3]}, []uint64{1, 2, 3, 4}, 4, prev, "stored as entry 2: entries reordered or moved")
	check(lines[:3], []uint64{1, 2, 3}, 4, prev, "entries 4 to 4 were removed from the end")
}
