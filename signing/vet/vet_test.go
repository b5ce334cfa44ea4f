package vet

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"golang.org/x/crypto/blake2b"

	"github.com/gokms/gokms/wallet"
)

type request struct{ Method, Path, Body string }

type vector struct {
	Name, Kind            string
	Testnet               bool
	Mnemonic              string
	Index                 uint32
	PrivateKey, Address   string
	SerializedTransaction string
	Node                  struct {
		GenesisID, BestID string
		GasUsed           uint64
	}
	Nonce          uint64
	Requests       []request
	RawTransaction string
	SigningHash    string
	ID             string
	Body           json.RawMessage
}

func load(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("../../testdata/vet/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Transactions []vector }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Transactions
}

func id32(t testing.TB, s string) [32]byte {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) != 32 {
		t.Fatalf("bad id %s", s)
	}
	return [32]byte(b)
}

type fakeNode struct {
	t         testing.TB
	tc        vector
	simulated []byte
	reverted  bool
	genesis   *[32]byte
}

func (f *fakeNode) GenesisID(context.Context) ([32]byte, error) {
	if f.genesis != nil {
		return *f.genesis, nil
	}
	return id32(f.t, f.tc.Node.GenesisID), nil
}
func (f *fakeNode) BestBlockID(context.Context) ([32]byte, error) {
	return id32(f.t, f.tc.Node.BestID), nil
}
func (f *fakeNode) Simulate(_ context.Context, caller [20]byte, c Clause, gas uint64) (Estimate, error) {
	f.simulated, _ = simulateRequest(caller, c, gas)
	return Estimate{GasUsed: f.tc.Node.GasUsed, Reverted: f.reverted}, nil
}

func fixedNonce(n uint64) NonceSource { return func() (uint64, error) { return n, nil } }

