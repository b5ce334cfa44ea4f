package wallet

import (
	"strings"
	"testing"
)

// Untrusted strings (keys typed or piped in, xpubs and mnemonics read from a
// store) never panic the decoders, and errors never repeat the input.
// `go test` runs the seeds; `go test -fuzz FuzzDecodePrivateKey ./wallet/`
// explores further.

func FuzzDecodePrivateKey(f *testing.F) {
	for _, c := range Chains() {
		pk, _ := PrivateKeyFromMnemonic(c, abandonArt, 0, false)
		f.Add(string(c), pk, false)
		f.Add(string(c), pk[:len(pk)/2], true)
	}
	f.Add("BTC", "", false)
	f.Add("ETH", "0x", false)
	f.Add("TRON", strings.Repeat("f", 64), true)
	f.Fuzz(func(t *testing.T, chain, key string, testnet bool) {
		c := Chain(chain)
		k, err := DecodePrivateKey(c, key, testnet)
		if err != nil {
			if len(key) >= 12 && strings.Contains(err.Error(), key) {
				t.Fatalf("error repeats the key: %v", err)
			}
			return
		}
		// A key that decodes re-encodes to an accepted key of the same value.
		ns, fam, _ := c.spec(testnet)
		s, err := encodePrivateKey(fam, ns, k)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := DecodePrivateKey(c, s, testnet)
		if err != nil || !k2.Key.Equals(&k.Key) {
			t.Fatalf("re-encoded key does not decode to the same key: %v", err)
		}
		if _, err := AddressFromPrivateKey(c, key, testnet); err != nil {
			t.Fatalf("decodable key has no address: %v", err)
		}
	})
}

func FuzzAddressFromXpub(f *testing.F) {
	for _, c := range Chains() {
		w, _ := WalletFromMnemonic(c, abandonArt, true)
		f.Add(string(c), w.Xpub, uint32(0), true)
		f.Add(string(c), w.Xpub[:50], uint32(1), false)
	}
	f.Add("TRON", strings.Repeat("02", 65), uint32(3), false)
	f.Fuzz(func(t *testing.T, chain, xpub string, index uint32, testnet bool) {
		a, err := AddressFromXpub(Chain(chain), xpub, index, testnet)
		if err == nil && a == "" {
			t.Fatal("no error and no address")
		}
	})
}

func FuzzMnemonic(f *testing.F) {
	f.Add(abandonArt)
	f.Add(strings.Repeat("zoo ", 23) + "wrong")
	f.Add("  Legal winner")
	f.Fuzz(func(t *testing.T, m string) {
		err := ValidateMnemonic(m)
		if err != nil {
			for _, w := range strings.Fields(m) {
				if len(w) >= 4 && strings.Contains(err.Error(), w) && !strings.Contains("invalid mnemonic words must be separated by single spaces without leading or trailing white space checksum does not match a word is wrong or out of order the BIP39 English word list want 12 15 18 21 24 gokms generates empty", w) {
					t.Fatalf("error %q repeats input word %q", err, w)
				}
			}
			return
		}
		if NormalizeMnemonic(m) != m {
			t.Fatal("a valid mnemonic is not in normal form")
		}
	})
}
