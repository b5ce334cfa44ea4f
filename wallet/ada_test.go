package wallet

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type adaVectors struct {
	Wallets []struct {
		Mnemonic    string `json:"mnemonic"`
		Root        string `json:"root"`
		AccountXprv string `json:"accountXprv"`
		Xpub        string `json:"xpub"`
		Keys        []struct {
			Index      uint32 `json:"index"`
			PrivateKey string `json:"privateKey"`
			PublicKey  string `json:"publicKey"`
			Mainnet    string `json:"mainnet"`
			Testnet    string `json:"testnet"`
		} `json:"keys"`
	} `json:"wallets"`
	NormalKeys []struct {
		PrivateKey string `json:"privateKey"`
		PublicKey  string `json:"publicKey"`
		Mainnet    string `json:"mainnet"`
		Testnet    string `json:"testnet"`
		Message    string `json:"message"`
		Signature  string `json:"signature"`
	} `json:"normalKeys"`
	Pending []struct {
		BodyHash   string `json:"bodyHash"`
		Signatures []struct {
			PublicKey string `json:"publicKey"`
			Signature string `json:"signature"`
		} `json:"signatures"`
		Signers []struct {
			PrivateKey string `json:"privateKey"`
		} `json:"signers"`
	} `json:"pending"`
}

func loadADA(t testing.TB) adaVectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "ada", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v adaVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Wallets) == 0 || len(v.Pending) < 10 {
		t.Fatal("testdata/ada/vectors.json is incomplete; run testdata/ada/gen/gen.js")
	}
	return v
}

// The CML / cardano-crypto.js vectors: root, account key, xpub, children,
// public keys from the private and from the xpub side, enterprise addresses.
func TestCardanoKeysMatchCardanoSDK(t *testing.T) {
	v := loadADA(t)
	for _, w := range v.Wallets {
		root, err := CardanoRootKey(w.Mnemonic)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(root[:]); got != w.Root {
			t.Fatalf("root: got %s want %s", got, w.Root)
		}
		acct, err := CardanoAccountKey(w.Mnemonic)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(acct[:]); got != w.AccountXprv {
			t.Fatalf("account: got %s want %s", got, w.AccountXprv)
		}
		cw, err := GenerateCardanoWalletFromMnemonic(w.Mnemonic)
		if err != nil || cw.Xpub != w.Xpub {
			t.Fatalf("xpub: got %s (%v) want %s", cw.Xpub, err, w.Xpub)
		}
		for _, k := range w.Keys {
			ck, err := CardanoKeyFromMnemonic(w.Mnemonic, k.Index)
			if err != nil {
				t.Fatal(err)
			}
			if ck.Hex() != k.PrivateKey || hex.EncodeToString(ck.PublicKey()) != k.PublicKey {
				t.Fatalf("index %d: got %s / %x", k.Index, ck.Hex(), ck.PublicKey())
			}
			pub, err := CardanoPublicKeyFromXpub(w.Xpub, k.Index)
			if err != nil || hex.EncodeToString(pub) != k.PublicKey {
				t.Fatalf("index %d from xpub: got %x (%v) want %s", k.Index, pub, err, k.PublicKey)
			}
			dk, err := DecodeCardanoPrivateKey(k.PrivateKey)
			if err != nil || hex.EncodeToString(dk.PublicKey()) != k.PublicKey {
				t.Fatalf("decode %d: %v", k.Index, err)
			}
			for testnet, want := range map[bool]string{false: k.Mainnet, true: k.Testnet} {
				a, err := CardanoEnterpriseAddress(pub, testnet)
				if err != nil || a != want {
					t.Fatalf("address %d testnet=%v: got %s want %s", k.Index, testnet, a, want)
				}
				if _, err := ParseCardanoAddress(a, testnet); err != nil {
					t.Fatal(err)
				}
				if _, err := ParseCardanoAddress(a, !testnet); err == nil {
					t.Fatalf("%s accepted on the other network", a)
				}
			}
		}
	}
}

