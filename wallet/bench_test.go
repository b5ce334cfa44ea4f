package wallet

import (
	"testing"
)

// Derivation costs per chain. Compare, for one chain:
//   PrivateKeyFromMnemonic (BIP39 PBKDF2 + 5 BIP32 steps per call)
//   Deriver/PrivateKey     (1 BIP32 step from the cached account key)
//   AddressFromXpub        (parse the xpub + 1 public BIP32 step + encoding)
//   Deriver/Address        (1 public BIP32 step + encoding)
//
//   go test -run '^$' -bench . -benchtime 300ms ./wallet/

func BenchmarkPrivateKeyFromMnemonic(b *testing.B) {
	for _, c := range Chains() {
		b.Run(string(c), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := PrivateKeyFromMnemonic(c, abandonArt, uint32(i)%MaxIndex, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDeriverPrivateKey(b *testing.B) {
	for _, c := range Chains() {
		d, err := NewDeriver(c, abandonArt, false)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(c), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := d.PrivateKey(uint32(i) % MaxIndex); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The signing hot path: the key only, no encoding.
func BenchmarkDeriverKey(b *testing.B) {
	d, err := NewDeriver(BTC, abandonArt, false)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		k, err := d.Key(uint32(i) % MaxIndex)
		if err != nil {
			b.Fatal(err)
		}
		k.Zero()
	}
}

func BenchmarkAddressFromXpub(b *testing.B) {
	for _, c := range Chains() {
		w, err := WalletFromMnemonic(c, abandonArt, false)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(c), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := AddressFromXpub(c, w.Xpub, uint32(i)%MaxIndex, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDeriverAddress(b *testing.B) {
	for _, c := range Chains() {
		d, err := NewDeriver(c, abandonArt, false)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(c), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := d.Address(uint32(i) % MaxIndex); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// What a Deriver costs to build (and what every uncached call pays).
func BenchmarkNewDeriver(b *testing.B) {
	for i := 0; i < b.N; i++ {
		d, err := NewDeriver(ETH, abandonArt, false)
		if err != nil {
			b.Fatal(err)
		}
		d.Zero()
	}
}

// BIP39's PBKDF2 alone.
func BenchmarkMnemonicSeed(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s, err := mnemonicSeed(abandonArt, "")
		if err != nil {
			b.Fatal(err)
		}
		zero(s)
	}
}

func BenchmarkGeneratePrivateKey(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := GeneratePrivateKey(BTC, false); err != nil {
			b.Fatal(err)
		}
	}
}
