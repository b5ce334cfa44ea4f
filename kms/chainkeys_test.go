package kms

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file/tatumkms"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/chain"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// The chains this file covers besides the HD ones (TRON stands for them).
var ownKeyChains = []string{"SOL", "XLM", "XRP", "ALGO", "EGLD", "VET", "FLOW", "ADA", "TRON"}

type keepOpen struct{ backend.SecretBackend }

func (keepOpen) Close() error { return nil }

// newKeys returns Keys over one in-memory store for a network.
func newKeys(b backend.SecretBackend, testnet bool) Keys {
	return Keys{
		Testnet:  testnet,
		Open:     func(context.Context, bool) (backend.SecretBackend, error) { return keepOpen{b}, nil },
		Progress: io.Discard,
	}
}

func readJSON(t *testing.T, v any, parts ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"..", "testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", filepath.Join(parts...), err)
	}
}

// keyOrder lists the keys of a JSON object in order.
func keyOrder(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", b)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func fields(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

// tatumShapes are the field lists of the entries the real tatum-kms 8.0.1
// wrote (testdata/tatumkms/*-8.0.1/export.txt), by chain and by how they
// were made: "wallet" for generatemanagedwallet, "key" for a stored or
// batch private key.
func tatumShapes(t *testing.T) map[string]map[string][]string {
	out := map[string]map[string][]string{}
	for _, f := range []string{"real-8.0.1", "all-chains-8.0.1"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "tatumkms", f, "export.txt"))
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.Token()
		for dec.More() {
			dec.Token()
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				t.Fatal(err)
			}
			keys := keyOrder(t, raw)
			chain := fields(t, raw)["chain"].(string)
			kind := "wallet"
			if keys[0] == "privateKey" {
				kind = "key"
			}
			if out[chain] == nil {
				out[chain] = map[string][]string{}
			}
			out[chain][kind] = keys
		}
	}
	return out
}

// Every command's output and stored entry has the fields, order and
// encodings tatum-kms's has, on both networks, and the key and address
// gokms shows for a wallet belong together.
func TestKeyCommandShapes(t *testing.T) {
	shapes := tatumShapes(t)
	ctx := context.Background()
	for _, code := range ownKeyChains {
		for _, testnet := range []bool{false, true} {
			name := code + map[bool]string{false: "/mainnet", true: "/testnet"}[testnet]
			t.Run(name, func(t *testing.T) {
				b := memory.New()
				k := newKeys(b, testnet)
				ck, _ := keysOf(code)

				// generatewallet: the SDK's wallet object, nothing stored.
				out, err := k.GenerateWallet(code)
				if err != nil {
					t.Fatal(err)
				}
				want := map[string][]string{
					"SOL": {"mnemonic", "address", "privateKey"}, "XLM": {"address", "secret"}, "XRP": {"address", "secret"},
					"ALGO": {"address", "secret"}, "EGLD": {"mnemonic"}, "VET": {"xpub", "mnemonic"},
					"FLOW": {"mnemonic", "xpub"}, "ADA": {"mnemonic", "xpub"}, "TRON": {"mnemonic", "xpub"},
				}[code]
				if got := keyOrder(t, out); !slices.Equal(got, want) {
					t.Errorf("generatewallet %s fields %v, want %v", code, got, want)
				}
				if !bytes.HasPrefix(out, []byte("{\n  \"")) || !bytes.HasSuffix(out, []byte("\"\n}")) {
					t.Errorf("generatewallet is not JSON.stringify(w, null, 2): %q", out)
				}
				g := fields(t, out)
				if s, ok := g["secret"].(string); ok {
					addr, err := ck.keyAddress(code, s, testnet)
					if err != nil || addr != g["address"] {
						t.Errorf("generatewallet: secret's address %q (%v), printed %q", addr, err, g["address"])
					}
				}
				if code == "XRP" && !strings.HasPrefix(g["secret"].(string), "sEd") {
					t.Error("generatewallet XRP: want the ed25519 sEd… seed generatemanagedwallet makes")
				}
				if ns, ok := g["privateKey"].(string); ok { // SOL
					addr, _ := ck.keyAddress(code, ns, testnet)
					w, _ := wallet.SolanaWalletFromMnemonic(g["mnemonic"].(string), 0)
					if addr != g["address"] || w.PrivateKey != ns {
						t.Error("generatewallet SOL: mnemonic, privateKey and address do not belong together")
					}
				}
				if _, err := b.List(ctx); err != nil {
					t.Fatal(err)
				}
				if l, _ := b.List(ctx); len(l) != 0 {
					t.Fatal("generatewallet stored something")
				}

				// generatemanagedwallet: stored in tatum-kms's shape, printed
				// as {signatureId, address?, xpub?}.
				st, err := k.GenerateManagedWallet(ctx, code)
				if err != nil {
					t.Fatal(err)
				}
				hasAddr := map[string]bool{"SOL": true, "XLM": true, "XRP": true, "ALGO": true}[code]
				hasXpub := map[string]bool{"VET": true, "FLOW": true, "ADA": true, "TRON": true}[code]
				if (st.Address != "") != hasAddr || (st.Xpub != "") != hasXpub {
					t.Errorf("generatemanagedwallet prints %+v; tatum-kms prints an address %v, an xpub %v", st, hasAddr, hasXpub)
				}
				entry, err := k.StoredEntry(ctx, st.SignatureID)
				if err != nil {
					t.Fatal(err)
				}
				wantEntry := append(slices.Clone(want), "chain", "testnet")
				if code == "XRP" || code == "XLM" || code == "ALGO" {
					wantEntry = []string{"address", "secret", "chain", "testnet"}
				}
				if got := keyOrder(t, entry); !slices.Equal(got, wantEntry) {
					t.Errorf("stored entry %v, want %v", got, wantEntry)
				}
				if real := shapes[code]["wallet"]; real != nil && !slices.Equal(real, wantEntry) {
					t.Errorf("stored entry %v, but the real tatum-kms wrote %v", wantEntry, real)
				}
				e := fields(t, entry)
				if e["chain"] != code || e["testnet"] != testnet {
					t.Errorf("entry chain/testnet %v/%v", e["chain"], e["testnet"])
				}
				if s, ok := e["secret"].(string); ok && code == "XRP" && !strings.HasPrefix(s, "sEd") {
					t.Error("generatemanagedwallet XRP: @tatumio/xrp's wallet() makes ed25519 sEd… seeds")
				}
				checkKeyAddress(t, k, ck, code, st.SignatureID, testnet, st.Address)

				// generatemanagedprivatekeybatch: {privateKey, chain, testnet}
				// entries, printed with their key's address.
				batch, err := k.GenerateManagedPrivateKeyBatch(ctx, code, 3)
				if err != nil || len(batch) != 3 {
					t.Fatalf("batch: %v %v", batch, err)
				}
				for _, r := range batch {
					entry, err := k.StoredEntry(ctx, r.SignatureID)
					if err != nil {
						t.Fatal(err)
					}
					if got := keyOrder(t, entry); !slices.Equal(got, []string{"privateKey", "chain", "testnet"}) {
						t.Errorf("batch entry %v", got)
					}
					if real := shapes[code]["key"]; real != nil && !slices.Equal(real, keyOrder(t, entry)) {
						t.Errorf("batch entry %v, the real tatum-kms wrote %v", keyOrder(t, entry), real)
					}
					checkKeyAddress(t, k, ck, code, r.SignatureID, testnet, r.Address)
				}
			})
		}
	}
}

