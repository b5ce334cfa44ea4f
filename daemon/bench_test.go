package daemon_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/evm/evmtest"
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
// completes all 1,000, in every variant in turn (so that the drift of a
// shared machine, its fsync latency above all, hits every variant alike):
// the journal off (the in-memory one: the same logic, nothing durable) and
// on (the file journal, as gokms daemon opens it), at the default
// concurrency (8) and at 32. Reported: pending/s per variant, the ratio
// journal on/off at each concurrency (the cost of durability), and in the
// same run the pure signing rate of the same 1,000 requests with keys in
// memory, sequential (sign/s) and on every core (sign-par/s).
//
// "file" is the default encrypted file store (backend/file, one open and
// decrypt per record read), the realistic case; "memory" isolates the
// daemon from the store. GOKMS_BENCH_LATENCY (both drain benchmarks) gives
// every Tatum call a round trip (benchStandIn).
func BenchmarkDaemonDrain(b *testing.B) {
	// With the processors gokms daemon runs with (daemon.SyncProcs).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + daemon.SyncProcs))
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

	for _, kind := range []string{"file", "memory"} {
		b.Run("store="+kind, func(b *testing.B) {
			var vs []*drainVariant
			for _, conc := range []int{8, 32} {
				for _, jk := range []string{"off", "file"} {
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
					srv := benchStandIn(b)
					defer srv.Close()
					api := tatum.New(tatum.Options{BaseURL: srv.URL, APIKey: srv.APIKey, Logger: discard})
					d, err := daemon.New(daemon.Config{Backend: store, API: api, Signers: utxoSigners, Chains: []string{"BTC"}, Testnet: true, Logger: discard,
						Concurrency: conc, Journal: benchJournal(b, jk)})
					if err != nil {
						b.Fatal(err)
					}
					v := &drainVariant{name: fmt.Sprintf("c%d-journal=%s", conc, jk)}
					v.cycle = func(round int) (time.Duration, error) {
						for _, tx := range txs {
							// A fresh pending id every cycle: the journal
							// refuses an id it completed before.
							tx.ID = fmt.Sprintf("%08x%s", round, tx.ID[8:])
							srv.Enqueue(tx)
						}
						var st daemon.CycleStats
						dur := v.timed(func() { st = d.RunCycle(context.Background()) })
						if st.Broadcast != benchPending || st.Failed != 0 {
							return dur, fmt.Errorf("cycle: %+v", st)
						}
						return dur, nil
					}
					vs = append(vs, v)
				}
			}
			runVariants(b, vs, benchPending)
			// Pure signing of the same requests, same run.
			b.ReportMetric(signRate(b, utxoSigners, reqs, fixed, 1), "sign/s")
			b.ReportMetric(signRate(b, utxoSigners, reqs, fixed, runtime.GOMAXPROCS(0)), "sign-par/s")
		})
	}
}

// drainVariant is one daemon a drain benchmark runs a cycle of per op.
type drainVariant struct {
	name  string
	cycle func(round int) (time.Duration, error) // the time the cycle itself took (see timed)
	dur   time.Duration
	cpu   time.Duration // the process's CPU time (user + system) over its cycles
}

// timed runs f (a daemon cycle) and returns its wall time, adding the
// process's CPU time meanwhile to v.cpu.
func (v *drainVariant) timed(f func()) time.Duration {
	cpu0, t0 := processCPU(), time.Now()
	f()
	dur := time.Since(t0)
	v.cpu += processCPU() - cpu0
	return dur
}

// benchStandIn is the Tatum stand-in of a drain benchmark. It answers at
// once, which makes the drain CPU-bound (where the journal weighs most);
// GOKMS_BENCH_LATENCY=5ms gives every call a round trip, as Tatum's API
// over a network has. The caller closes it.
func benchStandIn(b *testing.B) *tatumtest.Server {
	b.Helper()
	srv := tatumtest.New(tatumtest.Options{})
	if v := os.Getenv("GOKMS_BENCH_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			b.Fatalf("GOKMS_BENCH_LATENCY %q: want a duration such as 5ms", v)
		}
		srv.Inject(tatumtest.Fault{Path: "/v3/", Delay: d, Times: -1})
	}
	return srv
}

