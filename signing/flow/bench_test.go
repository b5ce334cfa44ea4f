package flow

import (
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"golang.org/x/crypto/sha3"

	"github.com/gokms/gokms/wallet"
)

// BenchmarkIntentAndSign is gokms's own work for one pending transfer:
// parse, build code and arguments, RLP-encode the payload, sign it.
// BenchmarkBareSecp256k1 is btcec's RFC 6979 signature of a SHA3-256 hash
// alone, in the same run, for the ratio.
func BenchmarkIntentAndSign(b *testing.B) {
	vs := load(b)
	v := &vs.Pending[0]
	k, _ := wallet.DecodeFlowPrivateKey(v.PrivateKey)
	b.ReportAllocs()
	for b.Loop() {
		in, err := ParseIntent(v.Pending.SerializedTransaction, v.Testnet, false)
		if err != nil {
			b.Fatal(err)
		}
		msg, err := txOf(b, v, in).PayloadMessage()
		if err != nil {
			b.Fatal(err)
		}
		SignMessage(k, msg)
	}
}

func BenchmarkBareSecp256k1(b *testing.B) {
	vs := load(b)
	k, _ := wallet.DecodeFlowPrivateKey(vs.Pending[0].PrivateKey)
	h := sha3.Sum256([]byte("message"))
	b.ReportAllocs()
	for b.Loop() {
		ecdsa.Sign(k, h[:])
	}
}
