package egld

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gokms/gokms/wallet"
)

type nodeValues struct {
	Config struct {
		ChainID     string `json:"erd_chain_id"`
		MinGasPrice uint64 `json:"erd_min_gas_price"`
		MinVersion  uint64 `json:"erd_min_transaction_version"`
	}
	Nonce uint64
	Gas   uint64
}

type request struct{ Method, Path, Body string }

type vector struct {
	Name, Kind            string
	Testnet               bool
	Mnemonic              string
	Index                 uint32
	PrivateKey, Address   string
	SerializedTransaction string
	Node                  nodeValues
	NodeRaw               json.RawMessage `json:"node"`
	Requests              []request
	TxData                string
}

func load(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("../../testdata/egld/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Transactions []vector }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	for i := range v.Transactions {
		if err := json.Unmarshal(v.Transactions[i].NodeRaw, &v.Transactions[i].Node); err != nil {
			t.Fatal(err)
		}
	}
	return v.Transactions
}

// fakeNode answers with a vector's recorded values and records the cost
// request body.
type fakeNode struct {
	v        nodeValues
	costBody string
	nonceFor string
	err      error
}

func (f *fakeNode) NetworkConfig(context.Context) (NetworkConfig, error) {
	return NetworkConfig{ChainID: f.v.Config.ChainID, MinGasPrice: f.v.Config.MinGasPrice, MinTransactionVersion: f.v.Config.MinVersion}, f.err
}
func (f *fakeNode) Nonce(_ context.Context, a string) (uint64, error) {
	f.nonceFor = a
	return f.v.Nonce, nil
}
func (f *fakeNode) Cost(_ context.Context, body []byte) (uint64, error) {
	f.costBody = string(body)
	return f.v.Gas, nil
}

