package policy_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/audit"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/policy"
	"github.com/gokms/gokms/signing/utxo/utxotest"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/tatum/tatumtest"
)

// BenchmarkDrainPolicyAudit: one op is one daemon cycle that signs,
// broadcasts and completes 1,000 pending BTC transfers (100 wallets, the
// file journal as gokms daemon opens it, the Tatum stand-in), with the
// policy and the audit trail off and on, in the same run. Reported:
// pending/s per mode and the ratios to off (docs/policy.md).
//
// The stand-in answers at once by default, which makes the drain CPU-bound
// (the worst case for the policy's and the trail's CPU).
// GOKMS_BENCH_LATENCY=20ms gives every Tatum call a round trip, as a remote
// API has; GOKMS_BENCH_PENDING sets the transactions per cycle (default
// 1,000); GOKMS_BENCH_MODES=off,audit runs only those modes.
func BenchmarkDrainPolicyAudit(b *testing.B) {
	// With the processors gokms daemon runs with (daemon.SyncProcs).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + daemon.SyncProcs))
	const wallets = 100
	pending := 1000
	if v := os.Getenv("GOKMS_BENCH_PENDING"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("GOKMS_BENCH_PENDING %q: want a positive number", v)
		}
		pending = n
	}
	var latency time.Duration
	if v := os.Getenv("GOKMS_BENCH_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("GOKMS_BENCH_LATENCY %q: %v", v, err)
		}
		latency = d
	}
	store := memory.New()
	keys := make([]*btcec.PrivateKey, wallets)
	for i := range keys {
		h := sha256.Sum256([]byte(fmt.Sprint("bench policy wallet ", i)))
		keys[i], _ = btcec.PrivKeyFromBytes(h[:])
		wif, _ := btcutil.NewWIF(keys[i], &chaincfg.TestNet3Params, true)
		if err := store.Put(context.Background(), backend.Record{ID: fmt.Sprint("w", i), Kind: backend.PrivateKey, Chain: "BTC", Testnet: true, Secret: []byte(wif.String())}); err != nil {
			b.Fatal(err)
		}
	}
	dest, destScript := p2wpkh(key("bench dest"))
	txs := make([]tatum.PendingTransaction, pending)
	for i := range txs {
		w := i % wallets
		_, from := p2wpkh(keys[w])
		h := sha256.Sum256([]byte(fmt.Sprint("bench prev ", i)))
		s, err := utxotest.BitcoreJSON([]utxotest.Input{{TxID: hex.EncodeToString(h[:]), Vout: 1, Script: from, Satoshis: 200000}},
			[]utxotest.Output{{Script: destScript, Satoshis: 150000}, {Script: from, Satoshis: 48000}}, 0)
		if err != nil {
			b.Fatal(err)
		}
		txs[i] = tatum.PendingTransaction{Chain: "BTC", SerializedTransaction: s, Hashes: []string{fmt.Sprint("w", w)}}
	}
	pol := fmt.Sprintf(`version: 1
chains:
  BTC:
    destinations: ["%s"]
    maxAmount: 1000000
    maxFee: 10000
    maxDaily: "1000000000000000"
rules:
  - name: no-dust
    expr: "amount >= 546.0"
`, dest)
	discard := slog.New(slog.DiscardHandler)
	// policy-nodaily is the policy without maxDaily: no counter write per
	// transaction, so the cost of the rules themselves.
	modes := []string{"off", "policy-nodaily", "policy", "audit", "policy+audit"}
	if v := os.Getenv("GOKMS_BENCH_MODES"); v != "" {
		// A subset, so that a -cpuprofile holds one mode whole: the
		// goroutines the labels miss (the journal's commits, the garbage
		// collector, the stand-in) are the mode's too.
		var sub []string
		for _, m := range strings.Split(v, ",") {
			if !slices.Contains(modes, m) {
				b.Fatalf("GOKMS_BENCH_MODES: no mode %q (want some of %v)", m, modes)
			}
			sub = append(sub, m)
		}
		modes = sub
	}
	noDaily := strings.Replace(pol, "    maxDaily: \"1000000000000000\"\n", "", 1)
	if noDaily == pol {
		b.Fatal("bench policy has no maxDaily line")
	}
	type setup struct {
		d              *daemon.Daemon
		srv            *tatumtest.Server
		dur            time.Duration
		cpu            time.Duration // the process's CPU time over the mode's cycles
		sys, gc        time.Duration // of which in the kernel, and the garbage collector's
		csw            int64         // the process's context switches (voluntary and not)
		mallocs, bytes uint64        // allocated over the mode's cycles (the stand-in's included)
	}
	var setups []*setup
	for _, mode := range modes {
		dir := b.TempDir()
		j, err := journal.OpenFile(filepath.Join(dir, "journal.db"), journal.FileOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer j.Close()
		srv := tatumtest.New(tatumtest.Options{})
		if latency > 0 {
			srv.Inject(tatumtest.Fault{Path: "/v3/", Delay: latency, Times: -1})
		}
		defer srv.Close()
		api := tatum.New(tatum.Options{BaseURL: srv.URL, APIKey: srv.APIKey, Logger: discard})
		m := daemon.NewMetrics()
		cfg := daemon.Config{Backend: store, API: api, Signers: signers, Chains: []string{"BTC"}, Testnet: true, Logger: discard, Journal: j, Metrics: m}
		var pa *policy.Approver
		if strings.Contains(mode, "policy") {
			src := pol
			if mode == "policy-nodaily" {
				src = noDaily
			}
			f, err := policy.Parse([]byte(src))
			if err != nil {
				b.Fatal(err)
			}
			p, err := policy.New(f, j)
			if err != nil {
				b.Fatal(err)
			}
			p.CacheTotals(10 * time.Second) // as gokms daemon does with its file journal
			if pa, err = policy.NewApprover(p, m.Registry()); err != nil {
				b.Fatal(err)
			}
			cfg.Approvers = append(cfg.Approvers, pa)
		}
		if strings.Contains(mode, "audit") {
			sink, err := audit.OpenFile(filepath.Join(dir, "audit.log"))
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			sink.WriteBeforeCommits(j) // as gokms daemon does with its file journal
			tr := audit.NewTrail(sink, "bench", discard)
			if pa != nil {
				pa.OnDecide = tr.NotePolicy
			}
			cfg.Approvers = append(cfg.Approvers, tr.Approver())
			cfg.OnDecision, cfg.OnEvent = tr.OnDecision, tr.OnEvent
		}
		d, err := daemon.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		setups = append(setups, &setup{d: d, srv: srv})
	}
	// One op drains one cycle in every mode, in turn, so that the machine's
	// drift (fsync latency on a shared disk) hits every mode alike.
	b.ResetTimer()
	b.StopTimer()
	for round := 1; round <= b.N; round++ {
		for i, st := range setups {
			for n, tx := range txs {
				tx.ID = fmt.Sprintf("%08x%016x", round, n)
				st.srv.Enqueue(tx)
			}
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.StartTimer()
			cpu0, sys0, csw0 := processCPU()
			t0, gc0 := time.Now(), gcCPU()
			var cs daemon.CycleStats
			// Labelled, so that a -cpuprofile tells the modes apart
			// (go tool pprof -tagfocus mode=audit).
			pprof.Do(context.Background(), pprof.Labels("mode", modes[i]), func(ctx context.Context) { cs = st.d.RunCycle(ctx) })
			st.dur += time.Since(t0)
			cpu1, sys1, csw1 := processCPU()
			st.csw += csw1 - csw0
			st.cpu, st.sys, st.gc = st.cpu+cpu1-cpu0, st.sys+sys1-sys0, st.gc+gcCPU()-gc0
			runtime.ReadMemStats(&ms1)
			st.mallocs += ms1.Mallocs - ms0.Mallocs
			st.bytes += ms1.TotalAlloc - ms0.TotalAlloc
			b.StopTimer()
			if cs.Broadcast != pending || cs.Failed != 0 {
				b.Fatalf("cycle: %+v; reports %v", cs, st.srv.Errors()[:min(3, len(st.srv.Errors()))])
			}
		}
	}
	rate := func(st *setup) float64 { return float64(b.N*pending) / st.dur.Seconds() }
	for i, mode := range modes {
		b.ReportMetric(rate(setups[i]), mode+"-pending/s")
		// The stand-in's CPU included: it runs in this process.
		b.ReportMetric(float64(setups[i].cpu.Microseconds())/float64(b.N*pending), mode+"-cpu-us/tx")
		b.ReportMetric(float64(setups[i].sys.Microseconds())/float64(b.N*pending), mode+"-sys-us/tx")
		b.ReportMetric(float64(setups[i].gc.Microseconds())/float64(b.N*pending), mode+"-gc-us/tx")
		b.ReportMetric(float64(setups[i].mallocs)/float64(b.N*pending), mode+"-allocs/tx")
		b.ReportMetric(float64(setups[i].csw)/float64(b.N*pending), mode+"-ctxsw/tx")
		b.ReportMetric(float64(setups[i].bytes)/float64(b.N*pending), mode+"-B/tx")
	}
	if modes[0] == "off" {
		for i, mode := range modes[1:] {
			b.ReportMetric(rate(setups[i+1])/rate(setups[0]), mode+"/off")
		}
	}
}

