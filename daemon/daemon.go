// Package daemon is gokms's daemon mode: every period it asks the Tatum API
// for the pending transactions of the wallets in the backend, passes each
// through the approver chain (four-eye, then policy), signs it locally
// through package signing, journals it, broadcasts it through the Tatum API
// and reports failures, as tatum-kms does, but concurrently and with the
// safety rules below. The Tatum API is not trusted to be honest.
//
// Safety rules:
//   - a pending id must look like a Tatum id (24 lower-case hex digits) and
//     name the chain it was polled for, else it is refused and reported;
//   - a key signs only for the chain (or, with an explicit family opt-in,
//     the chain family) and network it was stored for, and with --wallets
//     only if it is in the list;
//   - every pending id is signed at most once, ever: before the broadcast
//     the signed bytes are journaled durably; a journaled id is never signed
//     again, only resent (the same bytes, after GET /v3/kms/{id} shows no
//     txId) or completed; a completed id the API lists again is refused and
//     reported; entries are completed only when Tatum shows a txId;
//   - EVM nonces come from the journal and the node's pending nonce, so a
//     restart neither reuses nor skips one, and a refusal frees its nonce;
//   - one bad transaction never stops the others;
//   - on shutdown (the Run context ends) no new transaction is started, and
//     those in flight finish with their own deadline;
//   - no secret reaches a log line, an error report or a metric.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/chain"
	"github.com/gokms/gokms/daemon/journal"
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

// SignFunc signs one request; Config.Signers.SignDetailed by default.
type SignFunc func(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error)

