package flow

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	becdsa "github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"golang.org/x/crypto/sha3"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

type vector struct {
	Kind    string `json:"kind"`
	Testnet bool   `json:"testnet"`
	Pending struct {
		ID                    string   `json:"id"`
		SerializedTransaction string   `json:"serializedTransaction"`
		Hashes                []string `json:"hashes"`
		Index                 uint32   `json:"index"`
	} `json:"pending"`
	Wallet     int    `json:"wallet"`
	PrivateKey string `json:"privateKey"`
	PublicKey  string `json:"publicKey"`
	Proposer   struct {
		Address string `json:"address"`
		KeyID   uint64 `json:"keyId"`
	} `json:"proposer"`
	Payer struct {
		Address string `json:"address"`
		KeyID   uint64 `json:"keyId"`
	} `json:"payer"`
	RefBlock          string            `json:"refBlock"`
	SequenceNum       uint64            `json:"sequenceNum"`
	Cadence           string            `json:"cadence"`
	Arguments         []json.RawMessage `json:"arguments"`
	PayloadMessage    string            `json:"payloadMessage"`
	UserSignature     string            `json:"userSignature"`
	ProposerSignature string            `json:"proposerSignature"`
	EnvelopeMessage   string            `json:"envelopeMessage"`
	PayerSignature    string            `json:"payerSignature"`
	TxID              string            `json:"txId"`
	FclRequest        struct {
		Method string          `json:"method"`
		Path   string          `json:"path"`
		Body   json.RawMessage `json:"body"`
	} `json:"fclRequest"`
}

type vectors struct {
	Tatum struct {
		ProposerPrivateKey string `json:"proposerPrivateKey"`
		ProposerPublicKey  string `json:"proposerPublicKey"`
		PayerPrivateKey    string `json:"payerPrivateKey"`
		PayerPublicKey     string `json:"payerPublicKey"`
	} `json:"tatum"`
	Wallets []struct {
		Mnemonic string `json:"mnemonic"`
	} `json:"wallets"`
	Pending []vector `json:"pending"`
}

func load(t testing.TB) vectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "flow", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Pending) < 20 {
		t.Fatalf("testdata/flow/vectors.json has %d pending transactions; run testdata/flow/gen/gen.js", len(v.Pending))
	}
	return v
}