// checkKeyAddress: getaddress at 0 and 1 is the printed address when there
// is one, and getprivatekey's key has getaddress's address.
func checkKeyAddress(t *testing.T, k Keys, ck chainKeys, code, id string, testnet bool, printed string) {
	t.Helper()
	ctx := context.Background()
	for _, i := range []uint32{0, 1} {
		addr, err := k.Address(ctx, id, i)
		if err != nil {
			t.Fatalf("getaddress %d: %v", i, err)
		}
		if printed != "" && addr != printed {
			t.Errorf("getaddress %d = %s, printed %s", i, addr, printed)
		}
		pk, err := k.PrivateKey(ctx, id, i)
		if err != nil {
			t.Fatalf("getprivatekey %d: %v", i, err)
		}
		fromKey, err := ck.keyAddress(code, pk, testnet)
		if code == "TRON" && err == nil {
			fromKey, err = wallet.AddressFromPrivateKey(wallet.TRON, pk, testnet)
		}
		if err != nil || fromKey != addr {
			t.Errorf("index %d: getprivatekey's key has address %q (%v), getaddress says %q", i, fromKey, err, addr)
		}
	}
}

// storeMnemonic stores m for code on a network and returns its id.
func storeMnemonic(t *testing.T, k Keys, code, m string) Stored {
	t.Helper()
	st, err := k.StoreManagedWallet(context.Background(), code, m)
	if err != nil {
		t.Fatalf("storemanagedwallet %s: %v", code, err)
	}
	return st
}

func storeKey(t *testing.T, k Keys, code, key string) string {
	t.Helper()
	id, err := k.StoreManagedPrivateKey(context.Background(), code, []byte(key))
	if err != nil {
		t.Fatalf("storemanagedprivatekey %s: %v", code, err)
	}
	return id
}

func wantAnswer(t *testing.T, what string, got string, err error, want string) {
	t.Helper()
	if err != nil || got != want {
		t.Errorf("%s = %q (%v), want %q", what, got, err, want)
	}
}

