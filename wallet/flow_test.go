package wallet

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Keys, xpubs and public keys as @tatumio/tatum's Flow code prints them
// (bip32 + elliptic, testdata/flow/gen), including a key whose hex is
// shorter than 64 characters.
func TestFlowKeysMatchTatumSDK(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "flow", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Wallets []struct {
			Mnemonic string `json:"mnemonic"`
			Xpub     string `json:"xpub"`
			Keys     []struct {
				Index      uint32 `json:"index"`
				PrivateKey string `json:"privateKey"`
				PublicKey  string `json:"publicKey"`
			} `json:"keys"`
		} `json:"wallets"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	short := 0
	for _, w := range v.Wallets {
		fw, err := GenerateFlowWalletFromMnemonic(w.Mnemonic)
		if err != nil || fw.Xpub != w.Xpub {
			t.Fatalf("xpub: %s %v want %s", fw.Xpub, err, w.Xpub)
		}
		for _, k := range w.Keys {
			pk, err := FlowKeyFromMnemonic(w.Mnemonic, k.Index)
			if err != nil {
				t.Fatal(err)
			}
			if got := EncodeFlowPrivateKey(pk); got != k.PrivateKey {
				t.Fatalf("index %d: got %s want %s", k.Index, got, k.PrivateKey)
			}
			if got := FlowPublicKeyHex(pk.PubKey()); got != k.PublicKey {
				t.Fatalf("index %d public: got %s", k.Index, got)
			}
			if got, err := FlowPublicKeyFromXpub(w.Xpub, k.Index); err != nil || got != k.PublicKey {
				t.Fatalf("index %d from xpub: %s %v", k.Index, got, err)
			}
			d, err := DecodeFlowPrivateKey(k.PrivateKey)
			if err != nil || !d.Key.Equals(&pk.Key) {
				t.Fatalf("decode %d: %v", k.Index, err)
			}
			if len(k.PrivateKey) < 64 {
				short++
			}
		}
	}
	if short == 0 {
		t.Fatal("no vector with a key shorter than 64 hex")
	}
	for _, s := range []string{"", "zz", strings.Repeat("f", 64), strings.Repeat("1", 65), "0"} {
		if _, err := DecodeFlowPrivateKey(s); err == nil {
			t.Fatalf("%q accepted", s)
		}
	}
}
