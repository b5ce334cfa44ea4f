package signing_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

const testMnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

// counting wraps a backend and counts Gets per id.
type counting struct {
	backend.SecretBackend
	mu   sync.Mutex
	gets map[string]int
	n    atomic.Int64
}

func (c *counting) Get(ctx context.Context, id string) (backend.Record, error) {
	c.mu.Lock()
	c.gets[id]++
	c.mu.Unlock()
	c.n.Add(1)
	return c.SecretBackend.Get(ctx, id)
}

func newStore(t *testing.T, recs ...backend.Record) *counting {
	t.Helper()
	m := memory.New()
	for _, r := range recs {
		if err := m.Put(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return &counting{SecretBackend: m, gets: map[string]int{}}
}

func u32(v uint32) *uint32 { return &v }

// tatumKeys reads the keys @tatumio/tatum's generatePrivateKeyFromMnemonic
// derived for the off-chain vectors in testdata/signing/vectors.json.
type tatumKey struct {
	chain   string
	testnet bool
	index   uint32
	wif     string
}

func tatumMnemonicKeys(t *testing.T) []tatumKey {
	b, err := os.ReadFile("../testdata/signing/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []struct {
			Chain    string
			Testnet  bool
			Mnemonic *struct{ Words string }
			Keys     []struct {
				Index *uint32
				WIF   string
			}
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var out []tatumKey
	for _, v := range f.Vectors {
		if v.Mnemonic == nil {
			continue
		}
		if v.Mnemonic.Words != testMnemonic {
			t.Fatal("vector mnemonic changed")
		}
		for _, k := range v.Keys {
			out = append(out, tatumKey{v.Chain, v.Testnet, *k.Index, k.WIF})
		}
	}
	if len(out) < 16 {
		t.Fatalf("only %d mnemonic keys in the vectors", len(out))
	}
	return out
}

// TestResolverMnemonicMatchesTatum: keys derived through the Resolver equal
// the ones @tatumio/tatum derives, for every UTXO chain and both networks,
// and each mnemonic is read from the backend once however many indexes.
func TestResolverMnemonicMatchesTatum(t *testing.T) {
	keys := tatumMnemonicKeys(t)
	for _, testnet := range []bool{false, true} {
		var recs []backend.Record
		for _, c := range []string{"BTC", "LTC", "DOGE", "BCH"} {
			recs = append(recs, backend.Record{ID: "mn-" + c, Kind: backend.Mnemonic, Chain: c, Testnet: testnet, Secret: []byte(testMnemonic)})
		}
		st := newStore(t, recs...)
		r := signing.NewResolver(st, testnet)
		n := 0
		for _, k := range keys {
			if k.testnet != testnet {
				continue
			}
			n++
			got, err := r.Key(context.Background(), "mn-"+k.chain, u32(k.index))
			if err != nil {
				t.Fatal(err)
			}
			w, err := btcutil.DecodeWIF(k.wif)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Key.Equals(&w.PrivKey.Key) {
				t.Fatalf("%s testnet=%v index %d: key differs from tatum's", k.chain, testnet, k.index)
			}
		}
		if n == 0 {
			t.Fatal("no keys checked")
		}
		for id, g := range st.gets {
			if g != 1 {
				t.Fatalf("%s read %d times", id, g)
			}
		}
	}
}

func TestResolverPrivateKey(t *testing.T) {
	k, _ := btcec.NewPrivateKey()
	w, _ := btcutil.NewWIF(k, netParams(false), true)
	st := newStore(t, backend.Record{ID: "pk", Kind: backend.PrivateKey, Chain: "BTC", Secret: []byte(w.String())})
	r := signing.NewResolver(st, false)
	got, err := r.Key(context.Background(), "pk", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Key.Equals(&k.Key) {
		t.Fatal("wrong key")
	}
	_, err = r.Key(context.Background(), "pk", u32(2))
	if !errors.Is(err, signing.ErrIndexMismatch) || !strings.Contains(err.Error(), "signatureId pk is a private-key wallet, but the transaction asks for index 2") {
		t.Fatalf("err = %v", err)
	}
	if st.n.Load() != 1 {
		t.Fatalf("%d Gets", st.n.Load())
	}
}

func TestResolverErrors(t *testing.T) {
	k, _ := btcec.NewPrivateKey()
	wif, _ := btcutil.NewWIF(k, netParams(false), true)
	st := newStore(t,
		backend.Record{ID: "mn", Kind: backend.Mnemonic, Chain: "BTC", Secret: []byte(testMnemonic)},
		backend.Record{ID: "test-mn", Kind: backend.Mnemonic, Chain: "BTC", Testnet: true, Secret: []byte(testMnemonic)},
		backend.Record{ID: "bad-pk", Kind: backend.PrivateKey, Chain: "BTC", Secret: []byte(wif.String()[:20] + "0OIl")},
		backend.Record{ID: "ltc-wif-as-btc", Kind: backend.PrivateKey, Chain: "LTC", Secret: []byte(wif.String())},
		backend.Record{ID: "sol", Kind: backend.PrivateKey, Chain: "SOL", Secret: []byte("x")},
		// Imported tatum-kms entries of chains gokms does not sign: kept, refused here.
		backend.Record{ID: "bnb", Kind: backend.PrivateKey, Chain: "BNB", Secret: []byte("0x02"), Address: "bnb1x", Layout: "address,privateKey,chain,testnet"},
		backend.Record{ID: "ada", Kind: backend.Mnemonic, Chain: "ADA", Secret: []byte(testMnemonic), Xpub: "xpub6", Layout: "mnemonic,xpub,chain,testnet"},
	)
	r := signing.NewResolver(st, false)
	for _, c := range []struct {
		id    string
		index *uint32
		want  string
		is    error
	}{
		{"nope", nil, "signatureId nope: no such wallet in the store", signing.ErrUnknownSignatureID},
		{"nope", u32(1), "signatureId nope: no such wallet", backend.ErrNotFound},
		{"mn", nil, "signatureId mn is a mnemonic wallet, but the transaction gives no index", signing.ErrIndexMismatch},
		{"test-mn", u32(0), "signatureId test-mn is a testnet wallet, but the daemon runs on mainnet", nil},
		{"bad-pk", nil, "signatureId bad-pk: stored BTC private key", wallet.ErrInvalidPrivateKey},
		{"ltc-wif-as-btc", nil, "WIF version byte", wallet.ErrInvalidPrivateKey},
		{"sol", nil, `wallet chain "SOL"`, nil},
		{"bnb", nil, `signatureId bnb: wallet chain "BNB"`, wallet.ErrUnsupportedChain},
		{"ada", u32(0), `signatureId ada: wallet chain "ADA"`, wallet.ErrUnsupportedChain},
		{"mn", u32(1 << 31), "derive BTC key at index 2147483648", nil},
	} {
		_, err := r.Key(context.Background(), c.id, c.index)
		if err == nil || !strings.Contains(err.Error(), c.want) || (c.is != nil && !errors.Is(err, c.is)) {
			t.Errorf("Key(%s): err = %v, want %q", c.id, err, c.want)
			continue
		}
		for _, secret := range []string{testMnemonic, "abandon", wif.String(), wif.String()[:20]} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("Key(%s): error contains a secret: %v", c.id, err)
			}
		}
	}
	// Failures are cached for the cycle too: no record is read twice.
	for id, g := range st.gets {
		if g != 1 {
			t.Errorf("%s read %d times", id, g)
		}
	}
}

// TestResolverResetZeroes: Reset wipes every key handed out and the next
// cycle reads the backend again.
func TestResolverResetZeroes(t *testing.T) {
	k, _ := btcec.NewPrivateKey()
	wif, _ := btcutil.NewWIF(k, netParams(true), true)
	st := newStore(t,
		backend.Record{ID: "mn", Kind: backend.Mnemonic, Chain: "LTC", Testnet: true, Secret: []byte(testMnemonic)},
		backend.Record{ID: "pk", Kind: backend.PrivateKey, Chain: "BTC", Testnet: true, Secret: []byte(wif.String())},
	)
	r := signing.NewResolver(st, true)
	a, err := r.Key(context.Background(), "mn", u32(5))
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Key(context.Background(), "pk", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := *a
	r.Reset()
	if !a.Key.IsZero() || !b.Key.IsZero() {
		t.Fatal("Reset left a key in memory")
	}
	a2, err := r.Key(context.Background(), "mn", u32(5))
	if err != nil {
		t.Fatal(err)
	}
	if !a2.Key.Equals(&want.Key) {
		t.Fatal("key differs after Reset")
	}
	if st.gets["mn"] != 2 || r.Gets() != 3 {
		t.Fatalf("gets %v total %d", st.gets, r.Gets())
	}
}

// TestResolverConcurrent: many workers asking for the same wallet at once
// cause one backend read and one PBKDF2, and all get the same key.
func TestResolverConcurrent(t *testing.T) {
	st := newStore(t, backend.Record{ID: "mn", Kind: backend.Mnemonic, Chain: "BTC", Secret: []byte(testMnemonic)})
	r := signing.NewResolver(st, false)
	var wg sync.WaitGroup
	keys := make([]*btcec.PrivateKey, 32)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := r.Key(context.Background(), "mn", u32(uint32(i%4)))
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	if st.n.Load() != 1 {
		t.Fatalf("%d backend reads", st.n.Load())
	}
	for i := 4; i < len(keys); i++ {
		if keys[i] != keys[i%4] {
			t.Fatalf("index %d derived twice", i%4)
		}
	}
}

func TestResolverCanceledFetchNotCached(t *testing.T) {
	st := newStore(t, backend.Record{ID: "mn", Kind: backend.Mnemonic, Chain: "BTC", Secret: []byte(testMnemonic)})
	r := signing.NewResolver(&cancelOnce{SecretBackend: st}, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Key(ctx, "mn", u32(0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if _, err := r.Key(context.Background(), "mn", u32(0)); err != nil {
		t.Fatalf("after a canceled fetch: %v", err)
	}
}

// cancelOnce fails Gets whose context is done, like a network backend.
type cancelOnce struct{ backend.SecretBackend }

func (c *cancelOnce) Get(ctx context.Context, id string) (backend.Record, error) {
	if err := ctx.Err(); err != nil {
		return backend.Record{}, err
	}
	return c.SecretBackend.Get(ctx, id)
}

func netParams(testnet bool) *chaincfg.Params {
	if testnet {
		return &chaincfg.TestNet3Params
	}
	return &chaincfg.MainNetParams
}

// TestResolverPublicKeys: PublicKeyOf gives each key the Resolver handed
// out its own public key, derived once until Reset, and again after it (of
// the key read again, not of the zeroed one); another KeySource's keys are
// derived every time.
func TestResolverPublicKeys(t *testing.T) {
	k, _ := btcec.NewPrivateKey()
	wif, _ := btcutil.NewWIF(k, netParams(true), true)
	st := newStore(t,
		backend.Record{ID: "mn", Kind: backend.Mnemonic, Chain: "LTC", Testnet: true, Secret: []byte(testMnemonic)},
		backend.Record{ID: "pk", Kind: backend.PrivateKey, Chain: "BTC", Testnet: true, Secret: []byte(wif.String())},
	)
	r := signing.NewResolver(st, true)
	ctx := context.Background()
	var keys []*btcec.PrivateKey
	for _, q := range []struct {
		id  string
		idx *uint32
	}{{"pk", nil}, {"mn", u32(0)}, {"mn", u32(1)}} {
		priv, err := r.Key(ctx, q.id, q.idx)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, priv)
	}
	seen := map[string]bool{}
	for i, priv := range keys {
		pub := signing.PublicKeyOf(r, priv)
		if !pub.IsEqual(priv.PubKey()) {
			t.Fatalf("key %d: public key of another key", i)
		}
		if again := signing.PublicKeyOf(r, priv); again != pub {
			t.Fatalf("key %d: derived again within the cycle", i)
		}
		seen[string(pub.SerializeCompressed())] = true
	}
	if len(seen) != len(keys) {
		t.Fatalf("%d public keys for %d keys", len(seen), len(keys))
	}
	if !signing.PublicKeyOf(r, keys[0]).IsEqual(k.PubKey()) {
		t.Fatal("the private-key wallet's public key is not its own")
	}
	before := signing.PublicKeyOf(r, keys[0])
	r.Reset()
	priv, err := r.Key(ctx, "pk", nil)
	if err != nil {
		t.Fatal(err)
	}
	after := signing.PublicKeyOf(r, priv)
	if after == before || !after.IsEqual(k.PubKey()) {
		t.Fatal("after Reset: the cached public key was kept, or is not the key's")
	}
	// A zeroed key of the last cycle is not found in the cache either.
	if z := signing.PublicKeyOf(r, keys[0]); z == before {
		t.Fatal("the public key of a key zeroed by Reset came from the cache")
	}
	// The daemon signs through a chain's view: it shares the cache.
	view := r.ForChain("BTC")
	vpriv, err := view.Key(ctx, "pk", nil)
	if err != nil {
		t.Fatal(err)
	}
	if vp := signing.PublicKeyOf(view, vpriv); vp != signing.PublicKeyOf(r, vpriv) || vp != signing.PublicKeyOf(view, vpriv) || !vp.IsEqual(k.PubKey()) {
		t.Fatal("a chain view derived the public key again, or another key's")
	}
	var other fixedSource = map[string]*btcec.PrivateKey{"x": k}
	if a, b := signing.PublicKeyOf(other, k), signing.PublicKeyOf(other, k); a == b || !a.IsEqual(k.PubKey()) {
		t.Fatal("another KeySource's public keys: cached, or wrong")
	}
}

type fixedSource map[string]*btcec.PrivateKey

func (f fixedSource) Key(_ context.Context, id string, _ *uint32) (*btcec.PrivateKey, error) {
	return f[id], nil
}
