package wallet

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/stellar/go-stellar-sdk/strkey"
)

// Stellar keys as tatum-kms makes them (generateXlmWallet /
// @tatumio/xlm's wallet(): stellar-sdk's Keypair.random()): an ed25519 key
// from 32 random bytes, no mnemonic; address = StrKey "G..." of the public
// key, secret = StrKey "S..." of the 32-byte seed. Mainnet and testnet use the
// same keys and addresses (the network passphrase enters only the
// transaction hash).

// ErrInvalidStellarSecret is wrapped by every Stellar secret decoding error.
// The messages describe the shape, never the secret.
var ErrInvalidStellarSecret = errors.New("invalid Stellar secret")

// ErrInvalidStellarAddress is wrapped by Stellar address decoding errors.
var ErrInvalidStellarAddress = errors.New("invalid Stellar address")

// StellarWallet is what tatum-kms's generatewallet XLM prints and what an XLM
// entry of its wallet.dat holds besides chain and testnet, in that key order.
type StellarWallet struct {
	Address string `json:"address"`
	Secret  string `json:"secret"`
}

// GenerateStellarWallet is Keypair.random(): a seed from crypto/rand.
func GenerateStellarWallet() (StellarWallet, error) {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return StellarWallet{}, fmt.Errorf("generate Stellar wallet: %w", err)
	}
	defer zero(seed[:])
	return StellarWalletFromSeed(seed[:])
}

// StellarWalletFromSeed is Keypair.fromRawEd25519Seed(seed).
func StellarWalletFromSeed(seed []byte) (StellarWallet, error) {
	if len(seed) != ed25519.SeedSize {
		return StellarWallet{}, fmt.Errorf("%w: a raw seed has 32 bytes", ErrInvalidStellarSecret)
	}
	k := ed25519.NewKeyFromSeed(seed)
	defer zero(k)
	secret, err := strkey.Encode(strkey.VersionByteSeed, seed)
	if err != nil {
		return StellarWallet{}, fmt.Errorf("encode Stellar secret: %w", err)
	}
	return StellarWallet{Address: StellarAddress(k.Public().(ed25519.PublicKey)), Secret: secret}, nil
}

// StellarWalletFromSecret is Keypair.fromSecret(secret): the address of an
// "S..." secret (what storemanagedprivatekey XLM stores as privateKey).
func StellarWalletFromSecret(secret string) (StellarWallet, error) {
	k, err := DecodeStellarSecret(secret)
	if err != nil {
		return StellarWallet{}, err
	}
	defer zero(k)
	return StellarWallet{Address: StellarAddress(k.Public().(ed25519.PublicKey)), Secret: secret}, nil
}

// DecodeStellarSecret decodes an "S..." StrKey seed into its ed25519 key.
// The caller zeroes the result.
func DecodeStellarSecret(secret string) (ed25519.PrivateKey, error) {
	seed, err := strkey.Decode(strkey.VersionByteSeed, secret)
	if err != nil || len(seed) != ed25519.SeedSize {
		zero(seed)
		return nil, fmt.Errorf("%w: want the 56-character StrKey form that starts with S (as tatum-kms stores it), with a valid checksum", ErrInvalidStellarSecret)
	}
	defer zero(seed)
	return ed25519.NewKeyFromSeed(seed), nil
}

// StellarAddress is the "G..." StrKey of an ed25519 public key.
func StellarAddress(pub ed25519.PublicKey) string {
	a, err := strkey.Encode(strkey.VersionByteAccountID, pub)
	if err != nil { // only for a wrong length, which ed25519.PublicKey never has
		panic("stellar address: " + err.Error())
	}
	return a
}

// ParseStellarAddress decodes a "G..." address into its public key.
func ParseStellarAddress(s string) (ed25519.PublicKey, error) {
	b, err := strkey.Decode(strkey.VersionByteAccountID, s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: want the 56-character StrKey form that starts with G", ErrInvalidStellarAddress)
	}
	return ed25519.PublicKey(b), nil
}
