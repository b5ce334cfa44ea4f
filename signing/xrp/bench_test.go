package xrp

import (
	"context"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/gokms/gokms/wallet"
)

// Benchmarks of XRP signatures per second, per key type. Compare:
//   - BenchmarkBare*: the library signature of the same signing data alone
//     (btcec ECDSA over sha512Half; crypto/ed25519), the floor (baseline);
//   - BenchmarkSign*: gokms's whole Sign of a payment with memos and a
//     destination tag (JSON parse, checks, binary encoding twice, signing).
//     The key is derived once, as the daemon would hold it.

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
}

func benchVector(b *testing.B, algo string) (txVector, *wallet.XRPKey, []byte) {
	for _, v := range loadVectors(b) {
		if v.Kind != "memo" {
			continue
		}
		k, err := wallet.XRPKeyFromSecret(v.Secret)
		if err != nil {
			b.Fatal(err)
		}
		if k.Type().String() == algo {
			dec, err := Decode(v.TxBlob)
			if err != nil {
				b.Fatal(err)
			}
			delete(dec, "TxnSignature")
			data, err := SigningData(dec)
			if err != nil {
				b.Fatal(err)
			}
			return v, k, data
		}
	}
	b.Fatalf("no %s memo vector", algo)
	return txVector{}, nil, nil
}

func BenchmarkBareSecp256k1(b *testing.B) {
	_, k, data := benchVector(b, "secp256k1")
	priv, _ := wallet.DecodePrivateKey(wallet.TRON, k.PrivateKeyHex()[2:], false) // the same scalar, as a btcec key
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := sha512.Sum512(data)
		_ = ecdsa.Sign(priv, h[:32]).Serialize()
	}
	reportRate(b)
}

func BenchmarkSignSecp256k1(b *testing.B) {
	v, k, _ := benchVector(b, "secp256k1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Sign(context.Background(), v.SerializedTransaction, k, Params{}); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

func BenchmarkBareEd25519(b *testing.B) {
	_, k, data := benchVector(b, "ed25519")
	seed := mustHexB(b, k.PrivateKeyHex()[2:])
	priv := ed25519.NewKeyFromSeed(seed)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = ed25519.Sign(priv, data)
	}
	reportRate(b)
}

func BenchmarkSignEd25519(b *testing.B) {
	v, k, _ := benchVector(b, "ed25519")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Sign(context.Background(), v.SerializedTransaction, k, Params{}); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// BenchmarkDeriveAndSign includes deriving the key from the family seed
// each time (what a daemon without a key cache pays).
func BenchmarkDeriveAndSignSecp256k1(b *testing.B) {
	v, _, _ := benchVector(b, "secp256k1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k, err := wallet.XRPKeyFromSecret(v.Secret)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Sign(context.Background(), v.SerializedTransaction, k, Params{}); err != nil {
			b.Fatal(err)
		}
		k.Zero()
	}
	reportRate(b)
}

func mustHexB(b *testing.B, s string) []byte {
	out, err := hex.DecodeString(s)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
