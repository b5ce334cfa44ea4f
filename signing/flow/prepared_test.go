package flow

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The journal form round-trips to the same transaction and id, and a
// journaled transaction whose bytes no longer hash to the recorded id (a
// damaged or edited entry) is refused, never sent.
func TestPreparedJournalForm(t *testing.T) {
	vs := load(t)
	v := &vs.Pending[0]
	st := &standIns{t: t, vs: &vs, v: v}
	tc, ac := st.clients(t)
	in, err := ParseIntent(v.Pending.SerializedTransaction, v.Testnet, true)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keySource{map[string]string{"w": v.PrivateKey}}.Key(context.Background(), "w", nil)
	if err != nil {
		t.Fatal(err)
	}
	prep, err := Prepare(context.Background(), in, k, tc, ac)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range st.log {
		if l == "POST /v1/transactions" {
			t.Fatal("Prepare sent the transaction")
		}
	}
	if prep.TxID != v.TxID {
		t.Fatalf("id %s, fcl's %s", prep.TxID, v.TxID)
	}
	raw, err := prep.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodePrepared(raw)
	if err != nil || !reflect.DeepEqual(back, prep) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, back, prep)
	}
	seq := `"sequence_number":"` + itoa(v.SequenceNum) + `"`
	if !strings.Contains(raw, seq) {
		t.Fatalf("no %s in %s", seq, raw)
	}
	for _, bad := range []string{
		strings.Replace(raw, seq, `"sequence_number":"`+itoa(v.SequenceNum+1)+`"`, 1),
		strings.Replace(raw, v.TxID, strings.Repeat("0", 64), 1),
		"{}", "not json",
	} {
		if _, err := DecodePrepared(bad); err == nil {
			t.Errorf("accepted a damaged journal entry %.60s", bad)
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
