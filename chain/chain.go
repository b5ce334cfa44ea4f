// Package chain is the one table of the blockchains gokms knows: for each
// chain code, its signer family, its Tatum broadcast endpoint, and per
// network the BIP44 derivation, the version bytes of its keys and addresses,
// and (for EVM chains) the chain id and the Tatum RPC gateway. Every layer
// reads it: wallet derives and encodes from it, the signer families build
// their per-chain parameters from it, the Tatum client maps codes to
// broadcast paths with it. Adding a chain is one entry here plus its signer.
//
// The package is data only: it imports nothing of gokms, so anything may
// import it (the Tatum client too, which must know no keys).
package chain

import (
	"sort"
	"strings"
)

// Family is how a chain's keys and transactions work, and so which signer
// family signs for it.
type Family string

// The families. A chain with no family is one Tatum broadcasts for but
// gokms does not (yet) hold keys or sign for.
const (
	None Family = ""
	UTXO Family = "UTXO" // bitcoin-like: secp256k1, BIP32, scripts
	EVM  Family = "EVM"  // Ethereum-like accounts: secp256k1, BIP32, RLP
	TRON Family = "TRON" // secp256k1, BIP32, protobuf transactions
	XRP  Family = "XRP"  // family seeds (signing/xrp)
	SOL  Family = "SOL"  // ed25519, SLIP-10 (signing/sol)
	XLM  Family = "XLM"  // ed25519 (signing/xlm)
	ALGO Family = "ALGO" // ed25519 (signing/algo)
	EGLD Family = "EGLD" // ed25519, SLIP-10 (signing/egld)
	VET  Family = "VET"  // secp256k1, BIP32, RLP of its own (signing/vet)
	ADA  Family = "ADA"  // ed25519 BIP32-Ed25519 (signing/ada)
	FLOW Family = "FLOW" // Flow accounts (signing/flow)
)

// HD reports whether the family's wallets are BIP39 mnemonics with
// secp256k1 BIP32 derivation at m/44'/coin'/0'/0 (what wallet.Chain covers).
func (f Family) HD() bool { return f == UTXO || f == EVM || f == TRON }

// AddressKind is how a public key becomes an address.
type AddressKind int

// The address kinds.
const (
	NoAddress  AddressKind = iota
	P2PKH                  // base58check(version || hash160(pubkey))
	P2WPKH                 // bech32 segwit v0
	CashAddr               // Bitcoin Cash cashaddr with a prefix
	EVMHex                 // 0x + lower-case hex of keccak(pubkey)[12:]
	XDCHex                 // xdc + lower-case hex
	TRONBase58             // base58check(0x41 || keccak(pubkey)[12:])
)

// Network is one chain on one network (mainnet or testnet).
type Network struct {
	// HD chains: the account path is m/44'/CoinType'/0'/0 and its extended
	// public key is serialized with XpubVersion.
	CoinType    uint32
	XpubVersion [4]byte
	// UTXO chains: base58 address and WIF versions, the bech32 human-readable
	// part (segwit chains) and the cashaddr prefix (BCH).
	PubKeyHash, ScriptHash, WIF byte
	Bech32HRP                   string
	CashAddrPrefix              string
	// XpubAddress is what Tatum's generateAddressFromXPub returns, KeyAddress
	// what generateAddressFromPrivatekey returns (they differ for BTC).
	XpubAddress, KeyAddress AddressKind
	// EVM chains: the chain id, the network's name in messages ("" on
	// mainnet) and the Tatum RPC gateway network (https://<it>.gateway.tatum.io).
	ChainID uint64
	Name    string
	Gateway string
}

// Chain is one entry of the table.
type Chain struct {
	Code   string // Tatum's chain code, upper case: "BTC"
	Name   string // for messages: "Bitcoin"
	Family Family
	// Broadcast is the <name> of Tatum's POST /v3/<name>/broadcast.
	Broadcast string
	// OffchainWithdrawal: a pending off-chain (Tatum ledger) withdrawal of
	// this chain is posted to /v3/offchain/withdrawal/broadcast, as
	// tatum-kms 8.0.1 does for BTC, LTC, DOGE, BCH, ETH, ONE and ADA only;
	// the other chains' withdrawals go to their own broadcast endpoint
	// (src/signatures.ts returns after the chain's broadcast for them).
	OffchainWithdrawal bool
	Mainnet            Network
	Testnet            Network
	// UTXO chains.
	Segwit   bool  // P2WPKH and P2SH-P2WPKH outputs exist
	ForkID   bool  // Bitcoin Cash: SIGHASH_FORKID with the BIP143-style digest
	MaxMoney int64 // consensus cap on any amount, in the smallest unit
	// EVM chains.
	DynamicFee bool   // EIP-1559 (type 2) transactions accepted
	MaxGas     uint64 // bound on one transaction's gas limit
}

// Net returns the chain's parameters on the network.
func (c Chain) Net(testnet bool) Network {
	if testnet {
		return c.Testnet
	}
	return c.Mainnet
}

// All returns the table in its fixed order (tatum-kms's order for the HD
// chains, then the others).
func All() []Chain { return append([]Chain(nil), table...) }

// Of returns the chains of a family, in table order.
func Of(f Family) []Chain {
	var out []Chain
	for _, c := range table {
		if c.Family == f {
			out = append(out, c)
		}
	}
	return out
}

// Lookup returns the chain with the code, in any letter case.
func Lookup(code string) (Chain, bool) {
	i, ok := byCode[strings.ToUpper(strings.TrimSpace(code))]
	if !ok {
		return Chain{}, false
	}
	return table[i], true
}

// Codes returns every code of the table, sorted.
func Codes() []string {
	out := make([]string, 0, len(table))
	for _, c := range table {
		out = append(out, c.Code)
	}
	sort.Strings(out)
	return out
}

var byCode = func() map[string]int {
	m := make(map[string]int, len(table))
	for i, c := range table {
		if _, dup := m[c.Code]; dup {
			panic("chain: code " + c.Code + " is in the table twice")
		}
		m[c.Code] = i
	}
	return m
}()
