package wallet

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The ADA wallets of testdata/tatumkms/all-chains-8.0.1 were made by
// @tatumio/tatum's generateAdaWallet (add-sdk-wallets.js): their xpub is
// CardanoV1Xpub of their mnemonic.
func TestCardanoV1XpubFixture(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "tatumkms", "all-chains-8.0.1", "export.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var w map[string]struct{ Chain, Mnemonic, Xpub string }
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&w); err != nil {
		t.Fatal(err)
	}
	n := 0
	for id, e := range w {
		if e.Chain != "ADA" || e.Mnemonic == "" {
			continue
		}
		n++
		x, err := CardanoV1Xpub(e.Mnemonic)
		if err != nil || x != e.Xpub {
			t.Errorf("%s: CardanoV1Xpub = %s (%v), the SDK wrote %s", id, x, err, e.Xpub)
		}
	}
	if n == 0 {
		t.Fatal("no ADA wallet in the fixture")
	}
}
