// Package daemon is gokms's daemon mode: every period it asks the Tatum API
// for the pending transactions of the wallets in the backend, checks each
// with the operator's four-eye endpoint, signs it locally through package
// signing, broadcasts it through the Tatum API and reports failures, as
// tatum-kms does, but concurrently and with the safety rules below.
//
// Safety rules:
//   - a pending transaction is in flight at most once at a time;
//   - it counts as done only once a broadcast returned a txId (and it is
//     marked complete if Tatum did not do so itself);
//   - after a broadcast whose outcome is unknown (tatum.ErrAmbiguous) it is
//     never signed again: the next cycle asks GET /v3/kms/{id} first and, if
//     Tatum still shows no txId, resends the very same bytes, so a node can
//     never accept two different transactions for one pending id;
//   - one bad transaction never stops the others;
//   - on shutdown (the Run context ends) no new transaction is started, and
//     those in flight finish with their own deadline;
//   - no secret reaches a log line, an error report or a metric.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/tatum"
)

// API is the part of the Tatum API the daemon uses; *tatum.Client implements it.
type API interface {
	Pending(ctx context.Context, chain string, signatureIDs []string) ([]tatum.PendingTransaction, error)
	Get(ctx context.Context, id string) (tatum.PendingTransaction, error)
	Broadcast(ctx context.Context, chain, txData, pendingID string) (tatum.BroadcastResult, error)
	BroadcastWithdrawal(ctx context.Context, currency, withdrawalID, pendingID, txData string) (tatum.BroadcastResult, error)
	Complete(ctx context.Context, id, txID string) error
	ReportErrors(ctx context.Context, errs []tatum.ErrorReport) error
}

var _ API = (*tatum.Client)(nil)

// SignFunc signs one request; signing.Sign by default.
type SignFunc func(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error)

// Config configures a Daemon. Backend and API are required.
type Config struct {
	Backend backend.SecretBackend
	API     API
	// Chains to poll; default every chain with a registered signing.Signer.
	Chains  []string
	Testnet bool
	// Period between the starts of two cycles; default 5 s.
	Period time.Duration
	// Wallets, if set, are the signatureIds polled for every chain instead
	// of the backend's list (tatum-kms --wallets).
	Wallets []string
	// TransactionIDs, if set, restricts signing to these pending ids
	// (tatum-kms --transactionIds); others are skipped and logged.
	TransactionIDs []string
	// ExternalURL enables the four-eye check: GET or POST
	// {ExternalURL}/{pending id} must answer 2xx before a transaction is
	// signed. Mandatory on mainnet.
	ExternalURL       string
	ExternalURLMethod string // GET (default) or POST (body: the pending transaction JSON)
	// HTTPClient for the four-eye check; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Concurrency bounds the transactions processed at once; default 8.
	Concurrency int
	// TxTimeout bounds the processing of one transaction (sign, broadcast,
	// complete), also when shutting down; default 2 min.
	TxTimeout time.Duration
	Logger    *slog.Logger
	// Metrics receives the daemon's counters; default a fresh NewMetrics().
	Metrics *Metrics
	// Sign replaces signing.Sign (tests).
	Sign SignFunc
	// Keys replaces the signing.Resolver over Backend (tests). It must
	// remain valid across cycles.
	Keys signing.KeySource
}

// Daemon runs cycles. Create it with New.
type Daemon struct {
	cfg      Config
	log      *slog.Logger
	m        *Metrics
	sign     SignFunc
	resolver *signing.Resolver // nil when cfg.Keys is set
	keys     signing.KeySource
	txFilter map[string]bool
	method   string
	hc       *http.Client

	cycleMu sync.Mutex // cycles never overlap

	mu        sync.Mutex
	inFlight  map[string]bool
	ambiguous map[string]sentTx // broadcast outcome unknown: resend these bytes, never re-sign
	toCmplete map[string]string // broadcast done, Complete failed: pending id -> txId
}

