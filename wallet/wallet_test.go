package wallet

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/btcsuite/btcd/chaincfg"
)

// The 24-word BIP39 mnemonic of 256 zero bits.
var abandonArt = strings.Repeat("abandon ", 23) + "art"

func TestParseChain(t *testing.T) {
	for _, c := range Chains() {
		for _, s := range []string{string(c), strings.ToLower(string(c)), " " + strings.Title(strings.ToLower(string(c)))} { //nolint:staticcheck
			got, err := ParseChain(s)
			if err != nil || got != c {
				t.Errorf("ParseChain(%q) = %q, %v", s, got, err)
			}
		}
	}
	for _, s := range []string{"", "SOL", "XRP", "ADA", "BNB", "ETHX", "bt c"} {
		_, err := ParseChain(s)
		if !errors.Is(err, ErrUnsupportedChain) || err.Error() != "Unsupported blockchain." {
			t.Errorf("ParseChain(%q) err = %v", s, err)
		}
	}
	if n := len(Chains()); n != 13 {
		t.Errorf("%d chains", n)
	}
	cs := Chains()
	cs[0] = "XXX" // callers get a copy
	if Chains()[0] != BTC {
		t.Error("Chains() shares its slice")
	}
	evm, utxo := 0, 0
	for _, c := range Chains() {
		if c.IsEVM() {
			evm++
		}
		if c.IsUTXO() {
			utxo++
		}
		if c.IsEVM() && c.IsUTXO() || c.IsTRON() && (c.IsEVM() || c.IsUTXO()) {
			t.Errorf("%s in two families", c)
		}
	}
	if evm != 8 || utxo != 4 || !TRON.IsTRON() || Chain("SOL").IsEVM() {
		t.Errorf("families: %d EVM, %d UTXO", evm, utxo)
	}
}

// The path table of docs/keys.md.
func TestDerivationPath(t *testing.T) {
	want := map[Chain][2]string{
		BTC:   {"m/44'/0'/0'/0", "m/44'/1'/0'/0"},
		LTC:   {"m/44'/2'/0'/0", "m/44'/1'/0'/0"},
		DOGE:  {"m/44'/3'/0'/0", "m/44'/1'/0'/0"},
		BCH:   {"m/44'/145'/0'/0", "m/44'/145'/0'/0"},
		ETH:   {"m/44'/60'/0'/0", "m/44'/1'/0'/0"},
		BSC:   {"m/44'/60'/0'/0", "m/44'/1'/0'/0"},
		MATIC: {"m/44'/966'/0'/0", "m/44'/1'/0'/0"},
		CELO:  {"m/44'/52752'/0'/0", "m/44'/1'/0'/0"},
		KLAY:  {"m/44'/8217'/0'/0", "m/44'/1'/0'/0"},
		ONE:   {"m/44'/1023'/0'/0", "m/44'/1'/0'/0"},
		XDC:   {"m/44'/550'/0'/0", "m/44'/1'/0'/0"},
		KCS:   {"m/44'/60'/0'/0", "m/44'/1'/0'/0"},
		TRON:  {"m/44'/195'/0'/0", "m/44'/195'/0'/0"},
	}
	for _, c := range Chains() {
		if got := [2]string{DerivationPath(c, false), DerivationPath(c, true)}; got != want[c] {
			t.Errorf("%s paths %v, want %v", c, got, want[c])
		}
		// The path really is where the xpub sits.
		seed, _ := mnemonicSeed(abandonArt, "")
		m, _ := masterKey(seed)
		for _, testnet := range []bool{false, true} {
			k, err := derivePath(m, DerivationPath(c, testnet))
			if err != nil {
				t.Fatal(err)
			}
			ns, _, _ := c.spec(testnet)
			pub, _ := neuter(k, ns.xpubID)
			w, err := WalletFromMnemonic(c, abandonArt, testnet)
			if err != nil || w.Xpub != pub.String() {
				t.Errorf("%s %s: xpub %q, %v; path gives %s", c, netName(testnet), w.Xpub, err, pub)
			}
		}
	}
	if DerivationPath("SOL", false) != "" {
		t.Error("path for an unknown chain")
	}
}

