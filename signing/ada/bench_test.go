package ada

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/gokms/gokms/wallet"
)

// memNode answers the construction endpoints from one vector in memory, so
// the benchmark measures gokms's work (decode, check, hash, sign, check),
// not HTTP.
type memNode struct{ v *vector }

func (n memNode) Call(_ context.Context, endpoint string, _, resp any) error {
	var b []byte
	switch endpoint {
	case "construction/payloads":
		b, _ = json.Marshal(map[string]any{"unsigned_transaction": n.v.UnsignedTransaction, "payloads": n.v.Payloads})
	case "construction/combine":
		b, _ = json.Marshal(map[string]any{"signed_transaction": n.v.SignedTransaction})
	default:
		b = []byte(`{"options":{},"metadata":{}}`)
	}
	return json.Unmarshal(b, resp)
}

func BenchmarkSign(b *testing.B) {
	vs := load(b)
	v := &vs.Pending[0]
	keys := keysOf(b, v)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(context.Background(), memNode{v}, v.Pending.SerializedTransaction, keys, Params{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareCardanoSign is the extended-key signature alone;
// BenchmarkBareEd25519 is crypto/ed25519 on the same 32-byte message.
func BenchmarkBareCardanoSign(b *testing.B) {
	vs := load(b)
	k, _ := wallet.DecodeCardanoPrivateKey(vs.Pending[0].Signers[0].PrivateKey)
	msg, _ := hex.DecodeString(vs.Pending[0].BodyHash)
	b.ReportAllocs()
	for b.Loop() {
		k.Sign(msg)
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
