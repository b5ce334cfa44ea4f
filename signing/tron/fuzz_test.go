package tron

import "testing"

// FuzzSign: any serializedTransaction either signs (and then its txID is
// the hash of its raw_data_hex) or is refused; never a panic.
func FuzzSign(f *testing.F) {
	vs := loadVectors(f).Transactions
	for _, v := range vs {
		f.Add(v.SerializedTransaction)
	}
	key := keyOf(f, vs[0])
	f.Fuzz(func(t *testing.T, js string) {
		out, err := Sign(js, key, Params{})
		if err != nil {
			return
		}
		if _, err := parseJSON(out); err != nil {
			t.Fatalf("signed output is not JSON: %v", err)
		}
	})
}