type sentTx struct {
	chain, withdrawalID, txData string
}

// Errors for configuration problems.
var (
	ErrNoExternalURL = errors.New("--externalUrl is mandatory on mainnet: the four-eye principle must confirm every transaction before it is signed")
)

// New checks cfg and returns a Daemon.
func New(cfg Config) (*Daemon, error) {
	if cfg.Backend == nil && cfg.Keys == nil {
		return nil, errors.New("daemon: no backend")
	}
	if cfg.API == nil {
		return nil, errors.New("daemon: no Tatum API client")
	}
	if !cfg.Testnet && strings.TrimSpace(cfg.ExternalURL) == "" {
		return nil, ErrNoExternalURL
	}
	if cfg.Period <= 0 {
		cfg.Period = 5 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.TxTimeout <= 0 {
		cfg.TxTimeout = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	d := &Daemon{
		cfg: cfg, log: cfg.Logger, m: cfg.Metrics, sign: cfg.Sign, keys: cfg.Keys,
		inFlight: map[string]bool{}, ambiguous: map[string]sentTx{}, toCmplete: map[string]string{},
	}
	if d.m == nil {
		d.m = NewMetrics()
	}
	if d.sign == nil {
		d.sign = signing.Sign
	}
	if d.keys == nil {
		d.resolver = signing.NewResolver(cfg.Backend, cfg.Testnet)
		d.keys = d.resolver
	}
	// Chains: upper-case, deduplicated, each with a signer and a broadcast endpoint.
	if len(cfg.Chains) == 0 {
		cfg.Chains = signing.Chains()
	}
	var chains []string
	for _, c := range cfg.Chains {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "" || slices.Contains(chains, c) {
			continue
		}
		if _, err := signing.For(c); err != nil {
			return nil, fmt.Errorf("--chain %s: gokms cannot sign it (it signs %s)", c, strings.Join(signing.Chains(), ", "))
		}
		if _, err := tatum.BroadcastPath(c); err != nil {
			return nil, fmt.Errorf("--chain %s: %w", c, err)
		}
		chains = append(chains, c)
	}
	if len(chains) == 0 {
		return nil, errors.New("daemon: no chain to poll")
	}
	d.cfg.Chains = chains
	if len(cfg.TransactionIDs) > 0 {
		d.txFilter = map[string]bool{}
		for _, id := range cfg.TransactionIDs {
			if id = strings.TrimSpace(id); id != "" {
				d.txFilter[id] = true
			}
		}
	}
	d.method = strings.ToUpper(strings.TrimSpace(cfg.ExternalURLMethod))
	if d.method == "" {
		d.method = http.MethodGet
	}
	if d.method != http.MethodGet && d.method != http.MethodPost {
		return nil, fmt.Errorf("--externalUrlMethod %q: want GET or POST", cfg.ExternalURLMethod)
	}
	d.cfg.ExternalURL = strings.TrimRight(strings.TrimSpace(cfg.ExternalURL), "/")
	d.hc = cfg.HTTPClient
	if d.hc == nil {
		d.hc = &http.Client{Timeout: 10 * time.Second}
	}
	return d, nil
}

// Chains returns the chains the daemon polls.
func (d *Daemon) Chains() []string { return slices.Clone(d.cfg.Chains) }

// Metrics returns the daemon's metrics.
func (d *Daemon) Metrics() *Metrics { return d.m }

// Check verifies at start that the backend answers with the credentials it
// was opened with: it lists the records and reads one of the polled chains'
// (then zeroes it), so a wrong password or a revoked token stops the daemon
// at once instead of at the first signature.
func (d *Daemon) Check(ctx context.Context) error {
	if d.cfg.Backend == nil {
		return nil
	}
	metas, err := d.cfg.Backend.List(ctx)
	if err != nil {
		return fmt.Errorf("check wallet store: %w", err)
	}
	for _, m := range metas {
		if m.Testnet != d.cfg.Testnet || !slices.Contains(d.cfg.Chains, strings.ToUpper(m.Chain)) {
			continue
		}
		rec, err := d.cfg.Backend.Get(ctx, m.ID)
		if err != nil {
			return fmt.Errorf("check wallet store: read wallet %s: %w", m.ID, err)
		}
		rec.Zero()
		break
	}
	return nil
}

// CycleStats summarises one cycle.
type CycleStats struct {
	Polled     int // chains polled successfully
	PollErrors int // chains whose poll failed
	Pending    int // pending transactions seen
	Broadcast  int // broadcast (or found broadcast) and done
	Failed     int // failed and reported
	Skipped    int // filtered, refused by the four-eye check, already in flight, or left for later
}

// Err summarises the failures of a cycle, or nil.
func (s CycleStats) Err() error {
	var parts []string
	if s.PollErrors > 0 {
		parts = append(parts, fmt.Sprintf("%d chain poll(s) failed", s.PollErrors))
	}
	if s.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d pending transaction(s) failed", s.Failed, s.Pending))
	}
	if len(parts) == 0 {
		return nil
	}
	return errors.New(strings.Join(parts, ", ") + " (see the log)")
}

// Run runs a cycle every period until ctx ends, then returns nil once the
// transactions in flight are done.
func (d *Daemon) Run(ctx context.Context) error {
	d.log.Info("daemon started", "chains", strings.Join(d.cfg.Chains, ","), "testnet", d.cfg.Testnet,
		"period", d.cfg.Period.String(), "concurrency", d.cfg.Concurrency, "fourEye", d.cfg.ExternalURL != "")
	t := time.NewTicker(d.cfg.Period)
	defer t.Stop()
	for {
		d.RunCycle(ctx)
		select {
		case <-ctx.Done():
			d.log.Info("daemon stopped")
			return nil
		case <-t.C:
		}
	}
}

// RunOnce runs one cycle (tatum-kms --runOnce) and returns an error if a
// poll or a transaction failed.
func (d *Daemon) RunOnce(ctx context.Context) error {
	return d.RunCycle(ctx).Err()
}

// job is one pending transaction to process.
type job struct {
	tx tatum.PendingTransaction
}

// RunCycle polls every chain and processes what is pending. When ctx ends
// it starts nothing new; transactions already started run to completion
// under their own timeout.
func (d *Daemon) RunCycle(ctx context.Context) CycleStats {
	d.cycleMu.Lock()
	defer d.cycleMu.Unlock()
	start := time.Now()
	var st CycleStats
	var stMu sync.Mutex
	// Work already started must not die with ctx (SIGTERM): it gets its own
	// deadline instead.
	work := context.WithoutCancel(ctx)

	ids, err := d.walletIDs(ctx)
	if err != nil {
		d.log.Error("list wallets", "error", err.Error())
		st.PollErrors = len(d.cfg.Chains)
		d.m.cycleDone(start, false)
		return st
	}
	var jobs []job
	seen := map[string]bool{}
	for _, chain := range d.cfg.Chains {
		if ctx.Err() != nil {
			break
		}
		cids := ids[chain]
		if len(cids) == 0 {
			continue
		}
		t0 := time.Now()
		pctx, cancel := context.WithTimeout(ctx, d.cfg.TxTimeout)
		txs, err := d.cfg.API.Pending(pctx, chain, cids)
		cancel()
		d.m.pollSeconds.WithLabelValues(chain).Observe(time.Since(t0).Seconds())
		if err != nil {
			st.PollErrors++
			d.m.failed.WithLabelValues(chain, "poll").Inc()
			d.log.Error("get pending transactions", "chain", chain, "wallets", len(cids), "error", err.Error())
			continue
		}
		st.Polled++
		d.log.Debug("pending transactions", "chain", chain, "wallets", len(cids), "pending", len(txs))
		for _, tx := range txs {
			if tx.Chain == "" {
				tx.Chain = chain
			}
			if seen[tx.ID] {
				continue // listed twice (several chains or wallets): once is enough
			}
			seen[tx.ID] = true
			d.m.pending.WithLabelValues(chainLabel(tx.Chain)).Inc()
			st.Pending++
			if d.txFilter != nil && !d.txFilter[tx.ID] {
				st.Skipped++
				d.m.skipped.WithLabelValues(chainLabel(tx.Chain), "filtered").Inc()
				d.log.Info("transaction skipped: not in --transactionIds", "id", tx.ID, "chain", tx.Chain)
				continue
			}
			jobs = append(jobs, job{tx: tx})
		}
	}

	if st.PollErrors == 0 && ctx.Err() == nil {
		d.prune(seen)
	}

	var (
		wg      sync.WaitGroup
		reports []tatum.ErrorReport
		sem     = make(chan struct{}, d.cfg.Concurrency)
	)
dispatch:
	for _, j := range jobs {
		select {
		case <-ctx.Done():
			break dispatch
		case sem <- struct{}{}:
		}
		if ctx.Err() != nil {
			<-sem
			break
		}
		if !d.claim(j.tx.ID) {
			<-sem
			stMu.Lock()
			st.Skipped++
			stMu.Unlock()
			d.m.skipped.WithLabelValues(chainLabel(j.tx.Chain), "in_flight").Inc()
			continue
		}
		wg.Add(1)
		go func(j job) {
			defer wg.Done()
			defer func() { <-sem }()
			defer d.release(j.tx.ID)
			tctx, cancel := context.WithTimeout(work, d.cfg.TxTimeout)
			defer cancel()
			out, rerr := d.safeProcess(tctx, j.tx)
			stMu.Lock()
			defer stMu.Unlock()
			switch out {
			case outDone:
				st.Broadcast++
			case outSkipped:
				st.Skipped++
			case outFailed:
				st.Failed++
				reports = append(reports, tatum.ErrorReport{SignatureID: j.tx.ID, Error: rerr.Error()})
			}
		}(j)
	}
	wg.Wait()
	if d.resolver != nil {
		d.resolver.Reset() // zero every key of this cycle
	}
	if len(reports) > 0 {
		rctx, cancel := context.WithTimeout(work, d.cfg.TxTimeout)
		if err := d.cfg.API.ReportErrors(rctx, reports); err != nil {
			d.log.Error("report failed transactions to Tatum", "count", len(reports), "error", err.Error())
		} else {
			d.log.Info("reported failed transactions to Tatum", "count", len(reports))
		}
		cancel()
	}
	d.m.cycleDone(start, st.Polled > 0 || st.PollErrors == 0)
	if st.Pending > 0 || st.PollErrors > 0 {
		d.log.Info("cycle done", "pending", st.Pending, "broadcast", st.Broadcast, "failed", st.Failed,
			"skipped", st.Skipped, "pollErrors", st.PollErrors, "duration", time.Since(start).String())
	}
	return st
}

// walletIDs returns the signatureIds to poll per chain: --wallets for every
// chain, else the backend's records of that chain and network (read each
// cycle, so wallets stored meanwhile are picked up).
func (d *Daemon) walletIDs(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	if len(d.cfg.Wallets) > 0 {
		for _, c := range d.cfg.Chains {
			out[c] = d.cfg.Wallets
		}
		return out, nil
	}
	metas, err := d.cfg.Backend.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range metas {
		if m.Testnet != d.cfg.Testnet {
			continue
		}
		c := strings.ToUpper(m.Chain)
		out[c] = append(out[c], m.ID)
	}
	return out, nil
}

func (d *Daemon) claim(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inFlight[id] {
		return false
	}
	d.inFlight[id] = true
	d.m.inFlight.Inc()
	return true
}

func (d *Daemon) release(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inFlight, id)
	d.m.inFlight.Dec()
}

