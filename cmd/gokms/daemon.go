package main

import (
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing"
)

const (
	flagPeriod         = kms.FlagPeriod
	flagChain          = "chain"
	flagRunOnce        = "runOnce"
	flagWallets        = "wallets"
	flagTransactionIDs = "transactionIds"
	flagExternalURL    = "externalUrl"
	flagExternalMethod = "externalUrlMethod"
	flagConcurrency    = kms.FlagConcurrency
	flagListen         = kms.FlagListen
	flagCacheTTL       = kms.FlagCacheTTL
	flagChainFamily    = "chain-family"
	flagNonceWindow    = kms.FlagNonceWindow
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
		&cli.StringFlag{Name: flagJournal, Usage: "journal of signed transactions, locked while the daemon runs (default " + kms.JournalDefaultName + " beside the wallet store)"},
		&cli.StringFlag{Name: flagChainFamily, Usage: "let a wallet stored for one chain of this family sign for its other chains: EVM (tatum-kms did so silently; gokms refuses by default)"},
		&cli.DurationFlag{Name: flagCacheTTL, Value: kms.DefaultCacheTTL, Usage: "with a remote --backend (vault, azure, vgs): serve wallets and the wallet list from memory for this long " +
			"instead of asking the store every cycle; changes made elsewhere show within this time (0 turns the cache off, at most 1h)"},
		rpcFlag,
		evmRPCFlag,
		&cli.IntFlag{Name: flagNonceWindow, Value: kms.DefaultNonceWindow, Usage: "EVM: sign a sender's transaction only if its nonce is less than this many past the node's pending nonce " +
			"(geth keeps 64 queued per account and drops the rest after accepting them); 1 to 1024. See docs/daemon-state.md"},
	}, append(policyDaemonFlags, stateDaemonFlags...)...),
}

func daemonCommands() []*cli.Command {
	return []*cli.Command{daemonCmd}
}

// apiKey is --apiKey, else TATUM_API_KEY (kms.Config.APIKey).
func apiKey(c *cli.Context) string { return config(c).APIKey }

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
	d, err := kms.NewDaemon(c.Context, kms.DaemonConfig{
		Testnet:           isTestnet(c),
		ExternalURL:       c.String(flagExternalURL),
		ExternalURLMethod: c.String(flagExternalMethod),
		Period:            c.Float64(flagPeriod),
		Concurrency:       c.Int(flagConcurrency),
		NonceWindow:       c.Int(flagNonceWindow),
		CacheTTL:          c.Duration(flagCacheTTL),
		API:               apiConfig(c),
		Signers:           func() (*signing.Set, func(), error) { return daemonSigners(c, config(c).Getenv) },
		Policy:            c.String(flagPolicy),
		Audit:             c.String(flagAudit),
		Instance:          c.String(flagInstance),
		Lease:             c.Duration(flagLease),
		LeaseSet:          c.IsSet(flagLease),
		StateSet:          c.IsSet(flagState),
		State:             c.String(flagState),
		StateEnv:          config(c).State,
		Journal:           c.String(flagJournal),
		BackendAddr:       backendAddr(c),
		StorePath:         storePath(c),
		Registry:          backends,
		OpenBackend:       func() (backend.SecretBackend, error) { return openBackend(c, "", false) },
		Families:          splitList(c.String(flagChainFamily)),
		Chains:            splitList(c.String(flagChain)),
		Wallets:           splitList(c.String(flagWallets)),
		TransactionIDs:    splitList(c.String(flagTransactionIDs)),
		Listen:            c.String(flagListen),
		Logger:            logger(c),
		KeepGOMAXPROCS:    os.Getenv("GOMAXPROCS") != "", // what the Go runtime read, not .env
	})
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Run(c.Context, c.Bool(flagRunOnce))
}