func keyOf(t testing.TB, tc vector) ed25519.PrivateKey {
	k, err := wallet.EGLDKeyFromMnemonic(tc.Mnemonic, tc.Index, tc.Testnet)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestVectors: with the node values the SDK got, gokms's txData is
// signEgldKMSTransaction's, and the cost request it sends is the SDK's.
func TestVectors(t *testing.T) {
	vs := load(t)
	kinds := map[string]int{}
	for _, tc := range vs {
		kinds[tc.Kind]++
		t.Run(tc.Name, func(t *testing.T) {
			n := &fakeNode{v: tc.Node}
			s, err := Sign(context.Background(), tc.SerializedTransaction, keyOf(t, tc), tc.Testnet, n)
			if err != nil {
				t.Fatal(err)
			}
			if s.TxData != tc.TxData {
				t.Fatalf("txData differs from the SDK's\n got %s\nwant %s", s.TxData, tc.TxData)
			}
			if want := tc.Requests[2].Body; n.costBody != want {
				t.Errorf("cost request\n got %s\nwant %s", n.costBody, want)
			}
			if !strings.HasSuffix(tc.Requests[1].Path, "/"+n.nonceFor+"/nonce") {
				t.Errorf("nonce asked for %s, SDK asked %s", n.nonceFor, tc.Requests[1].Path)
			}
			verifyIndependently(t, tc)
		})
	}
	if kinds["native"] < 10 || kinds["data"]+kinds["esdt"] < 10 {
		t.Errorf("want at least 10 vectors per kind: %v", kinds)
	}
}

var sigField = regexp.MustCompile(`,"signature":"([0-9a-f]{128})"}$`)

// verifyIndependently checks the SDK's txData on its own terms: the
// signature (ed25519, against the public key inside the sender's erd1
// address) covers the JSON without its signature field, and the fields
// are what the pending transaction and the node said.
func verifyIndependently(t *testing.T, tc vector) {
	m := sigField.FindStringSubmatch(tc.TxData)
	if m == nil {
		t.Fatal("no signature field at the end")
	}
	sig, _ := hex.DecodeString(m[1])
	msg := strings.TrimSuffix(tc.TxData, m[0]) + "}"
	var tx struct {
		Nonce    uint64
		Value    string
		Receiver string
		Sender   string
		GasPrice uint64
		GasLimit uint64
		Data     []byte
		ChainID  string
		Version  uint64
	}
	if err := json.Unmarshal([]byte(tc.TxData), &tx); err != nil {
		t.Fatal(err)
	}
	pub, err := wallet.ParseEGLDAddress(tx.Sender)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub, []byte(msg), sig) {
		t.Error("signature does not verify against the sender's address")
	}
	if tx.Sender != tc.Address {
		t.Errorf("sender %s, the key's address is %s", tx.Sender, tc.Address)
	}
	var pending struct {
		To    string
		Value json.Number
		Data  string
	}
	_ = json.Unmarshal([]byte(tc.SerializedTransaction), &pending)
	var asked struct{ Value any }
	_ = json.Unmarshal([]byte(tc.SerializedTransaction), &asked)
	r, _ := new(big.Rat).SetString(strings.Trim(string(mustJSON(asked.Value)), `"`))
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)))
	if tx.Receiver != pending.To || tx.Value != r.Num().String() || string(tx.Data) != pending.Data {
		t.Errorf("signed %s %s %q, asked %s %v %q", tx.Receiver, tx.Value, tx.Data, pending.To, asked.Value, pending.Data)
	}
	if tx.Nonce != tc.Node.Nonce || tx.GasLimit != tc.Node.Gas || tx.ChainID != tc.Node.Config.ChainID {
		t.Errorf("nonce/gas/chain %d/%d/%s, node said %d/%d/%s", tx.Nonce, tx.GasLimit, tx.ChainID, tc.Node.Nonce, tc.Node.Gas, tc.Node.Config.ChainID)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// standIn is a local gateway speaking the documented REST API, answering
// with a vector's values under a path that carries an API key.
func standIn(t *testing.T, key string, get func() nodeValues, seen *[]request) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p := strings.TrimPrefix(r.URL.Path, "/v3/egld/node/"+key)
		*seen = append(*seen, request{r.Method, p, string(b)})
		v := get()
		var out any
		switch {
		case r.Method == "GET" && p == "/network/config":
			out = map[string]any{"data": map[string]any{"config": map[string]any{"erd_chain_id": v.Config.ChainID, "erd_min_gas_price": v.Config.MinGasPrice, "erd_min_transaction_version": v.Config.MinVersion, "erd_gas_per_data_byte": 1500}}, "code": "successful"}
		case r.Method == "GET" && strings.HasSuffix(p, "/nonce"):
			out = map[string]any{"data": map[string]any{"nonce": v.Nonce}, "code": "successful"}
		case r.Method == "POST" && p == "/transaction/cost":
			out = map[string]any{"data": map[string]any{"txGasUnits": v.Gas, "returnMessage": ""}, "code": "successful"}
		default:
			w.WriteHeader(404)
			out = map[string]any{"error": "unknown route " + r.URL.Path, "code": "bad_request"}
		}
		json.NewEncoder(w).Encode(out)
	}))
}

// TestHTTPNode: the real client against a stand-in gateway sends the SDK's
// requests (same paths, same cost body) and signs the SDK's bytes.
func TestHTTPNode(t *testing.T) {
	vs := load(t)
	const key = "t-66a0-secret"
	var cur nodeValues
	var seen []request
	srv := standIn(t, key, func() nodeValues { return cur }, &seen)
	defer srv.Close()
	n, err := NewHTTPNode(TatumGateway(srv.URL, key), srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range vs {
		cur, seen = tc.Node, nil
		s, err := Sign(context.Background(), tc.SerializedTransaction, keyOf(t, tc), tc.Testnet, n)
		if err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
		if s.TxData != tc.TxData {
			t.Errorf("%s: txData differs", tc.Name)
		}
		if len(seen) != len(tc.Requests) {
			t.Fatalf("%s: %d requests, SDK sent %d", tc.Name, len(seen), len(tc.Requests))
		}
		for i, r := range tc.Requests {
			if seen[i] != r {
				t.Errorf("%s: request %d\n got %+v\nwant %+v", tc.Name, i, seen[i], r)
			}
		}
	}
	// A gateway error names the call, never the key in the URL.
	bad, _ := NewHTTPNode(srv.URL+"/v3/egld/node/"+key+"/nowhere", srv.Client())
	_, err = Sign(context.Background(), vs[0].SerializedTransaction, keyOf(t, vs[0]), vs[0].Testnet, bad)
	if err == nil || strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "network config") {
		t.Errorf("error from a wrong gateway path: %v", err)
	}
}

