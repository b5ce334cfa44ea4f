package utxo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/utxo/utxotest"
)

// benchRequest is a one-input transfer on chain from key: P2WPKH where the
// chain has segwit, else P2PKH; BCH in Tatum's hex form.
func benchRequest(b testing.TB, chain string, k *btcec.PrivateKey, n int) signing.Request {
	kk := newKey(k, k.PubKey(), "")
	script := p2pkhScript(kk.hc)
	if chain == "BTC" || chain == "LTC" {
		script = append([]byte{0, 20}, kk.hc...)
	}
	var ins []utxotest.Input
	for i := range n {
		h := sha256.Sum256([]byte(fmt.Sprintf("bench %s %d", chain, i)))
		ins = append(ins, utxotest.Input{TxID: hex.EncodeToString(h[:]), Vout: uint32(i), Script: script, Satoshis: 500000})
	}
	outs := []utxotest.Output{{Script: script, Satoshis: int64(n)*500000 - 3000}}
	var s string
	var err error
	if chain == "BCH" {
		s, err = utxotest.BCHHex(ins, outs, 0)
	} else {
		s, err = utxotest.BitcoreJSON(ins, outs, 0)
	}
	if err != nil {
		b.Fatal(err)
	}
	return signing.Request{ID: "bench", Chain: chain, SerializedTransaction: s, Hashes: []string{"k"}}
}

// BenchmarkSign measures whole-transaction signing per chain (parse,
// sighash, ECDSA, verification by btcd's script engine or the BCH digest
// check, serialization) with keys already resolved, and reports
// signatures/s. "ecdsa" is the bare secp256k1 signature on the same machine
// in the same run: the ratio shows what the transaction work costs on top.
func BenchmarkSign(b *testing.B) {
	k := testKey("bench")
	ks := newMapKeys()
	ks.pk["k"] = k
	b.Run("ecdsa", func(b *testing.B) {
		h := sha256.Sum256([]byte("x"))
		for b.Loop() {
			ecdsa.Sign(k, h[:])
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
	})
	for _, chain := range []string{"BTC", "LTC", "DOGE", "BCH"} {
		for _, n := range []int{1, 4} {
			req := benchRequest(b, chain, k, n)
			b.Run(fmt.Sprintf("%s/inputs=%d", chain, n), func(b *testing.B) {
				for b.Loop() {
					if _, err := signers.Sign(context.Background(), req, ks); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "sigs/s")
			})
		}
	}
}
