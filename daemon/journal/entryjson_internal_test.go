package journal

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEncodeEntry: the hand-written entry is json.Marshal's bytes, for
// entries as the daemon writes them and for random ones whose strings
// need escaping (quotes, control characters, HTML, non-ASCII, invalid
// UTF-8) and whose times json.Marshal refuses; and it decodes to the entry.
func TestEncodeEntry(t *testing.T) {
	n0, n1, nMax := uint64(0), uint64(42), uint64(math.MaxUint64)
	now := time.Now()
	typical := []Entry{
		{ID: "0123456789abcdef01234567", Chain: "ETH", Testnet: true, SignatureIDs: []string{"26d3883e-4e17-48b3-a0ee-09a3e484ac83"}, SignedTx: "0x" + strings.Repeat("ab", 110),
			TxID: "0x" + strings.Repeat("cd", 32), Sender: "0x" + strings.Repeat("ef", 20), Nonce: &n1, State: StateSigned, Owner: "host-1", RecordedAt: now, UpdatedAt: now},
		{ID: "b", Chain: "BTC", SignatureIDs: []string{"w1", "w2"}, WithdrawalID: "wd", SignedTx: "0200", State: StateCompleted, Broadcasts: 3, LastError: "timeout",
			RecordedAt: now.UTC(), UpdatedAt: now.Add(time.Second), CompletedAt: now.Add(2 * time.Second)},
		{ID: "c", Chain: "SOL", SignedTx: "x", Nonce: &n0, State: StateBroadcast},
		{ID: "d", SignedTx: "y", Nonce: &nMax, SignatureIDs: []string{}, Broadcasts: -1},
		{},
	}
	check := func(e Entry) {
		t.Helper()
		want, wantErr := json.Marshal(e)
		got, err := encodeEntry(&e)
		if (err != nil) != (wantErr != nil) || string(got) != string(want) {
			t.Fatalf("%#v:\n got %s (%v)\nwant %s (%v)", e, got, err, want, wantErr)
		}
		if err != nil {
			return
		}
		var back, viaJSON Entry
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s does not decode: %v", got, err)
		}
		_ = json.Unmarshal(want, &viaJSON)
		if !reflect.DeepEqual(back, viaJSON) {
			t.Fatalf("%s decodes to %#v, json.Marshal's to %#v", got, back, viaJSON)
		}
	}
	for _, e := range typical {
		check(e)
	}
	odd := []string{"", "plain", `q"uote`, `back\slash`, "<html>&", "tab\there", "nl\n", "\x00\x1f\x7f", "é ü 日本", "\u2028\u2029", "bad \xff\xfe utf8", "\xc3"}
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("x", -(3*3600 + 30*60)), time.FixedZone("lmt", 17*60+30), time.FixedZone("far", 25*3600)}
	times := func(r *rand.Rand) time.Time {
		switch r.IntN(6) {
		case 0:
			return time.Time{}
		case 1:
			return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		case 2:
			return now // with a monotonic reading
		}
		return time.Unix(r.Int64N(1<<34)-1<<33, r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
	}
	r := rand.New(rand.NewPCG(1, 2))
	s := func() string { return odd[r.IntN(len(odd))] }
	for range 5000 {
		e := Entry{ID: s(), Chain: s(), Testnet: r.IntN(2) == 0, WithdrawalID: s(), SignedTx: s(), TxID: s(), Sender: s(),
			State: State(s()), Broadcasts: r.IntN(5) - 1, LastError: s(), Owner: s(), RecordedAt: times(r), UpdatedAt: times(r), CompletedAt: times(r)}
		for range r.IntN(3) {
			e.SignatureIDs = append(e.SignatureIDs, s())
		}
		if r.IntN(2) == 0 {
			n := r.Uint64()
			e.Nonce = &n
		}
		check(e)
	}
}
