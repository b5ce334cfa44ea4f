// Package wallet holds the key material functions of gokms: BIP39 mnemonics,
// BIP32/BIP44 derivation and the per-chain encodings of extended public keys,
// addresses and private keys.
//
// Every path, version byte and encoding copies what tatum-kms 8.0.1 produces
// through the Tatum SDKs it calls (@tatumio/tatum 1.37.x, @tatumio/celo and
// @tatumio/tron 2.2.x), quirks included; docs/keys.md has the table, and
// testdata/wallet/tatum-vectors.json holds the SDK's own output that the tests
// compare against. The functions are pure: no I/O, no global state.
package wallet

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"

	"github.com/gokms/gokms/chain"
)

// Chain is a blockchain code as tatum-kms spells it (upper case).
type Chain string

// The chains whose keys this package derives (the HD chains of the chain
// table, package chain, which holds their paths and version bytes).
const (
	BTC   Chain = "BTC"
	LTC   Chain = "LTC"
	DOGE  Chain = "DOGE"
	BCH   Chain = "BCH"
	ETH   Chain = "ETH"
	BSC   Chain = "BSC"
	MATIC Chain = "MATIC"
	CELO  Chain = "CELO"
	KLAY  Chain = "KLAY"
	ONE   Chain = "ONE"
	XDC   Chain = "XDC"
	KCS   Chain = "KCS"
	TRON  Chain = "TRON"
)

// ErrUnsupportedChain is returned for a chain code gokms does not know. The
// text is tatum-kms's (the Tatum SDK's) own.
var ErrUnsupportedChain = errors.New("Unsupported blockchain.") //nolint:staticcheck // exact tatum-kms text

// ErrInvalidIndex is returned for a derivation index outside 0..2^31-1.
var ErrInvalidIndex = errors.New("invalid derivation index")

// MaxIndex is the largest derivation index: indices are non-hardened BIP32
// children, so 0 <= index < 2^31.
const MaxIndex = hdkeychain.HardenedKeyStart - 1

type family = chain.Family

const (
	famUTXO = chain.UTXO
	famEVM  = chain.EVM
	famTRON = chain.TRON
)

// addrKind is how a public key becomes an address.
type addrKind = chain.AddressKind

const (
	addrP2PKH    = chain.P2PKH
	addrP2WPKH   = chain.P2WPKH
	addrCashAddr = chain.CashAddr
	addrEVM      = chain.EVMHex
	addrXDC      = chain.XDCHex
	addrTRON     = chain.TRONBase58
)

// The extended public key versions the chains use.
var (
	versionXpub = chain.VersionXpub
	versionTpub = chain.VersionTpub
	versionLtub = chain.VersionLtub
	versionTtub = chain.VersionTtub
)

// netSpec is one chain on one network, as the chain table gives it.
type netSpec struct {
	coinType     uint32  // BIP44 coin type of the account path m/44'/coin'/0'/0
	xpubID       [4]byte // version bytes of the serialized extended public key
	pubKeyHashID byte    // UTXO: base58 address version
	wifID        byte    // UTXO: WIF version
	hrp          string  // bech32 human-readable part (segwit chains)
	cashPrefix   string  // cashaddr prefix (BCH)
	xpubAddr     addrKind
	keyAddr      addrKind
}

type chainSpec struct {
	family  family
	mainnet netSpec
	testnet netSpec
}

// coinType is a chain's BIP44 coin type on the network, from the chain table.
func coinType(code string, testnet bool) uint32 {
	c, _ := chain.Lookup(code)
	return c.Net(testnet).CoinType
}

func toNetSpec(n chain.Network) netSpec {
	return netSpec{coinType: n.CoinType, xpubID: n.XpubVersion, pubKeyHashID: n.PubKeyHash, wifID: n.WIF,
		hrp: n.Bech32HRP, cashPrefix: n.CashAddrPrefix, xpubAddr: n.XpubAddress, keyAddr: n.KeyAddress}
}

// specs and chainOrder are the HD chains of the chain table (mnemonics with
// secp256k1 BIP32 derivation); chains with keys of their own (XRP, SOL, XLM)
// have their own functions in this package.
var specs, chainOrder = func() (map[Chain]chainSpec, []Chain) {
	m := map[Chain]chainSpec{}
	var order []Chain
	for _, c := range chain.All() {
		if !c.Family.HD() {
			continue
		}
		m[Chain(c.Code)] = chainSpec{family: c.Family, mainnet: toNetSpec(c.Mainnet), testnet: toNetSpec(c.Testnet)}
		order = append(order, Chain(c.Code))
	}
	return m, order
}()

// Chains returns every supported chain in a stable order.
func Chains() []Chain {
	out := make([]Chain, len(chainOrder))
	copy(out, chainOrder)
	return out
}

// ParseChain accepts a chain code in any letter case.
func ParseChain(s string) (Chain, error) {
	c := Chain(strings.ToUpper(strings.TrimSpace(s)))
	if _, ok := specs[c]; !ok {
		return "", ErrUnsupportedChain
	}
	return c, nil
}

// String returns the chain code.
func (c Chain) String() string { return string(c) }

// IsEVM reports whether the chain uses Ethereum-style keys and addresses.
func (c Chain) IsEVM() bool { s, ok := specs[c]; return ok && s.family == famEVM }

// IsUTXO reports whether the chain is a bitcoin-like UTXO chain.
func (c Chain) IsUTXO() bool { s, ok := specs[c]; return ok && s.family == famUTXO }

// IsTRON reports whether the chain is TRON.
func (c Chain) IsTRON() bool { s, ok := specs[c]; return ok && s.family == famTRON }

func (c Chain) spec(testnet bool) (netSpec, family, error) {
	s, ok := specs[c]
	if !ok {
		return netSpec{}, chain.None, ErrUnsupportedChain
	}
	if testnet {
		return s.testnet, s.family, nil
	}
	return s.mainnet, s.family, nil
}

// DerivationPath is the path of the extended key behind a wallet's xpub; an
// address or private key at index i is at DerivationPath + "/i".
func DerivationPath(c Chain, testnet bool) string {
	ns, _, err := c.spec(testnet)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("m/44'/%d'/0'/0", ns.coinType)
}

// ParseIndex parses a derivation index as given on a command line: decimal
// digits only, 0 to 2^31-1. (tatum-kms's parseInt took "3abc" as 3 and "-1"
// as -1; gokms refuses both.)
func ParseIndex(s string) (uint32, error) {
	in := s
	if len(in) > 24 {
		in = in[:24] + "..." // quote enough to recognize, not a whole paste
	}
	digits := func(t string) bool {
		if t == "" {
			return false
		}
		for _, r := range t {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
	switch {
	case s == "":
		return 0, fmt.Errorf("%w: empty; want a whole number from 0 to %d", ErrInvalidIndex, MaxIndex)
	case s[0] == '-' && digits(s[1:]):
		return 0, fmt.Errorf("%w %q: negative; want 0 to %d", ErrInvalidIndex, in, MaxIndex)
	case !digits(s):
		return 0, fmt.Errorf("%w %q: not a whole number; want 0 to %d", ErrInvalidIndex, in, MaxIndex)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > MaxIndex {
		return 0, fmt.Errorf("%w %q: too big; want 0 to %d", ErrInvalidIndex, in, MaxIndex)
	}
	return uint32(n), nil
}

func checkIndex(i uint32) error {
	if i > MaxIndex {
		return fmt.Errorf("%w %d: want 0 to %d", ErrInvalidIndex, i, MaxIndex)
	}
	return nil
}