func keyOf(t testing.TB, tc vector) *btcec.PrivateKey {
	k, err := wallet.VETKeyFromMnemonic(tc.Mnemonic, tc.Index, tc.Testnet)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestVectors: with the node values and nonce thorify got, gokms's raw
// transaction is signVetKMSTransaction's, and the simulation request it
// sends is thorify's.
func TestVectors(t *testing.T) {
	vs := load(t)
	kinds := map[string]int{}
	for _, tc := range vs {
		kinds[tc.Kind]++
		t.Run(tc.Name, func(t *testing.T) {
			n := &fakeNode{t: t, tc: tc}
			s, err := Sign(context.Background(), tc.SerializedTransaction, keyOf(t, tc), tc.Testnet, n, fixedNonce(tc.Nonce))
			if err != nil {
				t.Fatal(err)
			}
			if s.RawTransaction != tc.RawTransaction {
				t.Fatalf("raw transaction differs from thorify's\n got %s\nwant %s", s.RawTransaction, tc.RawTransaction)
			}
			if s.ID != tc.ID {
				t.Errorf("id %s, thor-devkit %s", s.ID, tc.ID)
			}
			if string(n.simulated) != tc.Requests[0].Body {
				t.Errorf("simulation request\n got %s\nwant %s", n.simulated, tc.Requests[0].Body)
			}
			verifyIndependently(t, tc)
		})
	}
	if kinds["native"] < 10 || kinds["data"]+kinds["contract"] < 10 {
		t.Errorf("want at least 10 vectors per kind: %v", kinds)
	}
}

// verifyIndependently decodes thorify's raw transaction with go-ethereum's
// RLP decoder, recovers the signer from the signature over blake2b-256 of
// the unsigned part, and compares the body with what was asked.
func verifyIndependently(t *testing.T, tc vector) {
	raw, _ := hex.DecodeString(strings.TrimPrefix(tc.RawTransaction, "0x"))
	var items []rlp.RawValue
	if err := rlp.DecodeBytes(raw, &items); err != nil || len(items) != 10 {
		t.Fatalf("decode: %v (%d items)", err, len(items))
	}
	var sig []byte
	if err := rlp.DecodeBytes(items[9], &sig); err != nil || len(sig) != 65 {
		t.Fatalf("signature: %v", err)
	}
	unsigned, _ := rlp.EncodeToBytes(items[:9])
	h := blake2b.Sum256(unsigned)
	if "0x"+hex.EncodeToString(h[:]) != tc.SigningHash {
		t.Errorf("signing hash %x, thor-devkit %s", h, tc.SigningHash)
	}
	pub, err := crypto.SigToPub(h[:], sig)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ToLower(crypto.PubkeyToAddress(*pub).Hex()); got != tc.Address {
		t.Errorf("signed by %s, want %s", got, tc.Address)
	}
	var body struct {
		ChainTag   uint64
		BlockRef   []byte
		Expiration uint64
		Clauses    []struct {
			To    []byte
			Value *big.Int
			Data  []byte
		}
		GasPriceCoef uint64
		Gas          uint64
		DependsOn    []byte
		Nonce        uint64
		Reserved     []rlp.RawValue
		Signature    []byte
	}
	if err := rlp.DecodeBytes(raw, &body); err != nil {
		t.Fatal(err)
	}
	var asked struct {
		To    string
		Value any
		Data  string
	}
	d := json.NewDecoder(strings.NewReader(tc.SerializedTransaction))
	d.UseNumber()
	if err := d.Decode(&asked); err != nil {
		t.Fatal(err)
	}
	want := new(big.Int)
	if s := strings.Trim(fmtAny(asked.Value), `"`); strings.HasPrefix(s, "0x") {
		want.SetString(s[2:], 16)
	} else if s != "" {
		want.SetString(s, 10)
	}
	if len(body.Clauses) != 1 || !strings.EqualFold("0x"+hex.EncodeToString(body.Clauses[0].To), asked.To) ||
		body.Clauses[0].Value.Cmp(want) != 0 || hex.EncodeToString(body.Clauses[0].Data) != strings.TrimPrefix(asked.Data, "0x") {
		t.Errorf("clause differs from what was asked")
	}
	gen := id32(t, tc.Node.GenesisID)
	best := id32(t, tc.Node.BestID)
	if body.ChainTag != uint64(gen[31]) || new(big.Int).SetBytes(body.BlockRef).Cmp(new(big.Int).SetBytes(best[:8])) != 0 ||
		body.Nonce != tc.Nonce || body.Expiration != 720 || len(body.DependsOn) != 0 || len(body.Reserved) != 0 {
		t.Errorf("body %+v differs from the node values", body)
	}
	var js struct{ Gas uint64 }
	_ = json.Unmarshal(tc.Body, &js)
	if body.Gas != js.Gas {
		t.Errorf("gas %d, thor-devkit decoded %d", body.Gas, js.Gas)
	}
}

func fmtAny(v any) string { b, _ := json.Marshal(v); return string(b) }

// standIn is a local Thor REST API answering with a vector's values.
func standIn(get func() vector, seen *[]request) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		path := r.URL.Path
		if r.URL.RawQuery != "" {
			path += "?" + r.URL.RawQuery
		}
		*seen = append(*seen, request{r.Method, path, string(b)})
		tc := get()
		var out any
		switch {
		case r.Method == "GET" && r.URL.Path == "/blocks/0":
			out = map[string]any{"number": 0, "id": tc.Node.GenesisID}
		case r.Method == "GET" && r.URL.Path == "/blocks/best":
			out = map[string]any{"number": 123, "id": tc.Node.BestID}
		case r.Method == "POST" && r.URL.Path == "/accounts/*" && r.URL.Query().Get("revision") == "best":
			out = []any{map[string]any{"data": "0x", "events": []any{}, "transfers": []any{}, "gasUsed": tc.Node.GasUsed, "reverted": false, "vmError": ""}}
		default:
			w.WriteHeader(404)
		}
		json.NewEncoder(w).Encode(out)
	}))
}