type outcome int

const (
	outDone outcome = iota
	outSkipped
	outFailed
)

// safeProcess is process with a panic (a bug in a signer, say) turned into
// a failure of that transaction alone.
func (d *Daemon) safeProcess(ctx context.Context, tx tatum.PendingTransaction) (out outcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			d.m.failed.WithLabelValues(chainLabel(tx.Chain), "sign").Inc()
			d.log.Error("internal error while processing a pending transaction", "id", tx.ID, "chain", tx.Chain, "panic", fmt.Sprint(r))
			out, err = outFailed, fmt.Errorf("internal error in gokms while processing the transaction: %v", r)
		}
	}()
	return d.process(ctx, tx)
}

// process takes one pending transaction through four-eye check, signing,
// broadcast and completion.
func (d *Daemon) process(ctx context.Context, tx tatum.PendingTransaction) (outcome, error) {
	chain := chainLabel(tx.Chain)
	log := d.log.With("id", tx.ID, "chain", tx.Chain)
	if tx.WithdrawalID != "" {
		log = log.With("withdrawalId", tx.WithdrawalID)
	}
	if tx.TxID != "" {
		log.Info("transaction already broadcast", "txId", tx.TxID)
		d.m.skipped.WithLabelValues(chain, "already_broadcast").Inc()
		return outSkipped, nil
	}
	// Earlier cycles may have left this id half done.
	d.mu.Lock()
	txid, needComplete := d.toCmplete[tx.ID]
	prev, wasAmbiguous := d.ambiguous[tx.ID]
	d.mu.Unlock()
	if needComplete {
		return d.complete(ctx, log, tx, txid)
	}
	if wasAmbiguous {
		pt, err := d.cfg.API.Get(ctx, tx.ID)
		if err != nil {
			log.Warn("earlier broadcast outcome still unknown: could not read the transaction, leaving it for the next cycle", "error", err.Error())
			d.m.skipped.WithLabelValues(chain, "ambiguous").Inc()
			return outSkipped, nil
		}
		if pt.TxID != "" {
			log.Info("earlier broadcast went through", "txId", pt.TxID)
			d.forget(tx.ID)
			d.m.broadcast.WithLabelValues(chain).Inc()
			return outDone, nil
		}
		log.Info("earlier broadcast did not reach the chain according to Tatum; resending the same signed transaction")
		return d.broadcast(ctx, log, tx, prev.txData)
	}

	if d.cfg.ExternalURL != "" {
		if err := d.fourEye(ctx, tx); err != nil {
			log.Warn("four-eye check refused the transaction, not signing it", "externalUrl", d.cfg.ExternalURL, "error", err.Error())
			d.m.skipped.WithLabelValues(chain, "four_eye").Inc()
			return outSkipped, nil
		}
	}

	req := signing.Request{
		ID: tx.ID, Chain: strings.ToUpper(tx.Chain), Testnet: d.cfg.Testnet,
		SerializedTransaction: tx.SerializedTransaction, Hashes: tx.Hashes, Index: tx.Index,
		WithdrawalID: tx.WithdrawalID, WithdrawalResponses: tx.WithdrawalResponses,
	}
	for _, s := range tx.Signatures {
		req.Signatures = append(req.Signatures, signing.SignatureRef{ID: s.ID, Index: s.Index})
	}
	t0 := time.Now()
	txData, err := d.sign(ctx, req, d.keys)
	d.m.signSeconds.WithLabelValues(chain).Observe(time.Since(t0).Seconds())
	if err != nil {
		d.m.failed.WithLabelValues(chain, "sign").Inc()
		log.Error("could not sign pending transaction", "error", err.Error())
		return outFailed, err
	}
	d.m.signed.WithLabelValues(chain).Inc()
	return d.broadcast(ctx, log, tx, txData)
}

