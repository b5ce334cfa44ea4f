package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
)

// The BNB Beacon Chain was shut down in December 2024: no new wallet, no
// derivation from a stored BNB entry, a clear error that says so, non-zero
// exit, and the entry stays in the store.
func TestBNBBeaconChainRefused(t *testing.T) {
	const pw = "bnb-store-password"
	const key = "7f307dee01e6a2bbcc6eb8ca2e28eaa4944108b46348dbefc8de9e353b19a578" // tatum-kms 8.0.1's BNB fixture key
	r := newRunner(t, pw)
	store := filepath.Join(r.home, "w.dat")
	r.must(nil, "", "generatemanagedwallet", "BTC", "--testnet", "--path", store)

	// BNB entries as `import tatum-kms` keeps them (a private key with its
	// address; a mnemonic with an xpub).
	s, err := file.Open(store, []byte(pw), file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range []backend.Record{
		{ID: "bnb-key", Kind: backend.PrivateKey, Chain: "BNB", Testnet: true, Secret: []byte(key), Address: "tbnb1u73knp2r38ac7f38dd9vw4ctfj52zk0fxsvsr4"},
		{ID: "bnb-mn", Kind: backend.Mnemonic, Chain: "BNB", Testnet: true, Secret: []byte("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"), Xpub: "xpub-bnb"},
	} {
		if err := s.Put(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	for _, args := range [][]string{
		{"generatewallet", "BNB"},
		{"generatewallet", "bnb", "--testnet"},
		{"generatemanagedwallet", "BNB", "--testnet", "--path", store},
		{"generatemanagedprivatekeybatch", "BNB", "1", "--testnet", "--path", store},
		{"getprivatekey", "bnb-key", "0", "--testnet", "--path", store},
		{"getprivatekey", "bnb-mn", "0", "--testnet", "--path", store},
		{"getaddress", "bnb-key", "0", "--testnet", "--path", store},
		{"getaddress", "bnb-mn", "0", "--testnet", "--path", store},
	} {
		out, errOut, err := r.run("", args...)
		if err == nil {
			t.Errorf("gokms %s: exit 0, stdout %q", strings.Join(args, " "), out)
			continue
		}
		if out != "" || !strings.Contains(errOut, "BNB Beacon Chain (BNB) was shut down in December 2024") {
			t.Errorf("gokms %s: stdout %q, stderr %q: want the shut-down error", strings.Join(args, " "), out, errOut)
		}
		if strings.Contains(out+errOut, key) || strings.Contains(out+errOut, "abandon") {
			t.Errorf("gokms %s: a secret in the output", strings.Join(args, " "))
		}
	}
	// storemanaged*: refused before the secret is read or stored.
	for _, cmd := range []string{"storemanagedprivatekey", "storemanagedwallet"} {
		_, errOut, err := r.run(key+"\n", cmd, "BNB", "--testnet", "--path", store)
		if err == nil || !strings.Contains(errOut, "shut down in December 2024") || strings.Contains(errOut, key) {
			t.Errorf("%s BNB: err %v, stderr %q", cmd, err, errOut)
		}
	}

	// Nothing lost, nothing added: the BNB entries are still there, as stored.
	s, err = file.Open(store, []byte(pw), file.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	metas, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 3 {
		t.Errorf("store holds %d records, want 3 (BTC and the two BNB)", len(metas))
	}
	rec, err := s.Get(context.Background(), "bnb-key")
	if err != nil || string(rec.Secret) != key {
		t.Errorf("the BNB key entry changed: %v", err)
	}
	// getmanagedwallet still shows the entry (export is unchanged too).
	out, _, err := r.run("", "getmanagedwallet", "bnb-key", "--testnet", "--path", store)
	if err != nil || !strings.Contains(out, `"chain": "BNB"`) {
		t.Errorf("getmanagedwallet of a BNB entry: %v %q", err, out)
	}
}
