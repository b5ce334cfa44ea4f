package xlm

import (
	"crypto/ed25519"
	"testing"
)

// BenchmarkSign is a whole pending transaction: decode, check, hash, sign,
// encode. BenchmarkBareEd25519 is the signature alone, in the same run, for
// the ratio.
func BenchmarkSign(b *testing.B) {
	v := byKind(b, "native")
	k := key(b, v.Secret)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(v.Pending.SerializedTransaction, k, v.Testnet); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareEd25519(b *testing.B) {
	k := ed25519.NewKeyFromSeed(make([]byte, 32))
	msg := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		ed25519.Sign(k, msg)
	}
}