// Config configures a Daemon. Backend, API and Signers are required.
type Config struct {
	Backend backend.SecretBackend
	API     API
	// Signers sign for the chains (the application builds the Set from the
	// UTXO and EVM families with their nodes).
	Signers *signing.Set
	// Chains to poll; default every chain of Signers.
	Chains  []string
	Testnet bool
	// Period between the starts of two cycles; default 5 s.
	Period time.Duration
	// Wallets, if set, are the signatureIds polled for every chain instead
	// of the backend's list (tatum-kms --wallets), and the only ones that sign.
	Wallets []string
	// Families lets a wallet stored for one chain of a named family sign
	// for the family's other chains (signing.FamilyEVM); default none.
	Families []string
	// Journal remembers what was signed; default an in-memory journal,
	// which protects nothing across a restart (gokms daemon always opens the
	// file journal).
	Journal journal.Journal
	// Owner names this daemon in journal leases; default host:pid.
	Owner string
	// LeaseTTL is how long a claim on a pending id lasts; default TxTimeout
	// + 30 s. With several daemons on one shared journal, the ids of a
	// daemon that died wait this long before another takes them over.
	LeaseTTL time.Duration
	// Approvers run after the four-eye check (ExternalURL), in order; each
	// wraps the next. Policy plugs in here.
	Approvers []Approver
	// OnDecision receives every approver's verdict; OnEvent every step of
	// every pending transaction (the audit trail). Both must be fast and
	// safe for concurrent use.
	OnDecision func(Decision)
	OnEvent    func(Event)
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
	// NonceWindow bounds how far past the node's pending nonce an EVM
	// sender's nonce is signed; default MaxNoncesAhead (see there).
	NonceWindow int
	// TxTimeout bounds the processing of one transaction (sign, broadcast,
	// complete), also when shutting down; default 2 min.
	TxTimeout time.Duration
	Logger    *slog.Logger
	// Metrics receives the daemon's counters; default a fresh NewMetrics().
	Metrics *Metrics
	// Sign replaces Signers.SignDetailed (tests).
	Sign SignFunc
	// FindTx replaces Signers.FindTx (tests).
	FindTx func(ctx context.Context, chain string, testnet bool, txID string) (signing.TxState, error)
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
	findTx   func(ctx context.Context, chain string, testnet bool, txID string) (signing.TxState, error)
	resolver *signing.Resolver // nil when cfg.Keys is set
	keys     signing.KeySource
	txFilter map[string]bool
	j        journal.Journal
	owner    string
	leaseTTL time.Duration
	shared   bool // the journal is shared with other daemons: fence before broadcasting
	approve  Next // nil: no approver

	window uint64 // Config.NonceWindow

	cycleMu sync.Mutex // cycles never overlap

	mu       sync.Mutex
	inFlight map[string]bool
	unsigned unsignedState
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
		cfg: cfg, log: cfg.Logger, m: cfg.Metrics, sign: cfg.Sign, keys: cfg.Keys, j: cfg.Journal, owner: cfg.Owner,
		inFlight: map[string]bool{}, leaseTTL: cfg.TxTimeout + 30*time.Second,
	}
	if cfg.LeaseTTL > 0 {
		d.leaseTTL = cfg.LeaseTTL
	}
	if cfg.NonceWindow < 0 {
		return nil, fmt.Errorf("daemon: nonce window %d: want a positive number (default %d)", cfg.NonceWindow, MaxNoncesAhead)
	}
	d.window = MaxNoncesAhead
	if cfg.NonceWindow > 0 {
		d.window = uint64(cfg.NonceWindow)
	}
	if sh, ok := cfg.Journal.(interface{ Shared() bool }); ok && sh.Shared() {
		d.shared = true
	}
	if d.m == nil {
		d.m = NewMetrics()
	}
	if cfg.Signers == nil || len(cfg.Signers.Chains()) == 0 {
		return nil, errors.New("daemon: no signers configured (Config.Signers)")
	}
	if d.sign == nil {
		d.sign = cfg.Signers.SignDetailed
	}
	d.findTx = cfg.FindTx
	if d.findTx == nil {
		d.findTx = cfg.Signers.FindTx
	}
	if err := signing.CheckFamilies(cfg.Families); err != nil {
		return nil, err
	}
	if d.keys == nil {
		d.resolver = signing.NewResolverWith(cfg.Backend, signing.ResolverOptions{Testnet: cfg.Testnet, Wallets: cfg.Wallets, Families: cfg.Families})
		d.keys = d.resolver
	}
	if d.j == nil {
		d.j = journal.NewMemory()
		d.log.Warn("no journal configured: what was signed is remembered in memory only, not across a restart")
	}
	if d.owner == "" {
		host, _ := os.Hostname()
		d.owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	// Chains: upper-case, deduplicated, each with a signer and a broadcast endpoint.
	if len(cfg.Chains) == 0 {
		cfg.Chains = cfg.Signers.Chains()
	}
	var chains []string
	for _, c := range cfg.Chains {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "" || slices.Contains(chains, c) {
			continue
		}
		if err := signing.ShutDown(c); err != nil {
			return nil, fmt.Errorf("--chain %s: %w", c, err)
		}
		if _, err := cfg.Signers.For(c); err != nil {
			return nil, fmt.Errorf("--chain %s: gokms cannot sign it (it signs %s)", c, strings.Join(cfg.Signers.Chains(), ", "))
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
	if m := strings.ToUpper(strings.TrimSpace(cfg.ExternalURLMethod)); m != "" && m != http.MethodGet && m != http.MethodPost {
		return nil, fmt.Errorf("--externalUrlMethod %q: want GET or POST", cfg.ExternalURLMethod)
	}
	var approvers []Approver
	if strings.TrimSpace(cfg.ExternalURL) != "" {
		fe, err := NewFourEye(cfg.ExternalURL, cfg.ExternalURLMethod, cfg.HTTPClient)
		if err != nil {
			return nil, err
		}
		approvers = append(approvers, fe)
	}
	approvers = append(approvers, cfg.Approvers...)
	if len(approvers) > maxApprovers {
		return nil, fmt.Errorf("%d approvers: at most %d", len(approvers), maxApprovers)
	}
	if len(approvers) > 0 {
		d.approve = chainApprovers(approvers, d.decided)
	}
	return d, nil
}

func (d *Daemon) decided(dc Decision) {
	switch {
	case !dc.Approved:
		d.log.Warn("refused", "id", dc.ID, "chain", dc.Chain, "stage", string(dc.Stage), "approver", dc.Approver, "reason", dc.Reason)
	case d.log.Enabled(context.Background(), slog.LevelDebug):
		// Checked first: Debug's arguments (four allocations a stage and
		// approver) were built only to be dropped.
		d.log.Debug("approved", "id", dc.ID, "chain", dc.Chain, "stage", string(dc.Stage), "approver", dc.Approver)
	}
	if d.cfg.OnDecision != nil {
		d.cfg.OnDecision(dc)
	}
}

func (d *Daemon) event(kind string, tx tatum.PendingTransaction, txID, detail string) {
	if d.cfg.OnEvent != nil {
		d.cfg.OnEvent(Event{Time: time.Now(), ID: tx.ID, Chain: tx.Chain, Kind: kind, TxID: txID, Detail: detail})
	}
}

// Journal returns the daemon's journal.
func (d *Daemon) Journal() journal.Journal { return d.j }

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
	Unsignable int // pending transactions of chains gokms cannot sign, newly reported to Tatum
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
	tx     tatum.PendingTransaction
	polled time.Time // when the poll that listed it started
}

// polledAtKey carries a job's poll time to resume (shared journals).
type polledAtKey struct{}

// slotKey carries the cycle's slots to a job (offSlot).
type slotKey struct{}

type slots struct {
	sem     *slotSem      // Concurrency: the jobs being worked on (slots.go)
	waiting chan struct{} // WaitersPerSlot × Concurrency: the jobs off their slot (offSlot)
}

// WaitersPerSlot bounds the jobs off their slot (offSlot) at
// WaitersPerSlot × Concurrency. A job waits there only for durable writes
// (about a commit: a millisecond or two on a local disk, more on a shared
// database), holding nothing but its signed bytes, and the more wait at
// once the more share one commit. The bound must cover rate × commit
// latency, or the waiters fill up and the jobs keep their slots idle while
// they wait: at Concurrency of them the journal cost 30–50% of a drain's
// throughput (docs/daemon.md). It still bounds what a stalled journal
// lets the daemon sign ahead of it.
const WaitersPerSlot = 32

// SharedWaitersPerSlot is WaitersPerSlot with a journal shared by several
// daemons (PostgreSQL). There every job off its slot holds the claim of a
// transaction the other daemons cannot take, and each commit is its own
// (no fsync shared by the waiters), so the bound only needs to cover rate
// × commit latency; with 32 per slot, one daemon claimed most of a queue
// in the first commits of a cycle and worked through it alone at the end
// while the others idled (the pge2e drain benchmark; see also slotSem).
const SharedWaitersPerSlot = 1

// offSlot gives the job's concurrency slot to another transaction while it
// waits for durable writes (the signed-stage approvers: policy totals and
// the audit entry; then the journal's Record): the wait is the disk's
// (fsync), not the API's, the node's or the signer's that Concurrency
// protects, and the file journal and audit log commit the writers waiting
// together in one fsync, so the more wait at once the cheaper each one.
// back takes the slot back (waiting for one, served before any new job;
// again: no-op) before anything goes on (the broadcast), so signing, the
// store and the API still see at most Concurrency transactions at once; at
// most WaitersPerSlot × Concurrency (SharedWaitersPerSlot × with a shared
// journal) more are off their slot (with only their signed bytes), else
// the job keeps its slot.
func offSlot(ctx context.Context) (back func()) {
	sl, ok := ctx.Value(slotKey{}).(slots)
	if !ok {
		return func() {}
	}
	select {
	case sl.waiting <- struct{}{}:
	default:
		return func() {}
	}
	sl.sem.release()
	var once sync.Once
	return func() {
		once.Do(func() {
			sl.sem.reacquire()
			<-sl.waiting
		})
	}
}

type crossChainTx struct {
	tx     tatum.PendingTransaction
	polled string
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
	crossChain := map[string]crossChainTx{}
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
			if !strings.EqualFold(tx.Chain, chain) {
				// The API answered a poll for one chain with a transaction
				// of another: never sign it with this chain's wallets.
				if !seen[tx.ID] {
					crossChain[tx.ID] = crossChainTx{tx: tx, polled: chain}
				}
				continue
			}
			tx.Chain = strings.ToUpper(tx.Chain)
			delete(crossChain, tx.ID)
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
			jobs = append(jobs, job{tx: tx, polled: t0})
		}
	}

	var (
		wg      sync.WaitGroup
		reports []tatum.ErrorReport
		sem     = newSlotSem(d.cfg.Concurrency)
		waiters = WaitersPerSlot * d.cfg.Concurrency
	)
	if d.shared {
		waiters = SharedWaitersPerSlot * d.cfg.Concurrency
	}
	sl := slots{sem: sem, waiting: make(chan struct{}, waiters)}
	for _, c := range crossChain {
		err := fmt.Errorf("pending transaction names chain %s, but it was listed when polling %s: refusing to sign a transaction for another chain than the one polled", clip(c.tx.Chain, 16), c.polled)
		st.Pending++
		st.Failed++
		d.m.failed.WithLabelValues(chainLabel(c.polled), "refused").Inc()
		d.log.Error("refused: chain mismatch", "id", c.tx.ID, "chain", c.tx.Chain, "polled", c.polled)
		d.event(EventRefused, c.tx, "", err.Error())
		reports = append(reports, tatum.ErrorReport{SignatureID: c.tx.ID, Error: err.Error()})
	}
	unsigned := d.checkUnsigned(ctx, ids) // never signed: only reported, once each
	st.Unsignable = len(unsigned)
	for _, u := range unsigned {
		reports = append(reports, u.ErrorReport)
	}
	if ctx.Err() == nil {
		d.reconcile(ctx, seen)
	}
	if d.shared {
		// Daemons sharing a journal poll the same list: each walks it in
		// its own order, so they rarely contend for the same id.
		rand.Shuffle(len(jobs), func(a, b int) { jobs[a], jobs[b] = jobs[b], jobs[a] })
	}
	stopWatch := func() {}
	if !d.shared {
		// Daemons sharing a journal keep returning jobs first always: each
		// new job is a claim the others cannot take (slotSem).
		stopWatch = sem.watchCPU()
	}