// getprivatekey and getaddress give the SDKs' own values
// (testdata/<chain>/vectors.json, made with the npm packages tatum-kms
// calls) for stored mnemonics and keys.
func TestKeyCommandVectors(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	keys := map[bool]Keys{false: newKeys(b, false), true: newKeys(b, true)}

	var vet, egld struct {
		Keys []struct {
			Mnemonic, PrivateKey, Address, Xpub string
			Testnet                             bool
			Index                               uint32
		}
	}
	readJSON(t, &vet, "vet", "vectors.json")
	readJSON(t, &egld, "egld", "vectors.json")
	for code, v := range map[string]any{"VET": vet.Keys, "EGLD": egld.Keys} {
		_ = v
		list := vet.Keys
		if code == "EGLD" {
			list = egld.Keys
		}
		for _, kv := range list {
			k := keys[kv.Testnet]
			st := storeMnemonic(t, k, code, kv.Mnemonic)
			if kv.Xpub != "" && st.Xpub != kv.Xpub {
				t.Errorf("%s xpub %s, want %s", code, st.Xpub, kv.Xpub)
			}
			pk, err := k.PrivateKey(ctx, st.SignatureID, kv.Index)
			wantAnswer(t, code+" getprivatekey", pk, err, kv.PrivateKey)
			a, err := k.Address(ctx, st.SignatureID, kv.Index)
			wantAnswer(t, code+" getaddress", a, err, kv.Address)
			id := storeKey(t, k, code, kv.PrivateKey)
			a, err = k.Address(ctx, id, 0)
			wantAnswer(t, code+" getaddress of a stored key", a, err, kv.Address)
		}
	}

	var flow struct {
		Wallets []struct {
			Mnemonic, Xpub string
			Keys           []struct {
				Index                 uint32
				PrivateKey, PublicKey string
			}
		}
	}
	readJSON(t, &flow, "flow", "vectors.json")
	for _, w := range flow.Wallets {
		for _, testnet := range []bool{false, true} {
			k := keys[testnet]
			st := storeMnemonic(t, k, "FLOW", w.Mnemonic)
			if st.Xpub != w.Xpub {
				t.Errorf("FLOW xpub %s, want %s", st.Xpub, w.Xpub)
			}
			for _, kv := range w.Keys {
				pk, err := k.PrivateKey(ctx, st.SignatureID, kv.Index)
				wantAnswer(t, "FLOW getprivatekey", pk, err, kv.PrivateKey)
				a, err := k.Address(ctx, st.SignatureID, kv.Index)
				wantAnswer(t, "FLOW getaddress", a, err, kv.PublicKey)
				a, err = k.Address(ctx, storeKey(t, k, "FLOW", kv.PrivateKey), 0)
				wantAnswer(t, "FLOW getaddress of a stored key", a, err, kv.PublicKey)
			}
		}
	}

	var ada struct {
		Wallets []struct {
			Mnemonic, Xpub string
			Keys           []struct {
				Index                        uint32
				PrivateKey, Mainnet, Testnet string
			}
		}
		NormalKeys []struct{ PrivateKey, Mainnet, Testnet string }
	}
	readJSON(t, &ada, "ada", "vectors.json")
	for _, w := range ada.Wallets {
		for _, testnet := range []bool{false, true} {
			k := keys[testnet]
			st := storeMnemonic(t, k, "ADA", w.Mnemonic)
			if st.Xpub != w.Xpub {
				t.Errorf("ADA xpub %s, want %s", st.Xpub, w.Xpub)
			}
			for _, kv := range w.Keys {
				want := kv.Mainnet
				if testnet {
					want = kv.Testnet
				}
				pk, err := k.PrivateKey(ctx, st.SignatureID, kv.Index)
				wantAnswer(t, "ADA getprivatekey", pk, err, kv.PrivateKey)
				a, err := k.Address(ctx, st.SignatureID, kv.Index)
				wantAnswer(t, "ADA getaddress", a, err, want)
				a, err = k.Address(ctx, storeKey(t, k, "ADA", kv.PrivateKey), 0)
				wantAnswer(t, "ADA getaddress of a stored key", a, err, want)
			}
		}
	}
	for _, nk := range ada.NormalKeys {
		a, err := keys[false].Address(ctx, storeKey(t, keys[false], "ADA", nk.PrivateKey), 0)
		wantAnswer(t, "ADA getaddress of a plain ed25519 key", a, err, nk.Mainnet)
		a, err = keys[true].Address(ctx, storeKey(t, keys[true], "ADA", nk.PrivateKey), 0)
		wantAnswer(t, "ADA getaddress of a plain ed25519 key (testnet)", a, err, nk.Testnet)
	}

	var sol struct {
		Wallets []struct {
			Mnemonic, Address, PrivateKey string
			Index                         uint32
		}
		FromPrivateKey []struct{ Input, Address, PrivateKey string }
	}
	readJSON(t, &sol, "sol", "vectors.json")
	for _, w := range sol.Wallets {
		if w.Index != 0 {
			continue // wallet() is index 0; a SOL wallet is one key
		}
		st := storeMnemonic(t, keys[false], "SOL", w.Mnemonic)
		if st.Address != w.Address {
			t.Errorf("SOL address %s, want %s", st.Address, w.Address)
		}
		for _, i := range []uint32{0, 3} {
			pk, err := keys[false].PrivateKey(ctx, st.SignatureID, i)
			wantAnswer(t, "SOL getprivatekey", pk, err, w.PrivateKey)
			a, err := keys[false].Address(ctx, st.SignatureID, i)
			wantAnswer(t, "SOL getaddress", a, err, w.Address)
		}
		entry, _ := keys[false].StoredEntry(ctx, st.SignatureID)
		if e := fields(t, entry); e["mnemonic"] != w.Mnemonic || e["privateKey"] != w.PrivateKey || e["address"] != w.Address {
			t.Errorf("SOL entry %v", e)
		}
	}
	for _, p := range sol.FromPrivateKey {
		a, err := keys[true].Address(ctx, storeKey(t, keys[true], "SOL", p.Input), 0)
		wantAnswer(t, "SOL getaddress of a stored key", a, err, p.Address)
	}

	var xlm struct {
		FromSecret []struct{ Secret, Address string }
	}
	readJSON(t, &xlm, "xlm", "vectors.json")
	var xrp struct {
		Wallets []struct{ Address, Secret string }
	}
	readJSON(t, &xrp, "xrp", "vectors.json")
	var algo struct {
		Wallets []struct{ Secret, Address string }
	}
	readJSON(t, &algo, "algo", "vectors.json")
	type sa struct{ code, secret, address string }
	var singles []sa
	for _, v := range xlm.FromSecret {
		singles = append(singles, sa{"XLM", v.Secret, v.Address})
	}
	for _, v := range xrp.Wallets {
		singles = append(singles, sa{"XRP", v.Secret, v.Address})
	}
	for _, v := range algo.Wallets {
		singles = append(singles, sa{"ALGO", v.Secret, v.Address})
	}
	for _, s := range singles {
		for _, testnet := range []bool{false, true} {
			id := storeKey(t, keys[testnet], s.code, s.secret)
			a, err := keys[testnet].Address(ctx, id, 4)
			wantAnswer(t, s.code+" getaddress", a, err, s.address)
			pk, err := keys[testnet].PrivateKey(ctx, id, 4)
			wantAnswer(t, s.code+" getprivatekey", pk, err, s.secret)
			entry, _ := keys[testnet].StoredEntry(ctx, id)
			if got := keyOrder(t, entry); !slices.Equal(got, []string{"privateKey", "chain", "testnet"}) {
				t.Errorf("%s stored key entry %v, tatum-kms writes {privateKey, chain, testnet}", s.code, got)
			}
		}
	}

	var tron struct {
		Transactions []struct{ PrivateKey, Address string }
	}
	readJSON(t, &tron, "tron", "vectors.json")
	for _, v := range tron.Transactions[:5] {
		a, err := keys[false].Address(ctx, storeKey(t, keys[false], "TRON", v.PrivateKey), 0)
		wantAnswer(t, "TRON getaddress of a stored key", a, err, v.Address)
	}
}

