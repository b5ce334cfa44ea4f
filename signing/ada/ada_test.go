package ada

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"golang.org/x/crypto/blake2b"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

type vector struct {
	Kind    string `json:"kind"`
	Testnet bool   `json:"testnet"`
	Pending struct {
		ID                    string   `json:"id"`
		Chain                 string   `json:"chain"`
		SerializedTransaction string   `json:"serializedTransaction"`
		Hashes                []string `json:"hashes"`
		WithdrawalID          string   `json:"withdrawalId"`
		Signatures            []struct {
			ID    string `json:"id"`
			Index uint32 `json:"index"`
		} `json:"signatures"`
	} `json:"pending"`
	Signers []struct {
		Wallet     int    `json:"wallet"`
		Index      uint32 `json:"index"`
		PrivateKey string `json:"privateKey"`
		PublicKey  string `json:"publicKey"`
		Address    string `json:"address"`
	} `json:"signers"`
	BodyHex             string          `json:"bodyHex"`
	BodyHash            string          `json:"bodyHash"`
	UnsignedTransaction string          `json:"unsignedTransaction"`
	Payloads            json.RawMessage `json:"payloads"`
	Signatures          []struct {
		Address   string `json:"address"`
		PublicKey string `json:"publicKey"`
		Signature string `json:"signature"`
	} `json:"signatures"`
	SignedTransaction string `json:"signedTransaction"`
	SdkRequests       []struct {
		Chain    string          `json:"chain"`
		Endpoint string          `json:"endpoint"`
		Body     json.RawMessage `json:"body"`
	} `json:"sdkRequests"`
}

type vectors struct {
	Wallets []struct {
		Mnemonic string `json:"mnemonic"`
	} `json:"wallets"`
	Pending []vector `json:"pending"`
}

func load(t testing.TB) vectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "ada", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Pending) < 20 {
		t.Fatalf("testdata/ada/vectors.json has %d pending transactions; run testdata/ada/gen/gen.js", len(v.Pending))
	}
	return v
}

// standIn is a Rosetta Construction API node behind Tatum's node gateway:
// it checks each request's shape as the API documents it, answers with the
// vector the operations belong to, verifies the signatures combine receives,
// and lets a test play a lying node through the hooks.
type standIn struct {
	t        testing.TB
	vs       []vector
	apiKey   string
	mu       sync.Mutex
	calls    []string
	bodies   [][]byte
	chains   []string
	payloads func(v *vector, unsigned string, payloads []map[string]any) (string, []map[string]any)
	combine  func(v *vector, signed string) string
	fail     string // endpoint that answers a Rosetta error
}

