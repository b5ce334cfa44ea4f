package pge2e

import (
	"fmt"
	"os"
	"path/filepath"
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
			var cpu procCPU // during the drains, per process kind
			var calls, claims, rechains float64
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
				cpu0 := readProcCPU(ds)
				q.release()
				total += waitDrained(b, q, 10*time.Minute, ds...)
				busy1, all1 := cpuTicks()
				b.StopTimer()
				cpu.add(readProcCPU(ds), cpu0)
				calls += float64(len(q.srv.Requests()))
				for _, p := range ds {
					m := p.metrics(b)
					claims += m["gokms_state_claims_won_total"] + m["gokms_state_claims_lost_total"] + m["gokms_state_claims_completed_total"]
					rechains += m["gokms_state_audit_rechained_total"]
				}
				busy += busy1 - busy0
				all += all1 - all0
				for _, p := range ds {
					p.stop(b)
					if d := profileDir(); d != "" {
						_ = os.WriteFile(filepath.Join(d, p.name+".log"), []byte(p.out.String()), 0o600)
					}
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
			// Where the CPU of the drain went (the daemons, PostgreSQL with
			// its backends, btcd, this process: the Tatum stand-in), and
			// the calls each transaction cost.
			tx := float64(n * b.N)
			b.ReportMetric(cpu.daemons.Seconds()*1000/tx, "drain-daemons-cpu-ms/tx")
			b.ReportMetric(cpu.pg.Seconds()*1000/tx, "drain-pg-cpu-ms/tx")
			b.ReportMetric(cpu.btcd.Seconds()*1000/tx, "drain-btcd-cpu-ms/tx")
			b.ReportMetric(cpu.self.Seconds()*1000/tx, "drain-standin-cpu-ms/tx")
			b.ReportMetric(calls/tx, "tatum-calls/tx")
			b.ReportMetric(claims/tx, "claims/tx")
			b.ReportMetric(rechains/tx, "audit-rechains/tx") // another daemon appended to the audit chain first
		})
	}
}

// procCPU is CPU time by process kind.
type procCPU struct{ daemons, pg, btcd, self time.Duration }

func (c *procCPU) add(now, then procCPU) {
	c.daemons += now.daemons - then.daemons
	c.pg += now.pg - then.pg
	c.btcd += now.btcd - then.btcd
	c.self += now.self - then.self
}

// readProcCPU reads the CPU time the daemons, PostgreSQL (the postmaster,
// its live backends and those it reaped), btcd and this process have used
// so far (Linux /proc; zero elsewhere).
func readProcCPU(ds []*proc) procCPU {
	var c procCPU
	for _, p := range ds {
		c.daemons += pidCPU(p.cmd.Process.Pid, false)
	}
	if b, err := os.ReadFile(filepath.Join(w.pg.DataDir, "postmaster.pid")); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if pm, err := strconv.Atoi(strings.TrimSpace(line)); err == nil {
			c.pg = pidCPU(pm, true)
			ents, _ := os.ReadDir("/proc")
			for _, e := range ents {
				pid, err := strconv.Atoi(e.Name())
				if err != nil {
					continue
				}
				if f := procStat(pid); len(f) > 13 && f[1] == strconv.Itoa(pm) {
					c.pg += pidCPU(pid, false)
				}
			}
		}
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cl, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && strings.Contains(string(cl), w.node.Dir) &&
			strings.HasSuffix(strings.Split(string(cl), "\x00")[0], "btcd") {
			c.btcd += pidCPU(pid, false)
		}
	}
	c.self = pidCPU(os.Getpid(), false)
	return c
}

// procStat is /proc/pid/stat's fields after the command name: [0] state,
// [1] ppid, ... [11] utime, [12] stime, [13] cutime, [14] cstime.
func procStat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	return strings.Fields(s)
}

// pidCPU is a process's user and system time (with reaped children's:
// PostgreSQL's exited backends), at the usual 100 ticks per second.
func pidCPU(pid int, children bool) time.Duration {
	f := procStat(pid)
	if len(f) < 15 {
		return 0
	}
	var t uint64
	last := 12
	if children {
		last = 14
	}
	for _, v := range f[11 : last+1] {
		n, _ := strconv.ParseUint(v, 10, 64)
		t += n
	}
	return time.Duration(t) * 10 * time.Millisecond
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

// profileDir is GOKMS_BENCH_CPUPROFILE: with it, gokms is built with
// -tags gokms_cpuprofile and every daemon writes its CPU profile there
// (<name>.pprof, the last run of each name).
func profileDir() string { return os.Getenv("GOKMS_BENCH_CPUPROFILE") }

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

// logLevel is the daemons' log level: info, or GOKMS_BENCH_LOG_LEVEL.
func logLevel() string {
	if v := os.Getenv("GOKMS_BENCH_LOG_LEVEL"); v != "" {
		return v
	}
	return "info"
}
