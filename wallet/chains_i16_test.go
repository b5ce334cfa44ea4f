package wallet

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func readVectors(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
}

// TestAlgoWalletVectors: the secret and address tatum-kms's SDK writes for a
// fixed seed (generateAlgoWallet, generateAlgodAddressFromPrivatetKey).
func TestAlgoWalletVectors(t *testing.T) {
	var v struct {
		Wallets []struct{ Seed, PublicKey, Secret, Address string }
	}
	readVectors(t, "../testdata/algo/vectors.json", &v)
	if len(v.Wallets) < 3 {
		t.Fatalf("only %d wallets", len(v.Wallets))
	}
	for _, w := range v.Wallets {
		seed, _ := hex.DecodeString(w.Seed)
		key := ed25519.NewKeyFromSeed(seed)
		if got := AlgoSecret(key); got != w.Secret {
			t.Errorf("secret of seed %s: got %s want %s", w.Seed, got, w.Secret)
		}
		if got := AlgoAddress(key.Public().(ed25519.PublicKey)); got != w.Address {
			t.Errorf("address: got %s want %s", got, w.Address)
		}
		if got, err := AlgoAddressFromSecret(w.Secret); err != nil || got != w.Address {
			t.Errorf("AlgoAddressFromSecret: %s, %v", got, err)
		}
		if got, err := AlgoAddressFromSecret(strings.ToLower(w.Secret)); err != nil || got != w.Address {
			t.Errorf("lower-case secret: %s, %v", got, err)
		}
		pub, err := ParseAlgoAddress(w.Address)
		if err != nil || hex.EncodeToString(pub) != w.PublicKey {
			t.Errorf("ParseAlgoAddress: %x, %v", pub, err)
		}
	}
}

func TestAlgoRefusals(t *testing.T) {
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	good := AlgoSecret(key)
	other := ed25519.NewKeyFromSeed(append(make([]byte, 31), 1))
	spliced := algoB32.EncodeToString(append(append([]byte{}, key[:32]...), other[32:]...))
	for name, s := range map[string]string{
		"short":   good[:60],
		"not b32": "!" + good[1:],
		"spliced": spliced,
		"empty":   "",
	} {
		_, err := AlgoKeyFromSecret(s)
		if !errors.Is(err, ErrInvalidAlgoSecret) {
			t.Errorf("%s: err %v, want ErrInvalidAlgoSecret", name, err)
		}
		if err != nil && len(s) > 8 && strings.Contains(err.Error(), s[:8]) {
			t.Errorf("%s: error repeats the secret: %v", name, err)
		}
	}
	addr := AlgoAddress(key.Public().(ed25519.PublicKey))
	bad := []byte(addr)
	bad[57] = map[bool]byte{true: 'B', false: 'A'}[bad[57] == 'A']
	for _, a := range []string{addr[:57], string(bad), strings.ToLower(addr)} {
		if _, err := ParseAlgoAddress(a); !errors.Is(err, ErrInvalidAlgoAddress) {
			t.Errorf("ParseAlgoAddress(%s): %v", a, err)
		}
	}
	a, s, err := GenerateAlgoWallet()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := AlgoAddressFromSecret(s); err != nil || got != a {
		t.Fatalf("generated wallet does not round-trip: %v", err)
	}
}