func rosettaErr(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "retriable": false, "details": map[string]any{"message": msg}})
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/v3/blockchain/node/"), "/", 2)
	if r.Method != http.MethodPost || len(parts) != 2 || r.Header.Get("x-api-key") != s.apiKey {
		http.Error(w, `{"message":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	chain, endpoint := parts[0], parts[1]
	s.mu.Lock()
	s.calls = append(s.calls, endpoint)
	s.mu.Unlock()
	raw, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, raw)
	s.chains = append(s.chains, chain)
	s.mu.Unlock()
	var req map[string]json.RawMessage
	if err := json.Unmarshal(raw, &req); err != nil {
		rosettaErr(w, 4000, "bad json")
		return
	}
	var nid networkID
	json.Unmarshal(req["network_identifier"], &nid)
	wantNet := map[string]string{"cardano-mainnet": "mainnet", "cardano-preprod": "preprod"}[chain]
	if nid.Blockchain != "cardano" || nid.Network != wantNet {
		rosettaErr(w, 4002, "Network not found")
		return
	}
	if endpoint == s.fail {
		rosettaErr(w, 4019, "Provided operations are invalid")
		return
	}
	find := func() *vector {
		for i := range s.vs {
			var a, b any
			json.Unmarshal(req["operations"], &a)
			json.Unmarshal([]byte(s.vs[i].Pending.SerializedTransaction), &b)
			if fmt.Sprint(a) == fmt.Sprint(b) && (s.vs[i].Testnet == (wantNet == "preprod")) {
				return &s.vs[i]
			}
		}
		return nil
	}
	out := map[string]any{}
	switch endpoint {
	case "construction/derive":
		var pk publicKey
		json.Unmarshal(req["public_key"], &pk)
		pub, _ := hex.DecodeString(pk.HexBytes)
		a, err := wallet.CardanoEnterpriseAddress(pub, wantNet == "preprod")
		if err != nil || pk.CurveType != "edwards25519" || req["metadata"] == nil {
			rosettaErr(w, 4007, "Invalid public key format")
			return
		}
		if s.combine != nil { // a lying node
			a = s.combine(nil, a)
		}
		out["account_identifier"] = map[string]any{"address": a}
	case "construction/preprocess":
		if find() == nil || !strings.Contains(string(req["metadata"]), `"relative_ttl":1000`) {
			rosettaErr(w, 4019, "Provided operations are invalid")
			return
		}
		out["options"] = map[string]any{"relative_ttl": 1000, "transaction_size": 285}
	case "construction/metadata":
		if req["options"] == nil {
			rosettaErr(w, 4003, "options missing")
			return
		}
		out["metadata"] = map[string]any{"ttl": "91000000", "protocol_parameters": map[string]any{"minFeeA": 44, "minFeeB": 155381}}
		out["suggested_fee"] = []any{map[string]any{"value": "170000", "currency": map[string]any{"symbol": "ADA", "decimals": 6}}}
	case "construction/payloads":
		v := find()
		if v == nil || req["metadata"] == nil {
			rosettaErr(w, 4019, "Provided operations are invalid")
			return
		}
		var pl []map[string]any
		json.Unmarshal(v.Payloads, &pl)
		unsigned := v.UnsignedTransaction
		if s.payloads != nil {
			unsigned, pl = s.payloads(v, unsigned, pl)
		}
		out["unsigned_transaction"] = unsigned
		out["payloads"] = pl
	case "construction/combine":
		var sigs []signature
		var unsigned string
		json.Unmarshal(req["signatures"], &sigs)
		json.Unmarshal(req["unsigned_transaction"], &unsigned)
		var v *vector
		for i := range s.vs {
			if s.vs[i].UnsignedTransaction == unsigned {
				v = &s.vs[i]
			}
		}
		if v == nil || len(sigs) == 0 {
			rosettaErr(w, 4012, "Cant create signed transaction")
			return
		}
		for _, sg := range sigs {
			pub, _ := hex.DecodeString(sg.PublicKey.HexBytes)
			msg, _ := hex.DecodeString(sg.SigningPayload.HexBytes)
			sig, _ := hex.DecodeString(sg.HexBytes)
			if sg.PublicKey.CurveType != "edwards25519" || sg.SignatureType != "ed25519" || len(pub) != 32 || !ed25519.Verify(pub, msg, sig) {
				rosettaErr(w, 4012, "Cant create signed transaction: invalid signature")
				return
			}
		}
		signed := v.SignedTransaction
		if s.combine != nil {
			signed = s.combine(v, signed)
		}
		out["signed_transaction"] = signed
	default:
		rosettaErr(w, 4040, "no such endpoint")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func serve(t testing.TB, s *standIn, testnet bool) *RosettaClient {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &RosettaClient{BaseURL: srv.URL, APIKey: s.apiKey, Testnet: testnet}
}

func keysOf(t testing.TB, v *vector) []*wallet.CardanoKey {
	var ks []*wallet.CardanoKey
	for _, s := range v.Signers {
		k, err := wallet.DecodeCardanoPrivateKey(s.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
	return ks
}

// Every vector: gokms drives the flow against the stand-in and returns
// exactly the signed transaction CML builds from the same signatures; the
// stand-in verified each signature with crypto/ed25519 before combining.
func TestSignMatchesVectors(t *testing.T) {
	vs := load(t)
	kinds := map[string]int{}
	for i := range vs.Pending {
		v := &vs.Pending[i]
		st := &standIn{t: t, vs: vs.Pending, apiKey: "test-key"}
		node := serve(t, st, v.Testnet)
		s, err := Sign(context.Background(), node, v.Pending.SerializedTransaction, keysOf(t, v), Params{Testnet: v.Testnet})
		if err != nil {
			t.Fatalf("%s: %v", v.Pending.ID, err)
		}
		if s.TxData != v.SignedTransaction || s.TxHash != v.BodyHash {
			t.Fatalf("%s: signed transaction differs from CML's", v.Pending.ID)
		}
		if got := strings.Join(st.calls, ","); got != "construction/preprocess,construction/metadata,construction/payloads,construction/combine" {
			t.Fatalf("calls %s", got)
		}
		// Each request equals, as a JSON value, what the SDK's signPayload
		// sends for the same answers (recorded by the generator).
		if len(v.SdkRequests) != 4 {
			t.Fatalf("%s: %d SDK requests recorded", v.Pending.ID, len(v.SdkRequests))
		}
		for j, want := range v.SdkRequests {
			var a, b any
			json.Unmarshal(st.bodies[j], &a)
			json.Unmarshal(want.Body, &b)
			if st.calls[j] != want.Endpoint || st.chains[j] != want.Chain || !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: request %d to %s differs from the SDK's:\n%s\nwant\n%s", v.Pending.ID, j, want.Endpoint, st.bodies[j], want.Body)
			}
		}
		kinds[v.Kind]++
	}
	for _, k := range []string{"native", "several-signers", "several-recipients", "no-change", "withdrawal"} {
		if kinds[k] == 0 {
			t.Fatalf("no %s vector", k)
		}
	}
}

type keySource struct {
	t         testing.TB
	mnemonics []string
	priv      map[string]string
	asked     []string
}

func (k *keySource) CardanoKey(_ context.Context, id string, index *uint32) (*wallet.CardanoKey, error) {
	k.asked = append(k.asked, id)
	if p, ok := k.priv[id]; ok {
		if index != nil {
			return nil, errors.New("index on a private-key wallet")
		}
		return wallet.DecodeCardanoPrivateKey(p)
	}
	var n int
	if _, err := fmt.Sscanf(id, "mnemonic-%d", &n); err != nil || index == nil {
		return nil, errors.New("not found")
	}
	return wallet.CardanoKeyFromMnemonic(k.mnemonics[n], *index)
}

// The daemon entry: private-key wallets in hashes go to /v3/ada/broadcast,
// off-chain withdrawals (mnemonic wallets and indexes) to the off-chain
// broadcast, with the bodies tatum-kms posts.
func TestSignRequest(t *testing.T) {
	vs := load(t)
	var mn []string
	for _, w := range vs.Wallets {
		mn = append(mn, w.Mnemonic)
	}
	withdrawals := 0
	for i := range vs.Pending {
		v := &vs.Pending[i]
		ks := &keySource{t: t, mnemonics: mn, priv: map[string]string{}}
		req := signing.Request{ID: v.Pending.ID, Chain: "ADA", Testnet: v.Testnet, SerializedTransaction: v.Pending.SerializedTransaction, Hashes: v.Pending.Hashes, WithdrawalID: v.Pending.WithdrawalID}
		for j, h := range v.Pending.Hashes {
			ks.priv[h] = v.Signers[j].PrivateKey
		}
		for _, s := range v.Pending.Signatures {
			idx := s.Index
			req.Signatures = append(req.Signatures, signing.SignatureRef{ID: s.ID, Index: &idx})
		}
		b, err := SignRequest(context.Background(), req, ks, serve(t, &standIn{t: t, vs: vs.Pending, apiKey: "k"}, v.Testnet), Params{Testnet: v.Testnet})
		if err != nil {
			t.Fatalf("%s: %v", v.Pending.ID, err)
		}
		want := map[string]any{"txData": v.SignedTransaction, "signatureId": v.Pending.ID}
		path := "/v3/ada/broadcast"
		if v.Kind == "withdrawal" {
			withdrawals++
			path = "/v3/offchain/withdrawal/broadcast"
			want["currency"], want["withdrawalId"] = "ADA", v.Pending.WithdrawalID
		}
		if b.Path != path || fmt.Sprint(b.Body) != fmt.Sprint(want) {
			t.Fatalf("%s: broadcast %s %v", v.Pending.ID, b.Path, b.Body)
		}
	}
	if withdrawals < 2 {
		t.Fatal("no withdrawal vectors")
	}
	req := signing.Request{ID: "x", Chain: "FLOW", SerializedTransaction: "[]", Hashes: []string{"a"}}
	if _, err := SignRequest(context.Background(), req, &keySource{}, nil, Params{}); !errors.Is(err, ErrRefused) {
		t.Fatalf("other chain: %v", err)
	}
	req = signing.Request{ID: "x", Chain: "ADA", WithdrawalID: "w", Signatures: []signing.SignatureRef{{ID: "mnemonic-0"}}}
	if _, err := SignRequest(context.Background(), req, &keySource{}, nil, Params{}); !errors.Is(err, ErrRefused) {
		t.Fatalf("withdrawal without index: %v", err)
	}
}

// mutateBody decodes the vector's body, lets f change it, and re-encodes it
// the way cardano-rosetta would, with the payload hash recomputed: a lying
// node that is consistent with itself.
func mutateBody(t testing.TB, f func(m map[uint64]cbor.RawMessage)) func(*vector, string, []map[string]any) (string, []map[string]any) {
	return func(v *vector, _ string, pl []map[string]any) (string, []map[string]any) {
		body, _ := hex.DecodeString(v.BodyHex)
		var m map[uint64]cbor.RawMessage
		if err := cbor.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		nb, err := cbor.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		h := blake2b.Sum256(nb)
		for _, p := range pl {
			p["hex_bytes"] = hex.EncodeToString(h[:])
		}
		u, _ := cbor.Marshal([]any{hex.EncodeToString(nb), map[string]any{"operations": []any{}}})
		return hex.EncodeToString(u), pl
	}
}

func rawOf(t testing.TB, x any) cbor.RawMessage {
	b, err := cbor.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type out struct {
	_     struct{} `cbor:",toarray"`
	Addr  []byte
	Value uint64
}

// Each case is a node (or a Tatum API) that lies; each must be refused
// before anything is signed or before a bad result is returned.
func TestRefusesLyingNode(t *testing.T) {
	vs := load(t)
	v := &vs.Pending[0] // mainnet, one input, recipient + change
	attacker, _ := wallet.ParseCardanoAddress(vs.Pending[10].Signers[0].Address, true)
	attackerMain := append([]byte{0x61}, attacker[1:]...)
	outputs := func(m map[uint64]cbor.RawMessage) []out {
		var o []out
		if err := cbor.Unmarshal(m[1], &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	cases := []struct {
		name     string
		payloads func(*vector, string, []map[string]any) (string, []map[string]any)
		combine  func(*vector, string) string
		want     string
	}{
		{"output to another address", mutateBody(t, func(m map[uint64]cbor.RawMessage) {
			o := outputs(m)
			o[0].Addr = attackerMain
			m[1] = rawOf(t, o)
		}), nil, "pays another address"},
		{"output amount raised", mutateBody(t, func(m map[uint64]cbor.RawMessage) {
			o := outputs(m)
			o[0].Value += 1000000
			m[1] = rawOf(t, o)
		}), nil, "pays 2500000 lovelace"},
		{"extra output", mutateBody(t, func(m map[uint64]cbor.RawMessage) {
			o := append(outputs(m), out{Addr: attackerMain, Value: 1000000})
			m[1] = rawOf(t, o)
		}), nil, "3 outputs"},
		{"change output dropped (fee grows)", mutateBody(t, func(m map[uint64]cbor.RawMessage) {
			m[1] = rawOf(t, outputs(m)[:1])
		}), nil, "1 outputs"},
		{"fee raised", mutateBody(t, func(m map[uint64]cbor.RawMessage) { m[2] = rawOf(t, uint64(900000)) }), nil, "fee 900000"},
		{"another input", mutateBody(t, func(m map[uint64]cbor.RawMessage) {
			m[0] = rawOf(t, []any{[]any{make([]byte, 32), uint64(0)}})
		}), nil, "not one of the operations' coins"},
		{"certificate added", mutateBody(t, func(m map[uint64]cbor.RawMessage) { m[4] = rawOf(t, []any{}) }), nil, "has field 4"},
		{"withdrawal added", mutateBody(t, func(m map[uint64]cbor.RawMessage) { m[5] = rawOf(t, map[uint64]uint64{}) }), nil, "has field 5"},
		{"payload is not the body hash", func(v *vector, u string, pl []map[string]any) (string, []map[string]any) {
			other := blake2b.Sum256([]byte("another transaction"))
			pl[0]["hex_bytes"] = hex.EncodeToString(other[:])
			return u, pl
		}, nil, "not the blake2b-256 hash"},
		{"payload for a foreign address", func(v *vector, u string, pl []map[string]any) (string, []map[string]any) {
			pl[0]["account_identifier"] = map[string]any{"address": vs.Pending[2].Signers[1].Address}
			return u, pl
		}, nil, "not an input address"},
		{"payload wants ecdsa", func(v *vector, u string, pl []map[string]any) (string, []map[string]any) {
			pl[0]["signature_type"] = "ecdsa"
			return u, pl
		}, nil, `wants a "ecdsa" signature`},
		{"no payloads", func(v *vector, u string, pl []map[string]any) (string, []map[string]any) { return u, nil }, nil, "asked for no signature"},
		{"unsigned transaction is not Rosetta's encoding", func(v *vector, u string, pl []map[string]any) (string, []map[string]any) {
			return v.BodyHex, pl
		}, nil, "unsigned_transaction"},
		{"combine swaps the body", nil, func(v *vector, s string) string { return vs.Pending[1].SignedTransaction }, "another body"},
		{"combine drops the signature", nil, func(v *vector, s string) string {
			outer, _ := hex.DecodeString(s)
			var pair []cbor.RawMessage
			cbor.Unmarshal(outer, &pair)
			var txHex string
			cbor.Unmarshal(pair[0], &txHex)
			tx, _ := hex.DecodeString(txHex)
			var parts []cbor.RawMessage
			cbor.Unmarshal(tx, &parts)
			parts[1] = rawOf(t, map[uint64]any{0: []any{[]any{make([]byte, 32), make([]byte, 64)}}})
			ntx, _ := cbor.Marshal(parts)
			nu, _ := cbor.Marshal([]any{hex.EncodeToString(ntx), pair[1]})
			return hex.EncodeToString(nu)
		}, "lacks the signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := &standIn{t: t, vs: vs.Pending, apiKey: "k", payloads: c.payloads, combine: c.combine}
			_, err := Sign(context.Background(), serve(t, st, false), v.Pending.SerializedTransaction, keysOf(t, v), Params{})
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a refusal containing %q", err, c.want)
			}
			if c.payloads != nil {
				for _, call := range st.calls {
					if call == "construction/combine" {
						t.Fatal("signed a body that failed its check")
					}
				}
			}
		})
	}
}

// Pending transactions gokms refuses before it asks the node anything.
func TestRefusesBadOperations(t *testing.T) {
	vs := load(t)
	v := &vs.Pending[0]
	var ops []map[string]any
	json.Unmarshal([]byte(v.Pending.SerializedTransaction), &ops)
	edit := func(f func(ops []map[string]any) []map[string]any) string {
		var o []map[string]any
		json.Unmarshal([]byte(v.Pending.SerializedTransaction), &o)
		b, _ := json.Marshal(f(o))
		return string(b)
	}
	amount := func(op map[string]any) map[string]any { return op["amount"].(map[string]any) }
	cases := map[string]struct {
		serialized string
		keys       []*wallet.CardanoKey
		params     Params
		want       string
	}{
		"not json": {"{", keysOf(t, v), Params{}, "not a JSON array"},
		"token": {edit(func(o []map[string]any) []map[string]any {
			amount(o[1])["currency"] = map[string]any{"symbol": "HOSKY", "decimals": 0}
			return o
		}), keysOf(t, v), Params{}, "ADA only"},
		"token bundle": {edit(func(o []map[string]any) []map[string]any {
			o[0]["metadata"] = map[string]any{"tokenBundle": []any{1}}
			return o
		}), keysOf(t, v), Params{}, "tokenBundle"},
		"staking op":    {edit(func(o []map[string]any) []map[string]any { o[1]["type"] = "stakeKeyRegistration"; return o }), keysOf(t, v), Params{}, "stakeKeyRegistration"},
		"outputs > in":  {edit(func(o []map[string]any) []map[string]any { amount(o[1])["value"] = "99000000"; return o }), keysOf(t, v), Params{}, "exceed inputs"},
		"fee too high":  {edit(func(o []map[string]any) []map[string]any { return o[:2] }), keysOf(t, v), Params{}, "exceeds the limit"},
		"testnet addr":  {v.Pending.SerializedTransaction, keysOf(t, v), Params{Testnet: true}, "not a testnet address"},
		"foreign input": {v.Pending.SerializedTransaction, keysOf(t, &vs.Pending[3]), Params{}, "none of the transaction's wallets"},
		"no key":        {v.Pending.SerializedTransaction, nil, Params{}, "none of the transaction's wallets"},
		"double spend":  {edit(func(o []map[string]any) []map[string]any { return append(o, o[0]) }), keysOf(t, v), Params{}, "spent twice"},
		"positive in":   {edit(func(o []map[string]any) []map[string]any { amount(o[0])["value"] = "5000000"; return o }), keysOf(t, v), Params{}, "inputs are negative"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			st := &standIn{t: t, vs: vs.Pending, apiKey: "k"}
			_, err := Sign(context.Background(), serve(t, st, c.params.Testnet), c.serialized, c.keys, c.params)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if len(st.calls) != 0 {
				t.Fatalf("asked the node %v before refusing", st.calls)
			}
		})
	}
}

// A Rosetta Error object reaches the caller with its code and message; the
// API key never appears in an error, even when the server is gone.
func TestRosettaErrorsAndKeyHygiene(t *testing.T) {
	vs := load(t)
	v := &vs.Pending[0]
	for _, ep := range []string{"construction/preprocess", "construction/metadata", "construction/payloads", "construction/combine"} {
		st := &standIn{t: t, vs: vs.Pending, apiKey: "secret-api-key-123", fail: ep}
		_, err := Sign(context.Background(), serve(t, st, false), v.Pending.SerializedTransaction, keysOf(t, v), Params{})
		var re *RosettaError
		if !errors.As(err, &re) || re.Code != 4019 || re.Endpoint != ep || !strings.Contains(err.Error(), "Provided operations are invalid") {
			t.Fatalf("%s: %v", ep, err)
		}
		if strings.Contains(err.Error(), "secret-api-key-123") {
			t.Fatal("API key in error")
		}
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c := &RosettaClient{BaseURL: srv.URL, APIKey: "secret-api-key-123"}
	err := c.Call(context.Background(), "construction/preprocess", map[string]any{}, &struct{}{})
	if err == nil || strings.Contains(err.Error(), "secret-api-key-123") {
		t.Fatalf("closed server: %v", err)
	}
	st := &standIn{t: t, vs: vs.Pending, apiKey: "right"}
	c = serve(t, st, false)
	c.APIKey = "wrong"
	var re *RosettaError
	if err := c.Call(context.Background(), "construction/preprocess", map[string]any{}, &struct{}{}); !errors.As(err, &re) || re.Status != 401 {
		t.Fatalf("wrong key: %v", err)
	}
}

// Conway-era nodes write the inputs as a tagged set (tag 258) and outputs as
// maps; both decode to the same checks.
func TestCheckBodyConwayEncoding(t *testing.T) {
	vs := load(t)
	v := &vs.Pending[0]
	pl, err := parse(v.Pending.SerializedTransaction, Params{})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := hex.DecodeString(v.BodyHex)
	var m map[uint64]cbor.RawMessage
	if err := cbor.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	var ins []cbor.RawMessage
	cbor.Unmarshal(m[0], &ins)
	m[0] = rawOf(t, cbor.Tag{Number: 258, Content: ins})
	var outs []out
	cbor.Unmarshal(m[1], &outs)
	var mapped []any
	for _, o := range outs {
		mapped = append(mapped, map[uint64]any{0: o.Addr, 1: o.Value})
	}
	m[1] = rawOf(t, mapped)
	nb := rawOf(t, m)
	if err := checkBody(nb, pl); err != nil {
		t.Fatalf("Conway encoding refused: %v", err)
	}
	mapped[0].(map[uint64]any)[2] = []any{0, []byte{1}} // a datum
	m[1] = rawOf(t, mapped)
	if err := checkBody(rawOf(t, m), pl); err == nil || !strings.Contains(err.Error(), "datum") {
		t.Fatalf("datum accepted: %v", err)
	}
}

// construction/derive, as tatum-kms's getaddress asks it, cross-checked
// against the local enterprise address.
func TestDerive(t *testing.T) {
	vs := load(t)
	v := &vs.Pending[10]
	pub, _ := hex.DecodeString(v.Signers[0].PublicKey)
	st := &standIn{t: t, vs: vs.Pending, apiKey: "k"}
	a, err := Derive(context.Background(), serve(t, st, true), pub, true)
	if err != nil || a != v.Signers[0].Address {
		t.Fatalf("%s %v", a, err)
	}
	st = &standIn{t: t, vs: vs.Pending, apiKey: "k", combine: func(*vector, string) string { return vs.Pending[11].Signers[0].Address }}
	if _, err := Derive(context.Background(), serve(t, st, true), pub, true); !errors.Is(err, ErrRefused) {
		t.Fatalf("lying derive: %v", err)
	}
}
