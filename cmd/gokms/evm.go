package main

// EVM chains' JSON-RPC nodes for `gokms daemon`: --evm-rpc CHAIN=URL
// (repeatable) and TATUM_KMS_RPC_<CHAIN>; chains without either use
// Tatum's RPC gateway with the API key (see docs/evm.md).

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/evm"
)

var evmRPCFlag = &cli.StringSliceFlag{
	Name: kms.FlagEVMRPC,
	Usage: "JSON-RPC node of an EVM chain as CHAIN=URL, e.g. ETH=https://node.example:8545 (repeatable; env " + kms.EnvEVMRPCPrefix +
		"<CHAIN>); chains without one use Tatum's RPC gateway with the API key. Chains: " + strings.Join(evm.Codes(), ", "),
}

// daemonSigners builds the daemon's signers from --evm-rpc, the environment
// and the API key. close releases the EVM node connections.
func daemonSigners(c *cli.Context, getenv func(string) string) (set *signing.Set, close func(), err error) {
	rpc, err := kms.EVMNodes(c.StringSlice(kms.FlagEVMRPC), getenv)
	if err != nil {
		return nil, nil, err
	}
	set, e, err := kms.Signers(evm.Config{RPC: rpc, APIKey: apiKey(c)})
	if err != nil {
		return nil, nil, err
	}
	log := logger(c)
	for _, code := range evm.Codes() {
		if u, ok := rpc[code]; ok {
			log.Debug("EVM node", "chain", code, "rpc", kms.RedactRPCArg(u))
		}
	}
	return set, e.Close, nil
}