func mustAddr(t testing.TB, s string) Address {
	a, err := ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func txOf(t testing.TB, v *vector, in *Intent) *Tx {
	var ref [32]byte
	b, _ := hex.DecodeString(v.RefBlock)
	copy(ref[:], b)
	return &Tx{Script: in.Script, Arguments: in.Arguments, RefBlock: ref, ComputeLimit: ComputeLimit,
		Proposal: ProposalKey{mustAddr(t, v.Proposer.Address), v.Proposer.KeyID, v.SequenceNum},
		Payer:    mustAddr(t, v.Payer.Address), Authorizers: []Address{in.Account}}
}

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func verify(t testing.TB, pubHex string, msg, sig []byte) bool {
	pub, err := btcec.ParsePubKey(append([]byte{4}, unhex(t, pubHex)...))
	if err != nil {
		t.Fatal(err)
	}
	var r, s btcec.ModNScalar
	r.SetByteSlice(sig[:32])
	s.SetByteSlice(sig[32:])
	h := sha3.Sum256(msg)
	return becdsa.NewSignature(&r, &s).Verify(h[:], pub)
}

// Against @onflow/sdk 1.5.3 and tatum-js v1's flowSign, for every vector:
// the Cadence code and JSON-Cadence arguments gokms builds from the pending
// transaction, the payload and envelope messages (RLP, domain tag), the
// transaction id, and the user's, proposer's and payer's signatures
// (elliptic's, no low-S), each also verified with btcec.
func TestEncodeAndSignMatchFlowSDK(t *testing.T) {
	vs := load(t)
	highS := 0
	for i := range vs.Pending {
		v := &vs.Pending[i]
		in, err := ParseIntent(v.Pending.SerializedTransaction, v.Testnet, true)
		if err != nil {
			t.Fatalf("%s: %v", v.Pending.ID, err)
		}
		if string(in.Script) != v.Cadence {
			t.Fatalf("%s: cadence differs:\n%s\n---\n%s", v.Pending.ID, in.Script, v.Cadence)
		}
		if len(in.Arguments) != len(v.Arguments) {
			t.Fatalf("%s: %d arguments", v.Pending.ID, len(in.Arguments))
		}
		for j := range in.Arguments {
			// the vector holds asArgument objects; fcl sends JSON.stringify of each
			var x any
			json.Unmarshal(v.Arguments[j], &x)
			want, _ := json.Marshal(x)
			var y any
			json.Unmarshal(in.Arguments[j], &y)
			got, _ := json.Marshal(y)
			if string(got) != string(want) {
				t.Fatalf("%s: argument %d: %s want %s", v.Pending.ID, j, in.Arguments[j], v.Arguments[j])
			}
		}
		tx := txOf(t, v, in)
		payload, err := tx.PayloadMessage()
		if err != nil || hex.EncodeToString(payload) != v.PayloadMessage {
			t.Fatalf("%s: payload message differs (%v)", v.Pending.ID, err)
		}
		k, err := wallet.DecodeFlowPrivateKey(v.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		us := SignMessage(k, payload)
		if hex.EncodeToString(us) != v.UserSignature || !verify(t, v.PublicKey, payload, us) {
			t.Fatalf("%s: user signature %x want %s", v.Pending.ID, us, v.UserSignature)
		}
		pk, _ := wallet.DecodeFlowPrivateKey(vs.Tatum.ProposerPrivateKey)
		ps := SignMessage(pk, payload)
		if hex.EncodeToString(ps) != v.ProposerSignature {
			t.Fatalf("%s: proposer signature", v.Pending.ID)
		}
		paySigs := []Sig{{in.Account, 0, us}, {tx.Proposal.Address, tx.Proposal.KeyID, ps}}
		env, err := tx.EnvelopeMessage(paySigs)
		if err != nil || hex.EncodeToString(env) != v.EnvelopeMessage {
			t.Fatalf("%s: envelope message differs (%v)", v.Pending.ID, err)
		}
		yk, _ := wallet.DecodeFlowPrivateKey(vs.Tatum.PayerPrivateKey)
		es := SignMessage(yk, env)
		if hex.EncodeToString(es) != v.PayerSignature || !verify(t, vs.Tatum.PayerPublicKey, env, es) {
			t.Fatalf("%s: payer signature", v.Pending.ID)
		}
		id, err := tx.ID(paySigs, []Sig{{tx.Payer, v.Payer.KeyID, es}})
		if err != nil || id != v.TxID {
			t.Fatalf("%s: tx id %s want %s", v.Pending.ID, id, v.TxID)
		}
		for _, s := range [][]byte{us, ps, es} {
			var sc btcec.ModNScalar
			sc.SetByteSlice(s[32:])
			if sc.IsOverHalfOrder() {
				highS++
			}
		}
	}
	if highS == 0 {
		t.Fatal("no vector with a high S: the no-normalisation rule is untested")
	}
}

// standIns are Tatum's Flow endpoints (signing with the vectors' test keys
// for Tatum's proposer and payer) and a Flow access node that verifies
// every signature of the transaction it receives against the accounts' keys
// before it answers the transaction id.
type standIns struct {
	t        testing.TB
	vs       *vectors
	v        *vector
	mu       sync.Mutex
	log      []string
	reported []map[string]any
	pending  int // results answered "Pending" before "Sealed"
	lie      func(path string, body map[string]any) map[string]any
	sendErr  bool
	execErr  string
	wrongKey bool
	wrongID  bool
	badSig   bool            // Tatum's payer signature is garbage
	posted   map[string]bool // ids the node took: results of others are 404, as Flow's REST API answers
}

func (s *standIns) note(x string) {
	s.mu.Lock()
	s.log = append(s.log, x)
	s.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *standIns) tatum() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-api-key") != "flow-key" {
			w.WriteHeader(401)
			return
		}
		s.note(r.Method + " " + r.URL.Path)
		switch {
		case r.URL.Path == "/v3/flow/proposal/false":
			out := map[string]any{"address": s.v.Proposer.Address, "keyId": s.v.Proposer.KeyID}
			if s.lie != nil {
				out = s.lie(r.URL.Path, out)
			}
			writeJSON(w, out)
		case r.URL.Path == "/v3/flow/proposal/true":
			out := map[string]any{"address": s.v.Payer.Address, "keyId": s.v.Payer.KeyID}
			if s.lie != nil {
				out = s.lie(r.URL.Path, out)
			}
			writeJSON(w, out)
		case r.URL.Path == "/v3/flow/sign" && r.Method == http.MethodPost:
			var b struct {
				Data    string `json:"data"`
				IsPayer bool   `json:"isPayer"`
			}
			json.NewDecoder(r.Body).Decode(&b)
			kh := s.vs.Tatum.ProposerPrivateKey
			if b.IsPayer {
				kh = s.vs.Tatum.PayerPrivateKey
			}
			k, _ := wallet.DecodeFlowPrivateKey(kh)
			msg, err := hex.DecodeString(b.Data)
			if err != nil || !strings.HasPrefix(b.Data, hex.EncodeToString(domainTag)) {
				w.WriteHeader(400)
				writeJSON(w, map[string]any{"message": "data is not a tagged transaction message"})
				return
			}
			sig := SignMessage(k, msg)
			if s.badSig && b.IsPayer {
				sig[40] ^= 1
			}
			writeJSON(w, map[string]any{"signature": hex.EncodeToString(sig)})
		case r.URL.Path == "/v3/flow/broadcast":
			var b map[string]any
			json.NewDecoder(r.Body).Decode(&b)
			s.mu.Lock()
			s.reported = append(s.reported, b)
			s.mu.Unlock()
			writeJSON(w, map[string]any{"txId": b["txData"], "completed": true})
		default:
			w.WriteHeader(404)
		}
	})
}

