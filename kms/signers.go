package kms

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/evm"
	"github.com/gokms/gokms/signing/utxo"
)

// EnvEVMRPCPrefix + a chain code names an EVM chain's JSON-RPC node
// (TATUM_KMS_RPC_ETH).
const EnvEVMRPCPrefix = "TATUM_KMS_RPC_"

// FlagEVMRPC is the daemon flag that names EVM nodes as CHAIN=URL.
const FlagEVMRPC = "evm-rpc"

// Signers builds the signing.Set of one daemon: the UTXO family, and the
// EVM family on the nodes of cfg (chains without a node use Tatum's RPC
// gateway with cfg.APIKey). Close the returned EVM signer when done.
func Signers(cfg evm.Config) (*signing.Set, *evm.Signer, error) {
	e, err := evm.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("--%s / %s<CHAIN>: %w", FlagEVMRPC, EnvEVMRPCPrefix, err)
	}
	set, err := signing.NewSet(utxo.Family(), e.Family())
	if err != nil {
		e.Close()
		return nil, nil, err
	}
	return set, e, nil
}

// EVMNodes collects the EVM RPC URLs: the environment first, then the flag
// values (CHAIN=URL), which win for the chains they name.
func EVMNodes(flagValues []string, getenv func(string) string) (map[string]string, error) {
	rpc := map[string]string{}
	for _, code := range evm.Codes() {
		if u := strings.TrimSpace(getenv(EnvEVMRPCPrefix + code)); u != "" {
			rpc[code] = u
		}
	}
	fromFlag := map[string]bool{}
	for _, v := range flagValues {
		chain, u, ok := strings.Cut(strings.TrimSpace(v), "=")
		chain, u = strings.ToUpper(strings.TrimSpace(chain)), strings.TrimSpace(u)
		if !ok || !isChainCode(chain) || u == "" {
			return nil, fmt.Errorf("--%s %q: want CHAIN=URL, e.g. ETH=https://node.example:8545", FlagEVMRPC, RedactRPCArg(v))
		}
		if _, known := evm.Lookup(chain); !known {
			return nil, fmt.Errorf("--%s: %s is not an EVM chain gokms signs (%s)", FlagEVMRPC, chain, strings.Join(evm.Codes(), ", "))
		}
		if fromFlag[chain] {
			return nil, fmt.Errorf("--%s: %s given twice", FlagEVMRPC, chain)
		}
		fromFlag[chain] = true
		rpc[chain] = u
	}
	return rpc, nil
}

// RedactRPCArg keeps an RPC URL's scheme and host for messages: its path or
// query may hold a provider key.
func RedactRPCArg(v string) string {
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
