package evm

import (
	"fmt"
	"sort"
	"strings"
)

// Chain describes one EVM chain gokms signs for: its chain ids, the Tatum RPC
// gateway networks used when no RPC URL is configured, and what the chain
// accepts.
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

// maxGasEIP7825 is Ethereum's per-transaction gas cap since Osaka (EIP-7825).
const maxGasEIP7825 = 1 << 24

// maxGasDefault bounds other chains: larger than any single transaction
// Tatum builds (a big contract deployment is a few million gas), smaller than
// a whole block on the chains that have big blocks.
const maxGasDefault = 30_000_000

// chains is the one table of EVM chains and their networks. Testnets are
// those Tatum serves today (2026): Celo moved from Alfajores (44787, shut down
// 2025-09) to Celo Sepolia, Polygon from Mumbai to Amoy, Klaytn's Baobab is
// now Kaia Kairos with the same id.
var chains = []Chain{
	{Code: "ETH", Name: "Ethereum", MainnetID: 1, TestnetID: 11155111, TestnetName: "Sepolia",
		MainnetGateway: "ethereum-mainnet", TestnetGateway: "ethereum-sepolia", DynamicFee: true, MaxGas: maxGasEIP7825},
	{Code: "BSC", Name: "BNB Smart Chain", MainnetID: 56, TestnetID: 97, TestnetName: "BSC testnet (Chapel)",
		MainnetGateway: "bsc-mainnet", TestnetGateway: "bsc-testnet", DynamicFee: true, MaxGas: maxGasDefault},
	{Code: "MATIC", Name: "Polygon PoS", MainnetID: 137, TestnetID: 80002, TestnetName: "Amoy",
		MainnetGateway: "polygon-mainnet", TestnetGateway: "polygon-amoy", DynamicFee: true, MaxGas: maxGasDefault},
	{Code: "CELO", Name: "Celo", MainnetID: 42220, TestnetID: 11142220, TestnetName: "Celo Sepolia",
		MainnetGateway: "celo-mainnet", TestnetGateway: "celo-sepolia", DynamicFee: true, MaxGas: maxGasDefault},
	{Code: "KLAY", Name: "Kaia (Klaytn)", MainnetID: 8217, TestnetID: 1001, TestnetName: "Kairos (formerly Baobab)",
		MainnetGateway: "klaytn-mainnet", TestnetGateway: "klaytn-baobab", DynamicFee: false, MaxGas: maxGasDefault},
	{Code: "ONE", Name: "Harmony shard 0", MainnetID: 1666600000, TestnetID: 1666700000, TestnetName: "Harmony testnet shard 0",
		MainnetGateway: "one-mainnet-s0", TestnetGateway: "one-testnet-s0", DynamicFee: false, MaxGas: maxGasDefault},
	{Code: "XDC", Name: "XDC Network", MainnetID: 50, TestnetID: 51, TestnetName: "Apothem",
		MainnetGateway: "xinfin-mainnet", TestnetGateway: "xdc-testnet", DynamicFee: false, MaxGas: maxGasDefault},
	{Code: "KCS", Name: "KuCoin Community Chain", MainnetID: 321, TestnetID: 322, TestnetName: "KCC testnet",
		MainnetGateway: "kcs-mainnet", TestnetGateway: "kcs-testnet", DynamicFee: false, MaxGas: maxGasDefault},
}

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