// processCPU is the CPU time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runVariants runs b.N rounds of one cycle of every variant, in turn (in
// reverse order every other round, so that no variant always follows the
// same one), and reports each one's pending/s and, for every variant
// "<x>-journal=file", its ratio to "<x>-journal=off".
func runVariants(b *testing.B, vs []*drainVariant, perCycle int) {
	b.Helper()
	b.ResetTimer()
	b.StopTimer()
	for round := 1; round <= b.N; round++ {
		order := slices.Clone(vs)
		if round%2 == 0 {
			slices.Reverse(order)
		}
		for _, v := range order {
			b.StartTimer()
			var dur time.Duration
			var err error
			// Labelled, so that a -cpuprofile tells the variants apart
			// (go tool pprof -tagfocus variant=c8-journal=file).
			pprof.Do(context.Background(), pprof.Labels("variant", b.Name()+"/"+v.name), func(context.Context) {
				dur, err = v.cycle(round)
			})
			b.StopTimer()
			if err != nil {
				b.Fatalf("%s, round %d: %v", v.name, round, err)
			}
			v.dur += dur
		}
	}
	rate := map[string]float64{}
	for _, v := range vs {
		rate[v.name] = float64(b.N*perCycle) / v.dur.Seconds()
		b.ReportMetric(rate[v.name], v.name+"-pending/s")
		// CPU per transaction over the cycles (the stand-in's and the
		// simulated chain's work included: they run in this process):
		// tells a CPU-bound drain from one that waits.
		b.ReportMetric(float64(v.cpu.Microseconds())/float64(b.N*perCycle), v.name+"-cpu-us/tx")
	}
	for _, v := range vs {
		if base, ok := strings.CutSuffix(v.name, "journal=file"); ok {
			if off := rate[base+"journal=off"]; off > 0 {
				b.ReportMetric(rate[v.name]/off, base+"on/off")
			}
		}
	}
}

const (
	evmBenchWallets = 100
	evmBenchPerAddr = 10 // pending transactions per wallet and cycle: 1,000 in all
)