func (s *standIns) keyOf(addr string, idx string) (pub string, seq uint64, ok bool) {
	v := s.v
	var acct string
	json.Unmarshal([]byte(v.Pending.SerializedTransaction), &struct {
		Body *struct {
			Account *string `json:"account"`
		} `json:"body"`
	}{Body: &struct {
		Account *string `json:"account"`
	}{Account: &acct}})
	switch {
	case addr == strings.TrimPrefix(acct, "0x") && idx == "0":
		if s.wrongKey {
			return s.vs.Tatum.PayerPublicKey, 0, true
		}
		return v.PublicKey, 7, true
	case addr == strings.TrimPrefix(v.Proposer.Address, "0x") && idx == strconv.FormatUint(v.Proposer.KeyID, 10):
		return s.vs.Tatum.ProposerPublicKey, v.SequenceNum, true
	case addr == strings.TrimPrefix(v.Payer.Address, "0x") && idx == strconv.FormatUint(v.Payer.KeyID, 10):
		return s.vs.Tatum.PayerPublicKey, 3, true
	}
	return "", 0, false
}

func (s *standIns) access() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.note(r.Method + " " + r.URL.Path)
		switch {
		case r.URL.Path == "/v1/blocks" && r.URL.Query().Get("height") == "final":
			writeJSON(w, []any{map[string]any{"header": map[string]any{"id": s.v.RefBlock, "height": "123"}}})
		case strings.HasPrefix(r.URL.Path, "/v1/accounts/") && r.URL.Query().Get("expand") == "contracts,keys":
			addr := strings.TrimPrefix(r.URL.Path, "/v1/accounts/")
			var keys []any
			for _, idx := range []string{"0", "1", strconv.FormatUint(s.v.Proposer.KeyID, 10)} {
				if pub, seq, ok := s.keyOf(addr, idx); ok {
					keys = append(keys, map[string]any{"index": idx, "public_key": "0x" + pub, "signing_algorithm": "ECDSA_secp256k1", "hashing_algorithm": "SHA3_256", "sequence_number": strconv.FormatUint(seq, 10), "weight": "1000", "revoked": false})
				}
			}
			writeJSON(w, map[string]any{"address": "0x" + addr, "keys": keys})
		case r.URL.Path == "/v1/transactions" && r.Method == http.MethodPost:
			if s.sendErr {
				w.WriteHeader(400)
				writeJSON(w, map[string]any{"code": 400, "message": "invalid transaction: sequence number mismatch"})
				return
			}
			raw, _ := io.ReadAll(r.Body)
			// fcl's own request body (captured from @onflow/transport-http in
			// the generator), compared as JSON values, array order included.
			var got, want any
			json.Unmarshal(raw, &got)
			json.Unmarshal(s.v.FclRequest.Body, &want)
			if !reflect.DeepEqual(got, want) {
				w.WriteHeader(400)
				writeJSON(w, map[string]any{"message": "request body differs from fcl's: " + string(raw)})
				return
			}
			var b struct {
				Script      string   `json:"script"`
				Arguments   []string `json:"arguments"`
				RefBlock    string   `json:"reference_block_id"`
				GasLimit    string   `json:"gas_limit"`
				Payer       string   `json:"payer"`
				ProposalKey struct {
					Address  string `json:"address"`
					KeyIndex string `json:"key_index"`
					Seq      string `json:"sequence_number"`
				} `json:"proposal_key"`
				Authorizers []string  `json:"authorizers"`
				PayloadSigs []restSig `json:"payload_signatures"`
				EnvSigs     []restSig `json:"envelope_signatures"`
			}
			json.Unmarshal(raw, &b)
			script, _ := base64.StdEncoding.DecodeString(b.Script)
			if string(script) != s.v.Cadence || b.RefBlock != s.v.RefBlock || b.GasLimit != "9999" || b.ProposalKey.Seq != strconv.FormatUint(s.v.SequenceNum, 10) {
				w.WriteHeader(400)
				writeJSON(w, map[string]any{"message": "transaction differs from the vector"})
				return
			}
			payload, _ := hex.DecodeString(s.v.PayloadMessage)
			env, _ := hex.DecodeString(s.v.EnvelopeMessage)
			check := func(sigs []restSig, msg []byte) bool {
				for _, sg := range sigs {
					pub, _, ok := s.keyOf(sg.Address, sg.KeyIndex)
					raw, _ := base64.StdEncoding.DecodeString(sg.Signature)
					if !ok || len(raw) != 64 || !verify(s.t, pub, msg, raw) {
						return false
					}
				}
				return len(sigs) > 0
			}
			if !check(b.PayloadSigs, payload) || !check(b.EnvSigs, env) || len(b.PayloadSigs) != 2 {
				w.WriteHeader(400)
				writeJSON(w, map[string]any{"message": "invalid signature"})
				return
			}
			id := s.v.TxID
			if s.wrongID {
				id = strings.Repeat("ab", 32)
			}
			s.mu.Lock()
			if s.posted == nil {
				s.posted = map[string]bool{}
			}
			s.posted[id] = true
			s.mu.Unlock()
			writeJSON(w, map[string]any{"id": id})
		case strings.HasPrefix(r.URL.Path, "/v1/transaction_results/"):
			s.mu.Lock()
			if !s.posted[strings.TrimPrefix(r.URL.Path, "/v1/transaction_results/")] {
				s.mu.Unlock()
				w.WriteHeader(404)
				writeJSON(w, map[string]any{"code": 404, "message": "transaction result not found"})
				return
			}
			st := "Sealed"
			if s.pending > 0 {
				s.pending--
				st = "Pending"
			}
			s.mu.Unlock()
			writeJSON(w, map[string]any{"status": st, "status_code": 0, "error_message": s.execErr})
		default:
			w.WriteHeader(404)
		}
	})
}

