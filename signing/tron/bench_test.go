package tron

import (
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
)

// Benchmarks of TRON signatures per second. Compare:
//   - BenchmarkBareSignCompact: btcec's recoverable signature of a txID
//     alone, the floor (baseline);
//   - BenchmarkSignTRC20: gokms's whole Sign of a TRC-20 transfer (strict
//     JSON parse, protobuf re-encoding, raw_data_hex and txID checks, owner
//     check, signing, JSON output).

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
}

func BenchmarkBareSignCompact(b *testing.B) {
	v := byKindB(b, "trc20")
	key := keyOf(b, v)
	tx, err := Decode(v.SerializedTransaction, Params{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = ecdsa.SignCompact(key, tx.TxID[:], false)
	}
	reportRate(b)
}

func BenchmarkSignTRC20(b *testing.B) {
	v := byKindB(b, "trc20")
	key := keyOf(b, v)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Sign(v.SerializedTransaction, key, Params{}); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

func byKindB(b *testing.B, kind string) txVector {
	for _, v := range loadVectors(b).Transactions {
		if v.Kind == kind {
			return v
		}
	}
	b.Fatalf("no %s vector", kind)
	return txVector{}
}
