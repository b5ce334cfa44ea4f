package evm

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gokms/gokms/chain"
)

// Chain describes one EVM chain gokms signs for, as the chain table (package
// chain) gives it: its chain ids, the Tatum RPC gateway networks used when no
// RPC URL is configured, and what the chain accepts.
type Chain struct {
	Code           string // Tatum chain code, e.g. "ETH"
	Name           string
	MainnetID      uint64
	TestnetID      uint64
	TestnetName    string // which testnet TestnetID is
	MainnetGateway string // Tatum RPC gateway network, https://<network>.gateway.tatum.io
	TestnetGateway string
	// DynamicFee: the chain accepts EIP-1559 (type 2) transactions in
	// go-ethereum's encoding through eth_sendRawTransaction. Where it is false
	// only legacy EIP-155 transactions are signed and fee caps are refused.
	DynamicFee bool
	// MaxGas bounds the gas limit of one transaction (absurd-gas refusal).
	MaxGas uint64
}

// ID returns the chain id for the network.
func (c Chain) ID(testnet bool) uint64 {
	if testnet {
		return c.TestnetID
	}
	return c.MainnetID
}

// Gateway returns the Tatum RPC gateway URL for the network.
func (c Chain) Gateway(testnet bool) string {
	n := c.MainnetGateway
	if testnet {
		n = c.TestnetGateway
	}
	return "https://" + n + ".gateway.tatum.io"
}

// Network names the network for messages, e.g. "ETH testnet (Sepolia, chain id 11155111)".
func (c Chain) Network(testnet bool) string {
	if testnet {
		return fmt.Sprintf("%s testnet (%s, chain id %d)", c.Code, c.TestnetName, c.TestnetID)
	}
	return fmt.Sprintf("%s mainnet (chain id %d)", c.Code, c.MainnetID)
}

// chains are the EVM chains of the chain table, in its order.
var chains = func() []Chain {
	var out []Chain
	for _, c := range chain.Of(chain.EVM) {
		out = append(out, Chain{Code: c.Code, Name: c.Name, MainnetID: c.Mainnet.ChainID, TestnetID: c.Testnet.ChainID,
			TestnetName: c.Testnet.Name, MainnetGateway: c.Mainnet.Gateway, TestnetGateway: c.Testnet.Gateway,
			DynamicFee: c.DynamicFee, MaxGas: c.MaxGas})
	}
	return out
}()

var chainByCode = func() map[string]Chain {
	m := make(map[string]Chain, len(chains))
	for _, c := range chains {
		m[c.Code] = c
	}
	return m
}()

// Chains returns the table of EVM chains, in a fixed order.
func Chains() []Chain { return append([]Chain(nil), chains...) }

// Codes returns the chain codes, sorted.
func Codes() []string {
	out := make([]string, 0, len(chains))
	for _, c := range chains {
		out = append(out, c.Code)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the chain with the code (case-insensitive).
func Lookup(code string) (Chain, bool) {
	c, ok := chainByCode[strings.ToUpper(strings.TrimSpace(code))]
	return c, ok
}
