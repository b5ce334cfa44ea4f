package pge2e

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkDrain drains the same kind of queue (GOKMS_BENCH_BTC BTC
// pending transactions, default 1,000, into btcd regtest) with real daemon
// processes: one on the local journal file, one on PostgreSQL, three on
// PostgreSQL. Each Tatum call takes GOKMS_BENCH_LATENCY (default 20ms, a
// fast remote API; 0 for none). It reports pending transactions per
// second; bench/state.sh prints the ratios. Run with -benchtime=1x:
//
//	go test -run '^$' -bench Drain -benchtime=1x ./daemon/journal/pgjournal/pge2e/
func BenchmarkDrain(b *testing.B) {
	need(b)
	n := envInt("GOKMS_BENCH_BTC", 1000)
	latency := 20 * time.Millisecond
	if v := os.Getenv("GOKMS_BENCH_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("GOKMS_BENCH_LATENCY %q: %v", v, err)
		}
		latency = d
	}
	for _, c := range []struct {
		name    string
		pg      bool
		daemons int
	}{{"local-1", false, 1}, {"postgres-1", true, 1}, {"postgres-3", true, 3}} {
		b.Run(c.name, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				q := w.newQueueHeld(b, n, 0, latency, true)
				o := daemonOpts{period: "0.2", chains: "BTC"}
				if c.pg {
					o.state = w.newDB(b).DSN()
				}
				// The daemons start (state open, store checked, polling an
				// empty queue) before the clock does: the drain alone is timed.
				var ds []*proc
				for k := 0; k < c.daemons; k++ {
					p := w.startDaemon(b, fmt.Sprintf("%s-%d", c.name, k), q, o)
					p.metrics(b)
					ds = append(ds, p)
				}
				b.StartTimer()
				q.release()
				total += waitDrained(b, q, 10*time.Minute, ds...)
				b.StopTimer()
				for _, p := range ds {
					p.stop(b)
				}
				if _, err := w.node.RPC.Generate(1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "tx/s")
		})
	}
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}