// commitAll seals blocks until every key's account nonce is want: the
// node's pool moves a transaction that waited for a lower nonce to the
// pending ones in the background, so one block may miss a few of those
// that arrived out of order.
func commitAll(chain *evmtest.Chain, keys []*btcec.PrivateKey, want uint64) error {
	for try := 0; ; try++ {
		chain.Commit()
		short := 0
		var last error
		for _, key := range keys {
			n, err := chain.Client.NonceAt(context.Background(), evmAddr(key), nil)
			if err != nil || n != want {
				short++
				last = fmt.Errorf("account %s nonce %d (%v), want %d", evmAddr(key), n, err, want)
			}
		}
		if short == 0 {
			return nil
		}
		if try == 20 {
			return fmt.Errorf("%d accounts short after %d blocks: not every transaction was mined (%v)", short, try+1, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkEVMDaemonDrain: 1,000 pending ETH transfers (10 from each of 100
// private-key wallets) in the Tatum stand-in; one op is one daemon cycle
// that polls, signs, broadcasts (eth_sendRawTransaction into the simulated
// chain's pool, on 127.0.0.1) and completes all 1,000, with the journal off
// (in memory) and on (the file journal) in turn, each against its own
// chain; a block is sealed between ops, outside the timer, and every
// transaction is checked mined.
//
//   - "filled": transactions as Tatum usually sends them ({from: 0, to,
//     value}); nonce, gas limit and gas price come from the node (3
//     JSON-RPC calls per transaction).
//   - "complete": every field given, nonces too: no node calls.
//   - "nosign": the daemon and stand-in alone, Sign replaced by a lookup of
//     the raw transactions signed beforehand, broadcast accepted without a
//     node: the floor the other two compare to, and the case where the
//     journal weighs most.
//
// Reported: pending/s per variant and journal, the ratio journal on/off,
// and in the same run the rate of signing the same 1,000 complete
// transactions with keys in memory (sign/s).
func BenchmarkEVMDaemonDrain(b *testing.B) {
	// With the processors gokms daemon runs with (daemon.SyncProcs).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + daemon.SyncProcs))
	discard := slog.New(slog.DiscardHandler)
	keys := make([]*btcec.PrivateKey, evmBenchWallets)
	recs := make([]backend.Record, evmBenchWallets)
	fixed := fixedKeys{}
	alloc := types.GenesisAlloc{}
	for i := range keys {
		h := sha256.Sum256([]byte(fmt.Sprintf("evm drain wallet %d", i)))
		keys[i], _ = btcec.PrivKeyFromBytes(h[:])
		id := fmt.Sprintf("evm-wallet-%03d", i)
		recs[i] = backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "ETH", Testnet: true, Secret: []byte("0x" + hex.EncodeToString(h[:]))}
		fixed[id] = keys[i]
		alloc[evmAddr(keys[i])] = types.Account{Balance: new(big.Int).Mul(big.NewInt(1000), evmtest.Ether)}
	}
	// cycle k's transactions; complete ones carry nonce k*perAddr+j.
	pending := func(k int, complete bool) []tatum.PendingTransaction {
		out := make([]tatum.PendingTransaction, 0, evmBenchWallets*evmBenchPerAddr)
		for i := range keys {
			for j := 0; j < evmBenchPerAddr; j++ {
				s := fmt.Sprintf(`{"from":0,"to":"%s","value":"%d"}`, evmRecipient, 1+j)
				if complete {
					s = fmt.Sprintf(`{"from":0,"to":"%s","value":"%d","gas":"21000","gasPrice":"20000000000","nonce":%d,"chainId":11155111}`,
						evmRecipient, 1+j, k*evmBenchPerAddr+j)
				}
				out = append(out, tatum.PendingTransaction{ID: fmt.Sprintf("%08x%08x%08x", k, i, j), Chain: "ETH",
					SerializedTransaction: s, Hashes: []string{recs[i].ID}})
			}
		}
		return out
	}

	// The simulated chain runs in this process, and its eth_sendRawTransaction
	// is serialized (the chain's lock, the pool's): a burst of broadcasts
	// (the journal's group commit releases 30-odd at once) left a CPU idle
	// while they queued: EVM complete on/off 0.70-0.78; with the node fed
	// after the cycle, 0.85-0.96 (no node at all: 1.00-1.06; docs/daemon.md). A real
	// node is another machine behind Tatum's API. Set
	// GOKMS_BENCH_NODE_BROADCAST=1 to broadcast into the node in the cycle.
	nodeInCycle := os.Getenv("GOKMS_BENCH_NODE_BROADCAST") != ""
	var signPerSec float64
	for _, variant := range []string{"nosign", "complete", "filled"} {
		b.Run(variant, func(b *testing.B) {
			var vs []*drainVariant
			var rpcCalls func() int64
			for _, jk := range []string{"off", "file"} {
				store := memory.New()
				if err := backend.PutAll(context.Background(), store, recs); err != nil {
					b.Fatal(err)
				}
				chain := evmtest.Start(b, 11155111, alloc)
				signers := evmSigners(b, chain.URL)
				srv := benchStandIn(b)
				defer srv.Close()
				cfg := daemon.Config{Backend: store, Signers: signers, Chains: []string{"ETH"}, Testnet: true, Logger: discard, Concurrency: 8, Journal: benchJournal(b, jk),
					API: tatum.New(tatum.Options{BaseURL: srv.URL, APIKey: srv.APIKey, Logger: discard, Timeout: time.Minute})}
				presigned := map[string]string{}
				var (
					heldMu sync.Mutex
					held   []string // signed transactions broadcast this cycle, for the node
				)
				if variant == "nosign" {
					// Sign every cycle's transactions beforehand; the daemon only looks them up.
					cfg.Sign = func(_ context.Context, req signing.Request, _ signing.KeySource) (signing.Signed, error) {
						raw, ok := presigned[req.ID]
						if !ok {
							return signing.Signed{}, fmt.Errorf("no presigned transaction %s", req.ID)
						}
						return signing.Signed{Raw: raw}, nil
					}
				} else if nodeInCycle {
					srv.SetBroadcaster("ETH", func(ctx context.Context, txData string) (string, error) {
						h, err := chain.SendRaw(ctx, txData)
						return h.Hex(), err
					})
				} else {
					// As Tatum does: take the bytes, answer their hash; the
					// node gets them after the cycle (see held).
					srv.SetBroadcaster("ETH", func(ctx context.Context, txData string) (string, error) {
						raw, err := hexutil.Decode(txData)
						var tx types.Transaction
						if err == nil {
							err = tx.UnmarshalBinary(raw)
						}
						if err != nil {
							return "", fmt.Errorf("not a signed transaction: %w", err)
						}
						heldMu.Lock()
						held = append(held, txData)
						heldMu.Unlock()
						return tx.Hash().Hex(), nil
					})
				}
				d, err := daemon.New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if jk == "file" {
					rpcCalls = chain.TotalCalls
				}
				v := &drainVariant{name: "journal=" + jk}
				v.cycle = func(round int) (time.Duration, error) {
					k := round - 1
					txs := pending(k, variant != "filled")
					if variant == "nosign" {
						clear(presigned)
						for _, tx := range txs {
							raw, err := signers.Sign(context.Background(), signing.Request{ID: tx.ID, Chain: "ETH", Testnet: true,
								SerializedTransaction: tx.SerializedTransaction, Hashes: tx.Hashes}, fixed)
							if err != nil {
								return 0, err
							}
							presigned[tx.ID] = raw
						}
					}
					for _, tx := range txs {
						srv.Enqueue(tx)
					}
					var st daemon.CycleStats
					dur := v.timed(func() { st = d.RunCycle(context.Background()) })
					if st.Broadcast != len(txs) || st.Failed != 0 {
						return dur, fmt.Errorf("cycle %d: %+v, reported %+v", k, st, srv.Errors())
					}
					if variant != "nosign" {
						// Outside the timer: the node takes what the stand-in
						// held, and every transaction must be mined.
						for _, raw := range held {
							if _, err := chain.SendRaw(context.Background(), raw); err != nil {
								return dur, fmt.Errorf("cycle %d: the node refused a signed transaction: %w", k, err)
							}
						}
						held = held[:0]
						if err := commitAll(chain, keys, uint64((k+1)*evmBenchPerAddr)); err != nil {
							return dur, fmt.Errorf("cycle %d: %w", k, err)
						}
					}
					return dur, nil
				}
				vs = append(vs, v)
				if signPerSec == 0 {
					reqs := make([]signing.Request, 0, evmBenchWallets*evmBenchPerAddr)
					for _, tx := range pending(0, true) {
						reqs = append(reqs, signing.Request{ID: tx.ID, Chain: "ETH", Testnet: true, SerializedTransaction: tx.SerializedTransaction, Hashes: tx.Hashes})
					}
					// A signer set of its own: the nonces these complete
					// transactions bring are claimed in their signer, and
					// would make the daemon's filled ones skip them.
					signPerSec = signRate(b, evmSigners(b, chain.URL), reqs, fixed, 1)
				}
			}
			runVariants(b, vs, evmBenchWallets*evmBenchPerAddr)
			if variant == "filled" {
				b.ReportMetric(float64(rpcCalls())/float64(b.N*evmBenchWallets*evmBenchPerAddr), "rpc/tx")
			}
			b.ReportMetric(signPerSec, "sign/s")
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
