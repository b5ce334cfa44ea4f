package kms

// The daemon command's wiring (moved from cmd/gokms/daemon.go, policy.go
// and state.go): DaemonConfig is what `gokms daemon` was given; NewDaemon
// checks it, builds the API client, signers, journal or shared state,
// policy, audit trail, backend (with its cache) and the metrics server, in
// that order, and Run runs it.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/cache"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/audit"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/journal/pgjournal"
	"github.com/gokms/gokms/daemon/policy"
	"github.com/gokms/gokms/signing"
)

// Daemon flags the configuration errors name (cmd defines the flags).
const (
	FlagPeriod      = "period"
	FlagConcurrency = "concurrency"
	FlagCacheTTL    = "cache-ttl"
	FlagLease       = "lease"
	FlagListen      = "listen"
	FlagNonceWindow = "nonce-window"
)

// DefaultNonceWindow is --nonce-window's default: what geth queues per
// account beyond a missing nonce.
const DefaultNonceWindow = daemon.MaxNoncesAhead

// DefaultCacheTTL is how long a remote backend's reads are cached by default.
const DefaultCacheTTL = cache.DefaultTTL

// DaemonConfig is `gokms daemon`'s configuration as cmd maps it from flags
// and environment. The functions are cmd's: they may prompt or read flags
// of their own, and are called in NewDaemon's order.
type DaemonConfig struct {
	Testnet           bool
	ExternalURL       string  // four-eye check, mandatory on mainnet
	ExternalURLMethod string  // GET or POST
	Period            float64 // seconds between cycles
	Concurrency       int
	NonceWindow       int           // --nonce-window: EVM nonces signed ahead of the node's pending nonce
	CacheTTL          time.Duration // remote backends' read cache (0: off)
	API               APIConfig
	// Signers builds the signers (cmd's daemonSigners: --rpc and the nodes);
	// close releases the nodes' connections.
	Signers func() (set *signing.Set, close func(), err error)
	Policy  string // --policy file, "" for none
	// Audit is --audit: a file, "" for AuditBeside, "off" for none.
	Audit    string
	Instance string // the daemon's name in the audit log ("" for host:pid)
	Lease    time.Duration
	LeaseSet bool // --lease was given (so it is checked)
	// The state: --state (StateSet, State), GOKMS_STATE (StateEnv), else
	// the journal file --journal (Journal) or its default beside the store.
	StateSet bool
	State    string
	StateEnv string
	Journal  string
	// The store: its address, the file --path (or its default) beside which
	// the journal and the audit log go by default, the registry that says
	// whether it is local, and how to open it (with the password prompt).
	BackendAddr string
	StorePath   string
	Registry    *backend.Registry
	OpenBackend func() (backend.SecretBackend, error)

	Families       []string // --chain-family
	Chains         []string
	Wallets        []string
	TransactionIDs []string
	Listen         string // /healthz and /metrics address, "" for none
	Logger         *slog.Logger
	// KeepGOMAXPROCS: GOMAXPROCS is in the environment, so Run leaves it
	// (else Run adds daemon.SyncProcs, once per process).
	KeepGOMAXPROCS bool
}

// raiseProcs raises GOMAXPROCS once per process.
var raiseProcs sync.Once

// Daemon is a daemon built by NewDaemon with what it opened.
type Daemon struct {
	*daemon.Daemon
	closers   []func() // in the order opened; Close runs them backwards
	keepProcs bool
	log       *slog.Logger
}

// Close stops the metrics server and closes the backend, the audit log,
// the journal and the signers' connections, in that order.
func (d *Daemon) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	d.closers = nil
}

// Run runs cycles until ctx ends, or one cycle if once (an error if a
// poll or a transaction failed).
func (d *Daemon) Run(ctx context.Context, once bool) error {
	if !d.keepProcs {
		raiseProcs.Do(func() {
			n := runtime.GOMAXPROCS(0)
			runtime.GOMAXPROCS(n + daemon.SyncProcs)
			d.log.Debug("GOMAXPROCS raised for the durable writes (daemon.SyncProcs); set GOMAXPROCS to choose", "from", n, "to", n+daemon.SyncProcs)
		})
	}
	if once {
		return d.Daemon.RunOnce(ctx)
	}
	return d.Daemon.Run(ctx)
}