func TestParseIndex(t *testing.T) {
	for s, want := range map[string]uint32{"0": 0, "1": 1, "007": 7, "2147483647": MaxIndex} {
		if got, err := ParseIndex(s); err != nil || got != want {
			t.Errorf("ParseIndex(%q) = %d, %v", s, got, err)
		}
	}
	for s, msg := range map[string]string{
		"":                      "empty",
		"-1":                    "negative",
		"-0":                    "negative",
		"2147483648":            "too big",
		"4294967296":            "too big",
		"99999999999999999999":  "too big",
		"3abc":                  "not a whole number",
		"abc":                   "not a whole number",
		"1.5":                   "not a whole number",
		" 1":                    "not a whole number",
		"+1":                    "not a whole number",
		"0x10":                  "not a whole number",
		"1e3":                   "not a whole number",
		"-":                     "not a whole number",
		"٣":                     "not a whole number", // Arabic-Indic digit
		"1_000":                 "not a whole number",
		"18446744073709551616":  "too big",
		"-18446744073709551616": "negative",
	} {
		_, err := ParseIndex(s)
		if !errors.Is(err, ErrInvalidIndex) || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseIndex(%q) err = %v, want %q", s, err, msg)
		}
	}
	// Functions taking an index refuse hardened ones.
	w, _ := WalletFromMnemonic(ETH, abandonArt, false)
	if _, err := AddressFromXpub(ETH, w.Xpub, MaxIndex+1, false); !errors.Is(err, ErrInvalidIndex) {
		t.Errorf("AddressFromXpub(2^31): %v", err)
	}
	if _, err := PrivateKeyFromMnemonic(ETH, abandonArt, MaxIndex+1, false); !errors.Is(err, ErrInvalidIndex) {
		t.Errorf("PrivateKeyFromMnemonic(2^31): %v", err)
	}
	d, _ := NewDeriver(ETH, abandonArt, false)
	if _, err := d.Key(1 << 31); !errors.Is(err, ErrInvalidIndex) {
		t.Errorf("Deriver.Key(2^31): %v", err)
	}
	if _, err := d.Address(1<<32 - 1); !errors.Is(err, ErrInvalidIndex) {
		t.Errorf("Deriver.Address(2^32-1): %v", err)
	}
}

func TestGenerateMnemonic(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		m, err := GenerateMnemonic()
		if err != nil {
			t.Fatal(err)
		}
		if n := len(strings.Fields(m)); n != 24 {
			t.Errorf("%d words", n)
		}
		if err := ValidateMnemonic(m); err != nil {
			t.Errorf("generated mnemonic invalid: %v", err)
		}
		if seen[m] {
			t.Error("the same mnemonic twice")
		}
		seen[m] = true
	}
}

