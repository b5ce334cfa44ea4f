package tatumkms

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gokms/gokms/backend/memory"
)

// signingChains are the 22 chains tatum-kms 8.0.1's daemon signs (the
// `case Currency.X` of its src/signatures.ts).
var signingChains = []string{"ADA", "ALGO", "BCH", "BNB", "BSC", "BTC", "CELO", "DOGE", "EGLD", "ETH", "FLOW",
	"KCS", "KLAY", "LTC", "MATIC", "ONE", "SOL", "TRON", "VET", "XDC", "XLM", "XRP"}

type allChains struct {
	entries []Entry
	export  []byte
	pw      []byte
	all     map[string]string // signatureId -> getmanagedwallet output (every entry)
	real    map[string]string // the same, printed by the real tatum-kms CLI (a sample)
}

func readAllChains(t *testing.T) allChains {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "testdata", "tatumkms", "all-chains-8.0.1")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var f allChains
	f.pw = bytes.TrimSpace(read("../real-8.0.1/wallet.password"))
	var err error
	if f.entries, err = Decode(read("wallet.dat"), f.pw); err != nil {
		t.Fatal(err)
	}
	f.export = read("export.txt")
	if err := json.Unmarshal(read("getmanagedwallet-all.json"), &f.all); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(read("getmanagedwallet.json"), &f.real); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestAllChainsFixture: the file holds wallets of every chain tatum-kms
// signs, in every shape its commands write, and the getmanagedwallet
// outputs computed for every entry agree with what the real CLI printed.
func TestAllChainsFixture(t *testing.T) {
	f := readAllChains(t)
	chains := map[string]bool{}
	shapes := map[string]bool{}
	for _, e := range f.entries {
		chains[e.Chain] = true
		shapes[e.Chain+":"+strings.Join(e.Fields, ",")] = true
	}
	for _, c := range signingChains {
		if !chains[c] {
			t.Errorf("no %s wallet in the fixture", c)
		}
	}
	for _, s := range []string{
		"SOL:mnemonic,address,privateKey,chain,testnet", // generatemanagedwallet SOL
		"XRP:address,secret,chain,testnet", "XLM:address,secret,chain,testnet", "ALGO:address,secret,chain,testnet",
		"BNB:address,privateKey,chain,testnet", "EGLD:mnemonic,chain,testnet",
		"ETH:xpub,mnemonic,chain,testnet", "BTC:mnemonic,xpub,chain,testnet", "KCS:xpub,mnemonic,chain,testnet",
		"ADA:mnemonic,xpub,chain,testnet", "XRP:privateKey,chain,testnet", "XLM:privateKey,chain,testnet",
	} {
		if !shapes[s] {
			t.Errorf("no entry of shape %s in the fixture", s)
		}
	}
	if len(f.all) != len(f.entries) {
		t.Fatalf("getmanagedwallet-all.json has %d entries, the wallet %d", len(f.all), len(f.entries))
	}
	if len(f.real) < 10 {
		t.Fatalf("only %d outputs of the real CLI", len(f.real))
	}
	for id, out := range f.real {
		if f.all[id] != out {
			t.Errorf("%s: the real tatum-kms printed\n%s\nnot\n%s", id, out, f.all[id])
		}
	}
}

// TestAllChainsRoundTrip: every entry of every chain becomes a record (none
// refused, chains gokms does not sign included), survives a backend, and
// comes back as exactly what tatum-kms prints for getmanagedwallet; the
// whole store exports (JSON and an encrypted wallet.dat) as tatum-kms's
// export printed it.
func TestAllChainsRoundTrip(t *testing.T) {
	f := readAllChains(t)
	ctx := context.Background()
	b := memory.New()
	for _, e := range f.entries {
		r, err := e.Record()
		if err != nil {
			t.Fatalf("entry %s (%s): %v", e.ID, e.Chain, err)
		}
		if err := b.Put(ctx, r.Clone()); err != nil {
			t.Fatalf("Put %s (%s): %v", e.ID, e.Chain, err)
		}
	}
	list, err := b.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(f.entries) {
		t.Fatalf("%d records stored of %d entries", len(list), len(f.entries))
	}
	var back []Entry
	for _, e := range f.entries {
		r, err := b.Get(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := FromRecord(r)
		if err != nil {
			t.Fatalf("FromRecord %s: %v", e.ID, err)
		}
		if out := string(MarshalEntry(got, "  ")) + "\n"; out != f.all[e.ID] {
			t.Errorf("getmanagedwallet %s (%s):\n%s\nwant (tatum-kms):\n%s", e.ID, e.Chain, out, f.all[e.ID])
		}
		// A record without a layout (what gokms's own commands store) takes
		// the shape tatum-kms writes for its chain and kind: the same here.
		plain, err := FromRecord(withoutLayout(r))
		if err != nil {
			t.Fatal(err)
		}
		if out := string(MarshalEntry(plain, "  ")) + "\n"; out != f.all[e.ID] {
			t.Errorf("getmanagedwallet %s (%s) of a record without layout:\n%s\nwant (tatum-kms):\n%s", e.ID, e.Chain, out, f.all[e.ID])
		}
		back = append(back, got)
	}
	if got := append(MarshalEntries(back, "  "), '\n'); !bytes.Equal(got, f.export) {
		t.Fatal("export of the imported records differs from tatum-kms's export")
	}
	data, err := Encode(back, f.pw, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Decode(data, f.pw)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(MarshalEntries(again, "  "), '\n'); !bytes.Equal(got, f.export) {
		t.Fatal("the exported wallet.dat does not decrypt to tatum-kms's export")
	}
	// The chains in the store are the fixture's, as stored.
	var chains []string
	for _, m := range list {
		if !slices.Contains(chains, m.Chain) {
			chains = append(chains, m.Chain)
		}
	}
	sort.Strings(chains)
	if !slices.Equal(chains, signingChains) {
		t.Errorf("stored chains %v, want %v", chains, signingChains)
	}
}
