package pgjournal

import "github.com/prometheus/client_golang/prometheus"

// metrics are this instance's view of the shared state: every daemon
// exports its own (no labels: never an id, an owner or an address).
type metrics struct {
	claimsWon         prometheus.Counter
	claimsDone        prometheus.Counter
	claimsLost        prometheus.Counter
	leaseExpiries     prometheus.Counter
	recoveries        prometheus.Counter
	fenced            prometheus.Counter
	reservationsEnded prometheus.Counter
	retries           prometheus.Counter
	auditRetries      prometheus.Counter
	all               []prometheus.Counter
}

func newMetrics() *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "gokms", Subsystem: "state", Name: name, Help: help})
	}
	m := &metrics{
		claimsWon:         c("claims_won_total", "Pending transactions this daemon claimed."),
		claimsDone:        c("claims_completed_total", "Claims answered with a completed entry (finished by this or another daemon): nothing to do, nothing written."),
		claimsLost:        c("claims_lost_total", "Claims refused because another daemon holds a live lease on the pending transaction."),
		leaseExpiries:     c("lease_expiries_total", "Claims that took a pending transaction over from another daemon whose lease had expired."),
		recoveries:        c("recoveries_total", "Claims that found a signed but unfinished transaction in the journal: resent or completed, never signed again."),
		fenced:            c("fenced_writes_total", "Writes refused because this daemon's lease was superseded (it stalled past its lease)."),
		reservationsEnded: c("nonce_reservations_ended_total", "Expired claims ended to hand their reserved EVM nonce to another pending transaction (their daemon died or stalled; it can no longer record)."),
		retries:           c("retries_total", "Operations retried because the database was unreachable or restarting."),
		auditRetries:      c("audit_rechained_total", "Audit appends chained again because another daemon appended first."),
	}
	m.all = []prometheus.Counter{m.claimsWon, m.claimsDone, m.claimsLost, m.leaseExpiries, m.recoveries, m.fenced, m.reservationsEnded, m.retries, m.auditRetries}
	return m
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.all {
		c.Describe(ch)
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.all {
		c.Collect(ch)
	}
}