func TestValidateMnemonic(t *testing.T) {
	legal := "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title"
	for _, m := range []string{abandonArt, legal, strings.Repeat("abandon ", 11) + "about"} {
		if err := ValidateMnemonic(m); err != nil {
			t.Errorf("ValidateMnemonic(valid): %v", err)
		}
	}
	for m, msg := range map[string]string{
		"":                                       "empty",
		"   ":                                    "empty",
		strings.Repeat("abandon ", 23) + "about": "checksum",
		strings.Replace(legal, "wave", "waves", 1):              "word 5 is not in the BIP39 English word list",
		strings.Replace(legal, "worth title", "title worth", 1): "checksum",
		strings.Repeat("abandon ", 10) + "about":                "11 words",
		legal + " legal":                                        "25 words",
		strings.Replace(legal, " ", "  ", 1):                    "single spaces",
		" " + legal:                                             "single spaces",
		legal + "\n":                                            "single spaces",
		strings.Replace(legal, " ", "\t", 1):                    "single spaces",
		strings.ToUpper(legal):                                  "word 1 is not",
	} {
		err := ValidateMnemonic(m)
		if !errors.Is(err, ErrInvalidMnemonic) || !strings.Contains(err.Error(), msg) {
			t.Errorf("ValidateMnemonic(...) = %v, want %q", err, msg)
			continue
		}
		for _, w := range strings.Fields(strings.ToLower(m)) {
			if strings.Contains(strings.ToLower(err.Error()), w) {
				t.Errorf("error %q repeats word %q", err, w)
			}
		}
	}
	if got := NormalizeMnemonic("  Legal   WINNER\tthank\n"); got != "legal winner thank" {
		t.Errorf("NormalizeMnemonic = %q", got)
	}
	if err := ValidateMnemonic(NormalizeMnemonic(" " + strings.ToUpper(legal) + "\r\n")); err != nil {
		t.Errorf("normalized mnemonic invalid: %v", err)
	}
	// The store path refuses what ValidateMnemonic refuses.
	if _, err := WalletFromMnemonic(BTC, strings.Repeat("abandon ", 24)[:24*8-1], false); !errors.Is(err, ErrInvalidMnemonic) {
		t.Errorf("WalletFromMnemonic(bad checksum) err = %v", err)
	}
	// Derivation does not validate (tatum-kms never did), but needs words.
	if _, err := PrivateKeyFromMnemonic(BTC, " ", 0, false); !errors.Is(err, ErrInvalidMnemonic) {
		t.Errorf("PrivateKeyFromMnemonic(blank) err = %v", err)
	}
	if _, err := NewDeriver(BTC, "", false); !errors.Is(err, ErrInvalidMnemonic) {
		t.Errorf("NewDeriver(empty) err = %v", err)
	}
}