// TestHTTPNode: the real client against a stand-in Thor node sends
// thorify's requests and signs thorify's bytes.
func TestHTTPNode(t *testing.T) {
	vs := load(t)
	var cur vector
	var seen []request
	srv := standIn(func() vector { return cur }, &seen)
	defer srv.Close()
	n, err := NewHTTPNode(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range vs {
		cur, seen = tc, nil
		s, err := Sign(context.Background(), tc.SerializedTransaction, keyOf(t, tc), tc.Testnet, n, fixedNonce(tc.Nonce))
		if err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
		if s.RawTransaction != tc.RawTransaction {
			t.Errorf("%s: raw transaction differs", tc.Name)
		}
		// Same requests; thorify asks the simulation first, gokms too.
		if !reflect.DeepEqual(seen, tc.Requests) {
			t.Errorf("%s: requests\n got %+v\nwant %+v", tc.Name, seen, tc.Requests)
		}
	}
}

// TestAttacks plays a Tatum API or node that alters what is signed.
func TestAttacks(t *testing.T) {
	vs := load(t)
	tc := vs[10] // data memo, mainnet
	k := keyOf(t, tc)
	set := func(f func(m map[string]any)) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(tc.SerializedTransaction), &m)
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	cases := []struct{ name, js, want string }{
		{"foreign sender", set(func(m map[string]any) { m["from"] = vs[1].Address }), "sender"},
		{"own chain tag", set(func(m map[string]any) { m["chainTag"] = 39 }), "chainTag"},
		{"depends on", set(func(m map[string]any) { m["dependsOn"] = "0x" + strings.Repeat("11", 32) }), "dependsOn"},
		{"own nonce", set(func(m map[string]any) { m["nonce"] = 1 }), "nonce"},
		{"block ref", set(func(m map[string]any) { m["blockRef"] = "0x0000000000000001" }), "blockRef"},
		{"no to (deploy)", set(func(m map[string]any) { delete(m, "to") }), "contract creation"},
		{"short to", set(func(m map[string]any) { m["to"] = "0x1234" }), "20 bytes"},
		{"negative value", set(func(m map[string]any) { m["value"] = "-1" }), "value"},
		{"decimal value", set(func(m map[string]any) { m["value"] = "1.5" }), "value"},
		{"huge value", set(func(m map[string]any) { m["value"] = "0x1" + strings.Repeat("0", 64) }), "256 bits"},
		{"odd hex data", set(func(m map[string]any) { m["data"] = "0xabc" }), "hex"},
		{"text data", set(func(m map[string]any) { m["data"] = "hello" }), "hex"},
		{"unknown field", set(func(m map[string]any) { m["clauses"] = []any{} }), "clauses"},
		{"not json", "to=0x", "JSON"},
	}
	for _, c := range cases {
		n := &fakeNode{t: t, tc: tc}
		_, err := Sign(context.Background(), c.js, k, tc.Testnet, n, fixedNonce(1))
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
		if n.simulated != nil {
			t.Errorf("%s: the node was asked before the refusal", c.name)
		}
		if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(tc.PrivateKey, "0x")) {
			t.Errorf("%s: error shows the key", c.name)
		}
	}
	// A node of the other network: refused before signing.
	n := &fakeNode{t: t, tc: tc}
	other := id32(t, vs[1].Node.GenesisID) // testnet genesis
	n.genesis = &other
	if _, err := Sign(context.Background(), tc.SerializedTransaction, k, false, n, fixedNonce(1)); err == nil || !strings.Contains(err.Error(), "chain tag") {
		t.Errorf("testnet node on mainnet: %v", err)
	}
	// A reverting simulation: refused (thorify fails too).
	n = &fakeNode{t: t, tc: tc, reverted: true}
	if _, err := Sign(context.Background(), tc.SerializedTransaction, k, false, n, fixedNonce(1)); !errors.Is(err, ErrRefused) {
		t.Errorf("reverted simulation: %v", err)
	}
	// The default nonce is random.
	n = &fakeNode{t: t, tc: tc}
	a, _ := Sign(context.Background(), tc.SerializedTransaction, k, false, n, nil)
	b, _ := Sign(context.Background(), tc.SerializedTransaction, k, false, n, nil)
	if a == nil || b == nil || a.Tx.Nonce == b.Tx.Nonce {
		t.Error("two random nonces are equal")
	}
}

func TestBroadcastBody(t *testing.T) {
	b, _ := BroadcastBody("0xf8", "id")
	if string(b) != `{"txData":"0xf8","signatureId":"id"}` {
		t.Fatal(string(b))
	}
}

func BenchmarkSign(b *testing.B) {
	vs := load(b)
	tc := vs[16]
	k := keyOf(b, tc)
	n := &fakeNode{t: b, tc: tc}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(context.Background(), tc.SerializedTransaction, k, tc.Testnet, n, fixedNonce(tc.Nonce)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareSecp256k1 is go-ethereum's crypto.Sign over the same hash.
func BenchmarkBareSecp256k1(b *testing.B) {
	vs := load(b)
	tc := vs[16]
	k := keyOf(b, tc).ToECDSA()
	h, _ := hex.DecodeString(strings.TrimPrefix(tc.SigningHash, "0x"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := crypto.Sign(h, k); err != nil {
			b.Fatal(err)
		}
	}
}