// Signatures equal CML's byte for byte and verify with the standard ed25519
// verifier (an independent check of the extended-key signing).
func TestCardanoSignMatchesCML(t *testing.T) {
	v := loadADA(t)
	n := 0
	for _, p := range v.Pending {
		msg, _ := hex.DecodeString(p.BodyHash)
		for i, s := range p.Signers {
			k, err := DecodeCardanoPrivateKey(s.PrivateKey)
			if err != nil {
				t.Fatal(err)
			}
			sig := k.Sign(msg)
			if hex.EncodeToString(sig) != p.Signatures[i].Signature {
				t.Fatalf("signature: got %x want %s", sig, p.Signatures[i].Signature)
			}
			if !ed25519.Verify(k.PublicKey(), msg, sig) {
				t.Fatal("ed25519.Verify rejects the signature")
			}
			n++
		}
	}
	for _, nk := range v.NormalKeys {
		k, err := DecodeCardanoPrivateKey(nk.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := hex.DecodeString(nk.Message)
		if hex.EncodeToString(k.PublicKey()) != nk.PublicKey || hex.EncodeToString(k.Sign(msg)) != nk.Signature {
			t.Fatal("plain ed25519 key differs from CML's from_normal_bytes")
		}
		if a, _ := CardanoEnterpriseAddress(k.PublicKey(), true); a != nk.Testnet {
			t.Fatal("address of plain key")
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d signatures compared", n)
	}
}

func TestCardanoBadInput(t *testing.T) {
	secret := "584131c6eea9ad33a3207b460c237d5cf5a03e5e7613bf68a64586b869d91d4bede03a92a85e105f2b05aafda0bcf3e3e854be0678d94e98b17b9919d64eef"
	for _, s := range []string{"", "zz", secret, secret + "8d00"} {
		_, err := DecodeCardanoPrivateKey(s)
		if err == nil {
			t.Fatalf("%q accepted", s)
		}
		if len(s) > 8 && strings.Contains(err.Error(), s[:16]) {
			t.Fatal("error repeats the key")
		}
	}
	if _, err := CardanoRootKey("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon"); err == nil {
		t.Fatal("bad checksum accepted")
	}
	if _, err := CardanoPublicKeyFromXpub("00", 0); err == nil {
		t.Fatal("short xpub accepted")
	}
	if _, err := CardanoKeyFromMnemonic("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", 1<<31); err == nil {
		t.Fatal("hardened index accepted")
	}
	for _, a := range []string{"", "addr1", "Ae2tdPwUPEZ4YjgvykNpoFeYUxoyhNj2kg8KfKWN2FizsSpLUPv68MpTVDo", "stake1uyehkck0lajq8gr28t9uxnuvgcqrc6070x3k9r8048z8y5gh6ffgw"} {
		if _, err := ParseCardanoAddress(a, false); err == nil {
			t.Fatalf("%q accepted", a)
		}
	}
}

// A published vector, independent of npm: CIP-19's type-6 (enterprise)
// addresses for "test walk nut …" at the CIP-1852 path m/1852'/1815'/0'/0/0
// (role level soft). tatum-kms's path hardens the role level, so its key
// for the same mnemonic and index differs.
func TestCardanoCIP19Vector(t *testing.T) {
	const m = "test walk nut penalty hip pave soap entry language right filter choice"
	x, err := CardanoRootKey(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint32{hardened + 1852, hardened + 1815, hardened, 0, 0} {
		c := x.Derive(i)
		x.Wipe()
		x = c
	}
	pub := x.Key().PublicKey()
	for testnet, want := range map[bool]string{
		false: "addr1vx2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzers66hrl8",
		true:  "addr_test1vz2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzerspjrlsz",
	} {
		if a, _ := CardanoEnterpriseAddress(pub, testnet); a != want {
			t.Fatalf("got %s want %s", a, want)
		}
	}
	tk, err := CardanoKeyFromMnemonic(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(tk.PublicKey()) == string(pub) {
		t.Fatal("tatum-kms's path gave the CIP-1852 key; the role level is not hardened")
	}
}
