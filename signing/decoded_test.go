package signing

import (
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSameEffect: views that differ in any field but Signed and TxID (or in
// any field of one of their flows) do not have the same effect; the policy
// re-checks only the rules that depend on the stage when they do. The test
// walks the structs, so a field added later is covered or fails here.
func TestSameEffect(t *testing.T) {
	base := func() *View {
		return &View{Chain: "BTC", Family: ViewUTXO, Method: MethodTransfer, Fee: big.NewInt(5),
			Inputs:  []Flow{{Address: "a", Script: "00", Amount: big.NewInt(10)}},
			Outputs: []Flow{{Address: "b", Script: "01", Amount: big.NewInt(3)}, {Address: "a", Script: "00", Amount: big.NewInt(2), Change: true}},
			Unknown: []string{"u"}}
	}
	if v, w := base(), base(); !v.SameEffect(w) {
		t.Fatal("equal views differ")
	}
	w := base()
	w.Signed, w.TxID = true, "ab"
	if !base().SameEffect(w) {
		t.Fatal("the signed view of the same transfer differs")
	}
	if base().SameEffect(nil) || (*View)(nil).SameEffect(base()) {
		t.Fatal("a nil view has an effect")
	}
	change := func(f reflect.Value) {
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Bool:
			f.SetBool(!f.Bool())
		case reflect.Pointer: // *big.Int
			if f.IsNil() {
				f.Set(reflect.ValueOf(big.NewInt(1)))
			} else {
				f.Set(reflect.ValueOf(new(big.Int).Add(f.Interface().(*big.Int), big.NewInt(1))))
			}
		case reflect.Slice:
			f.Set(reflect.Append(f, f.Index(0)))
		default:
			t.Fatalf("field of kind %s: teach this test", f.Kind())
		}
	}
	vt := reflect.TypeOf(View{})
	for i := range vt.NumField() {
		name := vt.Field(i).Name
		if name == "Signed" || name == "TxID" {
			continue
		}
		w := base()
		change(reflect.ValueOf(w).Elem().Field(i))
		if base().SameEffect(w) {
			t.Errorf("views differing in %s have the same effect", name)
		}
	}
	ft := reflect.TypeOf(Flow{})
	for _, list := range []string{"Inputs", "Outputs"} {
		for i := range ft.NumField() {
			w := base()
			change(reflect.ValueOf(w).Elem().FieldByName(list).Index(0).Field(i))
			if base().SameEffect(w) {
				t.Errorf("views whose %s[0] differ in %s have the same effect", list, ft.Field(i).Name)
			}
		}
	}
	// A fee known on one side only (an EVM fee the node filled).
	w = base()
	w.Fee = nil
	if base().SameEffect(w) || w.SameEffect(base()) {
		t.Error("a known and an unknown fee have the same effect")
	}
}

// Destinations lists every address that receives something once, however
// it is spelt, and never lets one hide behind another that only folds to
// it: the policy checks each destination it lists, and nothing else.
func TestDestinations(t *testing.T) {
	out := func(addr string, change bool) Flow { return Flow{Address: addr, Amount: big.NewInt(1), Change: change} }
	v := &View{Outputs: []Flow{out("0xAbC", false), out("own", true), out("", false), out("0xabc", false), out("as", false), out("a\u017f", false)}}
	if got, want := v.Destinations(), []string{"0xAbC", "as", "a\u017f"}; !slices.Equal(got, want) {
		t.Fatalf("Destinations %q, want %q (ſ folds to s, but is another address)", got, want)
	}
	// Past eight, the same by a map.
	var many []Flow
	var want []string
	for i := range 20 {
		a := fmt.Sprintf("Addr%02d", i)
		many = append(many, out(a, false), out(strings.ToUpper(a), false), out("x\u017f"+a, false), out("xs"+a, false))
		want = append(want, a, "x\u017f"+a, "xs"+a)
	}
	v = &View{Outputs: many}
	if got := v.Destinations(); !slices.Equal(got, want) {
		t.Fatalf("Destinations of 80 outputs:\n%q\nwant\n%q", got, want)
	}
}