// Bad input is refused with an error that says what to do, stores nothing,
// and never quotes the secret.
func TestKeyCommandRefusals(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	main, test := newKeys(b, false), newKeys(b, true)
	const xlmSecret = "SBG4NI5I43LX6B553L4M5MOOUQPEUQV4H4WV4VTDSUUYFWIGZWQFKOU5"
	const mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	secrets := []string{xlmSecret, mnemonic, "abandon abandon"}
	noSecret := func(err error) {
		t.Helper()
		for _, s := range secrets {
			if err != nil && strings.Contains(err.Error(), s) {
				t.Errorf("error quotes a secret: %v", err)
			}
		}
	}

	for _, c := range []struct {
		chain string
		is    error
	}{{"BNB", signing.ErrChainShutDown}, {"NOPE", wallet.ErrUnsupportedChain}, {"", wallet.ErrUnsupportedChain}} {
		if _, err := ParseChain(c.chain); !errors.Is(err, c.is) {
			t.Errorf("ParseChain(%q) = %v, want %v", c.chain, err, c.is)
		}
		if _, err := main.GenerateManagedWallet(ctx, c.chain); !errors.Is(err, c.is) {
			t.Errorf("generatemanagedwallet %q = %v", c.chain, err)
		}
		if _, err := main.GenerateManagedPrivateKeyBatch(ctx, c.chain, 1); !errors.Is(err, c.is) {
			t.Errorf("batch %q = %v", c.chain, err)
		}
	}
	// XRP and XLM wallets have no mnemonic: refused before one is read.
	for _, code := range []string{"XRP", "XLM"} {
		err := TakesMnemonic(code)
		if !errors.Is(err, ErrNoMnemonic) || !strings.Contains(err.Error(), "storemanagedprivatekey "+code) {
			t.Errorf("TakesMnemonic(%s) = %v", code, err)
		}
		_, err = main.StoreManagedWallet(ctx, code, mnemonic)
		if !errors.Is(err, ErrNoMnemonic) {
			t.Errorf("storemanagedwallet %s = %v", code, err)
		}
		noSecret(err)
	}
	for _, code := range []string{"SOL", "EGLD", "VET", "FLOW", "ADA", "TRON", "ALGO"} {
		if err := TakesMnemonic(code); err != nil {
			t.Errorf("TakesMnemonic(%s) = %v", code, err)
		}
		_, err := main.StoreManagedWallet(ctx, code, "abandon abandon abandon")
		if !errors.Is(err, wallet.ErrInvalidMnemonic) {
			t.Errorf("storemanagedwallet %s of a bad mnemonic = %v", code, err)
		}
		noSecret(err)
	}
	// A key of another chain is refused for each chain (the XLM secret is
	// none of theirs).
	for _, code := range []string{"SOL", "XRP", "ALGO", "EGLD", "VET", "FLOW", "ADA", "TRON"} {
		_, err := main.StoreManagedPrivateKey(ctx, code, []byte(xlmSecret))
		if err == nil {
			t.Errorf("storemanagedprivatekey %s took a Stellar secret", code)
		}
		noSecret(err)
	}
	if l, _ := b.List(ctx); len(l) != 0 {
		t.Fatalf("refused input stored %d records", len(l))
	}

	// The network check the daemon's Resolver makes: a stated network must
	// be the wallet's (signing.ErrNetworkMismatch); unstated, the wallet's
	// own network is used, as tatum-kms does.
	id := storeKey(t, test, "XLM", xlmSecret)
	stated := main
	stated.NetworkStated = true
	for _, f := range []func() (string, error){
		func() (string, error) { return stated.PrivateKey(ctx, id, 0) },
		func() (string, error) { return stated.Address(ctx, id, 0) },
	} {
		out, err := f()
		if !errors.Is(err, signing.ErrNetworkMismatch) || out != "" || !strings.Contains(err.Error(), "with --testnet") {
			t.Errorf("mainnet command on a testnet wallet: %q, %v", out, err)
		}
		noSecret(err)
	}
	if a, err := main.Address(ctx, id, 0); err != nil || a == "" {
		t.Errorf("unstated network: %q %v", a, err)
	}
	statedTest := test
	statedTest.NetworkStated = true
	if _, err := statedTest.PrivateKey(ctx, id, 0); err != nil {
		t.Errorf("testnet command on a testnet wallet: %v", err)
	}

	// Records gokms cannot use: a BNB entry (shut down), an unknown chain,
	// a single-key chain holding a mnemonic.
	for _, r := range []struct {
		rec backend.Record
		is  error
	}{
		{backend.Record{ID: "bnb", Kind: backend.PrivateKey, Chain: "BNB", Secret: []byte("00")}, signing.ErrChainShutDown},
		{backend.Record{ID: "dot", Kind: backend.Mnemonic, Chain: "DOT", Secret: []byte(mnemonic)}, wallet.ErrUnsupportedChain},
		{backend.Record{ID: "xrpm", Kind: backend.Mnemonic, Chain: "XRP", Secret: []byte(mnemonic)}, ErrNoMnemonic},
	} {
		if err := b.Put(ctx, r.rec); err != nil {
			t.Fatal(err)
		}
		_, err1 := main.PrivateKey(ctx, r.rec.ID, 0)
		_, err2 := main.Address(ctx, r.rec.ID, 0)
		for _, err := range []error{err1, err2} {
			if !errors.Is(err, r.is) || !strings.Contains(err.Error(), r.rec.ID) {
				t.Errorf("%s: %v, want %v naming the wallet", r.rec.ID, err, r.is)
			}
			noSecret(err)
		}
	}
}

