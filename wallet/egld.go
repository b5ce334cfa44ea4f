package wallet

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil/bech32"
)

// MultiversX (EGLD) keys as @tatumio/tatum 1.37 derives them for tatum-kms:
// SLIP-10 ed25519 (ed25519-hd-key's derivePath) from the BIP39 seed along
// m/44'/508'/0'/0'/i' on mainnet and m/44'/1'/0'/0'/i' on testnet (every
// level hardened, as SLIP-10 ed25519 requires); the private key is the
// 32-byte seed in hex, the address bech32 with the "erd" prefix of the
// 32-byte public key. A tatum-kms EGLD wallet stores only the mnemonic (no
// xpub), so tatum-kms's getaddress cannot answer for it; gokms derives the
// address from the mnemonic.

// ErrInvalidEGLDKey is wrapped by every EGLD private key error; messages
// never repeat the key.
var ErrInvalidEGLDKey = errors.New("invalid EGLD private key")

// ErrInvalidEGLDAddress is wrapped by every EGLD address error.
var ErrInvalidEGLDAddress = errors.New("invalid EGLD address")

const egldHRP = "erd"

// EGLDPath is the derivation path of index i.
func EGLDPath(index uint32, testnet bool) string {
	return fmt.Sprintf("m/44'/%d'/0'/0'/%d'", coinType("EGLD", testnet), index)
}

// EGLDKeyFromMnemonic derives the ed25519 key at index. Like the SDK it does
// not validate the mnemonic's words (see PrivateKeyFromMnemonic).
func EGLDKeyFromMnemonic(mnemonic string, index uint32, testnet bool) (ed25519.PrivateKey, error) {
	if err := checkIndex(index); err != nil {
		return nil, err
	}
	seed, err := mnemonicSeed(mnemonic, "")
	if err != nil {
		return nil, err
	}
	defer zero(seed)
	coin := coinType("EGLD", testnet)
	s := slip10Ed25519(seed, []uint32{44, coin, 0, 0, index})
	defer zero(s)
	return ed25519.NewKeyFromSeed(s), nil
}

// EGLDPrivateKeyFromMnemonic is generatePrivateKeyFromMnemonic(EGLD): 64 hex
// digits, no 0x.
func EGLDPrivateKeyFromMnemonic(mnemonic string, index uint32, testnet bool) (string, error) {
	k, err := EGLDKeyFromMnemonic(mnemonic, index, testnet)
	if err != nil {
		return "", err
	}
	defer zero(k)
	return hex.EncodeToString(k.Seed()), nil
}

// EGLDKeyFromPrivateKey decodes an EGLD private key as the SDK's
// UserSecretKey.fromString does: exactly 64 hex digits.
func EGLDKeyFromPrivateKey(privateKey string) (ed25519.PrivateKey, error) {
	s := strings.TrimSpace(privateKey)
	if len(s) != 2*ed25519.SeedSize {
		return nil, fmt.Errorf("%w: want %d hex digits", ErrInvalidEGLDKey, 2*ed25519.SeedSize)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not hex", ErrInvalidEGLDKey)
	}
	defer zero(b)
	return ed25519.NewKeyFromSeed(b), nil
}

// EGLDAddress is the erd1 bech32 address of a public key.
func EGLDAddress(pub ed25519.PublicKey) (string, error) {
	a, err := bech32.EncodeFromBase256(egldHRP, pub)
	if err != nil {
		return "", fmt.Errorf("encode EGLD address: %w", err)
	}
	return a, nil
}

// ParseEGLDAddress decodes an erd1 address to its 32-byte public key.
func ParseEGLDAddress(s string) (ed25519.PublicKey, error) {
	hrp, data, err := bech32.DecodeToBase256(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not bech32", ErrInvalidEGLDAddress, s)
	}
	if hrp != egldHRP || len(data) != ed25519.PublicKeySize || s != strings.ToLower(s) {
		return nil, fmt.Errorf("%w: %q is not an erd1 address of 32 bytes", ErrInvalidEGLDAddress, s)
	}
	return ed25519.PublicKey(data), nil
}

// EGLDAddressFromPrivateKey is generateAddressFromPrivatekey(EGLD).
func EGLDAddressFromPrivateKey(privateKey string) (string, error) {
	k, err := EGLDKeyFromPrivateKey(privateKey)
	if err != nil {
		return "", err
	}
	defer zero(k)
	return EGLDAddress(k.Public().(ed25519.PublicKey))
}

// EGLDAddressFromMnemonic is the address at index of a mnemonic wallet.
func EGLDAddressFromMnemonic(mnemonic string, index uint32, testnet bool) (string, error) {
	k, err := EGLDKeyFromMnemonic(mnemonic, index, testnet)
	if err != nil {
		return "", err
	}
	defer zero(k)
	return EGLDAddress(k.Public().(ed25519.PublicKey))
}

// GenerateEGLDPrivateKey returns a fresh random EGLD private key and its
// address.
func GenerateEGLDPrivateKey() (privateKey, address string, err error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate EGLD key: %w", err)
	}
	defer zero(key)
	a, err := EGLDAddress(pub)
	if err != nil {
		return "", "", err
	}
	return hex.EncodeToString(key.Seed()), a, nil
}
