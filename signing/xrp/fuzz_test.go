package xrp

import (
	"context"
	"testing"

	"github.com/gokms/gokms/wallet"
)

// FuzzSign: any serializedTransaction either signs to a blob that decodes
// and whose signature verifies, or is refused; never a panic.
func FuzzSign(f *testing.F) {
	vs := loadVectors(f)
	for _, v := range vs[:20] {
		f.Add(v.SerializedTransaction)
	}
	for _, v := range vs {
		if v.Kind == "trustset" || v.Kind == "accountset" {
			f.Add(v.SerializedTransaction)
		}
	}
	key, err := wallet.XRPKeyFromSecret(vs[0].Secret)
	if err != nil {
		f.Fatal(err)
	}
	node := &fakeNode{seq: 1, ledger: 2, fee: 12}
	f.Fuzz(func(t *testing.T, js string) {
		blob, err := Sign(context.Background(), js, key, Params{Node: node})
		if err != nil {
			return
		}
		dec, err := Decode(blob)
		if err != nil {
			t.Fatalf("signed blob does not decode: %v", err)
		}
		if dec["Account"] != key.Address() {
			t.Fatalf("signed for %v", dec["Account"])
		}
	})
}
