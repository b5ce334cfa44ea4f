package main

// EVM chains' JSON-RPC nodes for `gokms daemon`: --evm-rpc CHAIN=URL
// (repeatable) and TATUM_KMS_RPC_<CHAIN>; chains without either use
// Tatum's RPC gateway with the API key (see docs/evm.md).

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/signing/evm"
)

const (
	flagEVMRPC   = "evm-rpc"
	envEVMPrefix = "TATUM_KMS_RPC_"
)

func init() {
	registerDaemonFlags(&cli.StringSliceFlag{
		Name: flagEVMRPC,
		Usage: "JSON-RPC node of an EVM chain as CHAIN=URL, e.g. ETH=https://node.example:8545 (repeatable; env " + envEVMPrefix +
			"<CHAIN>); chains without one use Tatum's RPC gateway with the API key. Chains: " + strings.Join(evm.Codes(), ", "),
	})
	registerDaemonSetup(configureEVMNodes)
}

// evmRPCConfig collects the RPC URLs: the environment first, then the flag,
// which wins for the chains it names.
func evmRPCConfig(flagValues []string, getenv func(string) string) (map[string]string, error) {
	rpc := map[string]string{}
	for _, code := range evm.Codes() {
		if u := strings.TrimSpace(getenv(envEVMPrefix + code)); u != "" {
			rpc[code] = u
		}
	}
	fromFlag := map[string]bool{}
	for _, v := range flagValues {
		chain, u, ok := strings.Cut(strings.TrimSpace(v), "=")
		chain, u = strings.ToUpper(strings.TrimSpace(chain)), strings.TrimSpace(u)
		if !ok || !isChainCode(chain) || u == "" {
			return nil, fmt.Errorf("--%s %q: want CHAIN=URL, e.g. ETH=https://node.example:8545", flagEVMRPC, redactRPCArg(v))
		}
		if _, known := evm.Lookup(chain); !known {
			return nil, fmt.Errorf("--%s: %s is not an EVM chain gokms signs (%s)", flagEVMRPC, chain, strings.Join(evm.Codes(), ", "))
		}
		if fromFlag[chain] {
			return nil, fmt.Errorf("--%s: %s given twice", flagEVMRPC, chain)
		}
		fromFlag[chain] = true
		rpc[chain] = u
	}
	return rpc, nil
}

// redactRPCArg keeps an RPC URL's scheme and host for messages: its path or
// query may hold a provider key.
func redactRPCArg(v string) string {
	chain, u, ok := strings.Cut(v, "=")
	if !ok || !isChainCode(strings.TrimSpace(chain)) {
		chain, u, ok = "", v, false
	}
	if p, err := url.Parse(strings.TrimSpace(u)); err == nil && p.Host != "" {
		u = p.Scheme + "://" + p.Host + "/…"
	} else {
		u = "…"
	}
	if !ok {
		return u
	}
	return chain + "=" + u
}

func isChainCode(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func configureEVMNodes(c *cli.Context) error {
	rpc, err := evmRPCConfig(c.StringSlice(flagEVMRPC), os.Getenv)
	if err != nil {
		return err
	}
	if err := evm.Configure(evm.Config{RPC: rpc, APIKey: apiKey(c)}); err != nil {
		return fmt.Errorf("--%s / %s<CHAIN>: %w", flagEVMRPC, envEVMPrefix, err)
	}
	log := logger(c)
	for _, code := range evm.Codes() {
		if u, ok := rpc[code]; ok {
			log.Debug("EVM node", "chain", code, "rpc", redactRPCArg(u))
		}
	}
	return nil
}
