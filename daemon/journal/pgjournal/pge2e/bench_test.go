package pge2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkDrain drains the same kind of queue (GOKMS_BENCH_BTC BTC
// pending transactions, default 1,000, into btcd regtest) with real daemon
// processes: one on the local journal file, one on PostgreSQL, three on
// PostgreSQL (audit trail in the state, and in a file per daemon). Each Tatum call takes GOKMS_BENCH_LATENCY (default 20ms, a
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
	// postgres-*: the audit trail in the state (the default with a
	// PostgreSQL state); postgres-*-auditfile: each daemon's trail in its
	// own file, as the local journal's daemon writes it (the state's cost
	// alone).
	for _, c := range []struct {
		name      string
		pg        bool
		daemons   int
		auditFile bool
	}{{"local-1", false, 1, false}, {"postgres-1", true, 1, false}, {"postgres-3", true, 3, false},
		{"postgres-1-auditfile", true, 1, true}, {"postgres-3-auditfile", true, 3, true}} {
		b.Run(c.name, func(b *testing.B) {
			var total, daemonCPU time.Duration
			var busy, all uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				q := w.newQueueHeld(b, n, 0, latency, true)
				o := daemonOpts{period: "0.2", chains: "BTC"}
				if c.pg {
					o.state = w.newDB(b).DSN()
				}
				if c.auditFile {
					o.args = []string{"--audit", "audit.log"} // in the daemon's own directory
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
				busy0, all0 := cpuTicks()
				q.release()
				total += waitDrained(b, q, 10*time.Minute, ds...)
				busy1, all1 := cpuTicks()
				b.StopTimer()
				busy += busy1 - busy0
				all += all1 - all0
				for _, p := range ds {
					p.stop(b)
					if st := p.cmd.ProcessState; st != nil {
						daemonCPU += st.UserTime() + st.SystemTime()
					}
				}
				if _, err := w.node.RPC.Generate(1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "tx/s")
			// Whether the machine was saturated: the share of all CPUs
			// busy during the drains (every process, not only gokms), and
			// the daemons' own CPU per transaction (start and stop included).
			if all > 0 {
				b.ReportMetric(100*float64(busy)/float64(all), "cpu-busy-%")
			}
			b.ReportMetric(float64(daemonCPU.Microseconds())/1000/float64(n*b.N), "daemon-cpu-ms/tx")
		})
	}
}

// cpuTicks reads the machine's busy and total CPU time (Linux /proc/stat;
// zero elsewhere).
func cpuTicks() (busy, all uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		all += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, all
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}
