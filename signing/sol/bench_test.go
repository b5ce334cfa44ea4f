package sol

import (
	"crypto/ed25519"
	"testing"
)

// BenchmarkSign is a whole pending transaction (native transfer): JSON,
// decode, checks, recompile, sign, wire. BenchmarkSignSPLWithFeePayer signs
// twice (two signers). BenchmarkBareEd25519 is one signature alone over a
// message of the same size, in the same run, for the ratio.
func BenchmarkSign(b *testing.B) { benchSign(b, "native-0") }

func BenchmarkSignSPLWithFeePayer(b *testing.B) { benchSign(b, "spl-3") }

func benchSign(b *testing.B, name string) {
	v := byName(b, name)
	keys := keysOf(b, v)
	h := blockhashOf(b, v)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(v.Pending.SerializedTransaction, keys, h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareEd25519(b *testing.B) {
	k := ed25519.NewKeyFromSeed(make([]byte, 32))
	msg := make([]byte, 150) // a native transfer's message
	b.ReportAllocs()
	for b.Loop() {
		ed25519.Sign(k, msg)
	}
}
