package kms

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// spyKeys is a key table entry that counts the records it decodes and
// keeps their secrets (to see them zeroed); with fail set it refuses them.
// Its rules are the entry's it wraps.
type spyKeys struct {
	chainKeys
	calls   int
	secrets [][]byte
	fail    error
}

func (s *spyKeys) indexRule(rec backend.Record, index *uint32) error {
	return indexRuleOf(s.chainKeys)(rec, index)
}

func (s *spyKeys) signingAddress(rec backend.Record, index *uint32, k SigningKey) (string, bool) {
	if a, ok := s.chainKeys.(addressed); ok {
		return a.signingAddress(rec, index, k)
	}
	return "", false
}

func (s *spyKeys) signingKey(rec backend.Record, index *uint32) (SigningKey, error) {
	s.calls++
	s.secrets = append(s.secrets, rec.Secret)
	if s.fail != nil {
		return SigningKey{}, s.fail
	}
	return s.chainKeys.signingKey(rec, index)
}

// spyOn puts a spy in the key table for code's family until the test ends.
func spyOn(t *testing.T, code string) *spyKeys {
	t.Helper()
	fam := mustLookup(t, code)
	orig := keyFamilies[fam]
	s := &spyKeys{chainKeys: orig}
	keyFamilies[fam] = s
	t.Cleanup(func() { keyFamilies[fam] = orig })
	return s
}

// serialized returns a testnet pending transaction of the chain's vectors
// for the signers that check it before they ask for a key (ALGO, EGLD,
// VET, FLOW); the others ask for the key first.
func serialized(t *testing.T, code string) string {
	t.Helper()
	type tx struct {
		Testnet               bool
		SerializedTransaction string
		Pending               struct{ SerializedTransaction string }
	}
	var v struct{ Transactions, Pending []tx }
	switch code {
	case "ALGO", "EGLD", "VET":
		readJSON(t, &v, strings.ToLower(code), "vectors.json")
	case "FLOW":
		readJSON(t, &v, "flow", "vectors.json")
		v.Transactions = v.Pending
	default:
		return "{}"
	}
	for _, x := range v.Transactions {
		s := x.SerializedTransaction + x.Pending.SerializedTransaction
		if x.Testnet && s != "" {
			return s
		}
	}
	t.Fatalf("%s: no testnet vector", code)
	return ""
}

