package wallet

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// Algorand keys in tatum-kms's form. tatum-kms stores an ALGO wallet as
// {address, secret}: the secret is base32.js's RFC 4648 encoding (no
// padding) of the 64-byte ed25519 secret key (seed || public key), as
// @tatumio/tatum's generateAlgoWallet writes it; the address is algosdk's
// encodeAddress: base32 (no padding) of the public key followed by the last
// 4 bytes of its SHA-512/256 digest. The signer takes the secret from the
// record's "secret" or, for storemanagedprivatekey entries, "privateKey".

// ErrInvalidAlgoSecret is wrapped by every ALGO secret error; messages never
// repeat the secret.
var ErrInvalidAlgoSecret = errors.New("invalid ALGO secret")

// ErrInvalidAlgoAddress is wrapped by every ALGO address error.
var ErrInvalidAlgoAddress = errors.New("invalid ALGO address")

var algoB32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// AlgoAddressLength is the length of an Algorand address (58 characters).
const AlgoAddressLength = 58

// AlgoAddress is algosdk's encodeAddress of a 32-byte public key.
func AlgoAddress(pub ed25519.PublicKey) string {
	sum := sha512.Sum512_256(pub)
	return algoB32.EncodeToString(append(append([]byte{}, pub...), sum[28:]...))
}

// ParseAlgoAddress decodes an Algorand address and checks its checksum.
func ParseAlgoAddress(s string) (ed25519.PublicKey, error) {
	if len(s) != AlgoAddressLength {
		return nil, fmt.Errorf("%w: %d characters, want %d", ErrInvalidAlgoAddress, len(s), AlgoAddressLength)
	}
	b, err := algoB32.DecodeString(s)
	if err != nil || len(b) != 36 {
		return nil, fmt.Errorf("%w: not base32 (RFC 4648, upper case)", ErrInvalidAlgoAddress)
	}
	pub := ed25519.PublicKey(b[:32])
	sum := sha512.Sum512_256(pub)
	if !bytes.Equal(sum[28:], b[32:]) {
		return nil, fmt.Errorf("%w: bad checksum", ErrInvalidAlgoAddress)
	}
	return pub, nil
}

// AlgoSecret encodes a secret key the way tatum-kms stores it.
func AlgoSecret(key ed25519.PrivateKey) string {
	return algoB32.EncodeToString(key)
}

// AlgoKeyFromSecret decodes tatum-kms's ALGO secret. Like base32.js's
// decoder it accepts lower case and trailing padding; unlike the SDK it
// refuses a secret whose public half does not belong to its seed (the SDK
// would sign with the seed and name the other key as signer), so a damaged
// or spliced record is caught before anything is signed.
func AlgoKeyFromSecret(secret string) (ed25519.PrivateKey, error) {
	s := strings.TrimRight(strings.ToUpper(strings.TrimSpace(secret)), "=")
	b, err := algoB32.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not base32 (RFC 4648)", ErrInvalidAlgoSecret)
	}
	defer zero(b)
	if len(b) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d (seed and public key)", ErrInvalidAlgoSecret, len(b), ed25519.PrivateKeySize)
	}
	key := ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
	if !bytes.Equal(key[ed25519.SeedSize:], b[ed25519.SeedSize:]) {
		zero(key)
		return nil, fmt.Errorf("%w: its public key does not belong to its seed", ErrInvalidAlgoSecret)
	}
	return key, nil
}

// AlgoAddressFromSecret is generateAlgodAddressFromPrivatetKey.
func AlgoAddressFromSecret(secret string) (string, error) {
	key, err := AlgoKeyFromSecret(secret)
	if err != nil {
		return "", err
	}
	defer zero(key)
	return AlgoAddress(key.Public().(ed25519.PublicKey)), nil
}

// GenerateAlgoWallet is generateAlgoWallet without a mnemonic (what
// tatum-kms's generatemanagedwallet ALGO runs): a fresh random key, as
// address and secret.
func GenerateAlgoWallet() (address, secret string, err error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate ALGO key: %w", err)
	}
	defer zero(key)
	return AlgoAddress(pub), AlgoSecret(key), nil
}