// NewDaemon checks cfg (configuration mistakes first, before any password
// prompt), opens what the daemon needs and checks that it can sign (a
// wrong password or revoked credentials stop it here, not at the first
// signature). The caller closes the returned Daemon.
func NewDaemon(ctx context.Context, cfg DaemonConfig) (_ *Daemon, err error) {
	testnet := cfg.Testnet
	// Configuration mistakes first, before any password prompt.
	if !testnet && strings.TrimSpace(cfg.ExternalURL) == "" {
		return nil, daemon.ErrNoExternalURL
	}
	period := cfg.Period
	if period <= 0 || period > 24*3600 {
		return nil, fmt.Errorf("--%s %v: want a number of seconds between 0 and 86400", FlagPeriod, period)
	}
	if n := cfg.Concurrency; n < 1 || n > 1024 {
		return nil, fmt.Errorf("--%s %d: want 1 to 1024", FlagConcurrency, n)
	}
	if n := cfg.NonceWindow; n < 1 || n > 1024 {
		return nil, fmt.Errorf("--%s %d: want 1 to 1024 (default %d, what geth queues per account)", FlagNonceWindow, n, daemon.MaxNoncesAhead)
	}
	cacheTTL := cfg.CacheTTL
	if cacheTTL < 0 || cacheTTL > time.Hour {
		return nil, fmt.Errorf("--%s %v: want a duration between 0 and 1h, e.g. 30s", FlagCacheTTL, cacheTTL)
	}
	api, err := TatumClient(cfg.API)
	if err != nil {
		return nil, err
	}
	out := &Daemon{keepProcs: cfg.KeepGOMAXPROCS, log: cmp.Or(cfg.Logger, slog.Default())}
	defer func() {
		if err != nil {
			out.Close()
		}
	}()
	signers, closeSigners, err := cfg.Signers()
	if err != nil {
		return nil, err
	}
	out.closers = append(out.closers, closeSigners)
	if err := CheckPolicyFile(cfg.Policy); err != nil {
		return nil, err
	}
	// The journal is locked for as long as the daemon runs: a second daemon
	// on it refuses to start (before any password prompt).
	lease, err := daemonLease(cfg)
	if err != nil {
		return nil, err
	}
	j, where, err := openDaemonJournal(ctx, cfg) // the file, or PostgreSQL
	if err != nil {
		return nil, err
	}
	out.closers = append(out.closers, func() { j.Close() })
	hooks, err := policyAndAudit(cfg, j) // --policy, --audit
	if err != nil {
		return nil, err
	}
	out.closers = append(out.closers, hooks.close)
	b, err := cfg.OpenBackend()
	if err != nil {
		return nil, err
	}
	// A remote store answers every read over the network (and may bill or
	// throttle it): read through a bounded cache so a wallet is fetched once
	// per TTL, not every cycle. The file store is local and needs none.
	if d, _, err := cfg.Registry.Lookup(cfg.BackendAddr); err == nil && !d.Local && cacheTTL > 0 {
		b = cache.New(b, cache.Options{TTL: cacheTTL})
	}
	out.closers = append(out.closers, func() { b.Close() })
	log := cfg.Logger
	log.Info("journal opened", "path", where)
	d, err := daemon.New(daemon.Config{
		Journal:           j,
		LeaseTTL:          lease,
		Families:          cfg.Families,
		Backend:           b,
		API:               api,
		Signers:           signers,
		Chains:            cfg.Chains,
		Testnet:           testnet,
		Period:            time.Duration(period * float64(time.Second)),
		Wallets:           cfg.Wallets,
		TransactionIDs:    cfg.TransactionIDs,
		ExternalURL:       cfg.ExternalURL,
		ExternalURLMethod: cfg.ExternalURLMethod,
		Concurrency:       cfg.Concurrency,
		NonceWindow:       cfg.NonceWindow,
		Logger:            log,
		Metrics:           hooks.metrics,
		Approvers:         hooks.approvers,
		OnDecision:        hooks.onDecision,
		OnEvent:           hooks.onEvent,
	})
	if err != nil {
		return nil, err
	}
	out.Daemon = d
	registerStateMetrics(d, j)
	// A wrong password or revoked credentials stop the daemon here, not at
	// the first signature.
	if err := d.Check(ctx); err != nil {
		return nil, err
	}
	if addr := cfg.Listen; addr != "" {
		stop, err := serveMetrics(ctx, addr, d, log)
		if err != nil {
			return nil, err
		}
		out.closers = append(out.closers, stop)
	}
	return out, nil
}

// serveMetrics serves d's /healthz and /metrics on addr until stop is called.
func serveMetrics(ctx context.Context, addr string, d *daemon.Daemon, log interface {
	Info(string, ...any)
	Warn(string, ...any)
	Error(string, ...any)
}) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--%s %q: want host:port, e.g. 127.0.0.1:9464", FlagListen, addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		log.Warn("metrics and health are served beyond this machine; they hold no secrets, but consider a loopback address", "listen", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", FlagListen, err)
	}
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "error", err.Error())
		}
	}()
	log.Info("serving /healthz and /metrics", "listen", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

// openDaemonJournal opens the daemon's state: PostgreSQL when --state or
// GOKMS_STATE names it, else the local journal file. where names it for the
// log (a path, or the URL with its password masked).
func openDaemonJournal(ctx context.Context, cfg DaemonConfig) (j journal.Journal, where string, err error) {
	dsn, ok, err := StateDSN(cfg.StateSet, cfg.State, cfg.StateEnv)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		if dsn != "" {
			return nil, "", fmt.Errorf("--%s / %s %q: want a postgres:// or postgresql:// URL (for a local journal file use --%s)", FlagState, EnvState, pgjournal.MaskDSN(dsn), FlagJournal)
		}
		f, err := journal.OpenFile(JournalPath(cfg.Journal, cfg.BackendAddr, cfg.StorePath), journal.FileOptions{})
		if err != nil {
			return nil, "", err
		}
		return f, f.Path(), nil
	}
	if strings.TrimSpace(cfg.Journal) != "" {
		return nil, "", fmt.Errorf("--%s and a PostgreSQL state (--%s / %s) exclude each other: choose one", FlagJournal, FlagState, EnvState)
	}
	pj, err := openSharedState(ctx, dsn, cfg.Logger, cfg.Concurrency)
	if err != nil {
		return nil, "", err
	}
	return pj, pj.DSN(), nil
}

