package main

// Chains' nodes for `gokms daemon`: --rpc CHAIN=URL (repeatable; --evm-rpc
// is its older, EVM-only name) and TATUM_KMS_RPC_<CHAIN>; chains without
// either use Tatum's gateway with the API key (see docs/evm.md).

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/tatum"
)

var rpcFlag = &cli.StringSliceFlag{
	Name: kms.FlagRPC,
	Usage: "node of a chain as CHAIN=URL, e.g. ETH=https://node.example:8545 (repeatable; env " + kms.EnvRPCPrefix +
		"<CHAIN>); chains without one use Tatum's gateway with the API key. Chains: " + strings.Join(kms.NodeChains(), ", "),
}

var evmRPCFlag = &cli.StringSliceFlag{
	Name:  kms.FlagEVMRPC,
	Usage: "the EVM chains' part of --" + kms.FlagRPC + " (older name)",
}

// daemonSigners builds the daemon's signers from --rpc/--evm-rpc, the
// environment and the API key. close releases the nodes' connections.
func daemonSigners(c *cli.Context, getenv func(string) string) (set *signing.Set, close func(), err error) {
	evmOnly, err := kms.EVMNodes(c.StringSlice(kms.FlagEVMRPC), func(string) string { return "" })
	if err != nil {
		return nil, nil, err
	}
	evmRPC, nodes, err := kms.Nodes(c.StringSlice(kms.FlagRPC), getenv)
	if err != nil {
		return nil, nil, err
	}
	named := map[string]bool{}
	for _, v := range c.StringSlice(kms.FlagRPC) {
		ch, _, _ := strings.Cut(v, "=")
		named[strings.ToUpper(strings.TrimSpace(ch))] = true
	}
	for k, v := range evmOnly {
		if named[k] {
			return nil, nil, fmt.Errorf("--%s and --%s both name %s: give its node once", kms.FlagRPC, kms.FlagEVMRPC, k)
		}
		evmRPC[k] = v
	}
	cfg := kms.SignerConfig{Nodes: nodes, APIURL: strings.TrimSpace(os.Getenv(envAPIURL)), APIKey: apiKey(c), Testnet: c.Bool(flagTestnet)}
	cfg.EVM.RPC = evmRPC
	if cfg.APIURL == "" {
		cfg.APIURL = tatum.DefaultBaseURL
	}
	set, closeAll, err := kms.Signers(cfg)
	if err != nil {
		return nil, nil, err
	}
	log := logger(c)
	for code, u := range evmRPC {
		log.Debug("node", "chain", code, "rpc", kms.RedactRPCArg(u))
	}
	for code, u := range nodes {
		log.Debug("node", "chain", code, "rpc", kms.RedactRPCArg(u))
	}
	return set, closeAll, nil
}