// TestEGLDKeyVectors: generatePrivateKeyFromMnemonic(EGLD) and
// generateAddressFromPrivatekey(EGLD) of @tatumio/tatum for fixed mnemonics.
func TestEGLDKeyVectors(t *testing.T) {
	var v struct {
		Keys []struct {
			Mnemonic   string
			Testnet    bool
			Index      uint32
			PrivateKey string
			Address    string
		}
	}
	readVectors(t, "../testdata/egld/vectors.json", &v)
	if len(v.Keys) < 8 {
		t.Fatalf("only %d keys", len(v.Keys))
	}
	for _, k := range v.Keys {
		pk, err := EGLDPrivateKeyFromMnemonic(k.Mnemonic, k.Index, k.Testnet)
		if err != nil || pk != k.PrivateKey {
			t.Errorf("%s index %d testnet %v: key %s, %v; want %s", EGLDPath(k.Index, k.Testnet), k.Index, k.Testnet, pk, err, k.PrivateKey)
		}
		a, err := EGLDAddressFromPrivateKey(k.PrivateKey)
		if err != nil || a != k.Address {
			t.Errorf("address from key: %s, %v; want %s", a, err, k.Address)
		}
		a, err = EGLDAddressFromMnemonic(k.Mnemonic, k.Index, k.Testnet)
		if err != nil || a != k.Address {
			t.Errorf("address from mnemonic: %s, %v; want %s", a, err, k.Address)
		}
		pub, err := ParseEGLDAddress(k.Address)
		if err != nil {
			t.Fatal(err)
		}
		key, _ := EGLDKeyFromPrivateKey(k.PrivateKey)
		if !pub.Equal(key.Public()) {
			t.Errorf("ParseEGLDAddress(%s) is not the key's public key", k.Address)
		}
	}
}

func TestEGLDRefusals(t *testing.T) {
	for _, s := range []string{"", "00", strings.Repeat("zz", 32), strings.Repeat("ab", 33)} {
		if _, err := EGLDKeyFromPrivateKey(s); !errors.Is(err, ErrInvalidEGLDKey) {
			t.Errorf("EGLDKeyFromPrivateKey(%q): %v", s, err)
		}
	}
	good, _ := EGLDAddress(make([]byte, 32))
	for _, a := range []string{"", good[:len(good)-1] + "x", strings.ToUpper(good), "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"} {
		if _, err := ParseEGLDAddress(a); !errors.Is(err, ErrInvalidEGLDAddress) {
			t.Errorf("ParseEGLDAddress(%q): %v", a, err)
		}
	}
	if _, err := EGLDKeyFromMnemonic("abandon", MaxIndex+1, false); !errors.Is(err, ErrInvalidIndex) {
		t.Errorf("index 2^31: %v", err)
	}
	pk, a, err := GenerateEGLDPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := EGLDAddressFromPrivateKey(pk); got != a {
		t.Fatal("generated key does not round-trip")
	}
}

// TestVETKeyVectors: the keys and addresses tatum-kms's getprivatekey and
// getaddress show for VET mnemonic wallets.
func TestVETKeyVectors(t *testing.T) {
	var v struct {
		BnbKeyError string
		Keys        []struct {
			Mnemonic, Xpub, PrivateKey, Address string
			Testnet                             bool
			Index                               uint32
		}
	}
	readVectors(t, "../testdata/vet/vectors.json", &v)
	if len(v.Keys) < 8 {
		t.Fatalf("only %d keys", len(v.Keys))
	}
	for _, k := range v.Keys {
		x, err := VETXpub(k.Mnemonic, k.Testnet)
		if err != nil || x != k.Xpub {
			t.Errorf("xpub testnet %v: %s, %v; want %s", k.Testnet, x, err, k.Xpub)
		}
		pk, err := VETPrivateKeyFromMnemonic(k.Mnemonic, k.Index, k.Testnet)
		if err != nil || pk != k.PrivateKey {
			t.Errorf("key %d testnet %v: %s, %v", k.Index, k.Testnet, pk, err)
		}
		a, err := VETAddressFromXpub(k.Xpub, k.Index)
		if err != nil || a != k.Address {
			t.Errorf("address %d: %s, %v; want %s", k.Index, a, err, k.Address)
		}
		key, err := VETKeyFromPrivateKey(k.PrivateKey)
		if err != nil || VETAddress(key.PubKey()) != k.Address {
			t.Errorf("address from key: %v", err)
		}
	}
	// The daemon of tatum-kms asks its SDK for Currency.BNB: this is what it got.
	if v.BnbKeyError != "Unsupported blockchain." {
		t.Errorf("recorded SDK answer for BNB: %q", v.BnbKeyError)
	}
}