func (s *standIns) clients(t testing.TB) (*TatumClient, *AccessClient) {
	ts := httptest.NewServer(s.tatum())
	as := httptest.NewServer(s.access())
	t.Cleanup(ts.Close)
	t.Cleanup(as.Close)
	return &TatumClient{BaseURL: ts.URL, APIKey: "flow-key"}, &AccessClient{BaseURL: as.URL}
}

type keySource struct{ priv map[string]string }

func (k keySource) Key(_ context.Context, id string, index *uint32) (*btcec.PrivateKey, error) {
	p, ok := k.priv[id]
	if !ok {
		return nil, errors.New("not found")
	}
	return wallet.DecodeFlowPrivateKey(p)
}

// The daemon path end to end, for every vector: the access node stand-in
// accepted the transaction only because every signature verified over the
// SDK's payload and envelope bytes; the proposal key was released and the
// pending transaction completes with the Flow transaction id.
func TestSignRequestEndToEnd(t *testing.T) {
	vs := load(t)
	for i := range vs.Pending {
		v := &vs.Pending[i]
		st := &standIns{t: t, vs: &vs, v: v, pending: 2}
		tc, ac := st.clients(t)
		req := signing.Request{ID: v.Pending.ID, Chain: "FLOW", Testnet: v.Testnet, SerializedTransaction: v.Pending.SerializedTransaction, Hashes: v.Pending.Hashes}
		b, err := SignRequest(context.Background(), req, keySource{map[string]string{v.Pending.Hashes[0]: v.PrivateKey}}, tc, ac, Params{Testnet: v.Testnet, AllowCustom: true, PollInterval: 1})
		if err != nil {
			t.Fatalf("%s: %v", v.Pending.ID, err)
		}
		if b.Path != "/v3/flow/broadcast" || b.Body["txData"] != v.TxID || b.Body["signatureId"] != v.Pending.ID || !b.Result.Sealed {
			t.Fatalf("%s: %+v", v.Pending.ID, b)
		}
		if len(st.reported) != 1 || st.reported[0]["txData"] != v.TxID || st.reported[0]["proposalKey"] != float64(v.Proposer.KeyID) {
			t.Fatalf("%s: proposal key not released: %v", v.Pending.ID, st.reported)
		}
	}
}