// daemonLease is --lease, checked.
func daemonLease(cfg DaemonConfig) (time.Duration, error) {
	d := cfg.Lease
	if cfg.LeaseSet && (d < time.Second || d > time.Hour) {
		return 0, fmt.Errorf("--%s %v: want a duration between 1s and 1h, e.g. 30s", FlagLease, d)
	}
	return d, nil
}

// registerStateMetrics adds the shared state's metrics (claims won and
// lost, lease expiries, recoveries, ...) to the daemon's /metrics.
func registerStateMetrics(d *daemon.Daemon, j journal.Journal) {
	if pj, ok := j.(*pgjournal.Journal); ok {
		d.Metrics().Registry().MustRegister(pj.Collector())
	}
}

// openSharedState opens the PostgreSQL state named by dsn, migrating its
// schema; errors and logs show the URL with its password masked.
func openSharedState(ctx context.Context, dsn string, log *slog.Logger, concurrency int) (*pgjournal.Journal, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// A connection ready for each transaction worked on at once.
	return pgjournal.Open(ctx, dsn, pgjournal.Options{Logger: log, MinConns: int32(min(concurrency, 1024))})
}

// daemonHooks are the policy approver and the audit trail of `gokms daemon`.
type daemonHooks struct {
	metrics    *daemon.Metrics
	approvers  []daemon.Approver
	onDecision func(daemon.Decision)
	onEvent    func(daemon.Event)
	close      func()
}

// policyAndAudit builds the daemon's policy approver (--policy, with the
// journal's counters) and audit trail (--audit), before any password
// prompt, so a bad policy file stops the daemon at once.
func policyAndAudit(cfg DaemonConfig, j journal.Journal) (*daemonHooks, error) {
	h := &daemonHooks{metrics: daemon.NewMetrics(), close: func() {}}
	log := cfg.Logger
	var pa *policy.Approver
	if path := strings.TrimSpace(cfg.Policy); path != "" {
		f, err := policy.Load(ExpandHome(path))
		if err != nil {
			return nil, err
		}
		p, err := policy.New(f, j)
		if err != nil {
			return nil, err
		}
		// The file journal is held by this daemon alone (locked), so a
		// rolling total read from it stays valid between reads but for
		// what this process adds, which the policy counts itself.
		p.CacheTotals(10 * time.Second)
		if pa, err = policy.NewApprover(p, h.metrics.Registry()); err != nil {
			return nil, err
		}
		h.approvers = append(h.approvers, pa)
		log.Info("signing policy loaded", "path", path, "chains", len(f.Chains), "wallets", len(f.Wallets), "rules", len(f.Rules))
	}
	ap := strings.TrimSpace(cfg.Audit)
	if ap == "off" {
		log.Warn("audit trail off (--audit off)")
		return h, nil
	}
	sink, where, err := auditSink(cfg, j, ap) // the file, or the PostgreSQL state's table
	if err != nil {
		return nil, err
	}
	instance := strings.TrimSpace(cfg.Instance)
	if instance == "" {
		host, _ := os.Hostname()
		instance = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	trail := audit.NewTrail(sink, instance, log)
	if pa != nil {
		pa.OnDecide = trail.NotePolicy
	}
	h.approvers = append(h.approvers, trail.Approver()) // after the policy: see audit.Trail
	h.onDecision, h.onEvent = trail.OnDecision, trail.OnEvent
	h.close = func() {
		if err := sink.Close(); err != nil {
			log.Error("close the audit log", "error", err.Error())
		}
	}
	log.Info("audit log opened", "path", where, "instance", instance)
	return h, nil
}

// auditSink is the daemon's audit sink, and where it writes: with a
// PostgreSQL state and no --audit FILE, the state's table (one chain for
// every daemon sharing it); else the file (default beside the store).
func auditSink(cfg DaemonConfig, j journal.Journal, path string) (audit.Sink, string, error) {
	if pj, ok := j.(*pgjournal.Journal); ok && path == "" {
		s := pj.AuditSink()
		return s, s.Path(), nil
	}
	if path == "" {
		path = AuditBeside(cfg.BackendAddr, cfg.StorePath)
	}
	f, err := audit.OpenFile(ExpandHome(path))
	if err != nil {
		return nil, "", err
	}
	if jf, ok := j.(*journal.File); ok {
		// The journal writes the held entries before each commit: one
		// write(2) a commit for the signed and completed entries.
		f.WriteBeforeCommits(jf)
	}
	return f, f.Path(), nil
}