func (d *Daemon) broadcast(ctx context.Context, log *slog.Logger, tx tatum.PendingTransaction, txData string) (outcome, error) {
	chain := chainLabel(tx.Chain)
	t0 := time.Now()
	var (
		res tatum.BroadcastResult
		err error
	)
	if tx.WithdrawalID != "" {
		res, err = d.cfg.API.BroadcastWithdrawal(ctx, strings.ToUpper(tx.Chain), tx.WithdrawalID, tx.ID, txData)
	} else {
		res, err = d.cfg.API.Broadcast(ctx, tx.Chain, txData, tx.ID)
	}
	d.m.broadcastSeconds.WithLabelValues(chain).Observe(time.Since(t0).Seconds())
	if errors.Is(err, tatum.ErrAmbiguous) {
		d.mu.Lock()
		d.ambiguous[tx.ID] = sentTx{chain: tx.Chain, withdrawalID: tx.WithdrawalID, txData: txData}
		d.mu.Unlock()
		d.m.skipped.WithLabelValues(chain, "ambiguous").Inc()
		log.Warn("broadcast outcome unknown; the next cycle checks the transaction before anything is resent", "error", err.Error())
		return outSkipped, nil
	}
	if err != nil {
		d.forget(tx.ID)
		d.m.failed.WithLabelValues(chain, "broadcast").Inc()
		log.Error("broadcast failed", "error", err.Error())
		return outFailed, err
	}
	d.forget(tx.ID)
	if !res.Completed {
		return d.complete(ctx, log, tx, res.TxID)
	}
	d.m.broadcast.WithLabelValues(chain).Inc()
	log.Info("transaction signed and broadcast", "txId", res.TxID, "duration", time.Since(t0).String())
	return outDone, nil
}

