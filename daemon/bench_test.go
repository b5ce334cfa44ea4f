package daemon_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

const (
	benchWallets = 10_000
	benchPending = 1_000
)

// fixedKeys is a KeySource over keys already in memory: the pure-signing
// baseline, with no store, no API and no network.
type fixedKeys map[string]*btcec.PrivateKey

func (f fixedKeys) Key(_ context.Context, id string, _ *uint32) (*btcec.PrivateKey, error) {
	return f[id], nil
}

// BenchmarkDaemonDrain: a store of 10,000 BTC private-key wallets and 1,000
// pending BTC transfers (each from a different wallet) in the Tatum
// stand-in, whose broadcast accepts everything (no node). One op is one
// daemon cycle that polls the 10,000 signatureIds and signs, broadcasts and
// completes all 1,000. Reported: pending/s, and in the same run the pure
// signing rate of the same 1,000 requests with keys in memory, sequential
// (sign/s) and on every core (sign-par/s), with the ratios.
//
// "file" is the default encrypted file store (backend/file, one open and
// decrypt per record read), the realistic case; "memory" isolates the
// daemon from the store.
func BenchmarkDaemonDrain(b *testing.B) {
	keys := make([]*btcec.PrivateKey, benchWallets)
	recs := make([]backend.Record, benchWallets)
	fixed := fixedKeys{}
	for i := range keys {
		h := sha256.Sum256([]byte(fmt.Sprintf("drain wallet %d", i)))
		keys[i], _ = btcec.PrivKeyFromBytes(h[:])
		wif, _ := btcutil.NewWIF(keys[i], &chaincfg.TestNet3Params, true)
		id := fmt.Sprintf("wallet-%05d", i)
		recs[i] = backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "BTC", Testnet: true, Secret: []byte(wif.String())}
		fixed[id] = keys[i]
	}
	// 1,000 transfers from wallets spread over the store.
	txs := make([]tatum.PendingTransaction, benchPending)
	reqs := make([]signing.Request, benchPending)
	for i := range txs {
		w := i * (benchWallets / benchPending)
		h := sha256.Sum256([]byte(fmt.Sprintf("drain prev %d", i)))
		s, err := utxotest.BitcoreJSON(
			[]utxotest.Input{{TxID: hex.EncodeToString(h[:]), Vout: 1, Script: p2wpkh(keys[w]), Satoshis: 200000}},
			[]utxotest.Output{{Script: p2wpkh(keys[(w+1)%benchWallets]), Satoshis: 150000}, {Script: p2wpkh(keys[w]), Satoshis: 48000}}, 0)
		if err != nil {
			b.Fatal(err)
		}
		txs[i] = tatum.PendingTransaction{ID: fmt.Sprintf("%024x", i), Chain: "BTC", SerializedTransaction: s, Hashes: []string{recs[w].ID}}
		reqs[i] = signing.Request{ID: txs[i].ID, Chain: "BTC", Testnet: true, SerializedTransaction: s, Hashes: txs[i].Hashes}
	}
	discard := slog.New(slog.DiscardHandler)

	for _, bc := range []struct{ store, journal string }{{"file", "off"}, {"file", "file"}, {"memory", "off"}, {"memory", "file"}} {
		kind := bc.store
		b.Run("store="+kind+"/journal="+bc.journal, func(b *testing.B) {
			var store backend.SecretBackend
			if kind == "file" {
				fs, err := file.Create(b.TempDir()+"/wallet.dat", []byte("bench password"), file.Options{KDF: &file.InsecureTestKDF})
				if err != nil {
					b.Fatal(err)
				}
				defer fs.Close()
				store = fs
			} else {
				store = memory.New()
			}
			if err := backend.PutAll(context.Background(), store, recs); err != nil {
				b.Fatal(err)
			}
			srv := tatumtest.New(tatumtest.Options{})
			defer srv.Close()
			api := tatum.New(tatum.Options{BaseURL: srv.URL, APIKey: srv.APIKey, Logger: discard})
			d, err := daemon.New(daemon.Config{Backend: store, API: api, Signers: utxoSigners, Chains: []string{"BTC"}, Testnet: true, Logger: discard,
				Journal: benchJournal(b, bc.journal)})
			if err != nil {
				b.Fatal(err)
			}
			var seconds float64
			cycle := 0
			for b.Loop() {
				b.StopTimer()
				cycle++
				for _, tx := range txs {
					// A fresh pending id every cycle: the journal refuses an
					// id it completed before.
					tx.ID = fmt.Sprintf("%08x%s", cycle, tx.ID[8:])
					srv.Enqueue(tx)
				}
				b.StartTimer()
				st := d.RunCycle(context.Background())
				if st.Broadcast != benchPending || st.Failed != 0 {
					b.Fatalf("cycle: %+v", st)
				}
			}
			seconds = b.Elapsed().Seconds()
			pendingRate := float64(b.N*benchPending) / seconds

			// Pure signing of the same requests, same run.
			seq := signRate(b, utxoSigners, reqs, fixed, 1)
			par := signRate(b, utxoSigners, reqs, fixed, runtime.GOMAXPROCS(0))
			b.ReportMetric(pendingRate, "pending/s")
			b.ReportMetric(seq, "sign/s")
			b.ReportMetric(par, "sign-par/s")
			b.ReportMetric(pendingRate/seq, "pending/sign")
			b.ReportMetric(pendingRate/par, "pending/sign-par")
		})
	}
}

// signRate signs every request with workers goroutines (twice, after a
// warm-up round) and returns requests per second. It times by hand:
// testing.Benchmark cannot run inside a running benchmark.
func signRate(b *testing.B, set *signing.Set, reqs []signing.Request, ks signing.KeySource, workers int) float64 {
	b.Helper()
	round := func() {
		var wg sync.WaitGroup
		next := make(chan signing.Request)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range next {
					if _, err := set.Sign(context.Background(), r, ks); err != nil {
						panic(err)
					}
				}
			}()
		}
		for _, r := range reqs {
			next <- r
		}
		close(next)
		wg.Wait()
	}
	round()
	const rounds = 2
	start := time.Now()
	for range rounds {
		round()
	}
	return float64(rounds*len(reqs)) / time.Since(start).Seconds()
}

// benchJournal is the journal of a benchmark variant: "file" is the
// default durable journal (bbolt, fsync per commit) in the benchmark's
// temp dir, "off" the in-memory one (the same logic, nothing durable), so
// the difference is what durability costs.
func benchJournal(b *testing.B, kind string) journal.Journal {
	b.Helper()
	if kind == "off" {
		return journal.NewMemory()
	}
	j, err := journal.OpenFile(filepath.Join(b.TempDir(), journal.DefaultName), journal.FileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = j.Close() })
	return j
}
