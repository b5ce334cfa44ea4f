package wallet

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tyler-smith/go-bip39"
	"golang.org/x/text/unicode/norm"
)

// ErrInvalidMnemonic is wrapped by every mnemonic validation error. The
// messages name word positions, never the words.
var ErrInvalidMnemonic = errors.New("invalid mnemonic")

// MnemonicEntropyBits is the entropy of generated mnemonics: 256 bits, 24
// words, as tatum-kms (bip39.generateMnemonic(256)).
const MnemonicEntropyBits = 256

// GenerateMnemonic returns a new 24-word English BIP39 mnemonic from
// crypto/rand.
func GenerateMnemonic() (string, error) {
	entropy, err := bip39.NewEntropy(MnemonicEntropyBits)
	if err != nil {
		return "", fmt.Errorf("generate mnemonic: %w", err)
	}
	defer zero(entropy)
	m, err := bip39.NewMnemonic(entropy)
	if err != nil {
		return "", fmt.Errorf("generate mnemonic: %w", err)
	}
	return m, nil
}

// NormalizeMnemonic turns typed or pasted input into the canonical form:
// lower case, words separated by single spaces, no surrounding white space.
// Callers that take a mnemonic from a person (storemanagedwallet) normalize
// it, then ValidateMnemonic it, then store the normalized form.
func NormalizeMnemonic(m string) string {
	return strings.Join(strings.Fields(strings.ToLower(m)), " ")
}

// ValidateMnemonic checks that m is a canonical English BIP39 mnemonic: 12,
// 15, 18, 21 or 24 words of the word list, lower case, single spaces, and a
// correct checksum. Canonical form matters because the seed is computed from
// the exact string: "a  b" and "a b" give different wallets.
func ValidateMnemonic(m string) error {
	if strings.TrimSpace(m) == "" {
		return fmt.Errorf("%w: empty", ErrInvalidMnemonic)
	}
	words := strings.Fields(m)
	switch len(words) {
	case 12, 15, 18, 21, 24:
	default:
		return fmt.Errorf("%w: %d words; want 12, 15, 18, 21 or 24 (gokms generates 24)", ErrInvalidMnemonic, len(words))
	}
	for i, w := range words {
		if _, ok := bip39.GetWordIndex(w); !ok {
			return fmt.Errorf("%w: word %d is not in the BIP39 English word list", ErrInvalidMnemonic, i+1)
		}
	}
	if strings.Join(words, " ") != m {
		return fmt.Errorf("%w: words must be separated by single spaces, without leading or trailing white space", ErrInvalidMnemonic)
	}
	entropy, err := bip39.EntropyFromMnemonic(m)
	zero(entropy)
	if err != nil {
		// The library's messages may quote a word; keep only our own.
		return fmt.Errorf("%w: checksum does not match (a word is wrong or out of order)", ErrInvalidMnemonic)
	}
	return nil
}

// mnemonicSeed is BIP39's mnemonicToSeed: PBKDF2-HMAC-SHA512, 2048 rounds,
// over the NFKD form of the exact string, salt "mnemonic"+passphrase. Like
// the Tatum SDK it does not validate the words: a wallet that tatum-kms
// stored from an unchecked mnemonic still derives the keys its stored xpub
// belongs to. (Tatum never uses a passphrase; tests pass the BIP39 vectors'.)
func mnemonicSeed(mnemonic, passphrase string) ([]byte, error) {
	if strings.TrimSpace(mnemonic) == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidMnemonic)
	}
	return bip39.NewSeed(norm.NFKD.String(mnemonic), norm.NFKD.String(passphrase)), nil
}

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