// TestAttacks plays a Tatum API or node that alters what is signed.
func TestAttacks(t *testing.T) {
	vs := load(t)
	tc := vs[0]
	k := keyOf(t, tc)
	other := vs[1].Address
	set := func(f func(m map[string]any)) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(tc.SerializedTransaction), &m)
		f(m)
		return string(mustJSON(m))
	}
	cases := []struct {
		name, js, want string
	}{
		{"foreign sender", set(func(m map[string]any) { m["from"] = other }), "sender"},
		{"negative value", set(func(m map[string]any) { m["value"] = "-1" }), "negative"},
		{"19 decimals", set(func(m map[string]any) { m["value"] = "0.0000000000000000001" }), "18 decimals"},
		{"hex value", set(func(m map[string]any) { m["value"] = "0x10" }), "decimal"},
		{"no value", set(func(m map[string]any) { delete(m, "value") }), "value"},
		{"bad receiver", set(func(m map[string]any) { m["to"] = "erd1qqqq" }), "to"},
		{"hex receiver", set(func(m map[string]any) { m["to"] = strings.Repeat("ab", 32) }), "to"},
		{"no receiver", set(func(m map[string]any) { delete(m, "to") }), "to"},
		{"data not a string", set(func(m map[string]any) { m["data"] = 5 }), "data"},
		{"unknown field", set(func(m map[string]any) { m["nonce"] = 3 }), "nonce"},
		{"not json", "value=1", "JSON"},
	}
	for _, c := range cases {
		n := &fakeNode{v: tc.Node}
		_, err := Sign(context.Background(), c.js, k, tc.Testnet, n)
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
		if n.nonceFor != "" {
			t.Errorf("%s: the node was asked before the refusal", c.name)
		}
		if err != nil && strings.Contains(err.Error(), tc.PrivateKey) {
			t.Errorf("%s: error shows the key", c.name)
		}
	}
	// A node of the other network is refused (the chain id is signed: a
	// testnet signature is worthless on mainnet, but the daemon was told
	// which network it serves).
	for _, c := range []struct {
		chain   string
		testnet bool
	}{{"D", false}, {"T", false}, {"1", true}, {"", false}, {"1\"x", false}} {
		n := &fakeNode{v: tc.Node}
		n.v.Config.ChainID = c.chain
		if _, err := Sign(context.Background(), tc.SerializedTransaction, k, c.testnet, n); err == nil || !strings.Contains(err.Error(), "chain id") {
			t.Errorf("chain id %q on testnet=%v: %v", c.chain, c.testnet, err)
		}
	}
	n := &fakeNode{v: tc.Node}
	n.v.Gas = 0
	if _, err := Sign(context.Background(), tc.SerializedTransaction, k, tc.Testnet, n); err == nil {
		t.Error("zero gas accepted")
	}
	n = &fakeNode{v: tc.Node, err: errors.New("boom")}
	if _, err := Sign(context.Background(), tc.SerializedTransaction, k, tc.Testnet, n); err == nil {
		t.Error("config error ignored")
	}
}

func TestBroadcastBody(t *testing.T) {
	b, _ := BroadcastBody(`{"nonce":1}`, "id-1")
	if string(b) != `{"txData":"{\"nonce\":1}","signatureId":"id-1"}` {
		t.Fatal(string(b))
	}
}

func BenchmarkSign(b *testing.B) {
	vs := load(b)
	tc := vs[10]
	k := keyOf(b, tc)
	n := &fakeNode{v: tc.Node}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(context.Background(), tc.SerializedTransaction, k, tc.Testnet, n); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareEd25519(b *testing.B) {
	vs := load(b)
	tc := vs[10]
	k := keyOf(b, tc)
	msg := sigField.ReplaceAllString(tc.TxData, "}")
	b.ReportAllocs()
	for b.Loop() {
		ed25519.Sign(k, []byte(msg))
	}
}