// The 22-chain file tatum-kms 8.0.1 wrote: every entry is imported,
// getmanagedwallet prints what tatum-kms printed, getprivatekey and
// getaddress answer (what tatum-kms answers where it can: the stored secret
// and address; see docs/keys.md for the rest), and export gives the file
// back unchanged.
func TestAllChainsKeys(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join("..", "testdata", "tatumkms", "all-chains-8.0.1")
	data, err := os.ReadFile(filepath.Join(dir, "wallet.dat"))
	if err != nil {
		t.Fatal(err)
	}
	pw, err := os.ReadFile(filepath.Join("..", "testdata", "tatumkms", "real-8.0.1", "wallet.password"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := tatumkms.Decode(data, bytes.TrimSpace(pw))
	if err != nil {
		t.Fatal(err)
	}
	b := memory.New()
	for _, e := range entries {
		rec, err := e.Record()
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Put(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	var printed map[string]string
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "getmanagedwallet-all.json")), &printed); err != nil {
		t.Fatal(err)
	}
	var stored map[string]map[string]any
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "export.txt")), &stored); err != nil {
		t.Fatal(err)
	}
	// Every secret of the file, and the first words of each mnemonic.
	var secrets []string
	for _, s := range stored {
		for _, f := range []string{"mnemonic", "privateKey", "secret"} {
			if v, ok := s[f].(string); ok {
				secrets = append(secrets, v)
				if w := strings.Fields(v); len(w) > 4 {
					secrets = append(secrets, strings.Join(w[:4], " "))
				}
			}
		}
	}
	k := newKeys(b, false)
	answered := map[string]int{}
	for _, e := range entries {
		out, err := k.StoredEntry(ctx, e.ID)
		if err != nil || string(out)+"\n" != printed[e.ID] {
			t.Errorf("getmanagedwallet %s (%s) = %s, tatum-kms printed %s (%v)", e.ID, e.Chain, out, printed[e.ID], err)
		}
		s := stored[e.ID]
		pk, pkErr := k.PrivateKey(ctx, e.ID, 1)
		addr, addrErr := k.Address(ctx, e.ID, 1)
		wrongNet := newKeys(b, !e.Testnet)
		wrongNet.NetworkStated = true
		_, wrong1 := wrongNet.PrivateKey(ctx, e.ID, 1)
		_, wrong2 := wrongNet.Address(ctx, e.ID, 1)
		if wrong1 == nil || wrong2 == nil {
			t.Errorf("%s: a stated other network answered", e.ID)
		}
		for _, err := range []error{pkErr, addrErr, wrong1, wrong2} {
			for _, sec := range secrets {
				if err != nil && strings.Contains(err.Error(), sec) {
					t.Errorf("%s: an error quotes a stored secret: %v", e.ID, err)
				}
			}
		}
		switch {
		case e.Chain == "BNB":
			if !errors.Is(pkErr, signing.ErrChainShutDown) || !errors.Is(addrErr, signing.ErrChainShutDown) {
				t.Errorf("BNB %s: %v / %v", e.ID, pkErr, addrErr)
			}
			continue
		case e.Chain == "ADA" && s["privateKey"] != nil:
			// make.sh stored "ed25519e_sk1testdataonly…", not a key; its
			// address cannot be computed (tatum-kms fails on it too).
			if addrErr == nil {
				t.Errorf("ADA test-data key gave an address %s", addr)
			}
			addrErr = nil
		}
		if pkErr != nil || addrErr != nil {
			t.Errorf("%s %s: getprivatekey %v, getaddress %v", e.Chain, e.ID, pkErr, addrErr)
			continue
		}
		answered[e.Chain]++
		// tatum-kms's answers where it has one: an entry's secret and stored address.
		if sec, ok := s["secret"].(string); ok && pk != sec {
			t.Errorf("%s %s: getprivatekey %s, tatum-kms prints the secret", e.Chain, e.ID, pk)
		}
		if a, ok := s["address"].(string); ok && addr != a {
			t.Errorf("%s %s: getaddress %s, tatum-kms prints the stored %s", e.Chain, e.ID, addr, a)
		}
		if _, ok := s["privateKey"].(string); ok && s["mnemonic"] == nil && pk != s["privateKey"] {
			t.Errorf("%s %s: getprivatekey of a key entry is not the stored key", e.Chain, e.ID)
		}
	}
	for _, c := range []string{"SOL", "XLM", "XRP", "ALGO", "EGLD", "VET", "FLOW", "ADA", "TRON"} {
		if answered[c] == 0 {
			t.Errorf("no %s entry answered", c)
		}
	}
	// export gives the file back unchanged after all those reads.
	var back []tatumkms.Entry
	metas, _ := b.List(ctx)
	byID := map[string]bool{}
	for _, m := range metas {
		byID[m.ID] = true
	}
	for _, e := range entries {
		rec, err := b.Get(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		be, err := tatumkms.FromRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		back = append(back, be)
	}
	if got, want := string(tatumkms.MarshalEntries(back, "  "))+"\n", string(mustRead(t, filepath.Join(dir, "export.txt"))); got != want {
		t.Error("export after the key commands differs from tatum-kms's export")
	}
	if len(byID) != len(entries) {
		t.Errorf("%d records for %d entries", len(byID), len(entries))
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signingAddress is the address of a SigningKey as getaddress writes it.
func signingAddress(t *testing.T, code string, testnet bool, k SigningKey) string {
	t.Helper()
	switch {
	case k.XRP != nil:
		return k.XRP.Address()
	case k.Cardano != nil:
		a, err := wallet.CardanoEnterpriseAddress(k.Cardano.PublicKey(), testnet)
		if err != nil {
			t.Fatal(err)
		}
		return a
	case k.Ed25519 != nil:
		pub := k.Ed25519.Public().(ed25519.PublicKey)
		switch code {
		case "SOL":
			return wallet.SolanaAddress(pub)
		case "XLM":
			return wallet.StellarAddress(pub)
		case "ALGO":
			return wallet.AlgoAddress(pub)
		case "EGLD":
			a, _ := wallet.EGLDAddress(pub)
			return a
		}
	case k.Secp256k1 != nil:
		switch code {
		case "VET":
			return wallet.VETAddress(k.Secp256k1.PubKey())
		case "FLOW":
			return wallet.FlowPublicKeyHex(k.Secp256k1.PubKey())
		default:
			a, err := wallet.AddressFromPublicKey(wallet.Chain(code), k.Secp256k1.PubKey(), testnet)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
	}
	t.Fatalf("%s: SigningKey %+v has no key", code, k)
	return ""
}

// The key the daemon would sign with (SigningKey) is the key of the
// address getaddress shows, for every chain, network and wallet kind: the
// CLI and the signer read a record one way.
func TestSigningKeyIsTheShownKey(t *testing.T) {
	ctx := context.Background()
	for _, code := range append(ownKeyChains, "BTC", "ETH") {
		for _, testnet := range []bool{false, true} {
			b := memory.New()
			k := newKeys(b, testnet)
			st, err := k.GenerateManagedWallet(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			batch, err := k.GenerateManagedPrivateKeyBatch(ctx, code, 1)
			if err != nil {
				t.Fatal(err)
			}
			ignores := code == "ALGO" // the index plays no part (tatum-kms's ALGO case)
			for _, id := range []string{st.SignatureID, batch[0].SignatureID} {
				rec, err := b.Get(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				// The index the daemon's rule wants: a mnemonic wallet's
				// (SOL's without: its stored key is the one shown), none for a
				// private key; ALGO's plays no part.
				var index *uint32
				two := uint32(2)
				if (rec.Kind == backend.Mnemonic && code != "SOL") || ignores {
					index = &two
				}
				if rec.Kind == backend.PrivateKey && (code == "BTC" || code == "ETH") {
					continue // HD key records: the Resolver's own tests (signing)
				}
				sk, err := k.RecordKeys().SigningKey(rec, index)
				if err != nil {
					t.Fatalf("%s %s: %v", code, rec.Kind, err)
				}
				shown, err := k.Address(ctx, id, 2)
				if err != nil {
					t.Fatal(err)
				}
				if got := signingAddress(t, code, testnet, sk); got != shown {
					t.Errorf("%s testnet=%v %s: signs with the key of %s, getaddress shows %s", code, testnet, rec.Kind, got, shown)
				}
				sk.Zero()

				// The Resolver's refusals.
				other := k.RecordKeys()
				other.Testnet = !testnet
				if _, err := other.SigningKey(rec, index); !errors.Is(err, signing.ErrNetworkMismatch) {
					t.Errorf("%s: a wallet of the other network signed: %v", code, err)
				}
				if ignores {
					continue
				}
				if code == "SOL" && rec.Kind == backend.Mnemonic {
					// The one place the daemon and getaddress part: a SOL
					// mnemonic wallet named with an index signs with the key
					// at m/44'/501'/index'/0' (getaddress shows the stored
					// address whatever the index, as tatum-kms does).
					sk, err := k.RecordKeys().SigningKey(rec, &two)
					want, _ := wallet.SolanaKeyFromMnemonic(string(rec.Secret), 2)
					if err != nil || !sk.Ed25519.Equal(want) {
						t.Errorf("SOL mnemonic at index 2: not the key at m/44'/501'/2'/0' (%v)", err)
					}
					continue
				}
				wrong := index
				if wrong == nil {
					wrong = &two
				} else {
					wrong = nil
				}
				if _, err := k.RecordKeys().SigningKey(rec, wrong); !errors.Is(err, signing.ErrIndexMismatch) {
					t.Errorf("%s %s with index %v: %v", code, rec.Kind, wrong, err)
				}
			}
		}
	}
	bnb := backend.Record{ID: "b", Kind: backend.PrivateKey, Chain: "BNB", Secret: []byte("00")}
	if _, err := (RecordKeys{}).SigningKey(bnb, nil); !errors.Is(err, signing.ErrChainShutDown) {
		t.Errorf("BNB: %v", err)
	}
}

func mustLookup(t *testing.T, code string) chain.Family {
	c, ok := chain.Lookup(code)
	if !ok {
		t.Fatalf("no chain %s", code)
	}
	return c.Family
}

// What the real tatum-kms 8.0.1 printed for getaddress/getprivatekey <id> 1
// on the 22-chain file (testdata/tatumkms/all-chains-8.0.1/getkeys.sh):
// gokms prints the same wherever tatum-kms answers with the wallet's own
// key or address, and answers where tatum-kms fails. Two tatum-kms answers
// are not the wallet's at all, and gokms does not copy them: EGLD's
// getaddress and a TRON {privateKey} entry's getprivatekey are derived from
// the empty mnemonic (the entry has no xpub/mnemonic, and bip39 takes
// undefined as ""), the same for every such wallet and known to anyone.
func TestRealTatumKMSKeyAnswers(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join("..", "testdata", "tatumkms", "all-chains-8.0.1")
	var real map[string]map[string]struct{ Stdout, Stderr string }
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "getkeys.json")), &real); err != nil {
		t.Fatal(err)
	}
	var stored map[string]map[string]any
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "export.txt")), &stored); err != nil {
		t.Fatal(err)
	}
	pw := bytes.TrimSpace(mustRead(t, filepath.Join("..", "testdata", "tatumkms", "real-8.0.1", "wallet.password")))
	entries, err := tatumkms.Decode(mustRead(t, filepath.Join(dir, "wallet.dat")), pw)
	if err != nil {
		t.Fatal(err)
	}
	b := memory.New()
	for _, e := range entries {
		rec, err := e.Record()
		if err != nil {
			t.Fatal(err)
		}
		b.Put(ctx, rec)
	}
	k := newKeys(b, false)
	same, differ, gokmsOnly := 0, 0, 0
	for id, cmds := range real {
		chain, _ := stored[id]["chain"].(string)
		for cmd, out := range cmds {
			var got string
			var err error
			if cmd == "getaddress" {
				got, err = k.Address(ctx, id, 1)
			} else {
				got, err = k.PrivateKey(ctx, id, 1)
			}
			if out.Stdout == "" { // tatum-kms failed
				if !strings.Contains(out.Stderr, "Error") {
					t.Errorf("%s %s: tatum-kms printed nothing and no error", cmd, id)
				}
				isJunkADA := chain == "ADA" && cmd == "getaddress" && stored[id]["privateKey"] != nil
				if chain == "BNB" {
					if !errors.Is(err, signing.ErrChainShutDown) {
						t.Errorf("BNB %s: %v", cmd, err)
					}
				} else if err != nil && !isJunkADA {
					t.Errorf("%s %s %s: tatum-kms fails, gokms too: %v", chain, cmd, id, err)
				}
				gokmsOnly++
				continue
			}
			var want map[string]string
			if err := json.Unmarshal([]byte(out.Stdout), &want); err != nil {
				t.Fatalf("%s %s: %v", cmd, id, err)
			}
			field := map[string]string{"getaddress": "address", "getprivatekey": "privateKey"}[cmd]
			switch {
			case chain == "BNB":
				if !errors.Is(err, signing.ErrChainShutDown) {
					t.Errorf("BNB %s: %v", cmd, err)
				}
			case chain == "EGLD" && cmd == "getaddress", chain == "TRON" && cmd == "getprivatekey" && stored[id]["mnemonic"] == nil:
				// The empty mnemonic's address/key: gokms gives the wallet's own.
				if err != nil || got == want[field] {
					t.Errorf("%s %s %s: gokms %q (%v), must not be tatum-kms's empty-mnemonic answer", chain, cmd, id, got, err)
				}
				if chain == "TRON" && got != stored[id]["privateKey"] {
					t.Errorf("TRON getprivatekey of a key entry is not the stored key")
				}
				differ++
			default:
				if err != nil || got != want[field] {
					t.Errorf("%s %s %s = %q (%v), tatum-kms printed %q", chain, cmd, id, got, err, want[field])
				}
				same++
			}
		}
	}
	t.Logf("tatum-kms's answers: %d the same, %d not copied (empty mnemonic), %d where only gokms answers", same, differ, gokmsOnly)
	if same < 15 || differ != 2 {
		t.Errorf("compared %d answers and refused %d; the fixture has more", same, differ)
	}
}

