package wallet

import (
	"crypto/ed25519"
	"crypto/sha512"
	"fmt"
	"strings"

	"github.com/tyler-smith/go-bip39"
)

// Algorand's own 25-word mnemonic (algosdk's mnemonicToSecretKey, which
// tatum-kms's storemanagedwallet ALGO reaches through generateAlgoWallet):
// the 32-byte ed25519 seed as 24 words of 11 bits each (little-endian bit
// order, BIP39's English list) and a 25th word of checksum, the first 11
// bits of SHA-512/256 of the seed. It is not a BIP39 mnemonic.

// AlgoMnemonicWords is the length of an Algorand mnemonic.
const AlgoMnemonicWords = 25

// IsAlgoMnemonic reports whether m has the length of an Algorand mnemonic
// (its words are checked by AlgoKeyFromMnemonic).
func IsAlgoMnemonic(m string) bool { return len(strings.Fields(m)) == AlgoMnemonicWords }

// AlgoKeyFromMnemonic decodes an Algorand mnemonic into its key, as
// algosdk's mnemonicToSecretKey. Errors name word positions, never words.
// The caller zeroes the key.
func AlgoKeyFromMnemonic(m string) (ed25519.PrivateKey, error) {
	words := strings.Fields(m)
	if len(words) != AlgoMnemonicWords {
		return nil, fmt.Errorf("%w: an Algorand mnemonic has %d words, this one %d", ErrInvalidMnemonic, AlgoMnemonicWords, len(words))
	}
	var idx [AlgoMnemonicWords]int
	for i, w := range words {
		n, ok := bip39.GetWordIndex(w)
		if !ok {
			return nil, fmt.Errorf("%w: word %d is not in the word list", ErrInvalidMnemonic, i+1)
		}
		idx[i] = n
	}
	var (
		out  []byte
		acc  uint32
		bits uint
	)
	for _, n := range idx[:24] {
		acc |= uint32(n) << bits
		bits += 11
		for bits >= 8 {
			out = append(out, byte(acc))
			acc >>= 8
			bits -= 8
		}
	}
	defer zero(out)
	if len(out) != 33 || out[32] != 0 {
		return nil, fmt.Errorf("%w: the 24 words do not encode a 32-byte key", ErrInvalidMnemonic)
	}
	seed := out[:32]
	sum := sha512.Sum512_256(seed)
	if int(uint16(sum[0])|uint16(sum[1])<<8)&0x7ff != idx[24] {
		return nil, fmt.Errorf("%w: the checksum word (25) does not match", ErrInvalidMnemonic)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// AlgoWalletFromMnemonic is generateAlgoWallet(mnemonic): the address and
// the secret tatum-kms stores for an Algorand mnemonic.
func AlgoWalletFromMnemonic(m string) (address, secret string, err error) {
	k, err := AlgoKeyFromMnemonic(m)
	if err != nil {
		return "", "", err
	}
	defer zero(k)
	return AlgoAddress(k.Public().(ed25519.PublicKey)), AlgoSecret(k), nil
}