// The daemon's signers of the chains with keys of their own (built by
// Signers, as the daemon builds them) decode every record through the key
// table, after the RecordSource's checks, and zero the record: a spy in
// the table sees each signature's record, its refusal is the signer's, and
// a wallet the RecordSource refuses never reaches the table.
func TestDaemonSignersDecodeThroughTheKeyTable(t *testing.T) {
	ctx := context.Background()
	set, closeSet, err := Signers(SignerConfig{Testnet: true})
	if err != nil {
		t.Fatal(err)
	}
	defer closeSet()
	mainnetSet, closeMain, err := Signers(SignerConfig{Testnet: false})
	if err != nil {
		t.Fatal(err)
	}
	defer closeMain()
	errSpy := errors.New("spy: the key table was asked")
	for _, code := range []string{"SOL", "XLM", "XRP", "ALGO", "EGLD", "VET", "ADA", "FLOW"} {
		b := memory.New()
		st, err := newKeys(b, true).GenerateManagedWallet(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := b.Get(ctx, st.SignatureID)
		if err != nil {
			t.Fatal(err)
		}
		var index *uint32
		if rec.Kind == backend.Mnemonic && code != "SOL" {
			one := uint32(1)
			index = &one
		}
		main := rec.Clone()
		main.ID, main.Testnet = "mainnet-"+code, false
		if err := b.Put(ctx, main); err != nil {
			t.Fatal(err)
		}
		req := func(id string) signing.Request {
			return signing.Request{ID: "pending-" + code, Chain: code, Testnet: true, SerializedTransaction: serialized(t, code), Hashes: []string{id}, Index: index}
		}
		keys := signing.NewResolver(b, true).ForChain(code)

		spy := spyOn(t, code)
		spy.fail = errSpy
		_, err = set.SignDetailed(ctx, req(rec.ID), keys)
		if !errors.Is(err, errSpy) || spy.calls != 1 {
			t.Errorf("%s: the signer did not decode through the key table (asked %d times): %v", code, spy.calls, err)
		}
		for _, s := range spy.secrets {
			if strings.Trim(string(s), "\x00") != "" {
				t.Errorf("%s: the record handed to the table was not zeroed", code)
			}
		}

		// The RecordSource's network check comes first.
		_, err = set.SignDetailed(ctx, req(main.ID), keys)
		if !errors.Is(err, signing.ErrNetworkMismatch) || spy.calls != 1 {
			t.Errorf("%s: a mainnet wallet on a testnet daemon: asked %d times: %v", code, spy.calls, err)
		}
		// The table's own network check, before it decodes: Signers'
		// network is the one it decodes for (a mainnet Set never signs a
		// testnet wallet, even through a testnet RecordSource).
		spy.fail = nil
		_, err = mainnetSet.SignDetailed(ctx, req(rec.ID), keys)
		if !errors.Is(err, signing.ErrNetworkMismatch) || spy.calls != 1 {
			t.Errorf("%s: a testnet wallet through a mainnet Set: asked %d times: %v", code, spy.calls, err)
		}
		rec.Zero()
	}
}

// The wired XLM and XRP signers sign tatum-kms's vectors and refuse what
// the key table refuses: a stored address that is not the key's, a
// mnemonic record, an index.
func TestDaemonRefusesWhatTheKeyTableRefuses(t *testing.T) {
	ctx := context.Background()
	set, closeSet, err := Signers(SignerConfig{Testnet: true})
	if err != nil {
		t.Fatal(err)
	}
	defer closeSet()
	var xlm struct {
		Vectors []struct {
			Testnet         bool
			Kind            string
			Secret, Address string
			TxData          string
			Pending         struct{ SerializedTransaction string }
		}
	}
	readJSON(t, &xlm, "xlm", "vectors.json")
	var xrp struct {
		Transactions []struct {
			Kind, Secret, Address string
			SerializedTransaction string
			TxBlob                string
			Node                  any
		}
	}
	readJSON(t, &xrp, "xrp", "vectors.json")
	type vec struct{ secret, address, other, serialized, want string }
	vs := map[string]vec{}
	for _, v := range xlm.Vectors {
		if v.Testnet && v.Kind == "native" {
			if _, ok := vs["XLM"]; !ok {
				vs["XLM"] = vec{secret: v.Secret, address: v.Address, serialized: v.Pending.SerializedTransaction, want: v.TxData}
			} else if x := vs["XLM"]; v.Address != x.address && x.other == "" {
				x.other = v.Address
				vs["XLM"] = x
			}
		}
	}
	for _, v := range xrp.Transactions {
		if v.Kind == "native" && v.Node == nil {
			if _, ok := vs["XRP"]; !ok {
				vs["XRP"] = vec{secret: v.Secret, address: v.Address, serialized: v.SerializedTransaction, want: v.TxBlob}
			} else if x := vs["XRP"]; v.Address != x.address && x.other == "" {
				x.other = v.Address
				vs["XRP"] = x
			}
		}
	}
	const words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	for _, code := range []string{"XLM", "XRP"} {
		v := vs[code]
		if v.other == "" {
			t.Fatalf("%s: the vectors have no second address", code)
		}
		b := memory.New()
		for _, r := range []backend.Record{
			{ID: "w", Kind: backend.PrivateKey, Chain: code, Testnet: true, Secret: []byte(v.secret), Address: v.address},
			{ID: "bare", Kind: backend.PrivateKey, Chain: code, Testnet: true, Secret: []byte(v.secret)},
			{ID: "liar", Kind: backend.PrivateKey, Chain: code, Testnet: true, Secret: []byte(v.secret), Address: v.other},
			{ID: "mn", Kind: backend.Mnemonic, Chain: code, Testnet: true, Secret: []byte(words)},
		} {
			if err := b.Put(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		keys := signing.NewResolver(b, true).ForChain(code)
		req := func(id string, index *uint32) signing.Request {
			return signing.Request{ID: "p", Chain: code, Testnet: true, SerializedTransaction: v.serialized, Hashes: []string{id}, Index: index}
		}
		for _, id := range []string{"w", "bare"} {
			if sd, err := set.SignDetailed(ctx, req(id, nil), keys); err != nil || sd.Raw != v.want {
				t.Errorf("%s %s: not the SDK's transaction: %v", code, id, err)
			}
		}
		one := uint32(1)
		for _, c := range []struct {
			id    string
			index *uint32
			want  string
		}{
			{"liar", nil, "is not the key of the stored address " + v.other},
			{"mn", nil, "derives none from a mnemonic"},
			{"w", &one, "index"},
		} {
			_, err := set.SignDetailed(ctx, req(c.id, c.index), keys)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %s: %v, want %q", code, c.id, err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), v.secret) {
				t.Errorf("%s %s: the error shows the secret", code, c.id)
			}
		}
	}
}

// SOL's rule (the daemon's, kept when the daemon moved onto the table):
// tatum-kms's entry shapes, a private key takes no index, a mnemonic wallet
// signs with its stored key without an index and with the key at
// m/44'/501'/i'/0' with one, and the stored address must be the stored
// key's. ALGO ignores the index and refuses a mnemonic record.
func TestSigningKeyRulesOfTheDaemon(t *testing.T) {
	const m = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	k0, _ := wallet.SolanaKeyFromMnemonic(m, 0)
	k3, _ := wallet.SolanaKeyFromMnemonic(m, 3)
	addr := func(k ed25519.PrivateKey) string { return wallet.SolanaAddress(k.Public().(ed25519.PublicKey)) }
	pk0 := wallet.EncodeSolanaPrivateKey(k0)
	sol := func(id string, kind backend.Kind, secret, extra, address string) backend.Record {
		r := backend.Record{ID: id, Kind: kind, Chain: "SOL", Testnet: true, Secret: []byte(secret), Address: address}
		if extra != "" {
			r.ExtraKey = []byte(extra)
		}
		return r
	}
	zero, three := uint32(0), uint32(3)
	rk := RecordKeys{Testnet: true}
	for _, c := range []struct {
		rec   backend.Record
		index *uint32
		want  ed25519.PrivateKey
		err   string
	}{
		{sol("full", backend.Mnemonic, m, pk0, addr(k0)), nil, k0, ""},
		{sol("mnemonic", backend.Mnemonic, m, "", ""), nil, k0, ""},
		{sol("full", backend.Mnemonic, m, pk0, addr(k0)), &three, k3, ""},
		{sol("full", backend.Mnemonic, m, pk0, addr(k0)), &zero, k0, ""},
		{sol("pk", backend.PrivateKey, pk0, "", addr(k0)), nil, k0, ""},
		{sol("pk", backend.PrivateKey, pk0, "", addr(k0)), &three, nil, "is a private-key wallet, but the transaction asks for index 3"},
		{sol("liar", backend.PrivateKey, pk0, "", addr(k3)), nil, nil, "is not the key of the stored address"},
		{sol("liar-mn", backend.Mnemonic, m, pk0, addr(k3)), &zero, nil, "is not the key of the stored address"},
		{sol("other-key", backend.Mnemonic, m, wallet.EncodeSolanaPrivateKey(k3), addr(k0)), nil, nil, "is not the key of the stored address"},
	} {
		k, err := rk.Ed25519Key(c.rec, c.index)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s %v: %v, want %q", c.rec.ID, c.index, err, c.err)
			}
			continue
		}
		if err != nil || !k.Equal(c.want) {
			t.Errorf("%s %v: wrong key (%v)", c.rec.ID, c.index, err)
		}
	}

	algoPK, algoSecret, err := wallet.GenerateAlgoWallet()
	if err != nil {
		t.Fatal(err)
	}
	ar := backend.Record{ID: "a", Kind: backend.PrivateKey, Chain: "ALGO", Testnet: true, Secret: []byte(algoSecret), Address: algoPK}
	for _, index := range []*uint32{nil, &three} {
		if _, err := rk.Ed25519Key(ar, index); err != nil {
			t.Errorf("ALGO with index %v: %v", index, err)
		}
	}
	// A decoder of one key type refuses a record of another family.
	if _, err := rk.Secp256k1Key(ar, nil); err == nil || !strings.Contains(err.Error(), "not of the type its signer takes") {
		t.Errorf("an ALGO record through the secp256k1 decoder: %v", err)
	}
	ar.Kind, ar.Secret = backend.Mnemonic, []byte(m)
	if _, err := rk.Ed25519Key(ar, nil); !errors.Is(err, signing.ErrIndexMismatch) || !strings.Contains(err.Error(), "private-key wallets only") {
		t.Errorf("ALGO mnemonic record: %v", err)
	}
}
