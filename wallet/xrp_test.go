package wallet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

type xrpWalletVector struct {
	Address, Secret, PublicKey, PrivateKey, Algorithm string
}

func loadXRPWallets(t testing.TB) []xrpWalletVector {
	t.Helper()
	b, err := os.ReadFile("../testdata/xrp/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Wallets []xrpWalletVector }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Wallets) < 20 {
		t.Fatalf("only %d XRP wallet vectors", len(f.Wallets))
	}
	return f.Wallets
}

// Every family seed gives the key pair and address ripple-keypairs 1.3.1
// (via xrpl 2.14.1 Wallet.fromSeed) gives.
func TestXRPKeyFromSecretMatchesRippleKeypairs(t *testing.T) {
	n := map[string]int{}
	for _, v := range loadXRPWallets(t) {
		k, err := XRPKeyFromSecret(v.Secret)
		if err != nil {
			t.Fatalf("%s: %v", v.Address, err)
		}
		if got := strings.ToUpper(hex.EncodeToString(k.PublicKey())); got != v.PublicKey {
			t.Errorf("%s: public key %s, want %s", v.Address, got, v.PublicKey)
		}
		if got := k.PrivateKeyHex(); got != v.PrivateKey {
			t.Errorf("%s: private key differs from ripple-keypairs", v.Address)
		}
		if got := k.Address(); got != v.Address {
			t.Errorf("address %s, want %s", got, v.Address)
		}
		if k.Type().String() != v.Algorithm {
			t.Errorf("%s: type %s, want %s", v.Address, k.Type(), v.Algorithm)
		}
		// The seed round-trips.
		e, typ, err := DecodeXRPSeed(v.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := EncodeXRPSeed(e, typ); s != v.Secret {
			t.Errorf("seed round trip: %s", v.Address)
		}
		if id, err := DecodeXRPAddress(v.Address); err != nil || EncodeXRPAccountID(id) != v.Address {
			t.Errorf("address round trip %s: %v", v.Address, err)
		}
		n[v.Algorithm]++
	}
	if n["secp256k1"] < 10 || n["ed25519"] < 10 {
		t.Fatalf("too few vectors per algorithm: %v", n)
	}
}

// The published ripple-keypairs fixtures (its README and test/fixtures),
// independent of our generator.
func TestXRPPublishedFixtures(t *testing.T) {
	for _, c := range []struct{ seed, addr string }{
		{"sp5fghtJtpUorTwvof1NpDXAzNwf5", "rU6K7V3Po4snVhBBaU29sesqs2qTQJWDw1"},
		{"sEdSKaCy2JT7JaM7v95H9SxkhP9wS2r", "rLUEXYuLiQptky37CqLcm9USQpPiz5rkpD"},
		{"snoPBrXtMeMyMHUVTgbuqAfg1SUTb", "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"},
	} {
		k, err := XRPKeyFromSecret(c.seed)
		if err != nil {
			t.Fatal(err)
		}
		if k.Address() != c.addr {
			t.Errorf("%s: %s, want %s", c.addr, k.Address(), c.addr)
		}
	}
}

func TestXRPSignVerify(t *testing.T) {
	data := []byte("STX\x00some signing data")
	for _, v := range loadXRPWallets(t)[:6] {
		k, err := XRPKeyFromSecret(v.Secret)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := k.Sign(data)
		if err != nil {
			t.Fatal(err)
		}
		if !VerifyXRPSignature(k.PublicKey(), data, sig) {
			t.Fatalf("%s: own signature does not verify", v.Address)
		}
		if VerifyXRPSignature(k.PublicKey(), append(data, 0), sig) {
			t.Fatalf("%s: signature verifies for other data", v.Address)
		}
		again, _ := k.Sign(data)
		if !bytes.Equal(sig, again) {
			t.Errorf("%s: signatures are not deterministic", v.Address)
		}
		k.Zero()
		if _, err := k.Sign(data); err == nil {
			t.Error("a zeroed key signed")
		}
	}
}

func TestXRPBadSecrets(t *testing.T) {
	good := loadXRPWallets(t)[0].Secret
	e, _, _ := DecodeXRPSeed(good)
	// A seed with a wrong version byte, and base58check that is not a seed.
	addrLike := xrpBase58CheckEncode(append([]byte{0}, e...))
	for _, s := range []string{"", "s", good[:len(good)-1] + "x", good + "r", addrLike, "0x" + strings.Repeat("ab", 32), "sEd" + good[3:], "shwMDYKQYE5T39AkR9iHnTbDMCDc0"} {
		_, err := XRPKeyFromSecret(s)
		if !errors.Is(err, ErrInvalidXRPSecret) {
			t.Errorf("%q: %v, want ErrInvalidXRPSecret", s, err)
			continue
		}
		if len(s) > 8 && strings.Contains(err.Error(), s) {
			t.Errorf("error repeats the secret: %v", err)
		}
	}
	if _, err := DecodeXRPAddress("rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYf"); err == nil {
		t.Error("bad checksum accepted")
	}
	if _, err := DecodeXRPAddress("XVLhHMPHU98es4dbozjVtdWzVrDjtV18pX8yuPT7y4xaEHi"); err == nil {
		t.Error("X-address accepted")
	}
}

type fixedReader struct{ b []byte }

func (r *fixedReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func TestGenerateXRPWallet(t *testing.T) {
	h := sha256.Sum256([]byte("gokms"))
	w, err := GenerateXRPWallet(&fixedReader{h[:16]})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.Secret, "sEd") || !strings.HasPrefix(w.Address, "r") {
		t.Fatalf("wallet %s / seed type: want an ed25519 seed as xrpl Wallet.generate makes", w.Address)
	}
	k, err := XRPKeyFromSecret(w.Secret)
	if err != nil || k.Address() != w.Address {
		t.Fatalf("generated wallet does not derive its address: %v", err)
	}
	b, _ := json.Marshal(w)
	if !strings.HasPrefix(string(b), `{"address":"r`) || !strings.Contains(string(b), `,"secret":"sEd`) {
		t.Errorf("JSON shape %s, want {address, secret}", b)
	}
	w2, err := GenerateXRPWalletType(&fixedReader{h[:16]}, XRPSecp256k1)
	if err != nil || strings.HasPrefix(w2.Secret, "sEd") || w2.Secret[0] != 's' {
		t.Fatalf("secp256k1 wallet: %v", err)
	}
	if _, err := GenerateXRPWallet(&fixedReader{h[:3]}); err == nil {
		t.Error("short randomness accepted")
	}
}
