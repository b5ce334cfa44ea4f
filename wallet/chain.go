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
)

// Chain is a blockchain code as tatum-kms spells it (upper case).
type Chain string

// The supported chains.
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

type family int

const (
	famUTXO family = iota
	famEVM
	famTRON
)

// addrKind is how a public key becomes an address.
type addrKind int

const (
	addrP2PKH    addrKind = iota // base58check(version || hash160(pubkey))
	addrP2WPKH                   // bech32 segwit v0
	addrCashAddr                 // BCH cashaddr with prefix
	addrEVM                      // 0x + lower-case hex of keccak(pubkey)[12:]
	addrXDC                      // xdc + lower-case hex
	addrTRON                     // base58check(0x41 || keccak(pubkey)[12:])
)

// netSpec is one chain on one network.
type netSpec struct {
	coinType uint32  // BIP44 coin type of the account path m/44'/coin'/0'/0
	xpubID   [4]byte // version bytes of the serialized extended public key
	// UTXO chains only:
	pubKeyHashID byte   // base58 address version
	wifID        byte   // WIF version
	hrp          string // bech32 human-readable part (BTC)
	cashPrefix   string // cashaddr prefix (BCH)
	// xpubAddr is what generateAddressFromXPub returns, keyAddr what
	// generateAddressFromPrivatekey returns (they differ for BTC).
	xpubAddr addrKind
	keyAddr  addrKind
}

type chainSpec struct {
	family  family
	mainnet netSpec
	testnet netSpec
}

var (
	versionXpub = [4]byte{0x04, 0x88, 0xb2, 0x1e} // xpub
	versionTpub = [4]byte{0x04, 0x35, 0x87, 0xcf} // tpub
	versionLtub = [4]byte{0x01, 0x9d, 0xa4, 0x62} // Ltub (@tatumio/tatum LTC_NETWORK)
	versionTtub = [4]byte{0x04, 0x36, 0xf6, 0xe1} // ttub (@tatumio/tatum LTC_TEST_NETWORK)
)

// Tatum's testnet wallets use m/44'/1'/0'/0 for every chain except BCH and
// TRON, which keep their mainnet path.
const testnetCoin = 1

func evmSpec(coin uint32, kind addrKind) chainSpec {
	// ethereumjs-wallet's hdkey always serializes with bitcoin mainnet
	// versions: an EVM xpub is "xpub..." on testnet too.
	return chainSpec{
		family:  famEVM,
		mainnet: netSpec{coinType: coin, xpubID: versionXpub, xpubAddr: kind, keyAddr: kind},
		testnet: netSpec{coinType: testnetCoin, xpubID: versionXpub, xpubAddr: kind, keyAddr: kind},
	}
}

var specs = map[Chain]chainSpec{
	BTC: {
		family: famUTXO,
		// generateAddressFromXPub gives P2WPKH (bc1q...), while
		// generateAddressFromPrivatekey gives P2PKH (1...): copied.
		mainnet: netSpec{coinType: 0, xpubID: versionXpub, pubKeyHashID: 0x00, wifID: 0x80, hrp: "bc", xpubAddr: addrP2WPKH, keyAddr: addrP2PKH},
		testnet: netSpec{coinType: testnetCoin, xpubID: versionTpub, pubKeyHashID: 0x6f, wifID: 0xef, hrp: "tb", xpubAddr: addrP2WPKH, keyAddr: addrP2PKH},
	},
	LTC: {
		family:  famUTXO,
		mainnet: netSpec{coinType: 2, xpubID: versionLtub, pubKeyHashID: 0x30, wifID: 0xb0, xpubAddr: addrP2PKH, keyAddr: addrP2PKH},
		testnet: netSpec{coinType: testnetCoin, xpubID: versionTtub, pubKeyHashID: 0x6f, wifID: 0xef, xpubAddr: addrP2PKH, keyAddr: addrP2PKH},
	},
	DOGE: {
		family:  famUTXO,
		mainnet: netSpec{coinType: 3, xpubID: versionXpub, pubKeyHashID: 0x1e, wifID: 0x9e, xpubAddr: addrP2PKH, keyAddr: addrP2PKH},
		testnet: netSpec{coinType: testnetCoin, xpubID: versionTpub, pubKeyHashID: 0x71, wifID: 0xf1, xpubAddr: addrP2PKH, keyAddr: addrP2PKH},
	},
	BCH: {
		family: famUTXO,
		// Testnet keeps the mainnet path m/44'/145'/0'/0 (Tatum: "historically
		// uses mainnet derivation path"), with tpub serialization.
		mainnet: netSpec{coinType: 145, xpubID: versionXpub, pubKeyHashID: 0x00, wifID: 0x80, cashPrefix: "bitcoincash", xpubAddr: addrCashAddr, keyAddr: addrCashAddr},
		testnet: netSpec{coinType: 145, xpubID: versionTpub, pubKeyHashID: 0x6f, wifID: 0xef, cashPrefix: "bchtest", xpubAddr: addrCashAddr, keyAddr: addrCashAddr},
	},
	ETH:   evmSpec(60, addrEVM),
	BSC:   evmSpec(60, addrEVM),
	MATIC: evmSpec(966, addrEVM),
	CELO:  evmSpec(52752, addrEVM),
	KLAY:  evmSpec(8217, addrEVM),
	ONE:   evmSpec(1023, addrEVM), // the SDK's ONE address is 0x hex (basicHex), not one1 bech32
	XDC:   evmSpec(550, addrXDC),
	KCS:   evmSpec(60, addrEVM), // docs.tatum.io / @tatumio/shared-core path table; see docs/keys.md
	TRON: {
		family: famTRON,
		// Same path and serialization on both networks (bitcoinjs bip32 default
		// network: xpub).
		mainnet: netSpec{coinType: 195, xpubID: versionXpub, xpubAddr: addrTRON, keyAddr: addrTRON},
		testnet: netSpec{coinType: 195, xpubID: versionXpub, xpubAddr: addrTRON, keyAddr: addrTRON},
	},
}

var chainOrder = []Chain{BTC, LTC, DOGE, BCH, ETH, BSC, MATIC, CELO, KLAY, ONE, XDC, KCS, TRON}

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
		return netSpec{}, 0, ErrUnsupportedChain
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
