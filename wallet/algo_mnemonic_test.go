package wallet

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// algosdk's mnemonicToSecretKey output for the generator's wallets
// (testdata/algo/vectors.json, made with the npm algosdk tatum-kms uses).
func TestAlgoMnemonicVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "algo", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Wallets []struct{ Mnemonic, Secret, Address string }
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Wallets) == 0 {
		t.Fatal("no ALGO wallets in the vectors")
	}
	for _, w := range v.Wallets {
		if !IsAlgoMnemonic(w.Mnemonic) {
			t.Fatalf("vector mnemonic has %d words", len(strings.Fields(w.Mnemonic)))
		}
		a, s, err := AlgoWalletFromMnemonic(w.Mnemonic)
		if err != nil || a != w.Address || s != w.Secret {
			t.Errorf("AlgoWalletFromMnemonic = %s, %s, %v; want %s, %s", a, s, err, w.Address, w.Secret)
		}
		words := strings.Fields(w.Mnemonic)
		// A wrong checksum word, a swapped pair, a word not in the list,
		// a word missing: each refused, no word quoted.
		bad := map[string][]string{}
		c := append([]string(nil), words...)
		c[24] = map[bool]string{true: "zoo", false: "abandon"}[c[24] != "zoo"]
		bad["checksum"] = c
		s2 := append([]string(nil), words...)
		s2[0], s2[1] = s2[1], s2[0]
		if s2[0] != s2[1] {
			bad["swapped"] = s2
		}
		u := append([]string(nil), words...)
		u[3] = "gokms"
		bad["unknown"] = u
		bad["short"] = words[:24]
		for name, ws := range bad {
			_, err := AlgoKeyFromMnemonic(strings.Join(ws, " "))
			if !errors.Is(err, ErrInvalidMnemonic) {
				t.Errorf("%s: %v", name, err)
			}
			for _, word := range words {
				if err != nil && len(word) > 3 && strings.Contains(err.Error(), word) {
					t.Errorf("%s: error quotes a word: %v", name, err)
				}
			}
		}
	}
}