func TestRefusals(t *testing.T) {
	vs := load(t)
	var native, custom *vector
	for i := range vs.Pending {
		if vs.Pending[i].Kind == "native" && native == nil {
			native = &vs.Pending[i]
		}
		if vs.Pending[i].Kind == "custom" && custom == nil {
			custom = &vs.Pending[i]
		}
	}
	run := func(v *vector, st *standIns, p Params) (*Broadcast, error) {
		tc, ac := st.clients(t)
		req := signing.Request{ID: v.Pending.ID, Chain: "FLOW", SerializedTransaction: v.Pending.SerializedTransaction, Hashes: v.Pending.Hashes}
		return SignRequest(context.Background(), req, keySource{map[string]string{v.Pending.Hashes[0]: v.PrivateKey}}, tc, ac, p)
	}
	sent := func(st *standIns) bool {
		for _, l := range st.log {
			if l == "POST /v3/flow/sign" || l == "POST /v1/transactions" {
				return true
			}
		}
		return false
	}
	t.Run("custom transactions need opting in", func(t *testing.T) {
		st := &standIns{t: t, vs: &vs, v: custom}
		if _, err := run(custom, st, Params{Testnet: custom.Testnet}); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "arbitrary Cadence") || len(st.log) != 0 {
			t.Fatalf("%v %v", err, st.log)
		}
	})
	t.Run("key is not the account's", func(t *testing.T) {
		st := &standIns{t: t, vs: &vs, v: native, wrongKey: true}
		if _, err := run(native, st, Params{Testnet: native.Testnet}); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "not the wallet's key") || sent(st) {
			t.Fatalf("%v %v", err, st.log)
		}
	})
	t.Run("Tatum names the wallet as payer", func(t *testing.T) {
		st := &standIns{t: t, vs: &vs, v: native}
		var acct struct {
			Body struct{ Account string } `json:"body"`
		}
		json.Unmarshal([]byte(native.Pending.SerializedTransaction), &acct)
		st.lie = func(path string, b map[string]any) map[string]any {
			if path == "/v3/flow/proposal/true" {
				b["address"] = acct.Body.Account
			}
			return b
		}
		if _, err := run(native, st, Params{Testnet: native.Testnet}); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "as proposer or payer") || sent(st) {
			t.Fatalf("%v %v", err, st.log)
		}
	})
	t.Run("send fails: proposal key released, error surfaced", func(t *testing.T) {
		st := &standIns{t: t, vs: &vs, v: native, sendErr: true}
		_, err := run(native, st, Params{Testnet: native.Testnet})
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != 400 || !strings.Contains(err.Error(), "sequence number mismatch") {
			t.Fatalf("%v", err)
		}
		if len(st.reported) != 1 || st.reported[0]["txData"] != "" || st.reported[0]["signatureId"] != nil {
			t.Fatalf("release: %v", st.reported)
		}
	})
	t.Run("execution error: sent, not completed", func(t *testing.T) {
		st := &standIns{t: t, vs: &vs, v: native, execErr: "[Error Code: 1101] insufficient balance"}
		b, err := run(native, st, Params{Testnet: native.Testnet, PollInterval: 1})
		if !errors.Is(err, ErrFailed) || b == nil || b.Result.TxID != native.TxID || b.Body != nil {
			t.Fatalf("%v %+v", err, b)
		}
	})
	t.Run("Tatum's payer signature does not verify", func(t *testing.T) {
		st := &standIns{t: t, vs: &vs, v: native, badSig: true}
		_, err := run(native, st, Params{Testnet: native.Testnet})
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "payer signature") {
			t.Fatalf("%v", err)
		}
		for _, l := range st.log {
			if l == "POST /v1/transactions" {
				t.Fatal("sent a transaction with a bad payer signature")
			}
		}
		if len(st.reported) != 1 || st.reported[0]["txData"] != "" || st.reported[0]["proposalKey"] != float64(native.Proposer.KeyID) {
			t.Fatalf("proposal key not released: %v", st.reported)
		}
	})
	t.Run("access node answers another transaction id", func(t *testing.T) {
		st := &standIns{t: t, vs: &vs, v: native, wrongID: true}
		b, err := run(native, st, Params{Testnet: native.Testnet, PollInterval: 1})
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "answered transaction id") || b == nil || b.Body != nil {
			t.Fatalf("%v %+v", err, b)
		}
	})
	t.Run("other chain, several wallets, withdrawal", func(t *testing.T) {
		for _, req := range []signing.Request{
			{ID: "a", Chain: "ADA", Hashes: []string{"x"}},
			{ID: "b", Chain: "FLOW", Hashes: []string{"x", "y"}},
			{ID: "c", Chain: "FLOW", Hashes: []string{"x"}, WithdrawalID: "w"},
		} {
			if _, err := SignRequest(context.Background(), req, keySource{}, nil, nil, Params{}); !errors.Is(err, ErrRefused) {
				t.Fatalf("%s: %v", req.ID, err)
			}
		}
	})
}

