package wallet

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
)

// Flow keys as tatum-kms makes them (@tatumio/tatum 1.37.56, tatum-js v1:
// generateFlowWallet, generateFlowPrivateKey, generateFlowPublicKey*):
//   - path m/44'/539'/0'/0/i (BIP32 secp256k1 from the BIP39 seed);
//   - privateKey: elliptic's getPrivate().toString(16), lower-case hex with
//     leading zeros dropped (one key in 16 prints 63 characters or fewer);
//   - "address": Flow accounts are created on chain, so tatum-kms's
//     getaddress FLOW prints the uncompressed public key without its 04
//     prefix (128 hex), the key an account is then created with.
//   - xpub: the BIP32 xpub of m/44'/539'/0'/0.

// FlowDerivationPath is the account path of tatum-kms's Flow wallets.
const FlowDerivationPath = "m/44'/539'/0'/0"

// ErrInvalidFlowKey is wrapped by every Flow key decoding error. The
// messages describe the shape, never the key.
var ErrInvalidFlowKey = errors.New("invalid Flow private key")

// FlowWallet is what generatemanagedwallet FLOW prints.
type FlowWallet struct {
	Mnemonic string `json:"mnemonic"`
	Xpub     string `json:"xpub"`
}

// GenerateFlowWalletFromMnemonic is generateFlowWallet(mnemonic).
func GenerateFlowWalletFromMnemonic(mnemonic string) (FlowWallet, error) {
	k, err := flowAccount(mnemonic)
	if err != nil {
		return FlowWallet{}, err
	}
	n, err := k.Neuter()
	if err != nil {
		return FlowWallet{}, fmt.Errorf("flow xpub: %w", err)
	}
	return FlowWallet{Mnemonic: mnemonic, Xpub: n.String()}, nil
}

func flowAccount(mnemonic string) (*hdkeychain.ExtendedKey, error) {
	seed, err := mnemonicSeed(mnemonic, "")
	if err != nil {
		return nil, err
	}
	defer zero(seed)
	m, err := masterKey(seed)
	if err != nil {
		return nil, err
	}
	return derivePath(m, FlowDerivationPath)
}

// FlowKeyFromMnemonic is generatePrivateKeyFromMnemonic(FLOW, mnemonic, i).
func FlowKeyFromMnemonic(mnemonic string, index uint32) (*btcec.PrivateKey, error) {
	if index >= hardened {
		return nil, fmt.Errorf("Flow index %d: must be below 2^31", index)
	}
	a, err := flowAccount(mnemonic)
	if err != nil {
		return nil, err
	}
	c, err := a.Derive(index)
	if err != nil {
		return nil, fmt.Errorf("Flow index %d: %w", index, err)
	}
	return c.ECPrivKey()
}

// FlowPublicKeyFromXpub is generateAddressFromXPub(FLOW, xpub, i): the
// uncompressed public key hex without 04.
func FlowPublicKeyFromXpub(xpub string, index uint32) (string, error) {
	k, err := hdkeychain.NewKeyFromString(xpub)
	if err != nil || k.IsPrivate() {
		return "", fmt.Errorf("%w: Flow xpub is not a BIP32 extended public key", ErrInvalidXpub)
	}
	c, err := k.Derive(index)
	if err != nil {
		return "", fmt.Errorf("Flow index %d: %w", index, err)
	}
	pub, err := c.ECPubKey()
	if err != nil {
		return "", err
	}
	return FlowPublicKeyHex(pub), nil
}

// FlowPublicKeyHex is the uncompressed point without its 04 prefix.
func FlowPublicKeyHex(pub *btcec.PublicKey) string {
	return hex.EncodeToString(pub.SerializeUncompressed()[1:])
}

// EncodeFlowPrivateKey is elliptic's getPrivate().toString(16): no leading zeros.
func EncodeFlowPrivateKey(k *btcec.PrivateKey) string {
	b := k.Key.Bytes()
	defer clear(b[:])
	return new(big.Int).SetBytes(b[:]).Text(16)
}

// DecodeFlowPrivateKey reads a Flow private key as tatum-kms stores it: hex,
// 64 characters or fewer (leading zeros dropped), optionally 0x-prefixed.
func DecodeFlowPrivateKey(s string) (*btcec.PrivateKey, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if s == "" || len(s) > 64 {
		return nil, fmt.Errorf("%w: %d hex characters; want at most 64", ErrInvalidFlowKey, len(s))
	}
	if len(s)%2 == 1 {
		s = "0" + s
	}
	b, err := hex.DecodeString(strings.Repeat("00", 32-len(s)/2) + s)
	defer clear(b)
	if err != nil {
		return nil, fmt.Errorf("%w: not hex", ErrInvalidFlowKey)
	}
	k, err := scalarKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: not a valid secp256k1 scalar", ErrInvalidFlowKey)
	}
	return k, nil
}
