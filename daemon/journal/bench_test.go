package journal_test

import (
	"context"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gokms/gokms/daemon/journal"
)

// BenchmarkRecordFlow: what the daemon asks of the journal for one pending
// transaction (claim, record, broadcast, completed, release), from a
// number of workers at once, on the file journal and the in-memory one.
// Reported: transactions per second.
func BenchmarkRecordFlow(b *testing.B) {
	signed := strings.Repeat("ab", 300) // a typical signed transaction's size
	for _, kind := range []string{"memory", "file"} {
		for _, workers := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("%s/workers=%d", kind, workers), func(b *testing.B) {
				var j journal.Journal = journal.NewMemory()
				if kind == "file" {
					f, err := journal.OpenFile(filepath.Join(b.TempDir(), "j.db"), journal.FileOptions{})
					if err != nil {
						b.Fatal(err)
					}
					j = f
				}
				defer j.Close()
				ctx := context.Background()
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				start, cpu0 := time.Now(), processCPU()
				for range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := next.Add(1)
							if i > int64(b.N) {
								return
							}
							id := fmt.Sprintf("%024x", i)
							l, _, err := j.Claim(ctx, id, "bench", time.Minute)
							if err == nil {
								err = j.Record(ctx, l, journal.Entry{ID: id, Chain: "BTC", SignedTx: signed, TxID: id})
							}
							if err == nil {
								err = j.MarkBroadcast(ctx, l, id)
							}
							if err == nil {
								err = j.MarkCompleted(ctx, l, id)
							}
							if err == nil {
								err = j.Release(ctx, l)
							}
							if err != nil {
								panic(err)
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
				// The CPU the journal costs the daemon per transaction (its
				// drain spends about 1 ms per BTC transaction signing).
				b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/tx")
			})
		}
	}
}

// processCPU is the CPU time (user + system) this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSumSince: one rolling total read (what the policy does for a
// maxDaily key at every refresh) from a file journal holding the counters
// of 100 keys, 1,000 adds each within the window. Reported: µs per read.
func BenchmarkSumSince(b *testing.B) {
	const keys, perKey = 100, 1000
	path := filepath.Join(b.TempDir(), "j.db")
	j, err := journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	for k := range keys {
		for r := range perKey {
			at := now.Add(-time.Duration(r) * time.Minute) // the last 17 hours
			if err := j.AddLater(ctx, fmt.Sprint("policy/wallet/w", k), fmt.Sprintf("%024x", r), at, big.NewInt(int64(r))); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := j.Close(); err != nil { // commits the queued adds
		b.Fatal(err)
	}
	if j, err = journal.OpenFile(path, journal.FileOptions{}); err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	want := big.NewInt(perKey * (perKey - 1) / 2)
	b.ResetTimer()
	for range b.N {
		s, err := j.SumSince(ctx, "policy/wallet/w42", now.Add(-24*time.Hour))
		if err != nil || s.Cmp(want) != 0 {
			b.Fatalf("sum %v (%v), want %v", s, err, want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "us/read")
}
