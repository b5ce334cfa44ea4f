package wallet

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"
)

// solVectors is the key part of testdata/sol/vectors.json, written by
// testdata/sol/gen/gen.js with @tatumio/solana 2.2.100.
type solVectors struct {
	DerivationPath string `json:"derivationPath"`
	Wallets        []struct {
		Mnemonic   string `json:"mnemonic"`
		Index      uint32 `json:"index"`
		Address    string `json:"address"`
		PrivateKey string `json:"privateKey"`
	} `json:"wallets"`
	FromPrivateKey []struct {
		Input      string `json:"input"`
		Address    string `json:"address"`
		PrivateKey string `json:"privateKey"`
	} `json:"fromPrivateKey"`
}

// xlmVectors is the key part of testdata/xlm/vectors.json (stellar-sdk 9.1.0).
type xlmVectors struct {
	Wallets []struct {
		SeedHex string `json:"seedHex"`
		Address string `json:"address"`
		Secret  string `json:"secret"`
	} `json:"wallets"`
	FromSecret []struct {
		Secret  string `json:"secret"`
		Address string `json:"address"`
	} `json:"fromSecret"`
}

func loadJSON(t testing.TB, v any, parts ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"..", "testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestSolanaWalletsMatchTatumSDK(t *testing.T) {
	var v solVectors
	loadJSON(t, &v, "sol", "vectors.json")
	if len(v.Wallets) < 8 || len(v.FromPrivateKey) < 6 {
		t.Fatalf("vectors too few: %d wallets, %d imports", len(v.Wallets), len(v.FromPrivateKey))
	}
	if got := strings.Replace(SolanaDerivationPath(7), "7'", "<index>'", 1); got != v.DerivationPath {
		t.Errorf("path %q, SDK %q", got, v.DerivationPath)
	}
	for _, w := range v.Wallets {
		got, err := SolanaWalletFromMnemonic(w.Mnemonic, w.Index)
		if err != nil {
			t.Fatal(err)
		}
		if got.Address != w.Address || got.PrivateKey != w.PrivateKey || got.Mnemonic != w.Mnemonic {
			t.Errorf("index %d: got %s / %s, SDK %s / %s", w.Index, got.Address, got.PrivateKey, w.Address, w.PrivateKey)
		}
		// The address is the public half of the key, and the key signs for it.
		k, err := DecodeSolanaPrivateKey(w.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := ParseSolanaAddress(w.Address)
		if err != nil {
			t.Fatal(err)
		}
		if !ed25519.Verify(pub, []byte("m"), ed25519.Sign(k, []byte("m"))) {
			t.Errorf("index %d: key does not sign for its address", w.Index)
		}
	}
	for _, f := range v.FromPrivateKey {
		got, err := SolanaWalletFromPrivateKey(f.Input)
		if err != nil {
			t.Fatalf("%.6s...: %v", f.Input, err)
		}
		if got.Address != f.Address || got.PrivateKey != f.PrivateKey || got.Mnemonic != "" {
			t.Errorf("import: got %s, SDK %s", got.Address, f.Address)
		}
	}
}

func TestSolanaWalletJSONKeyOrder(t *testing.T) {
	w, err := GenerateSolanaWallet()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(w)
	s := string(b)
	if !(strings.Index(s, `"mnemonic"`) < strings.Index(s, `"address"`) && strings.Index(s, `"address"`) < strings.Index(s, `"privateKey"`)) {
		t.Errorf("key order %s; tatum-kms prints mnemonic, address, privateKey", s)
	}
	if len(strings.Fields(w.Mnemonic)) != 24 {
		t.Errorf("mnemonic has %d words, tatum-kms makes 24", len(strings.Fields(w.Mnemonic)))
	}
	again, err := SolanaWalletFromMnemonic(w.Mnemonic, 0)
	if err != nil || again != w {
		t.Errorf("generated wallet is not index 0 of its mnemonic")
	}
	pk, _ := json.Marshal(SolanaWallet{Address: "a", PrivateKey: "b"})
	if string(pk) != `{"address":"a","privateKey":"b"}` {
		t.Errorf("private-key wallet JSON %s", pk)
	}
}

func TestSolanaKeyRefusals(t *testing.T) {
	good := ed25519.NewKeyFromSeed(make([]byte, 32))
	bad := append(ed25519.PrivateKey(nil), good...)
	bad[40] ^= 1 // public half of another key
	cases := map[string]string{
		"empty":               "",
		"short base58":        base58.Encode(good[:32]),
		"mismatched pub":      base58.Encode(bad),
		"mismatched pub, hex": hex.EncodeToString(bad),
		"128 non-hex":         strings.Repeat("z", 128),
	}
	for name, in := range cases {
		_, err := DecodeSolanaPrivateKey(in)
		if !errors.Is(err, ErrInvalidSolanaKey) {
			t.Errorf("%s: err %v, want ErrInvalidSolanaKey", name, err)
			continue
		}
		if in != "" && strings.Contains(err.Error(), in) {
			t.Errorf("%s: error quotes the key", name)
		}
	}
	if _, err := SolanaKeyFromMnemonic(abandonArt, MaxIndex+1); !errors.Is(err, ErrInvalidIndex) {
		t.Errorf("index 2^31: %v", err)
	}
	for _, a := range []string{"", "0OIl", base58.Encode(make([]byte, 31)), "1" + base58.Encode(good[32:])} {
		if _, err := ParseSolanaAddress(a); !errors.Is(err, ErrInvalidSolanaAddress) {
			t.Errorf("address %q: %v", a, err)
		}
	}
}

// TestSLIP10Ed25519Vector checks the derivation against SLIP-0010's published
// test vector 1 for ed25519 (seed 000102...0f, chain m/0'/1'/2'/2'/1000000000').
func TestSLIP10Ed25519Vector(t *testing.T) {
	seed, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f")
	key := slip10Ed25519(seed, []uint32{0, 1, 2, 2, 1000000000})
	if hex.EncodeToString(key) != "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793" {
		t.Errorf("SLIP-10 vector 1 m/0'/1'/2'/2'/1000000000': %x", key)
	}
	pub := ed25519.NewKeyFromSeed(key).Public().(ed25519.PublicKey)
	if hex.EncodeToString(pub) != "3c24da049451555d51a7014a37337aa4e12d41e485abccfa46b47dfb2af54b7a" {
		t.Errorf("public key %x", pub)
	}
}

func TestStellarWalletsMatchStellarSDK(t *testing.T) {
	var v xlmVectors
	loadJSON(t, &v, "xlm", "vectors.json")
	if len(v.Wallets) < 6 {
		t.Fatalf("only %d wallets", len(v.Wallets))
	}
	for _, w := range v.Wallets {
		seed, _ := hex.DecodeString(w.SeedHex)
		got, err := StellarWalletFromSeed(seed)
		if err != nil {
			t.Fatal(err)
		}
		if got.Address != w.Address || got.Secret != w.Secret {
			t.Errorf("seed %.8s: got %s, SDK %s", w.SeedHex, got.Address, w.Address)
		}
	}
	for _, f := range v.FromSecret {
		got, err := StellarWalletFromSecret(f.Secret)
		if err != nil || got.Address != f.Address || got.Secret != f.Secret {
			t.Errorf("fromSecret: %v %s, SDK %s", err, got.Address, f.Address)
		}
		k, _ := DecodeStellarSecret(f.Secret)
		pub, err := ParseStellarAddress(f.Address)
		if err != nil || !ed25519.Verify(pub, []byte("m"), ed25519.Sign(k, []byte("m"))) {
			t.Errorf("secret does not sign for %s", f.Address)
		}
	}
	g, err := GenerateStellarWallet()
	if err != nil {
		t.Fatal(err)
	}
	if again, err := StellarWalletFromSecret(g.Secret); err != nil || again != g {
		t.Errorf("generated wallet does not round-trip")
	}
	b, _ := json.Marshal(g)
	if !strings.HasPrefix(string(b), `{"address":"G`) || !strings.Contains(string(b), `,"secret":"S`) {
		t.Errorf("JSON %s; tatum-kms prints {address, secret}", b)
	}
}

func TestStellarKeyRefusals(t *testing.T) {
	var v xlmVectors
	loadJSON(t, &v, "xlm", "vectors.json")
	s := v.Wallets[0].Secret
	flip := []byte(s)
	flip[10] = map[bool]byte{true: 'A', false: 'B'}[flip[10] != 'A'] // checksum breaks
	for name, in := range map[string]string{
		"empty": "", "address as secret": v.Wallets[0].Address, "checksum": string(flip), "truncated": s[:55], "lower case": strings.ToLower(s),
	} {
		_, err := DecodeStellarSecret(in)
		if !errors.Is(err, ErrInvalidStellarSecret) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if in != "" && strings.Contains(err.Error(), in) {
			t.Errorf("%s: error quotes the secret", name)
		}
	}
	if _, err := ParseStellarAddress(s); !errors.Is(err, ErrInvalidStellarAddress) {
		t.Errorf("secret as address: %v", err)
	}
	if _, err := StellarWalletFromSeed(make([]byte, 31)); !errors.Is(err, ErrInvalidStellarSecret) {
		t.Errorf("31-byte seed: %v", err)
	}
}
