package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func writeLog(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		e := &Entry{Event: "signed", PendingID: fmt.Sprintf("%024x", i), Chain: "BTC", Result: "signed",
			Destinations: []Dest{{Address: "tb1qexample", Amount: fmt.Sprint(1000 + i)}}, Fee: "500"}
		if err := f.Append(context.Background(), e, i%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func lines(t *testing.T, path string) [][]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

func rewrite(t *testing.T, path string, ls [][]byte) {
	if err := os.WriteFile(path, bytes.Join(ls, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func verify(t *testing.T, path string) *Report {
	t.Helper()
	r, err := Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestChainIntactAndReopen(t *testing.T) {
	path := writeLog(t, 5)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}
	r := verify(t, path)
	if !r.OK() || r.Entries != 5 || r.LastSeq != 5 {
		t.Fatalf("%+v", r)
	}
	// Reopening continues the chain.
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	if err := f.Append(context.Background(), &Entry{Event: "failed", PendingID: "x", Result: "failed"}, true); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if r := verify(t, path); !r.OK() || r.LastSeq != 6 {
		t.Fatalf("%+v", r)
	}
}

// TestTamper: every kind of tampering is found and named.
func TestTamper(t *testing.T) {
	const n = 6
	cases := []struct {
		name   string
		tamper func([][]byte) [][]byte
		want   string
	}{
		{"edit amount", func(l [][]byte) [][]byte {
			l[2] = bytes.Replace(l[2], []byte(`"amount":"1002"`), []byte(`"amount":"9002"`), 1)
			return l
		}, "line 3 (entry 3): edited"},
		{"edit and rehash", func(l [][]byte) [][]byte {
			var e Entry
			mustUnmarshal(t, l[2], &e)
			e.Destinations[0].Address = "tb1qattacker"
			prev := e.Prev
			e.Prev = prev
			b, _ := encode(&e)
			l[2] = append(b, '\n')
			return l
		}, "line 4 (entry 4): its prev is not the hash of entry 3: entry 3 was replaced"},
		{"delete middle", func(l [][]byte) [][]byte { return append(l[:2:2], l[3:]...) }, "entry 3 is missing: removed"},
		{"delete first", func(l [][]byte) [][]byte { return l[1:] }, "entry 1 is missing"},
		{"delete last", func(l [][]byte) [][]byte { return l[:n-1] }, "entries 6 to 6 were removed from the end"},
		{"swap", func(l [][]byte) [][]byte { l[1], l[2] = l[2], l[1]; return l }, "entry 2 is missing"},
		{"swap reports reorder", func(l [][]byte) [][]byte { l[1], l[2] = l[2], l[1]; return l }, "line 3 (entry 2): out of order after entry 3: entries reordered"},
		{"garbage line", func(l [][]byte) [][]byte { l[4] = []byte("{oops\n"); return l }, "line 5: not an audit entry"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeLog(t, n)
			rewrite(t, path, c.tamper(lines(t, path)))
			r := verify(t, path)
			if r.OK() {
				t.Fatal("tampering not detected")
			}
			var all []string
			for _, p := range r.Problems {
				all = append(all, p.String())
			}
			if !strings.Contains(strings.Join(all, "\n"), c.want) {
				t.Fatalf("problems:\n%s\nwant %q", strings.Join(all, "\n"), c.want)
			}
		})
	}
}

// TestTornTail: a last line cut short by a crash is not tampering; the
// next open drops it and the chain continues.
func TestTornTail(t *testing.T) {
	path := writeLog(t, 3)
	fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fh.Write([]byte(`{"seq":4,"time":"2026-`))
	fh.Close()
	r := verify(t, path)
	if !r.OK() || !r.Torn || r.LastSeq != 3 {
		t.Fatalf("%+v", r)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Append(context.Background(), &Entry{Event: "signed", Result: "signed"}, true); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if r := verify(t, path); !r.OK() || r.Torn || r.LastSeq != 4 {
		t.Fatalf("%+v", r)
	}
}

// TestConcurrentAppends: concurrent writers keep one intact chain.
func TestConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if err := f.Append(context.Background(), &Entry{Event: "signed", PendingID: fmt.Sprint(g, "-", i), Result: "signed"}, true); err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	f.Close()
	if r := verify(t, path); !r.OK() || r.Entries != 200 {
		t.Fatalf("%+v", r)
	}
	es, err := List(path, Filter{ID: "3-7"})
	if err != nil || len(es) != 1 {
		t.Fatalf("%v %v", es, err)
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(bytes.TrimSpace(b), v); err != nil {
		t.Fatal(err)
	}
}

// TestLineFormat: the file's lines are json.Marshal's bytes of the entry
// with its hash (sha256 of the line up to the hash field, closed with "}"),
// and the head file is json.Marshal's of the last seq and hash, padded;
// entries encoded one after another into the reused buffer do not leak
// into each other.
func TestLineFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries := []*Entry{
		{Event: "signed", PendingID: "a", Chain: "BTC", Result: "signed", Detail: `<script>"&'` + "\u2028 ünï \x01",
			Destinations: []Dest{{Address: "tb1q", Amount: "1"}, {Address: "0xAb", Amount: "2", Token: "0xC"}}, SignatureIDs: []string{"s1", "s2"}},
		{Event: "completed", PendingID: "b", Chain: "ETH", Result: "completed"}, // shorter than the one before
		{Event: "decision", PendingID: strings.Repeat("c", 3000), Chain: "BTC", Result: "refused", Rule: "maxDaily"},
	}
	var want []byte
	for i, e := range entries {
		if err := f.Append(context.Background(), e, i == 1); err != nil {
			t.Fatal(err)
		}
		c := *e
		c.Hash = ""
		b, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		body := b[:len(b)-len(hashField)-2]
		h := sha256.Sum256(append(append([]byte{}, body...), '}'))
		if e.Hash != hex.EncodeToString(h[:]) {
			t.Fatalf("entry %d: hash %s, want %x", i, e.Hash, h)
		}
		c.Hash = e.Hash
		line, _ := json.Marshal(&c)
		want = append(append(want, line...), '\n')
	}
	if err := f.Flush(); err != nil { // the third, appended without sync
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("log:\n%s\nwant:\n%s", got, want)
	}
	hb, _ := json.Marshal(head{Seq: 3, Hash: entries[2].Hash})
	wantHead := string(hb) + strings.Repeat(" ", headWidth-len(hb)) + "\n"
	if gotHead, _ := os.ReadFile(path + ".head"); string(gotHead) != wantHead {
		t.Fatalf("head %q, want %q", gotHead, wantHead)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err := Verify(path); err != nil || !r.OK() || r.Entries != 3 {
		t.Fatalf("verify: %+v, %v", r, err)
	}
	if line, err := EncodeLine(entries[1]); err != nil || !bytes.Equal(append(line, '\n'), want[bytes.IndexByte(want, '\n')+1:][:len(line)+1]) {
		t.Fatalf("EncodeLine %s (%v) differs from the file's line", line, err)
	}
}

type funcCommitter struct{ fns []func() }

func (c *funcCommitter) BeforeCommit(fn func()) { c.fns = append(c.fns, fn) }
func (c *funcCommitter) commit() {
	for _, fn := range c.fns {
		fn()
	}
}

// TestHoldWaitsForTheCommit: a held entry is in the file once the journal
// that WriteBeforeCommits gave the log to starts a commit, once a Sync
// covers it, or within writeDelay, and not before; the chain holds; a log
// given to no journal writes a held entry at once.
func TestHoldWaitsForTheCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.log")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inFile := func(id string) bool {
		b, err := os.ReadFile(path)
		return err == nil && bytes.Contains(b, []byte(`"pendingId":"`+id+`"`))
	}
	hold := func(id string) *Entry {
		e := &Entry{Event: EventSigned, PendingID: id, Chain: "BTC", Result: "signed"}
		if err := f.Hold(ctx, e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	hold("direct") // no journal yet: written now
	if !inFile("direct") {
		t.Fatal("a held entry of a log given to no journal is not in the file")
	}
	c := &funcCommitter{}
	f.WriteBeforeCommits(c)
	hold("p1")
	if inFile("p1") {
		t.Fatal("a held entry was written before the commit (nothing to gain)")
	}
	c.commit()
	if !inFile("p1") {
		t.Fatal("a held entry is not in the file when the journal's commit starts")
	}
	e2 := hold("p2")
	if err := f.Sync(ctx, e2.Seq); err != nil || !inFile("p2") {
		t.Fatalf("Sync of a held entry: %v, in the file %v", err, inFile("p2"))
	}
	hold("p3")
	deadline := time.Now().Add(5 * time.Second)
	for !inFile("p3") {
		if time.Now().After(deadline) {
			t.Fatal("a held entry was never written without a commit")
		}
		time.Sleep(writeDelay)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err := Verify(path); err != nil || !r.OK() || r.Entries != 4 {
		t.Fatalf("verify: %+v %v", r, err)
	}
}
