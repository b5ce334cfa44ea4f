package wallet

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
)

// Wallet is what Tatum's generateWallet returns for the chains gokms
// supports: a mnemonic and the xpub of the chain's account path. Its JSON
// field names are the SDK's; MarshalWallet also copies the SDK's key order.
type Wallet struct {
	Mnemonic string `json:"mnemonic"`
	Xpub     string `json:"xpub"`
}

// XpubFirst reports whether the SDK's wallet object for the chain lists
// "xpub" before "mnemonic" (EVM chains: {xpub, mnemonic}; UTXO chains and
// TRON: {mnemonic, xpub}). JSON.stringify keeps that order in tatum-kms's
// output and in its wallet store entries.
func XpubFirst(c Chain) bool { return c.IsEVM() }

// MarshalWallet renders w as tatum-kms prints it: JSON.stringify(w, null,
// indent) with the chain's key order. indent "" gives compact JSON.
func MarshalWallet(c Chain, w Wallet, indent string) ([]byte, error) {
	m, err := json.Marshal(w.Mnemonic)
	if err != nil {
		return nil, err
	}
	x, err := json.Marshal(w.Xpub)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fields := [][2][]byte{{[]byte(`"mnemonic"`), m}, {[]byte(`"xpub"`), x}}
	if XpubFirst(c) {
		fields[0], fields[1] = fields[1], fields[0]
	}
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		if indent != "" {
			b.WriteString("\n" + indent)
		}
		b.Write(f[0])
		b.WriteByte(':')
		if indent != "" {
			b.WriteByte(' ')
		}
		b.Write(f[1])
	}
	if indent != "" {
		b.WriteByte('\n')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// GenerateWallet makes a new 24-word mnemonic and its xpub for the chain.
func GenerateWallet(c Chain, testnet bool) (Wallet, error) {
	if _, _, err := c.spec(testnet); err != nil {
		return Wallet{}, err
	}
	m, err := GenerateMnemonic()
	if err != nil {
		return Wallet{}, err
	}
	return WalletFromMnemonic(c, m, testnet)
}

// WalletFromMnemonic returns the wallet (mnemonic and xpub of the chain's
// account path) for a mnemonic being stored. The mnemonic must pass
// ValidateMnemonic, so it must already be in canonical form: normalize what a
// person typed with NormalizeMnemonic first. (tatum-kms stored anything it
// was given, unchecked; gokms refuses a mnemonic with a wrong word or
// checksum, which no other wallet could restore.)
func WalletFromMnemonic(c Chain, mnemonic string, testnet bool) (Wallet, error) {
	ns, _, err := c.spec(testnet)
	if err != nil {
		return Wallet{}, err
	}
	if err := ValidateMnemonic(mnemonic); err != nil {
		return Wallet{}, err
	}
	acct, err := accountFromMnemonic(mnemonic, ns)
	if err != nil {
		return Wallet{}, err
	}
	defer acct.Zero()
	pub, err := neuter(acct, ns.xpubID)
	if err != nil {
		return Wallet{}, err
	}
	return Wallet{Mnemonic: mnemonic, Xpub: pub.String()}, nil
}

// Xpub returns the chain's xpub for a mnemonic without validating the
// mnemonic (see PrivateKeyFromMnemonic); for checking a stored record.
func Xpub(c Chain, mnemonic string, testnet bool) (string, error) {
	d, err := NewDeriver(c, mnemonic, testnet)
	if err != nil {
		return "", err
	}
	defer d.Zero()
	return d.Xpub(), nil
}

func accountFromMnemonic(mnemonic string, ns netSpec) (*hdkeychain.ExtendedKey, error) {
	seed, err := mnemonicSeed(mnemonic, "")
	if err != nil {
		return nil, err
	}
	defer zero(seed)
	return accountKey(seed, ns)
}

// AddressFromXpub is generateAddressFromXPub: the address at index of the
// chain's xpub. BTC gives P2WPKH (bc1q/tb1q), LTC and DOGE P2PKH, BCH
// cashaddr with its prefix, EVM chains 0x + lower-case hex (XDC: xdc + hex),
// TRON a base58 T-address. For TRON the xpub may also be the 130-hex-digit
// form the SDK accepts (compressed public key followed by chain code).
func AddressFromXpub(c Chain, xpub string, index uint32, testnet bool) (string, error) {
	ns, fam, err := c.spec(testnet)
	if err != nil {
		return "", err
	}
	if err := checkIndex(index); err != nil {
		return "", err
	}
	k, err := parseXpub(c, xpub, ns, fam)
	if err != nil {
		return "", err
	}
	return addressAt(k, index, ns)
}

func addressAt(pubAcct *hdkeychain.ExtendedKey, index uint32, ns netSpec) (string, error) {
	child, err := pubAcct.Derive(index)
	if err != nil {
		return "", fmt.Errorf("derive address %d: %w", index, err)
	}
	pub, err := child.ECPubKey()
	if err != nil {
		return "", fmt.Errorf("derive address %d: %w", index, err)
	}
	return encodeAddress(ns.xpubAddr, ns, pub, true)
}

// PrivateKeyFromMnemonic is generatePrivateKeyFromMnemonic: the private key
// at index of the chain's account path, encoded as the SDK does: WIF
// (compressed, the network's version byte) on BTC, LTC, DOGE and BCH;
// "0x" + 64 lower-case hex digits on the EVM chains (XDC too); 64 hex digits
// without 0x on TRON.
//
// Like the SDK, it derives from the exact mnemonic string and does not check
// its words: tatum-kms never validated stored mnemonics, and a wallet it
// stored must still yield the keys its stored xpub belongs to. Validation
// belongs where a mnemonic enters the store (WalletFromMnemonic).
func PrivateKeyFromMnemonic(c Chain, mnemonic string, index uint32, testnet bool) (string, error) {
	ns, fam, err := c.spec(testnet)
	if err != nil {
		return "", err
	}
	k, err := DeriveKey(c, mnemonic, index, testnet)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return encodePrivateKey(fam, ns, k)
}

// DeriveKey returns the private key PrivateKeyFromMnemonic encodes. For many
// indices of one mnemonic use a Deriver: this runs BIP39's PBKDF2 each call.
func DeriveKey(c Chain, mnemonic string, index uint32, testnet bool) (*btcec.PrivateKey, error) {
	ns, _, err := c.spec(testnet)
	if err != nil {
		return nil, err
	}
	if err := checkIndex(index); err != nil {
		return nil, err
	}
	acct, err := accountFromMnemonic(mnemonic, ns)
	if err != nil {
		return nil, err
	}
	defer acct.Zero()
	return childKey(acct, index)
}

func childKey(acct *hdkeychain.ExtendedKey, index uint32) (*btcec.PrivateKey, error) {
	child, err := acct.Derive(index)
	if err != nil {
		return nil, fmt.Errorf("derive key %d: %w", index, err)
	}
	defer child.Zero()
	return child.ECPrivKey()
}

// AddressFromPrivateKey is generateAddressFromPrivatekey. It differs from
// AddressFromXpub for BTC only, as the SDK does: a BTC private key gives the
// P2PKH address (1.../m...), while the xpub of the same key gives P2WPKH
// (bc1q.../tb1q...). Use AddressFromPublicKey for the xpub-style address.
// The SDK has no such function for LTC, DOGE, BCH and CELO; gokms gives
// their xpub-style address. A WIF key without the compression flag gives the
// address of the uncompressed public key, as bitcoinjs does.
func AddressFromPrivateKey(c Chain, privateKey string, testnet bool) (string, error) {
	ns, _, err := c.spec(testnet)
	if err != nil {
		return "", err
	}
	k, compressed, err := DecodePrivateKeyCompressed(c, privateKey, testnet)
	if err != nil {
		return "", err
	}
	defer k.Zero()
	return encodeAddress(ns.keyAddr, ns, k.PubKey(), compressed)
}

// AddressFromPublicKey gives the address AddressFromXpub would give for this
// public key (BTC: P2WPKH). It is the address tatum-kms prints for
// generatemanagedprivatekeybatch (the xpub address of the generated key).
func AddressFromPublicKey(c Chain, pub *btcec.PublicKey, testnet bool) (string, error) {
	ns, _, err := c.spec(testnet)
	if err != nil {
		return "", err
	}
	if pub == nil {
		return "", fmt.Errorf("nil public key")
	}
	return encodeAddress(ns.xpubAddr, ns, pub, true)
}

// GeneratePrivateKey returns a new random private key in the chain's
// encoding (as PrivateKeyFromMnemonic). tatum-kms's
// generatemanagedprivatekeybatch makes a whole new mnemonic per key and takes
// its index-1 key; a uniformly random scalar from crypto/rand is the same
// distribution without 2048 PBKDF2 rounds per key.
func GeneratePrivateKey(c Chain, testnet bool) (string, error) {
	pk, _, err := GenerateManagedPrivateKey(c, testnet)
	return pk, err
}

// GenerateManagedPrivateKey returns a new private key and the address that
// tatum-kms's generatemanagedprivatekeybatch prints beside it (the
// xpub-style address, AddressFromPublicKey).
func GenerateManagedPrivateKey(c Chain, testnet bool) (privateKey, address string, err error) {
	ns, fam, err := c.spec(testnet)
	if err != nil {
		return "", "", err
	}
	k, err := btcec.NewPrivateKey()
	if err != nil {
		return "", "", fmt.Errorf("generate private key: %w", err)
	}
	defer k.Zero()
	if privateKey, err = encodePrivateKey(fam, ns, k); err != nil {
		return "", "", err
	}
	if address, err = encodeAddress(ns.xpubAddr, ns, k.PubKey(), true); err != nil {
		return "", "", err
	}
	return privateKey, address, nil
}