// generatewallet prints what the real tatum-kms 8.0.1 printed
// (testdata/tatumkms/all-chains-8.0.1/generatewallet.sh): the same fields
// in the same order, each of the same form (length, prefix, 24 words);
// where tatum-kms fails (SOL: no such chain in @tatumio/tatum's
// generateWallet; XRP: ripple-lib), gokms prints the wallet
// generatemanagedwallet stores.
func TestGenerateWalletLikeTatumKMS(t *testing.T) {
	var real map[string]struct{ Stdout, Error string }
	if err := json.Unmarshal(mustRead(t, filepath.Join("..", "testdata", "tatumkms", "all-chains-8.0.1", "generatewallet.json")), &real); err != nil {
		t.Fatal(err)
	}
	compared := 0
	for name, r := range real {
		code, testnet := strings.CutSuffix(name, " --testnet")
		out, err := Keys{Testnet: testnet}.GenerateWallet(code)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Stdout == "" {
			if r.Error == "" || (code != "SOL" && code != "XRP") {
				t.Errorf("%s: tatum-kms failed (%q); the test expects that only for SOL and XRP", name, r.Error)
			}
			continue
		}
		if got, want := keyOrder(t, out), keyOrder(t, []byte(r.Stdout)); !slices.Equal(got, want) {
			t.Errorf("%s: fields %v, tatum-kms %v", name, got, want)
			continue
		}
		g, w := fields(t, out), fields(t, []byte(r.Stdout))
		for f, wv := range w {
			gs, ws := g[f].(string), wv.(string)
			switch {
			case f == "mnemonic":
				if len(strings.Fields(gs)) != len(strings.Fields(ws)) {
					t.Errorf("%s: %d words, tatum-kms %d", name, len(strings.Fields(gs)), len(strings.Fields(ws)))
				}
			case len(gs) != len(ws),
				strings.HasPrefix(ws, "xpub") && !strings.HasPrefix(gs, "xpub"),
				code == "XLM" && gs[:1] != ws[:1]: // G… and S…
				t.Errorf("%s: %s %q is not of the form of tatum-kms's %q", name, f, gs, ws)
			}
		}
		compared++
	}
	if compared != 14 {
		t.Errorf("compared %d of tatum-kms's generatewallet outputs, want 14", compared)
	}
}