// A mnemonic tatum-kms stored without checking it still derives the keys of
// the xpub derived from the same string; and the seed is BIP39's over the
// exact string (a double space changes the wallet).
func TestUncheckedMnemonicDerivation(t *testing.T) {
	bad := strings.Repeat("abandon ", 23) + "abandon" // wrong checksum
	d, err := NewDeriver(BTC, bad, false)
	if err != nil {
		t.Fatal(err)
	}
	k, err := DeriveKey(BTC, bad, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := d.Address(3); err != nil || a != mustAddr(t, BTC, k.PubKey(), false) {
		t.Errorf("unchecked mnemonic: xpub address %q, %v", a, err)
	}
	x1, _ := Xpub(ETH, abandonArt, false)
	x2, _ := Xpub(ETH, strings.Replace(abandonArt, " ", "  ", 1), false)
	w, _ := WalletFromMnemonic(ETH, abandonArt, false)
	if x1 != w.Xpub || x1 == x2 {
		t.Errorf("Xpub: %s / %s / %s", x1, x2, w.Xpub)
	}
}

func mustAddr(t *testing.T, c Chain, pub *btcec.PublicKey, testnet bool) string {
	t.Helper()
	a, err := AddressFromPublicKey(c, pub, testnet)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Every chain, both networks, a fresh wallet: the xpub's addresses belong to
// the keys derived from the mnemonic, by the cached and the uncached path;
// the private key's own address is the xpub's except on BTC (P2PKH versus
// P2WPKH of the same key hash).
func TestRoundTripAllChains(t *testing.T) {
	for _, c := range Chains() {
		for _, testnet := range []bool{false, true} {
			w, err := GenerateWallet(c, testnet)
			if err != nil {
				t.Fatal(err)
			}
			d, err := NewDeriver(c, w.Mnemonic, testnet)
			if err != nil {
				t.Fatal(err)
			}
			if d.Xpub() != w.Xpub || d.Chain() != c || d.Testnet() != testnet {
				t.Errorf("%s: Deriver disagrees with GenerateWallet", c)
			}
			for _, i := range []uint32{0, 1, 5, 1000, MaxIndex} {
				xa, err := AddressFromXpub(c, w.Xpub, i, testnet)
				if err != nil {
					t.Fatal(err)
				}
				pk, err := d.PrivateKey(i)
				if err != nil {
					t.Fatal(err)
				}
				if i == 5 {
					if pk2, err := PrivateKeyFromMnemonic(c, w.Mnemonic, i, testnet); err != nil || pk2 != pk {
						t.Errorf("%s %d: PrivateKeyFromMnemonic differs from Deriver", c, i)
					}
				}
				k, err := DecodePrivateKey(c, pk, testnet)
				if err != nil {
					t.Fatal(err)
				}
				dk, _ := d.Key(i)
				if !dk.Key.Equals(&k.Key) {
					t.Errorf("%s %d: Deriver.Key differs from the decoded PrivateKey", c, i)
				}
				if got := mustAddr(t, c, k.PubKey(), testnet); got != xa {
					t.Errorf("%s %d: key's xpub-style address %s, xpub gives %s", c, i, got, xa)
				}
				pa, err := AddressFromPrivateKey(c, pk, testnet)
				if err != nil {
					t.Fatal(err)
				}
				if c == BTC {
					// Same key hash, two encodings.
					p2pkh, err := btcutil.DecodeAddress(pa, btcParams(testnet))
					if err != nil {
						t.Fatalf("BTC key address %s: %v", pa, err)
					}
					p2wpkh, err := btcutil.DecodeAddress(xa, btcParams(testnet))
					if err != nil {
						t.Fatalf("BTC xpub address %s: %v", xa, err)
					}
					if _, ok := p2pkh.(*btcutil.AddressPubKeyHash); !ok {
						t.Errorf("BTC key address %s is not P2PKH", pa)
					}
					if _, ok := p2wpkh.(*btcutil.AddressWitnessPubKeyHash); !ok {
						t.Errorf("BTC xpub address %s is not P2WPKH", xa)
					}
					if string(p2pkh.ScriptAddress()) != string(p2wpkh.ScriptAddress()) {
						t.Errorf("BTC %d: P2PKH and P2WPKH hash different keys", i)
					}
				} else if pa != xa {
					t.Errorf("%s %s %d: AddressFromPrivateKey %s, AddressFromXpub %s", c, netName(testnet), i, pa, xa)
				}
			}
			d.Zero()
			if _, err := d.Key(0); err == nil {
				t.Errorf("%s: zeroed Deriver still derives", c)
			}
		}
	}
}

func btcParams(testnet bool) *chaincfg.Params {
	if testnet {
		return &chaincfg.TestNet3Params
	}
	return &chaincfg.MainNetParams
}

// Addresses checked against btcutil's own encoders, for BTC and LTC.
func TestAddressesAgainstBtcutil(t *testing.T) {
	k, _ := DeriveKey(BTC, abandonArt, 0, false)
	pub := k.PubKey()
	h := btcutil.Hash160(pub.SerializeCompressed())
	wpkh, _ := btcutil.NewAddressWitnessPubKeyHash(h, &chaincfg.MainNetParams)
	if got := mustAddr(t, BTC, pub, false); got != wpkh.EncodeAddress() {
		t.Errorf("BTC %s, btcutil %s", got, wpkh.EncodeAddress())
	}
	twpkh, _ := btcutil.NewAddressWitnessPubKeyHash(h, &chaincfg.TestNet3Params)
	if got := mustAddr(t, BTC, pub, true); got != twpkh.EncodeAddress() {
		t.Errorf("BTC testnet %s, btcutil %s", got, twpkh.EncodeAddress())
	}
	pkh, _ := btcutil.NewAddressPubKeyHash(h, &chaincfg.Params{PubKeyHashAddrID: 0x30})
	if got := mustAddr(t, LTC, pub, false); got != pkh.EncodeAddress() {
		t.Errorf("LTC %s, btcutil %s", got, pkh.EncodeAddress())
	}
}

// A WIF without the compression flag: its address hashes the uncompressed
// public key (bitcoinjs ECPair.fromWIF does the same).
func TestUncompressedWIF(t *testing.T) {
	k, _ := DeriveKey(BTC, abandonArt, 0, false)
	for _, c := range []Chain{BTC, LTC, DOGE, BCH} {
		for _, testnet := range []bool{false, true} {
			ns, _, _ := c.spec(testnet)
			w, _ := btcutil.NewWIF(k, &chaincfg.Params{PrivateKeyID: ns.wifID}, false)
			got, compressed, err := DecodePrivateKeyCompressed(c, w.String(), testnet)
			if err != nil || compressed || !got.Key.Equals(&k.Key) {
				t.Fatalf("%s: uncompressed WIF: %v, compressed %v", c, err, compressed)
			}
			a, err := AddressFromPrivateKey(c, w.String(), testnet)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := encodeAddress(ns.keyAddr, ns, k.PubKey(), false)
			compr, _ := encodeAddress(ns.keyAddr, ns, k.PubKey(), true)
			if a != want || a == compr {
				t.Errorf("%s: uncompressed WIF address %s, want %s", c, a, want)
			}
			if c == BTC || c == LTC || c == DOGE {
				h, _, _ := base58.CheckDecode(a)
				if string(h) != string(btcutil.Hash160(k.PubKey().SerializeUncompressed())) {
					t.Errorf("%s: address does not hash the uncompressed key", c)
				}
			}
		}
	}
}

func TestDecodePrivateKeyErrors(t *testing.T) {
	btcMain, _ := PrivateKeyFromMnemonic(BTC, abandonArt, 0, false)
	btcTest, _ := PrivateKeyFromMnemonic(BTC, abandonArt, 0, true)
	ltcMain, _ := PrivateKeyFromMnemonic(LTC, abandonArt, 0, false)
	dogeTest, _ := PrivateKeyFromMnemonic(DOGE, abandonArt, 0, true)
	eth, _ := PrivateKeyFromMnemonic(ETH, abandonArt, 0, false)
	tron, _ := PrivateKeyFromMnemonic(TRON, abandonArt, 0, false)
	n := "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
	wifOf := func(b []byte, id byte) string { return base58.CheckEncode(append(b, 1), id) }
	nb, _ := hex.DecodeString(n)
	cases := []struct {
		c       Chain
		testnet bool
		key     string
		msg     string
	}{
		{BTC, false, btcTest, "WIF version byte is 0xef, want 0x80"},
		{BTC, true, btcMain, "WIF version byte is 0x80, want 0xef"},
		{BTC, false, ltcMain, "WIF version byte is 0xb0, want 0x80"},
		{LTC, false, btcMain, "want 0xb0"},
		{DOGE, true, btcTest, "WIF version byte is 0xef, want 0xf1"},
		{DOGE, false, dogeTest, "want 0x9e"},
		{BCH, false, eth, "not a WIF key"},
		{BTC, false, btcMain[:len(btcMain)-1], "not a WIF key"},
		{BTC, false, btcMain + "1", "not a WIF key"},
		{BTC, false, "", "not a WIF key"},
		{BTC, false, wifOf(make([]byte, 32), 0x80), "key range"},
		{BTC, false, wifOf(nb, 0x80), "key range"},
		{ETH, false, eth[:65], "64 hex digits"},
		{ETH, false, eth + "0", "64 hex digits"},
		{ETH, false, "0x" + strings.Repeat("g", 64), "non-hex"},
		{ETH, false, btcMain, "64 hex digits"},
		{ETH, false, "0x" + strings.Repeat("0", 64), "key range"},
		{ETH, false, "0x" + n, "key range"},
		{XDC, false, "xdc" + eth[2:], "64 hex digits"},
		{TRON, false, tron[1:], "64 hex digits"},
		{TRON, false, "", "64 hex digits"},
	}
	for _, tc := range cases {
		_, err := DecodePrivateKey(tc.c, tc.key, tc.testnet)
		if !errors.Is(err, ErrInvalidPrivateKey) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("DecodePrivateKey(%s, %s) err = %v, want %q", tc.c, netName(tc.testnet), err, tc.msg)
			continue
		}
		assertNoSecret(t, err.Error(), tc.key)
		if _, err := AddressFromPrivateKey(tc.c, tc.key, tc.testnet); !errors.Is(err, ErrInvalidPrivateKey) {
			t.Errorf("AddressFromPrivateKey accepted a bad key: %v", err)
		}
	}
	// Accepted spellings: 0x optional and upper-case hex on EVM chains and TRON.
	for _, k := range []string{eth, eth[2:], "0X" + strings.ToUpper(eth[2:])} {
		if _, err := DecodePrivateKey(ETH, k, false); err != nil {
			t.Errorf("DecodePrivateKey(ETH variant): %v", err)
		}
	}
	if _, err := DecodePrivateKey(TRON, "0x"+tron, true); err != nil {
		t.Errorf("DecodePrivateKey(TRON 0x): %v", err)
	}
}

// assertNoSecret fails if msg contains any 6-character piece of secret.
func assertNoSecret(t *testing.T, msg, secret string) {
	t.Helper()
	for i := 0; i+6 <= len(secret); i++ {
		piece := secret[i : i+6]
		if strings.Trim(piece, "0") == "" || strings.Trim(piece, "g") == "" {
			continue // runs of filler characters of the test keys
		}
		if strings.Contains(msg, piece) {
			t.Errorf("error %q contains part of the secret", msg)
			return
		}
	}
}

func TestAddressFromXpubErrors(t *testing.T) {
	btc, _ := WalletFromMnemonic(BTC, abandonArt, false)
	ltc, _ := WalletFromMnemonic(LTC, abandonArt, false)
	eth, _ := WalletFromMnemonic(ETH, abandonArt, false)
	acct, _ := accountFromMnemonic(abandonArt, specs[BTC].mainnet)
	xprv := acct.String()
	for _, tc := range []struct {
		c    Chain
		x    string
		msg  string
		test bool
	}{
		{BTC, "", "right length", false},
		{BTC, "xpub", "right length", false},
		{BTC, btc.Xpub[:len(btc.Xpub)-1] + "x", "checksum", false},
		{BTC, btc.Xpub, "version bytes 0488b21e are not BTC's (043587cf, tpub)", true},
		{LTC, btc.Xpub, "are not LTC's (019da462, Ltub)", false},
		{BTC, ltc.Xpub, "are not BTC's", false},
		{ETH, ltc.Xpub, "are not ETH's (0488b21e, xpub)", false},
		{TRON, ltc.Xpub, "are not TRON's", false},
		{BTC, xprv, "extended private key", false},
		{ETH, xprv, "extended private key", false},
		{TRON, strings.Repeat("0", 130), "hex xpub", false},
		{TRON, strings.Repeat("z", 130), "not hex", false},
	} {
		_, err := AddressFromXpub(tc.c, tc.x, 0, tc.test)
		if !errors.Is(err, ErrInvalidXpub) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("AddressFromXpub(%s, %.12s...) err = %v, want %q", tc.c, tc.x, err, tc.msg)
			continue
		}
		if len(tc.x) > 12 {
			assertNoSecret(t, err.Error(), tc.x)
		}
	}
	// EVM xpubs are network-neutral, as in the SDK.
	a1, err1 := AddressFromXpub(ETH, eth.Xpub, 0, false)
	a2, err2 := AddressFromXpub(ETH, eth.Xpub, 0, true)
	if err1 != nil || err2 != nil || a1 != a2 {
		t.Errorf("ETH xpub on both networks: %s %v / %s %v", a1, err1, a2, err2)
	}
}