dispatch:
	for _, j := range jobs {
		if !sem.acquire(ctx) {
			break dispatch
		}
		if ctx.Err() != nil {
			sem.release()
			break
		}
		if !d.claim(j.tx.ID) {
			sem.release()
			stMu.Lock()
			st.Skipped++
			stMu.Unlock()
			d.m.skipped.WithLabelValues(chainLabel(j.tx.Chain), "in_flight").Inc()
			continue
		}
		wg.Add(1)
		go func(j job) {
			growStack()
			defer wg.Done()
			defer sem.release()
			defer d.release(j.tx.ID)
			tctx, cancel := context.WithTimeout(context.WithValue(context.WithValue(work, polledAtKey{}, j.polled), slotKey{}, sl), d.cfg.TxTimeout)
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
	stopWatch()
	if d.resolver != nil {
		d.resolver.Reset() // zero every key of this cycle
	}
	if len(reports) > 0 {
		rctx, cancel := context.WithTimeout(work, d.cfg.TxTimeout)
		if err := d.cfg.API.ReportErrors(rctx, reports); err != nil {
			d.log.Error("report failed transactions to Tatum", "count", len(reports), "error", err.Error())
		} else {
			d.log.Info("reported failed transactions to Tatum", "count", len(reports))
			d.markReported(unsigned)
		}
		cancel()
	}
	d.m.cycleDone(start, st.Polled > 0 || st.PollErrors == 0)
	if st.Pending > 0 || st.PollErrors > 0 || st.Unsignable > 0 {
		d.log.Info("cycle done", "pending", st.Pending, "broadcast", st.Broadcast, "failed", st.Failed,
			"skipped", st.Skipped, "pollErrors", st.PollErrors, "unsignable", st.Unsignable, "duration", time.Since(start).String())
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

// process takes one pending transaction through the checks, the approver
// chain, signing, the journal, broadcast and completion.
func (d *Daemon) process(ctx context.Context, tx tatum.PendingTransaction) (outcome, error) {
	chain := chainLabel(tx.Chain)
	log := d.log.With("id", tx.ID, "chain", tx.Chain)
	if tx.WithdrawalID != "" {
		log = log.With("withdrawalId", tx.WithdrawalID)
	}
	if err := ValidatePendingID(tx.ID); err != nil {
		return d.refused(log, tx, "bad_id", err)
	}
	if tx.TxID != "" {
		log.Info("transaction already broadcast", "txId", tx.TxID)
		d.m.skipped.WithLabelValues(chain, "already_broadcast").Inc()
		return outSkipped, nil
	}
	lease, ent, err := d.j.Claim(ctx, tx.ID, d.owner, d.leaseTTL)
	if errors.Is(err, journal.ErrClaimed) {
		// Routine when daemons share the state: debug, not info.
		log.Debug("pending transaction is being processed by another daemon", "detail", err.Error())
		d.m.skipped.WithLabelValues(chain, "claimed").Inc()
		return outSkipped, nil
	}
	if err != nil {
		d.m.failed.WithLabelValues(chain, "journal").Inc()
		log.Error("journal unavailable: not signing", "error", err.Error())
		return outSkipped, nil
	}
	defer func() {
		// Releasing a never-recorded id frees its EVM nonce.
		if err := d.j.Release(context.WithoutCancel(ctx), lease); err != nil {
			log.Error("release the journal lease", "error", err.Error())
		}
	}()
	if ent != nil {
		return d.resume(ctx, log, lease, tx, *ent)
	}
	return d.signNew(ctx, log, lease, tx)
}

// refused reports a transaction a check refused for good.
func (d *Daemon) refused(log *slog.Logger, tx tatum.PendingTransaction, reason string, err error) (outcome, error) {
	d.m.failed.WithLabelValues(chainLabel(tx.Chain), "refused").Inc()
	log.Error("refused", "reason", reason, "error", err.Error())
	d.event(EventRefused, tx, "", err.Error())
	return outFailed, err
}

// resume handles an id the journal already holds: it is never signed again.
func (d *Daemon) resume(ctx context.Context, log *slog.Logger, l journal.Lease, tx tatum.PendingTransaction, e journal.Entry) (outcome, error) {
	chain := chainLabel(tx.Chain)
	if !strings.EqualFold(e.Chain, tx.Chain) || e.Testnet != d.cfg.Testnet {
		return d.refused(log, tx, "journal_chain", fmt.Errorf("pending transaction was signed for %s (%s) and is now listed for %s: refusing it (gokms journal show %s)",
			e.Chain, network(e.Testnet), tx.Chain, tx.ID))
	}
	switch e.State {
	case journal.StateCompleted:
		if d.shared {
			// Another daemon may have completed it after this cycle's poll:
			// a stale listing, not a replay. Completed after the poll began
			// (2 s allow for the database's clock): stale, no API call;
			// else only if Tatum now shows it complete.
			if p, ok := ctx.Value(polledAtKey{}).(time.Time); ok && e.CompletedAt.After(p.Add(-2*time.Second)) {
				d.m.skipped.WithLabelValues(chain, "completed_elsewhere").Inc()
				return outSkipped, nil
			}
			if pt, gerr := d.cfg.API.Get(ctx, tx.ID); gerr == nil && pt.TxID != "" {
				log.Debug("completed by another daemon since the poll", "txId", pt.TxID)
				d.m.skipped.WithLabelValues(chain, "completed_elsewhere").Inc()
				return outSkipped, nil
			}
		}
		err := fmt.Errorf("pending transaction was already signed, broadcast and completed (txId %s at %s), but the API lists it again: refusing to sign it twice (gokms journal show %s)",
			e.TxID, e.CompletedAt.UTC().Format(time.RFC3339), tx.ID)
		d.m.failed.WithLabelValues(chain, "replayed").Inc()
		log.Error("refused: completed transaction listed again", "txId", e.TxID)
		d.event(EventReplayed, tx, e.TxID, err.Error())
		return outFailed, err
	case journal.StateBroadcast:
		log.Info("transaction was broadcast before; marking it complete", "txId", e.TxID)
		return d.complete(ctx, log, l, tx, e.TxID)
	}
	// Signed, outcome unknown: ask Tatum before anything is resent.
	pt, err := d.cfg.API.Get(ctx, tx.ID)
	if err != nil {
		log.Warn("journaled transaction's outcome unknown: could not read it, leaving it for the next cycle", "error", err.Error())
		d.m.skipped.WithLabelValues(chain, "ambiguous").Inc()
		return outSkipped, nil
	}
	if pt.TxID != "" {
		log.Info("journaled transaction went through", "txId", pt.TxID)
		return d.completed(ctx, log, l, tx, pt.TxID)
	}
	// Tatum does not know it; the chain may (a crash after the node took
	// it, an answer lost in between). Resend only what no node has seen.
	if e.TxID != "" {
		state, err := d.findTx(ctx, tx.Chain, d.cfg.Testnet, e.TxID)
		switch {
		case err != nil:
			log.Warn("could not ask the node about the journaled transaction; resending the same bytes", "txId", e.TxID, "error", err.Error())
		case state == signing.TxMined:
			log.Info("journaled transaction is on chain; marking it complete", "txId", e.TxID)
			return d.complete(ctx, log, l, tx, e.TxID)
		case state == signing.TxPending:
			log.Info("journaled transaction is waiting in the node's pool; not resending it", "txId", e.TxID)
			d.m.skipped.WithLabelValues(chain, "in_pool").Inc()
			return outSkipped, nil
		}
	}
	log.Info("journaled transaction not broadcast according to Tatum; resending the same signed bytes", "attempts", e.Broadcasts)
	// The approvers see the resend first: the audit trail records it,
	// durably, so no bytes leave without an entry (also when the one of
	// the signing was lost).
	rp := &Proposal{Stage: StageResend, Pending: tx, Testnet: d.cfg.Testnet, Signed: &signing.Signed{Raw: e.SignedTx, TxID: e.TxID}}
	if ok, out, err := d.askApprovers(ctx, log, rp); !ok {
		return out, err
	}
	if err := d.waitDurable(ctx, rp); err != nil {
		d.m.skipped.WithLabelValues(chain, "unrecorded").Inc()
		log.Error("could not record the resend (audit trail): not resending; the next cycle tries again", "error", err.Error())
		return outSkipped, nil
	}
	d.event(EventResent, tx, e.TxID, "")
	return d.broadcast(ctx, log, l, tx, e.SignedTx)
}

// nonceSource reserves EVM nonces in the journal under the id's lease.
type nonceSource struct {
	j journal.Journal
	l journal.Lease
}

// MaxNoncesAhead bounds how far past the node's pending nonce a sender's
// nonce is handed out. A node keeps only so many transactions that wait
// for a lower nonce (geth and its forks: 64 per account) and silently
// drops the highest beyond that, after it answered the broadcast with
// success: the pending ids are completed, their payments never happen.
// That is what a claim stalled between its nonce and its broadcast (a
// paused daemon whose lease other daemons wait out) does to every nonce
// the others sign past it; so a nonce this far ahead is not signed, the
// id waits for a later cycle, when the stalled nonce has reached the node.
const MaxNoncesAhead = 64

// ErrNonceWindow: the sender has MaxNoncesAhead transactions above the
// node's pending nonce already; the id is left for a later cycle.
var ErrNonceWindow = errors.New("nonce window full")

func (n nonceSource) Nonce(ctx context.Context, chain string, testnet bool, sender string, pending uint64) (uint64, error) {
	return n.within(ctx, chain, testnet, sender, pending, MaxNoncesAhead)
}

// windowNonces is nonceSource with the window of Config.NonceWindow.
type windowNonces struct {
	nonceSource
	window uint64
}

func (n windowNonces) Nonce(ctx context.Context, chain string, testnet bool, sender string, pending uint64) (uint64, error) {
	return n.within(ctx, chain, testnet, sender, pending, n.window)
}

func (n nonceSource) within(ctx context.Context, chain string, testnet bool, sender string, pending, window uint64) (uint64, error) {
	nonce, err := n.j.ReserveNonce(ctx, n.l, journal.NonceKey{Chain: chain, Testnet: testnet, Sender: sender}, pending)
	if err != nil {
		return 0, err
	}
	if nonce >= pending+window {
		// The reservation is freed when the claim is released.
		return 0, fmt.Errorf("%w: %s %s would sign nonce %d, %d past the node's pending nonce %d; a node drops transactions that far ahead of a missing nonce, so this one waits until the lower nonces reach the node",
			ErrNonceWindow, chain, sender, nonce, nonce-pending, pending)
	}
	return nonce, nil
}

func (d *Daemon) keysFor(chain string) signing.KeySource {
	if d.resolver != nil {
		return d.resolver.ForChain(chain)
	}
	return d.keys
}

// drop gives back what signing reserved for signed bytes that will never
// be sent (Signed.Release).
func drop(ctx context.Context, s signing.Signed) {
	if s.Release != nil {
		s.Release(context.WithoutCancel(ctx))
	}
}

// waitDurable runs the waits the approvers registered with BeforeBroadcast
// (Proposal.waits), in turn, and joins their errors.
func (d *Daemon) waitDurable(ctx context.Context, p *Proposal) error {
	var all []error
	for _, w := range p.waits {
		if err := w(ctx); err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...) // nil, without allocating, when all are
}

// askApprovers runs the approver chain; a refusal is reported to Tatum
// (outFailed) or left for later (outSkipped) as the refusing approver says.
func (d *Daemon) askApprovers(ctx context.Context, log *slog.Logger, p *Proposal) (bool, outcome, error) {
	if d.approve == nil {
		return true, 0, nil
	}
	err := d.approve(ctx, p)
	if err == nil {
		return true, 0, nil
	}
	chain := chainLabel(p.Pending.Chain)
	d.event(EventRefused, p.Pending, "", err.Error())
	var r *Refusal
	if errors.As(err, &r) && r.Report {
		d.m.failed.WithLabelValues(chain, "refused").Inc()
		log.Error("approver refused the transaction, not "+stageVerb(p.Stage)+" it", "stage", string(p.Stage), "error", err.Error())
		return false, outFailed, err
	}
	reason := "four_eye"
	if r != nil && r.Approver != "four-eye" {
		reason = "approver"
	}
	d.m.skipped.WithLabelValues(chain, reason).Inc()
	log.Warn(strings.ReplaceAll(reason, "_", "-")+" check refused the transaction, not "+stageVerb(p.Stage)+" it", "stage", string(p.Stage), "error", err.Error())
	return false, outSkipped, nil
}

// stageVerb says what a refusal at stage stops.
func stageVerb(s Stage) string {
	switch s {
	case StageSigned:
		return "broadcasting"
	case StageResend:
		return "resending"
	}
	return "signing"
}

func (d *Daemon) signNew(ctx context.Context, log *slog.Logger, l journal.Lease, tx tatum.PendingTransaction) (outcome, error) {
	chain := chainLabel(tx.Chain)
	k := new(kept)
	if ok, out, err := d.askApprovers(ctx, log, &Proposal{Stage: StageRequest, Pending: tx, Testnet: d.cfg.Testnet, kept: k}); !ok {
		return out, err
	}
	req := signing.Request{
		ID: tx.ID, Chain: tx.Chain, Testnet: d.cfg.Testnet,
		SerializedTransaction: tx.SerializedTransaction, Hashes: tx.Hashes, Index: tx.Index,
		WithdrawalID: tx.WithdrawalID, WithdrawalResponses: tx.WithdrawalResponses,
		Nonces: windowNonces{nonceSource{d.j, l}, d.window},
		Parsed: k.sharedParse(),
	}
	sigIDs := slices.Clone(tx.Hashes)
	for _, s := range tx.Signatures {
		req.Signatures = append(req.Signatures, signing.SignatureRef{ID: s.ID, Index: s.Index})
		sigIDs = append(sigIDs, s.ID)
	}
	t0 := time.Now()
	signed, err := d.sign(ctx, req, d.keysFor(tx.Chain))
	d.m.signSeconds.WithLabelValues(chain).Observe(time.Since(t0).Seconds())
	if err == nil && signed.Raw == "" {
		err = errors.New("signer returned no transaction")
	}
	if errors.Is(err, ErrNonceWindow) {
		d.m.skipped.WithLabelValues(chain, "nonce_window").Inc()
		log.Warn("not signing yet: too many transactions of this sender wait for a lower nonce", "detail", err.Error())
		return outSkipped, nil
	}
	if d.shared && errors.Is(err, journal.ErrFenced) {
		// Stalled past the lease while signing (the nonce reservation is
		// fenced): another daemon holds the id now, nothing to report.
		d.m.skipped.WithLabelValues(chain, "lease_lost").Inc()
		log.Warn("lease lost to another daemon while signing: not signing; the other daemon finishes it", "error", err.Error())
		return outSkipped, nil
	}
	if err != nil {
		d.m.failed.WithLabelValues(chain, "sign").Inc()
		log.Error("could not sign pending transaction", "error", err.Error())
		d.event(EventFailed, tx, "", err.Error())
		return outFailed, err
	}
	back := offSlot(ctx)
	defer back()
	// Policy sees what the signed bytes do, before anything is journaled
	// or broadcast; a refusal drops the bytes and frees the nonce.
	sp := &Proposal{Stage: StageSigned, Pending: tx, Testnet: d.cfg.Testnet, Signed: &signed, kept: k}
	if ok, out, err := d.askApprovers(ctx, log, sp); !ok {
		drop(ctx, signed)
		return out, err
	}
	e := journal.Entry{ID: tx.ID, Chain: tx.Chain, Testnet: d.cfg.Testnet, SignatureIDs: sigIDs, WithdrawalID: tx.WithdrawalID,
		SignedTx: signed.Raw, TxID: signed.TxID}
	if v := signed.View; v != nil && v.Nonce != nil && v.From != "" {
		n := *v.Nonce
		e.Sender, e.Nonce = v.From, &n
	}
	err = d.j.Record(ctx, l, e)
	var werr error
	if err == nil {
		// The audit entry, written while approving, is made durable now:
		// the entries of one journal commit share one fsync.
		werr = d.waitDurable(ctx, sp)
	}
	back()
	if err != nil {
		if errors.Is(err, journal.ErrFenced) {
			drop(ctx, signed) // definitely not journaled, so never sent (another error may hide a write that happened)
		}
		if d.shared && errors.Is(err, journal.ErrFenced) {
			// This daemon stalled past its lease and another took the id
			// over: not a failure to report; the other daemon finishes it.
			d.m.skipped.WithLabelValues(chain, "lease_lost").Inc()
			log.Warn("lease lost to another daemon before the signed transaction was journaled: dropping it, not broadcasting", "error", err.Error())
			return outSkipped, nil
		}
		d.m.failed.WithLabelValues(chain, "journal").Inc()
		log.Error("could not journal the signed transaction: not broadcasting it", "error", err.Error())
		err = fmt.Errorf("gokms could not journal the signed transaction, so it was not broadcast: %w", err)
		d.event(EventFailed, tx, signed.TxID, err.Error()) // the audit trail has its signed entry: say what became of it
		return outFailed, err
	}
	d.m.signed.WithLabelValues(chain).Inc()
	if werr != nil {
		// Journaled, so never signed again; not broadcast until an entry
		// records it: the next cycle resends through StageResend.
		d.m.failed.WithLabelValues(chain, "record").Inc()
		log.Error("signed and journaled, but the audit trail could not record it: not broadcasting it now", "error", werr.Error())
		d.event(EventFailed, tx, signed.TxID, werr.Error())
		return outFailed, fmt.Errorf("the signed transaction could not be recorded (%w), so it was not broadcast; gokms resends the same signed transaction once it is recorded, never signing this id again", werr)
	}
	d.event(EventSigned, tx, signed.TxID, "")
	return d.broadcast(ctx, log, l, tx, signed.Raw)
}

func (d *Daemon) broadcast(ctx context.Context, log *slog.Logger, l journal.Lease, tx tatum.PendingTransaction, txData string) (outcome, error) {
	chain := chainLabel(tx.Chain)
	if d.shared {
		// Other daemons share the journal: check (and extend) the lease right
		// before the bytes leave, so a daemon that stalled past its lease and
		// lost the id does not broadcast; the holder resends these bytes.
		if _, err := d.j.Renew(ctx, l, d.leaseTTL); err != nil {
			if errors.Is(err, journal.ErrFenced) {
				d.m.skipped.WithLabelValues(chain, "lease_lost").Inc()
				log.Warn("lease lost to another daemon before the broadcast: not broadcasting; the other daemon resends the journaled bytes", "error", err.Error())
			} else {
				d.m.failed.WithLabelValues(chain, "journal").Inc()
				log.Error("journal unavailable before the broadcast: not broadcasting; the journaled bytes are resent later", "error", err.Error())
			}
			return outSkipped, nil
		}
	}
	t0 := time.Now()
	// A chain that takes the transaction from gokms's own node (Solana)
	// gets the journaled bytes there first; Tatum then hears its txId.
	txData, sent, err := d.cfg.Signers.Send(ctx, tx.Chain, d.cfg.Testnet, txData)
	if err != nil {
		return d.sendFailed(ctx, log, l, tx, err)
	}
	if sent {
		log.Info("signed transaction sent to the chain's node", "txId", txData)
	}
	var res tatum.BroadcastResult
	if tx.WithdrawalID != "" && offchainWithdrawal(tx.Chain) {
		res, err = d.cfg.API.BroadcastWithdrawal(ctx, tx.Chain, tx.WithdrawalID, tx.ID, txData)
	} else {
		res, err = d.cfg.API.Broadcast(ctx, tx.Chain, txData, tx.ID)
	}
	d.m.broadcastSeconds.WithLabelValues(chain).Observe(time.Since(t0).Seconds())
	wctx := context.WithoutCancel(ctx)
	if err != nil {
		if jerr := d.j.MarkAttempt(wctx, l, err.Error()); jerr != nil {
			log.Error("journal the broadcast attempt", "error", jerr.Error())
		}
	}
	if errors.Is(err, tatum.ErrAmbiguous) {
		d.m.skipped.WithLabelValues(chain, "ambiguous").Inc()
		d.event(EventAmbiguous, tx, "", err.Error())
		log.Warn("broadcast outcome unknown; the next cycle checks the transaction before the same bytes are resent", "error", err.Error())
		return outSkipped, nil
	}
	if err != nil {
		d.m.failed.WithLabelValues(chain, "broadcast").Inc()
		log.Error("broadcast failed; the journaled bytes will be resent next cycle, never re-signed", "error", err.Error())
		d.event(EventFailed, tx, "", err.Error())
		return outFailed, fmt.Errorf("%w (gokms resends the same signed transaction next cycle; it never signs this id again)", err)
	}
	if !res.Completed {
		// When Tatum completed it at once, MarkCompleted and the completed
		// event below say it all, in one write each.
		if jerr := d.j.MarkBroadcast(wctx, l, res.TxID); jerr != nil {
			log.Error("journal the broadcast", "txId", res.TxID, "error", jerr.Error())
		}
		d.event(EventBroadcast, tx, res.TxID, "")
		return d.complete(ctx, log, l, tx, res.TxID)
	}
	log.Info("transaction signed and broadcast", "txId", res.TxID, "duration", time.Since(t0).String())
	return d.completed(ctx, log, l, tx, res.TxID)
}

// sendFailed handles a Sender's error: the journaled bytes stay, and are
// resent (never re-signed) by a later cycle.
func (d *Daemon) sendFailed(ctx context.Context, log *slog.Logger, l journal.Lease, tx tatum.PendingTransaction, err error) (outcome, error) {
	chain := chainLabel(tx.Chain)
	if jerr := d.j.MarkAttempt(context.WithoutCancel(ctx), l, err.Error()); jerr != nil {
		log.Error("journal the send attempt", "error", jerr.Error())
	}
	if errors.Is(err, signing.ErrSendAmbiguous) || ctx.Err() != nil {
		d.m.skipped.WithLabelValues(chain, "ambiguous").Inc()
		d.event(EventAmbiguous, tx, "", err.Error())
		log.Warn("send outcome unknown; the next cycle checks the transaction before the same bytes are resent", "error", err.Error())
		return outSkipped, nil
	}
	d.m.failed.WithLabelValues(chain, "broadcast").Inc()
	log.Error("sending to the chain's node failed; the journaled bytes will be resent next cycle, never re-signed", "error", err.Error())
	d.event(EventFailed, tx, "", err.Error())
	return outFailed, fmt.Errorf("%w (gokms resends the same signed transaction next cycle; it never signs this id again)", err)
}

// complete marks a broadcast transaction complete in Tatum; if that fails
// the journal keeps it as broadcast and the next cycle retries, never
// broadcasting again.
func (d *Daemon) complete(ctx context.Context, log *slog.Logger, l journal.Lease, tx tatum.PendingTransaction, txID string) (outcome, error) {
	chain := chainLabel(tx.Chain)
	if err := d.cfg.API.Complete(ctx, tx.ID, txID); err != nil {
		d.m.failed.WithLabelValues(chain, "complete").Inc()
		log.Error("transaction broadcast, but marking it complete failed; retrying next cycle", "txId", txID, "error", err.Error())
		return outSkipped, nil
	}
	log.Info("transaction signed, broadcast and marked complete", "txId", txID)
	return d.completed(ctx, log, l, tx, txID)
}

// completed records that Tatum shows the transaction complete.
func (d *Daemon) completed(ctx context.Context, log *slog.Logger, l journal.Lease, tx tatum.PendingTransaction, txID string) (outcome, error) {
	// Reported before the mark is queued: the audit trail's entry is then
	// written before a journal commit makes the mark durable (a crash
	// after that commit, with the daemon no longer seeing the id, could
	// lose it otherwise).
	d.event(EventCompleted, tx, txID, "")
	if err := d.j.MarkCompleted(context.WithoutCancel(ctx), l, txID); err != nil {
		log.Error("journal the completion", "txId", txID, "error", err.Error())
	}
	d.m.broadcast.WithLabelValues(chainLabel(tx.Chain)).Inc()
	return outDone, nil
}

// maxReconcile bounds the GET /v3/kms/{id} calls of one cycle.
const maxReconcile = 64

// reconcile looks up journaled transactions that are not complete and that
// Tatum did not list this cycle (a crash after the broadcast, say): once GET
// /v3/kms/{id} shows a txId they are completed. A poll that merely misses an
// id changes nothing.
func (d *Daemon) reconcile(ctx context.Context, listed map[string]bool) {
	open, err := d.j.List(ctx, true)
	if err != nil {
		d.log.Error("read the journal", "error", err.Error())
		return
	}
	n := 0
	for _, e := range open {
		if listed[e.ID] || e.Testnet != d.cfg.Testnet || !slices.Contains(d.cfg.Chains, strings.ToUpper(e.Chain)) {
			continue
		}
		if n++; n > maxReconcile || ctx.Err() != nil {
			return
		}
		d.mu.Lock()
		busy := d.inFlight[e.ID]
		d.mu.Unlock()
		if busy {
			continue
		}
		gctx, cancel := context.WithTimeout(ctx, d.cfg.TxTimeout)
		pt, err := d.cfg.API.Get(gctx, e.ID)
		cancel()
		if err != nil || pt.TxID == "" {
			if err != nil && tatum.IsNotFound(err) {
				d.log.Warn("journaled transaction is unknown to Tatum (deleted?); it stays in the journal until an operator clears it",
					"id", e.ID, "chain", e.Chain, "hint", "gokms journal show "+e.ID)
			}
			continue
		}
		l, _, err := d.j.Claim(ctx, e.ID, d.owner, d.leaseTTL)
		if err != nil {
			continue
		}
		// Reported before the mark is queued, as in completed (a mark that
		// fails leaves the id for the next reconcile, which reports it
		// again).
		d.event(EventCompleted, tatum.PendingTransaction{ID: e.ID, Chain: e.Chain}, pt.TxID, "reconciled")
		if err := d.j.MarkCompleted(ctx, l, pt.TxID); err != nil {
			d.log.Error("journal the completion", "id", e.ID, "error", err.Error())
		} else {
			d.log.Info("journaled transaction found complete", "id", e.ID, "chain", e.Chain, "txId", pt.TxID)
		}
		_ = d.j.Release(ctx, l)
	}
}

func network(testnet bool) string {
	if testnet {
		return "testnet"
	}
	return "mainnet"
}

// offchainWithdrawal: the chain's off-chain withdrawals go to Tatum's
// withdrawal endpoint; the other chains' to their own broadcast endpoint,
// as tatum-kms sends them.
func offchainWithdrawal(code string) bool {
	c, ok := chain.Lookup(code)
	return ok && c.OffchainWithdrawal
}

// chainLabel bounds metric label values to the codes of the chain table.
func chainLabel(c string) string {
	k, ok := chain.Lookup(c)
	if !ok {
		return "other"
	}
	return k.Code
}

// jobStack is the stack a job's goroutine takes at once (growStack). 16
// KB is the largest size the runtime keeps in its per-P stack caches: 32
// KB came from the heap (mheap.allocManual and back at the goroutine's
// exit), and with the 28 KB array touched it made growStack 15 µs a
// transaction of the policy + audit drain against 4 at 16 KB (profiles of
// 30 cycles). Alternating counts on 2026-12-04 against 32 KB, CPU a
// transaction: DrainPolicyAudit policy + audit 547 -> 518 µs, off 477 ->
// 468 (p+a/off 0.871 -> 0.897, 6 counts); EVM complete 326 -> 307, filled
// 756 -> 749, nosign 127 -> 122 (6 counts); BTC DaemonDrain 3-26 µs less
// in each of its four set-ups (4 counts), their on/off ratios unchanged.
const jobStack = 16 << 10

// stackSink keeps growStack's array from being compiled away; atomic, as
// every job's goroutine reads it at once.
var stackSink atomic.Uint32

// growStack gives the calling goroutine a stack of jobStack at its start,
// in one copy of an all but empty stack. A job's goroutine started small
// (the runtime's average, lowered by the many jobs waiting for the journal
// with shallow stacks) and grew one doubling at a time deep in the signer,
// each copy moving every frame below: runtime.newstack was 7% of the EVM
// drain's daemon CPU with the file journal, 4% with the in-memory one
// (BenchmarkEVMDaemonDrain/filled profile); with this, 3% in both, from
// the signer's own goroutines. 14 alternating counts: on/off 0.880 ->
// 0.906, the file journal's CPU 1,141 -> 1,109 µs a transaction.
//
//go:noinline
func growStack() {
	var b [jobStack - 4<<10]byte // less the frames below, so that one doubling covers it
	b[int(stackSink.Load())%len(b)] = 1
	if b[int(stackSink.Load())%len(b)] == 2 { // never; the compiler cannot know
		stackSink.Store(1)
	}
}