func TestParseIntentRefuses(t *testing.T) {
	acct := `"account":"0x01cf0e2f2f715450"`
	cases := map[string]string{
		`{`: "not {",
		`{"type":2,"body":{"account":"0x01","to":"0xe03daebed8ca0615","amount":"1","currency":"FLOW"}}`:       "body.account",
		`{"type":2,"body":{` + acct + `,"to":"0xe03daebed8ca0615","amount":"1","currency":"USDC"}}`:           "want FLOW or FUSD",
		`{"type":2,"body":{` + acct + `,"to":"0xe03d","amount":"1","currency":"FLOW"}}`:                       "body.to",
		`{"type":2,"body":{` + acct + `,"to":"0xe03daebed8ca0615","amount":"1.123456789","currency":"FLOW"}}`: "at most 8 decimals",
		`{"type":2,"body":{` + acct + `,"to":"0xe03daebed8ca0615","amount":"-1","currency":"FLOW"}}`:          "not a decimal",
		`{"type":2,"body":{` + acct + `,"to":"0xe03daebed8ca0615","amount":"1e3","currency":"FLOW"}}`:         "not a decimal",
		`{"type":0,"body":{` + acct + `}}`:  "CREATE_ACCOUNT is not supported",
		`{"type":7,"body":{` + acct + `}}`:  "TRANSFER_NFT is not supported",
		`{"type":42,"body":{` + acct + `}}`: "unknown FlowTxType",
		`{"type":8,"body":{` + acct + `,"transaction":"transaction {}","args":[{"type":"UInt64","value":"9007199254740993"}]}}`: "beyond 2^53-1",
		`{"type":8,"body":{` + acct + `,"transaction":"transaction {}","args":[{"type":"UFix64","value":"1"}]}}`:                "decimals",
		`{"type":8,"body":{` + acct + `,"transaction":"transaction {}","args":[{"type":"Dictionary","value":[]}]}}`:             "not supported",
		`{"type":8,"body":{` + acct + `,"transaction":"transaction {}","args":[{"type":"Address","value":"0x12"}]}}`:            "Address value",
		`{"type":8,"body":{` + acct + `,"args":[]}}`:                                                                            "without body.transaction",
	}
	for in, want := range cases {
		if _, err := ParseIntent(in, false, true); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
	// What JSON.stringify writes and Go's encoder would not.
	in := `{"type":8,"body":{` + acct + `,"transaction":"t","args":[{"type":"String","value":"<a&b>\u2028\b\u0001"}]}}`
	it, err := ParseIntent(in, false, true)
	if err != nil || string(it.Arguments[0]) != "{\"type\":\"String\",\"value\":\"<a&b>\u2028\\b\\u0001\"}" {
		t.Fatalf("%s %v", it.Arguments[0], err)
	}
}

// Verify covers the key types the access node knows; Tatum's keys may be P-256.
func TestVerifyKeyTypes(t *testing.T) {
	msg := []byte("message")
	pk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	h := sha256.Sum256(msg)
	r, s, _ := ecdsa.Sign(rand.Reader, pk, h[:])
	sig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	pub := hex.EncodeToString(append(pk.X.FillBytes(make([]byte, 32)), pk.Y.FillBytes(make([]byte, 32))...))
	k := AccountKey{PublicKey: pub, SigningAlgo: "ECDSA_P256", HashingAlgo: "SHA2_256"}
	if err := Verify(k, msg, sig); err != nil {
		t.Fatal(err)
	}
	sig[5] ^= 1
	if Verify(k, msg, sig) == nil {
		t.Fatal("bad P-256 signature accepted")
	}
	k.HashingAlgo = "SHA3_256"
	sig[5] ^= 1
	if Verify(k, msg, sig) == nil {
		t.Fatal("wrong hash accepted")
	}
	k.SigningAlgo, k.HashingAlgo = "BLS_BLS12_381", "SHA2_256"
	if Verify(k, msg, sig) == nil {
		t.Fatal("unknown algorithm accepted")
	}
}
