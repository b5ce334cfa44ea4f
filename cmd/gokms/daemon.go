package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend/cache"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
)

const (
	flagPeriod         = "period"
	flagChain          = "chain"
	flagRunOnce        = "runOnce"
	flagWallets        = "wallets"
	flagTransactionIDs = "transactionIds"
	flagExternalURL    = "externalUrl"
	flagExternalMethod = "externalUrlMethod"
	flagConcurrency    = "concurrency"
	flagListen         = "listen"
	flagCacheTTL       = "cache-ttl"
	flagChainFamily    = "chain-family"
	flagNonceWindow    = "nonce-window"
)

// daemonCmd is the daemon command; its flags include those of policy.go
// (--policy, --audit, --instance) and state.go (--state, --lease).
var daemonCmd = &cli.Command{
	Name:  "daemon",
	Usage: "run as a daemon, which periodically checks for new transactions to sign, signs and broadcasts them",
	Description: "Every --period seconds, asks the Tatum API for the pending transactions of the wallets in the store\n" +
		"(re-read each cycle), checks each with --externalUrl (four-eye principle, mandatory on mainnet), signs it\n" +
		"locally and broadcasts it. Failures are reported to Tatum. SIGINT/SIGTERM finish the transactions in\n" +
		"flight and exit 0. See docs/daemon.md.",
	Action: cmdDaemon,
	Flags: append([]cli.Flag{
		&cli.Float64Flag{Name: flagPeriod, Value: 5, Usage: "period in seconds to check for new transactions to sign"},
		&cli.StringFlag{Name: flagChain, Usage: "blockchains to check, separated by comma (default: every chain gokms signs)"},
		&cli.BoolFlag{Name: flagRunOnce, Usage: "run one cycle and exit (non-zero if a poll or a transaction failed)"},
		&cli.StringFlag{Name: flagWallets, Usage: "poll only these signatureIds, separated by comma (default: every wallet of the chain in the store)"},
		&cli.StringFlag{Name: flagTransactionIDs, Usage: "sign only these pending transaction ids, separated by comma"},
		&cli.StringFlag{Name: flagExternalURL, Usage: "four-eye check: GET or POST <url>/<pending id> must answer 2xx before a transaction is signed; mandatory on mainnet"},
		&cli.StringFlag{Name: flagExternalMethod, Value: "GET", Usage: "HTTP method for --externalUrl: GET or POST (POST sends the pending transaction as JSON)"},
		&cli.IntFlag{Name: flagConcurrency, Value: 8, Usage: "transactions processed at once"},
		&cli.StringFlag{Name: flagListen, Usage: "serve /healthz and Prometheus /metrics on this address, e.g. 127.0.0.1:9464"},
		&cli.StringFlag{Name: flagJournal, Usage: "journal of signed transactions, locked while the daemon runs (default " + journal.DefaultName + " beside the wallet store)"},
		&cli.StringFlag{Name: flagChainFamily, Usage: "let a wallet stored for one chain of this family sign for its other chains: EVM (tatum-kms did so silently; gokms refuses by default)"},
		&cli.DurationFlag{Name: flagCacheTTL, Value: cache.DefaultTTL, Usage: "with a remote --backend (vault, azure, vgs): serve wallets and the wallet list from memory for this long " +
			"instead of asking the store every cycle; changes made elsewhere show within this time (0 turns the cache off, at most 1h)"},
		evmRPCFlag,
		&cli.IntFlag{Name: flagNonceWindow, Value: daemon.MaxNoncesAhead, Usage: "EVM: sign a sender's transaction only if its nonce is less than this many past the node's pending nonce " +
			"(geth keeps 64 queued per account and drops the rest after accepting them); 1 to 1024. See docs/daemon-state.md"},
	}, append(policyDaemonFlags, stateDaemonFlags...)...),
}

func daemonCommands() []*cli.Command {
	return []*cli.Command{daemonCmd}
}

