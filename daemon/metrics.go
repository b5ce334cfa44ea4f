package daemon

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the daemon's Prometheus metrics, in a registry of their own
// (so several daemons can live in one test binary). Labels are chain codes
// and fixed stage/reason names: never an id, an address or a secret.
type Metrics struct {
	reg *prometheus.Registry

	pending          *prometheus.CounterVec
	signed           *prometheus.CounterVec
	broadcast        *prometheus.CounterVec
	failed           *prometheus.CounterVec
	skipped          *prometheus.CounterVec
	signSeconds      *prometheus.HistogramVec
	broadcastSeconds *prometheus.HistogramVec
	pollSeconds      *prometheus.HistogramVec
	cycleSeconds     prometheus.Histogram
	inFlight         prometheus.Gauge
	unsignedWallets  *prometheus.GaugeVec
	unsignedReported *prometheus.CounterVec
	lastCycle        prometheus.Gauge

	mu      sync.Mutex
	started time.Time
	lastEnd time.Time
	lastOK  bool
	cycles  int
}

// NewMetrics creates the metrics with Go runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), started: time.Now()}
	f := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "gokms", Subsystem: "daemon", Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	h := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "gokms", Subsystem: "daemon", Name: name, Help: help, Buckets: buckets}, labels)
		m.reg.MustRegister(v)
		return v
	}
	m.pending = f("pending_seen_total", "Pending transactions returned by the Tatum API.", "chain")
	m.signed = f("signed_total", "Transactions signed.", "chain")
	m.broadcast = f("broadcast_total", "Transactions broadcast (or found broadcast) and complete.", "chain")
	m.failed = f("failed_total", "Failures by stage: poll, sign, broadcast, complete.", "chain", "stage")
	m.skipped = f("skipped_total", "Transactions not processed this cycle, by reason: filtered, four_eye, in_flight, ambiguous, already_broadcast.", "chain", "reason")
	m.unsignedReported = f("unsigned_reported_total", "Pending transactions of chains gokms cannot sign, reported to Tatum (once per id).", "chain")
	m.unsignedWallets = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "gokms", Subsystem: "daemon", Name: "unsigned_wallets",
		Help: "Stored wallets (of the daemon's network) of chains gokms cannot sign, at the last cycle."}, []string{"chain"})
	m.reg.MustRegister(m.unsignedWallets)
	m.signSeconds = h("sign_seconds", "Time to resolve keys and sign one transaction.", prometheus.ExponentialBuckets(0.0001, 2.5, 12), "chain")
	m.broadcastSeconds = h("broadcast_seconds", "Time of one broadcast call to the Tatum API.", prometheus.ExponentialBuckets(0.005, 2.5, 10), "chain")
	m.pollSeconds = h("poll_seconds", "Time of one pending-transactions call to the Tatum API.", prometheus.ExponentialBuckets(0.005, 2.5, 10), "chain")
	m.cycleSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "gokms", Subsystem: "daemon", Name: "cycle_seconds",
		Help: "Duration of one cycle (poll every chain, process everything pending).", Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 12)})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "gokms", Subsystem: "daemon", Name: "in_flight", Help: "Transactions being processed."})
	m.lastCycle = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "gokms", Subsystem: "daemon", Name: "last_cycle_timestamp_seconds", Help: "End of the last cycle, Unix time."})
	m.reg.MustRegister(m.cycleSeconds, m.inFlight, m.lastCycle,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry exposes the registry (for tests and embedding).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) cycleDone(start time.Time, ok bool) {
	now := time.Now()
	m.cycleSeconds.Observe(now.Sub(start).Seconds())
	m.lastCycle.Set(float64(now.Unix()))
	m.mu.Lock()
	m.lastEnd, m.lastOK = now, ok
	m.cycles++
	m.mu.Unlock()
}

// Handler serves /metrics (Prometheus) and /healthz for the daemon d:
// /healthz answers 200 while cycles complete (the last one ended within
// three periods plus a minute, or the first is still under way within that
// time) and at least one chain could be polled, else 503. The body is a
// small JSON status.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.m.reg, promhttp.HandlerOpts{Registry: d.m.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		m := d.m
		m.mu.Lock()
		ref := m.lastEnd
		if ref.IsZero() {
			ref = m.started
		}
		grace := 3*d.cfg.Period + time.Minute
		status, code := "ok", http.StatusOK
		switch {
		case time.Since(ref) > grace:
			status, code = "stale", http.StatusServiceUnavailable
		case m.cycles > 0 && !m.lastOK:
			status, code = "failing", http.StatusServiceUnavailable
		}
		body := map[string]any{"status": status, "cycles": m.cycles}
		if !m.lastEnd.IsZero() {
			body["lastCycleEnd"] = m.lastEnd.UTC().Format(time.RFC3339)
		}
		m.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	})
	return mux
}