// For the HD chains the daemon signs through signing.Resolver (with its
// per-cycle Deriver cache): its key is RecordKeys.SigningKey's, and it
// refuses what SigningKey refuses.
func TestResolverAgreesWithSigningKey(t *testing.T) {
	ctx := context.Background()
	for _, code := range []string{"BTC", "LTC", "ETH", "TRON"} {
		for _, testnet := range []bool{false, true} {
			b := memory.New()
			k := newKeys(b, testnet)
			st, err := k.GenerateManagedWallet(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			batch, err := k.GenerateManagedPrivateKeyBatch(ctx, code, 1)
			if err != nil {
				t.Fatal(err)
			}
			res := signing.NewResolver(b, testnet).ForChain(code)
			seven := uint32(7)
			for _, c := range []struct {
				id    string
				index *uint32
			}{{st.SignatureID, &seven}, {batch[0].SignatureID, nil}} {
				rec, _ := b.Get(ctx, c.id)
				sk, err := k.RecordKeys().SigningKey(rec, c.index)
				if err != nil {
					t.Fatal(err)
				}
				rk, err := res.Key(ctx, c.id, c.index)
				if err != nil {
					t.Fatal(err)
				}
				if !rk.Key.Equals(&sk.Secp256k1.Key) {
					t.Errorf("%s %v: the Resolver's key is not SigningKey's", code, testnet)
				}
				wrong := &seven
				if c.index != nil {
					wrong = nil
				}
				_, e1 := res.Key(ctx, c.id, wrong)
				_, e2 := k.RecordKeys().SigningKey(rec, wrong)
				if !errors.Is(e1, signing.ErrIndexMismatch) || !errors.Is(e2, signing.ErrIndexMismatch) {
					t.Errorf("%s: index refusals differ: %v / %v", code, e1, e2)
				}
				other := signing.NewResolver(b, !testnet).ForChain(code)
				otherKeys := RecordKeys{Testnet: !testnet}
				_, e1 = other.Key(ctx, c.id, c.index)
				_, e2 = otherKeys.SigningKey(rec, c.index)
				if !errors.Is(e1, signing.ErrNetworkMismatch) || !errors.Is(e2, signing.ErrNetworkMismatch) {
					t.Errorf("%s: network refusals differ: %v / %v", code, e1, e2)
				}
			}
		}
	}
}
