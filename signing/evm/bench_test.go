package evm

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/gokms/gokms/signing"
)

// Benchmarks of EVM signatures per second. Compare:
//   - BenchmarkGethSignTx: go-ethereum's types.SignTx + encoding alone, the
//     floor (baseline);
//   - BenchmarkSignComplete: gokms's whole Sign (JSON parsing, checks, key
//     lookup, signing, encoding) for a transaction with every field given;
//   - BenchmarkSignFilled: the same with nonce, gas and gas price filled
//     from a local node (simulated backend over HTTP on 127.0.0.1: 3 calls
//     per transaction).

const benchTx = `{"from":0,"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85","value":"1000000000000000","gas":"21000","gasPrice":"20000000000","nonce":7}`

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
}

func BenchmarkGethSignTx(b *testing.B) {
	key := keyFromHex(b, testKeyHex).ToECDSA()
	to := common.HexToAddress("0x687422eEA2cB73B5d3e242bA5456b782919AFc85")
	signer := types.NewLondonSigner(big.NewInt(11155111))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tx, err := types.SignTx(types.NewTx(&types.LegacyTx{Nonce: 7, GasPrice: big.NewInt(20e9), Gas: 21000, To: &to, Value: big.NewInt(1e15)}), signer, key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

func BenchmarkSignComplete(b *testing.B) {
	s := offline(b)
	keys := staticKeys{"k": keyFromHex(b, testKeyHex)}
	req := signing.Request{ID: "b", Chain: "ETH", Testnet: true, SerializedTransaction: benchTx, Hashes: []string{"k"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := s.Sign(context.Background(), req, keys); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

func BenchmarkSignCompleteParallel(b *testing.B) {
	s := offline(b)
	keys := staticKeys{"k": keyFromHex(b, testKeyHex)}
	req := signing.Request{ID: "b", Chain: "ETH", Testnet: true, SerializedTransaction: benchTx, Hashes: []string{"k"}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Sign(context.Background(), req, keys); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b)
}

func BenchmarkSignFilled(b *testing.B) {
	e := newSim(b, sepolia)
	req := signing.Request{ID: "b", Chain: "ETH", Testnet: true, Hashes: []string{"a"},
		SerializedTransaction: `{"from":0,"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85","value":"1000000000000000"}`}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.s.Sign(context.Background(), req, e.keys); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRate(b)
	b.ReportMetric(float64(e.chain.TotalCalls())/float64(b.N), "rpc/op")
}

func BenchmarkSignFilledParallel(b *testing.B) {
	e := newSim(b, sepolia)
	req := signing.Request{ID: "b", Chain: "ETH", Testnet: true, Hashes: []string{"a"},
		SerializedTransaction: `{"from":0,"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85","value":"1000000000000000"}`}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.s.Sign(context.Background(), req, e.keys); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	reportRate(b)
}