func apiKey(c *cli.Context) string {
	if k := strings.TrimSpace(c.String(flagAPIKey)); k != "" {
		return k
	}
	return strings.TrimSpace(os.Getenv(envAPIKey))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func cmdDaemon(c *cli.Context) error {
	testnet := isTestnet(c)
	// Configuration mistakes first, before any password prompt.
	if !testnet && strings.TrimSpace(c.String(flagExternalURL)) == "" {
		return daemon.ErrNoExternalURL
	}
	period := c.Float64(flagPeriod)
	if period <= 0 || period > 24*3600 {
		return fmt.Errorf("--%s %v: want a number of seconds between 0 and 86400", flagPeriod, period)
	}
	if n := c.Int(flagConcurrency); n < 1 || n > 1024 {
		return fmt.Errorf("--%s %d: want 1 to 1024", flagConcurrency, n)
	}
	if n := c.Int(flagNonceWindow); n < 1 || n > 1024 {
		return fmt.Errorf("--%s %d: want 1 to 1024 (default %d, what geth queues per account)", flagNonceWindow, n, daemon.MaxNoncesAhead)
	}
	cacheTTL := c.Duration(flagCacheTTL)
	if cacheTTL < 0 || cacheTTL > time.Hour {
		return fmt.Errorf("--%s %v: want a duration between 0 and 1h, e.g. 30s", flagCacheTTL, cacheTTL)
	}
	api, err := tatumClient(c)
	if err != nil {
		return err
	}
	signers, closeSigners, err := daemonSigners(c, os.Getenv)
	if err != nil {
		return err
	}
	defer closeSigners()
	if err := checkPolicyFile(c); err != nil {
		return err
	}
	// The journal is locked for as long as the daemon runs: a second daemon
	// on it refuses to start (before any password prompt).
	lease, err := daemonLease(c)
	if err != nil {
		return err
	}
	j, where, err := openDaemonJournal(c) // the file, or PostgreSQL (state.go)
	if err != nil {
		return err
	}
	defer j.Close()
	hooks, err := policyAndAudit(c, j) // --policy, --audit (policy.go)
	if err != nil {
		return err
	}
	defer hooks.close()
	b, err := openBackend(c, "", false)
	if err != nil {
		return err
	}
	// A remote store answers every read over the network (and may bill or
	// throttle it): read through a bounded cache so a wallet is fetched once
	// per TTL, not every cycle. The file store is local and needs none.
	if d, _, err := backends.Lookup(backendAddr(c)); err == nil && !d.Local && cacheTTL > 0 {
		b = cache.New(b, cache.Options{TTL: cacheTTL})
	}
	defer b.Close()
	log := logger(c)
	log.Info("journal opened", "path", where)
	d, err := daemon.New(daemon.Config{
		Journal:           j,
		LeaseTTL:          lease,
		Families:          splitList(c.String(flagChainFamily)),
		Backend:           b,
		API:               api,
		Signers:           signers,
		Chains:            splitList(c.String(flagChain)),
		Testnet:           testnet,
		Period:            time.Duration(period * float64(time.Second)),
		Wallets:           splitList(c.String(flagWallets)),
		TransactionIDs:    splitList(c.String(flagTransactionIDs)),
		ExternalURL:       c.String(flagExternalURL),
		ExternalURLMethod: c.String(flagExternalMethod),
		Concurrency:       c.Int(flagConcurrency),
		NonceWindow:       c.Int(flagNonceWindow),
		Logger:            log,
		Metrics:           hooks.metrics,
		Approvers:         hooks.approvers,
		OnDecision:        hooks.onDecision,
		OnEvent:           hooks.onEvent,
	})
	if err != nil {
		return err
	}
	registerStateMetrics(d, j)
	// A wrong password or revoked credentials stop the daemon here, not at
	// the first signature.
	if err := d.Check(c.Context); err != nil {
		return err
	}
	if addr := c.String(flagListen); addr != "" {
		stop, err := serveMetrics(c.Context, addr, d, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	if c.Bool(flagRunOnce) {
		return d.RunOnce(c.Context)
	}
	return d.Run(c.Context)
}

// serveMetrics serves d's /healthz and /metrics on addr until stop is called.
func serveMetrics(ctx context.Context, addr string, d *daemon.Daemon, log interface {
	Info(string, ...any)
	Warn(string, ...any)
	Error(string, ...any)
}) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--%s %q: want host:port, e.g. 127.0.0.1:9464", flagListen, addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		log.Warn("metrics and health are served beyond this machine; they hold no secrets, but consider a loopback address", "listen", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagListen, err)
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