// Every function refuses an unknown chain with tatum-kms's message.
func TestUnsupportedChain(t *testing.T) {
	c := Chain("SOL")
	errs := []error{}
	_, err := GenerateWallet(c, false)
	errs = append(errs, err)
	_, err = WalletFromMnemonic(c, abandonArt, false)
	errs = append(errs, err)
	_, err = AddressFromXpub(c, "xpub", 0, false)
	errs = append(errs, err)
	_, err = PrivateKeyFromMnemonic(c, abandonArt, 0, false)
	errs = append(errs, err)
	_, err = DeriveKey(c, abandonArt, 0, false)
	errs = append(errs, err)
	_, err = AddressFromPrivateKey(c, "x", false)
	errs = append(errs, err)
	_, err = GeneratePrivateKey(c, false)
	errs = append(errs, err)
	_, err = DecodePrivateKey(c, "x", false)
	errs = append(errs, err)
	_, err = NewDeriver(c, abandonArt, false)
	errs = append(errs, err)
	_, err = AddressFromPublicKey(c, nil, false)
	errs = append(errs, err)
	_, err = Xpub(c, abandonArt, false)
	errs = append(errs, err)
	for i, err := range errs {
		if !errors.Is(err, ErrUnsupportedChain) || err.Error() != "Unsupported blockchain." {
			t.Errorf("call %d: err = %v", i, err)
		}
	}
}

