package wallet

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/base58"
)

// Solana keys as tatum-kms makes them (@tatumio/solana 2.2.100's
// solanaWallet): SLIP-10 ed25519 from the BIP39 seed at
// m/44'/501'/0'/0'/<index>' (the SDK appends "/<index>'" to its constant
// "m/44'/501'/0'/0'"), address = base58 of the 32-byte public key,
// privateKey = base58 of web3.js's 64-byte secret key (seed || public key).
// Mainnet, devnet and testnet use the same keys and addresses.

// ErrInvalidSolanaKey is wrapped by every Solana key decoding error. The
// messages describe the shape, never the key.
var ErrInvalidSolanaKey = errors.New("invalid Solana private key")

// ErrInvalidSolanaAddress is wrapped by Solana address decoding errors.
var ErrInvalidSolanaAddress = errors.New("invalid Solana address")

// SolanaDerivationPath is the path of index i, as the SDK writes it.
func SolanaDerivationPath(index uint32) string {
	return fmt.Sprintf("m/44'/501'/0'/0'/%d'", index)
}

// SolanaWallet is what tatum-kms's generatewallet SOL prints and what a SOL
// entry of its wallet.dat holds besides chain and testnet, in that key order.
// A wallet from a private key has no mnemonic.
type SolanaWallet struct {
	Mnemonic   string `json:"mnemonic,omitempty"`
	Address    string `json:"address"`
	PrivateKey string `json:"privateKey"`
}

// GenerateSolanaWallet makes a new 24-word mnemonic and the key at index 0,
// as solanaWallet().wallet() does.
func GenerateSolanaWallet() (SolanaWallet, error) {
	m, err := GenerateMnemonic()
	if err != nil {
		return SolanaWallet{}, err
	}
	return SolanaWalletFromMnemonic(m, 0)
}

// SolanaWalletFromMnemonic is generateAddressFromMnemonic(mnemonic, index)
// with the mnemonic kept, as the SDK's wallet() returns it for index 0.
func SolanaWalletFromMnemonic(mnemonic string, index uint32) (SolanaWallet, error) {
	k, err := SolanaKeyFromMnemonic(mnemonic, index)
	if err != nil {
		return SolanaWallet{}, err
	}
	defer zero(k)
	return SolanaWallet{Mnemonic: mnemonic, Address: SolanaAddress(k.Public().(ed25519.PublicKey)), PrivateKey: EncodeSolanaPrivateKey(k)}, nil
}

// SolanaWalletFromPrivateKey is the SDK's wallet(privateKey): the key in
// base58 or 128 hex digits, given back in base58 with its address.
func SolanaWalletFromPrivateKey(privateKey string) (SolanaWallet, error) {
	k, err := DecodeSolanaPrivateKey(privateKey)
	if err != nil {
		return SolanaWallet{}, err
	}
	defer zero(k)
	return SolanaWallet{Address: SolanaAddress(k.Public().(ed25519.PublicKey)), PrivateKey: EncodeSolanaPrivateKey(k)}, nil
}

// SolanaKeyFromMnemonic derives the ed25519 key of index. The caller zeroes it.
func SolanaKeyFromMnemonic(mnemonic string, index uint32) (ed25519.PrivateKey, error) {
	if err := checkIndex(index); err != nil {
		return nil, err
	}
	seed, err := mnemonicSeed(mnemonic, "")
	if err != nil {
		return nil, err
	}
	defer zero(seed)
	k := slip10Ed25519(seed, []uint32{44, 501, 0, 0, index})
	defer zero(k)
	return ed25519.NewKeyFromSeed(k), nil
}

// slip10Ed25519 is SLIP-0010's ed25519 derivation (every step hardened), as
// the ed25519-hd-key package the SDK uses implements it; it returns the
// 32-byte key (the ed25519 seed).
func slip10Ed25519(seed []byte, path []uint32) []byte {
	mac := hmac.New(sha512.New, []byte("ed25519 seed"))
	mac.Write(seed)
	I := mac.Sum(nil)
	key, chain := I[:32], I[32:]
	var data [1 + 32 + 4]byte
	for _, i := range path {
		data[0] = 0
		copy(data[1:33], key)
		binary.BigEndian.PutUint32(data[33:], i|0x80000000)
		mac = hmac.New(sha512.New, chain)
		mac.Write(data[:])
		next := mac.Sum(nil)
		zero(I)
		I = next
		key, chain = I[:32], I[32:]
	}
	zero(data[:])
	out := append([]byte(nil), key...)
	zero(I)
	return out
}

// SolanaAddress is the base58 public key.
func SolanaAddress(pub ed25519.PublicKey) string { return base58.Encode(pub) }

// ParseSolanaAddress decodes a base58 address into its 32-byte public key.
func ParseSolanaAddress(s string) (ed25519.PublicKey, error) {
	b := base58.Decode(s)
	if len(b) != ed25519.PublicKeySize || base58.Encode(b) != s {
		return nil, fmt.Errorf("%w: want the base58 form of 32 bytes", ErrInvalidSolanaAddress)
	}
	return ed25519.PublicKey(b), nil
}

// EncodeSolanaPrivateKey is the SDK's form: base58 of seed || public key.
func EncodeSolanaPrivateKey(k ed25519.PrivateKey) string { return base58.Encode(k) }

// DecodeSolanaPrivateKey takes what web3.js's Keypair.fromSecretKey takes in
// the SDK (generateKeyPair): 128 hex digits or base58 of 64 bytes, seed ||
// public key. Like web3.js, it refuses a key whose public half does not belong
// to its seed (such a key would make signatures that never verify). The
// caller zeroes the result.
func DecodeSolanaPrivateKey(s string) (ed25519.PrivateKey, error) {
	var b []byte
	if len(s) == 128 {
		var err error
		if b, err = hex.DecodeString(s); err != nil {
			return nil, fmt.Errorf("%w: 128 characters but not hex digits", ErrInvalidSolanaKey)
		}
	} else {
		b = base58.Decode(s)
		if len(b) != ed25519.PrivateKeySize {
			zero(b)
			return nil, fmt.Errorf("%w: want base58 of 64 bytes (seed and public key, as tatum-kms stores it) or 128 hex digits", ErrInvalidSolanaKey)
		}
	}
	k := ed25519.NewKeyFromSeed(b[:32])
	ok := subtle.ConstantTimeCompare(k[32:], b[32:]) == 1
	zero(b)
	if !ok {
		zero(k)
		return nil, fmt.Errorf("%w: its public half does not belong to its seed", ErrInvalidSolanaKey)
	}
	return k, nil
}