// gcCPU is the runtime's estimate of the CPU time the garbage collector
// has used so far (updated as collections end, so only a sum over many
// is meaningful).
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}

// processCPU is the CPU time this process has used so far, the part of it
// in the kernel, and its threads' context switches.
func processCPU() (total, sys time.Duration, csw int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), time.Duration(ru.Stime.Nano()), ru.Nvcsw + ru.Nivcsw
}

// BenchmarkEvaluate: the policy's two decisions on one BTC transfer, as
// the drain benchmark's policy makes them (before signing: a dry run;
// after: the same effect, the rolling total added through the file
// journal's queue). One op is both decisions on a new id; the CPU and the
// allocations per op are the policy's share of a transaction.
func BenchmarkEvaluate(b *testing.B) {
	k := key("bench evaluate wallet")
	_, from := p2wpkh(k)
	dest, destScript := p2wpkh(key("bench dest"))
	h := sha256.Sum256([]byte("bench evaluate prev"))
	s, err := utxotest.BitcoreJSON([]utxotest.Input{{TxID: hex.EncodeToString(h[:]), Vout: 1, Script: from, Satoshis: 200000}},
		[]utxotest.Output{{Script: destScript, Satoshis: 150000}, {Script: from, Satoshis: 48000}}, 0)
	if err != nil {
		b.Fatal(err)
	}
	v, err := policy.Decode("BTC", true, s, "")
	if err != nil {
		b.Fatal(err)
	}
	signed := *v
	signed.Signed, signed.TxID = true, strings.Repeat("ab", 32)
	f, err := policy.Parse([]byte(fmt.Sprintf(`version: 1
chains:
  BTC:
    destinations: ["%s"]
    maxAmount: 1000000
    maxFee: 10000
    maxDaily: "1000000000000000000"
rules:
  - name: no-dust
    expr: "amount >= 546.0"
`, dest)))
	if err != nil {
		b.Fatal(err)
	}
	j, err := journal.OpenFile(filepath.Join(b.TempDir(), "journal.db"), journal.FileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	p, err := policy.New(f, j)
	if err != nil {
		b.Fatal(err)
	}
	p.CacheTotals(10 * time.Second)
	ctx := context.Background()
	ids := []string{"w0"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		in := policy.Input{ID: strconv.Itoa(i), Chain: "BTC", Testnet: true, SignatureIDs: ids, View: v, Now: time.Now()}
		if d := p.Evaluate(ctx, in, policy.Options{DryRun: true, FeeLater: true}); !d.Allowed {
			b.Fatal(d)
		}
		in.View = &signed
		if d := p.Evaluate(ctx, in, policy.Options{Unchanged: true}); !d.Allowed {
			b.Fatal(d)
		}
	}
}