func TestGeneratePrivateKey(t *testing.T) {
	for _, c := range Chains() {
		for _, testnet := range []bool{false, true} {
			seen := map[string]bool{}
			for i := 0; i < 5; i++ {
				pk, err := GeneratePrivateKey(c, testnet)
				if err != nil {
					t.Fatal(err)
				}
				if seen[pk] {
					t.Fatalf("%s: same key twice", c)
				}
				seen[pk] = true
				if _, compressed, err := DecodePrivateKeyCompressed(c, pk, testnet); err != nil || !compressed {
					t.Errorf("%s: generated key does not decode: %v", c, err)
				}
			}
			pk, addr, err := GenerateManagedPrivateKey(c, testnet)
			if err != nil {
				t.Fatal(err)
			}
			k, _ := DecodePrivateKey(c, pk, testnet)
			if mustAddr(t, c, k.PubKey(), testnet) != addr {
				t.Errorf("%s: GenerateManagedPrivateKey address is not the key's", c)
			}
		}
	}
}

// MarshalWallet reproduces JSON.stringify(wallet, null, 2) byte for byte,
// key order included.
func TestMarshalWallet(t *testing.T) {
	w := Wallet{Mnemonic: "a b", Xpub: "xpub1"}
	for c, want := range map[Chain]string{
		BTC:  "{\n  \"mnemonic\": \"a b\",\n  \"xpub\": \"xpub1\"\n}",
		TRON: "{\n  \"mnemonic\": \"a b\",\n  \"xpub\": \"xpub1\"\n}",
		ETH:  "{\n  \"xpub\": \"xpub1\",\n  \"mnemonic\": \"a b\"\n}",
		CELO: "{\n  \"xpub\": \"xpub1\",\n  \"mnemonic\": \"a b\"\n}",
	} {
		got, err := MarshalWallet(c, w, "  ")
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, want %q", c, got, want)
		}
	}
	if got, _ := MarshalWallet(KCS, w, ""); string(got) != `{"xpub":"xpub1","mnemonic":"a b"}` {
		t.Errorf("compact: %s", got)
	}
}

// A Deriver shared by goroutines gives what a serial one gives (run with
// -race to check the memoized account public key is not written
// concurrently).
func TestDeriverConcurrent(t *testing.T) {
	d, err := NewDeriver(BTC, abandonArt, true)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	want := make([]string, n)
	for i := range want {
		want[i], _ = d.PrivateKey(uint32(i))
	}
	d2, _ := NewDeriver(BTC, abandonArt, true)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				j := (i + g*7) % n
				pk, err := d2.PrivateKey(uint32(j))
				if err != nil || pk != want[j] {
					errs <- fmt.Errorf("goroutine %d index %d: %v", g, j, err)
					return
				}
				if _, err := d2.Address(uint32(j)); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