// complete marks a broadcast transaction complete; if that fails it is
// retried next cycle instead of broadcasting again.
func (d *Daemon) complete(ctx context.Context, log *slog.Logger, tx tatum.PendingTransaction, txID string) (outcome, error) {
	chain := chainLabel(tx.Chain)
	if err := d.cfg.API.Complete(ctx, tx.ID, txID); err != nil {
		d.mu.Lock()
		d.toCmplete[tx.ID] = txID
		d.mu.Unlock()
		d.m.failed.WithLabelValues(chain, "complete").Inc()
		log.Error("transaction broadcast, but marking it complete failed; retrying next cycle", "txId", txID, "error", err.Error())
		return outSkipped, nil
	}
	d.mu.Lock()
	delete(d.toCmplete, tx.ID)
	d.mu.Unlock()
	d.m.broadcast.WithLabelValues(chain).Inc()
	log.Info("transaction signed, broadcast and marked complete", "txId", txID)
	return outDone, nil
}

// prune drops the half-done state of transactions Tatum no longer lists as
// pending (completed or deleted elsewhere), once every poll succeeded.
func (d *Daemon) prune(listed map[string]bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id := range d.ambiguous {
		if !listed[id] {
			delete(d.ambiguous, id)
		}
	}
	for id := range d.toCmplete {
		if !listed[id] {
			delete(d.toCmplete, id)
		}
	}
}

func (d *Daemon) forget(id string) {
	d.mu.Lock()
	delete(d.ambiguous, id)
	d.mu.Unlock()
}

// fourEye asks the operator's endpoint whether the transaction is genuine:
// GET {url}/{id}, or POST {url}/{id} with the pending transaction as JSON,
// as tatum-kms does. Anything but a 2xx answer is a refusal.
func (d *Daemon) fourEye(ctx context.Context, tx tatum.PendingTransaction) error {
	u := d.cfg.ExternalURL + "/" + tx.ID
	var req *http.Request
	var err error
	if d.method == http.MethodPost {
		body, merr := json.Marshal(tx)
		if merr != nil {
			return merr
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(string(body)))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	}
	if err != nil {
		return err
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s %s answered %s", d.method, u, resp.Status)
	}
	return nil
}

// chainLabel bounds metric label values to known chain codes.
func chainLabel(c string) string {
	c = strings.ToUpper(c)
	if _, err := signing.For(c); err != nil {
		return "other"
	}
	return c
}
