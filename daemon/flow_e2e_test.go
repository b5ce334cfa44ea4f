package daemon_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	becdsa "github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"golang.org/x/crypto/sha3"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/flow"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/wallet"
)

type flowVector struct {
	Kind    string
	Testnet bool
	Pending struct {
		SerializedTransaction string
		Index                 uint32
	}
	Wallet     int
	PrivateKey string
	PublicKey  string
	Proposer   struct {
		Address string
		KeyID   uint64 `json:"keyId"`
	}
	Payer struct {
		Address string
		KeyID   uint64 `json:"keyId"`
	}
	RefBlock        string
	SequenceNum     uint64
	PayloadMessage  string
	EnvelopeMessage string
	TxID            string `json:"txId"`
	FclRequest      struct {
		Body json.RawMessage
	}
}

type flowVectors struct {
	Tatum struct {
		ProposerPrivateKey, ProposerPublicKey, PayerPrivateKey, PayerPublicKey string
	}
	Wallets []struct{ Mnemonic string }
	Pending []flowVector
}

// flowWorld is Tatum's proposer/payer API (/v3/flow/proposal/{isPayer},
// /v3/flow/sign, the proposal key release on /v3/flow/broadcast) and a
// Flow access node (REST: /v1/blocks, /v1/accounts, /v1/transactions,
// /v1/transaction_results) for one vector. The access node takes a
// transaction only if its body is fcl's (the vector's, as JSON) and every
// signature verifies (secp256k1 over SHA3-256, btcec) by the account keys
// it serves; a result is 404 until the transaction was posted, then
// Pending once, then Sealed.
type flowWorld struct {
	v  *flowVectors
	tc flowVector

	onPost   func()      // called before a transaction is taken
	holdSeal atomic.Bool // results stay Pending while set

	mu       sync.Mutex
	posts    int // POST /v1/transactions accepted
	posted   bool
	polls    int
	released []map[string]any
}

func flowVerify(t *testing.T, pubHex string, msg, sig []byte) bool {
	b, _ := hex.DecodeString(pubHex)
	pub, err := btcec.ParsePubKey(append([]byte{4}, b...))
	if err != nil || len(sig) != 64 {
		return false
	}
	var r, s btcec.ModNScalar
	r.SetByteSlice(sig[:32])
	s.SetByteSlice(sig[32:])
	h := sha3.Sum256(msg)
	return becdsa.NewSignature(&r, &s).Verify(h[:], pub)
}

func (w *flowWorld) account() string {
	var p struct{ Body struct{ Account string } }
	_ = json.Unmarshal([]byte(w.tc.Pending.SerializedTransaction), &p)
	return strings.TrimPrefix(p.Body.Account, "0x")
}

// keyOf is the public key and sequence number of an account key.
func (w *flowWorld) keyOf(addr, idx string) (string, uint64, bool) {
	tc := w.tc
	switch {
	case addr == w.account() && idx == "0":
		return tc.PublicKey, 7, true
	case addr == strings.TrimPrefix(tc.Proposer.Address, "0x") && idx == strconv.FormatUint(tc.Proposer.KeyID, 10):
		return w.v.Tatum.ProposerPublicKey, tc.SequenceNum, true
	case addr == strings.TrimPrefix(tc.Payer.Address, "0x") && idx == strconv.FormatUint(tc.Payer.KeyID, 10):
		return w.v.Tatum.PayerPublicKey, 3, true
	}
	return "", 0, false
}

func writeJSONTo(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (w *flowWorld) tatum(apiKey string) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-api-key") != apiKey {
			writeJSONTo(rw, 401, map[string]any{"message": "unauthorized"})
			return
		}
		switch {
		case r.URL.Path == "/v3/flow/proposal/false":
			writeJSONTo(rw, 200, map[string]any{"address": w.tc.Proposer.Address, "keyId": w.tc.Proposer.KeyID})
		case r.URL.Path == "/v3/flow/proposal/true":
			writeJSONTo(rw, 200, map[string]any{"address": w.tc.Payer.Address, "keyId": w.tc.Payer.KeyID})
		case r.URL.Path == "/v3/flow/sign" && r.Method == http.MethodPost:
			var b struct {
				Data    string
				IsPayer bool
			}
			_ = json.NewDecoder(r.Body).Decode(&b)
			kh := w.v.Tatum.ProposerPrivateKey
			if b.IsPayer {
				kh = w.v.Tatum.PayerPrivateKey
			}
			k, _ := wallet.DecodeFlowPrivateKey(kh)
			msg, err := hex.DecodeString(b.Data)
			if err != nil {
				writeJSONTo(rw, 400, map[string]any{"message": "data is not hex"})
				return
			}
			// Tatum's keys sign like tatum-js's flowSign (elliptic, no low-S).
			writeJSONTo(rw, 200, map[string]any{"signature": hex.EncodeToString(flow.SignMessage(k, msg))})
		case r.URL.Path == "/v3/flow/broadcast" && r.Method == http.MethodPost:
			var b map[string]any
			_ = json.NewDecoder(r.Body).Decode(&b)
			w.mu.Lock()
			w.released = append(w.released, b)
			w.mu.Unlock()
			writeJSONTo(rw, 200, map[string]any{"txId": b["txData"], "completed": false})
		default:
			writeJSONTo(rw, 404, map[string]any{"message": "no route"})
		}
	})
}

func (w *flowWorld) access(t *testing.T) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/blocks" && r.URL.Query().Get("height") == "final":
			writeJSONTo(rw, 200, []any{map[string]any{"header": map[string]any{"id": w.tc.RefBlock, "height": "123"}}})
		case strings.HasPrefix(r.URL.Path, "/v1/accounts/"):
			addr := strings.TrimPrefix(r.URL.Path, "/v1/accounts/")
			var keys []any
			for _, idx := range []string{"0", strconv.FormatUint(w.tc.Proposer.KeyID, 10), strconv.FormatUint(w.tc.Payer.KeyID, 10)} {
				if pub, seq, ok := w.keyOf(addr, idx); ok {
					keys = append(keys, map[string]any{"index": idx, "public_key": "0x" + pub, "signing_algorithm": "ECDSA_secp256k1", "hashing_algorithm": "SHA3_256", "sequence_number": strconv.FormatUint(seq, 10), "weight": "1000", "revoked": false})
				}
			}
			writeJSONTo(rw, 200, map[string]any{"address": "0x" + addr, "keys": keys})
		case r.URL.Path == "/v1/transactions" && r.Method == http.MethodPost:
			raw, _ := io.ReadAll(r.Body)
			var got, want any
			_ = json.Unmarshal(raw, &got)
			_ = json.Unmarshal(w.tc.FclRequest.Body, &want)
			if !reflect.DeepEqual(got, want) {
				writeJSONTo(rw, 400, map[string]any{"message": "request body differs from fcl's"})
				return
			}
			var b struct {
				PayloadSigs []struct {
					Address, Signature string
					KeyIndex           string `json:"key_index"`
				} `json:"payload_signatures"`
				EnvelopeSigs []struct {
					Address, Signature string
					KeyIndex           string `json:"key_index"`
				} `json:"envelope_signatures"`
			}
			_ = json.Unmarshal(raw, &b)
			payload, _ := hex.DecodeString(w.tc.PayloadMessage)
			env, _ := hex.DecodeString(w.tc.EnvelopeMessage)
			byWallet := false
			for _, s := range b.PayloadSigs {
				pub, _, ok := w.keyOf(s.Address, s.KeyIndex)
				sig, _ := base64.StdEncoding.DecodeString(s.Signature)
				if !ok || !flowVerify(t, pub, payload, sig) {
					writeJSONTo(rw, 400, map[string]any{"message": "invalid payload signature"})
					return
				}
				byWallet = byWallet || s.Address == w.account()
			}
			for _, s := range b.EnvelopeSigs {
				pub, _, ok := w.keyOf(s.Address, s.KeyIndex)
				sig, _ := base64.StdEncoding.DecodeString(s.Signature)
				if !ok || !flowVerify(t, pub, env, sig) {
					writeJSONTo(rw, 400, map[string]any{"message": "invalid envelope signature"})
					return
				}
			}
			if !byWallet || len(b.EnvelopeSigs) != 1 {
				writeJSONTo(rw, 400, map[string]any{"message": "missing signatures"})
				return
			}
			if w.onPost != nil {
				w.onPost()
			}
			w.mu.Lock()
			w.posts++
			w.posted = true
			w.mu.Unlock()
			writeJSONTo(rw, 200, map[string]any{"id": w.tc.TxID})
		case r.URL.Path == "/v1/transaction_results/"+w.tc.TxID:
			w.mu.Lock()
			defer w.mu.Unlock()
			if !w.posted {
				writeJSONTo(rw, 404, map[string]any{"code": 404, "message": "transaction result not found"})
				return
			}
			w.polls++
			st := "Sealed"
			if w.polls == 1 || w.holdSeal.Load() {
				st = "Pending"
			}
			writeJSONTo(rw, 200, map[string]any{"status": st, "status_code": 0, "error_message": ""})
		default:
			writeJSONTo(rw, 404, map[string]any{"message": "not found"})
		}
	})
}

func flowCase(t *testing.T, v *flowVectors, tc flowVector, rec backend.Record, index *uint32, world **flowWorld) chainE2E {
	var w *flowWorld
	main := rec
	main.ID, main.Testnet = "flow-main", false
	return chainE2E{
		chain: "FLOW",
		family: func(t *testing.T) signing.Family {
			w = &flowWorld{v: v, tc: tc}
			if world != nil {
				*world = w
			}
			ts := httptest.NewServer(w.tatum("flow-api-key"))
			as := httptest.NewServer(w.access(t))
			t.Cleanup(ts.Close)
			t.Cleanup(as.Close)
			return flow.Family(&flow.Signer{
				Tatum:        &flow.TatumClient{BaseURL: ts.URL, APIKey: "flow-api-key"},
				Node:         &flow.AccessClient{BaseURL: as.URL},
				PollInterval: 1,
				DecodeKey:    kms.RecordKeys{Testnet: true}.Secp256k1Key,
			})
		},
		records: []backend.Record{rec},
		secrets: []string{v.Wallets[tc.Wallet].Mnemonic, tc.PrivateKey, strings.TrimLeft(tc.PrivateKey, "0")},
		pending: tatum.PendingTransaction{Chain: "FLOW", SerializedTransaction: tc.Pending.SerializedTransaction, Hashes: []string{rec.ID}, Index: index},
		path:    "/v3/flow/broadcast",
		// tatum-kms's flowBroadcastTx: the Flow id, not the transaction.
		body:    txBody(tc.TxID),
		mainnet: main,
		sender:  true,
		verify: func(t *testing.T, txData string) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if txData != tc.TxID || w.posts != 1 {
				t.Fatalf("txData %s, %d transactions taken by the access node; want the vector's id once", txData, w.posts)
			}
			// The proposal key was released with the id, as the SDK does.
			if len(w.released) != 1 || w.released[0]["txData"] != tc.TxID || w.released[0]["proposalKey"] != float64(tc.Proposer.KeyID) {
				t.Fatalf("proposal key release: %v", w.released)
			}
		},
		once: func(t *testing.T) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.posts != 1 {
				t.Fatalf("the access node took the transaction %d times, want once", w.posts)
			}
		},
	}
}

// FLOW: Tatum as proposer and payer, the wallet's payload signature, the
// transaction journaled before it is sent, then sent to the access node
// (fcl's body, every signature verified there), sealed, the proposal key
// released, and the Flow id posted to /v3/flow/broadcast as tatum-kms
// does. A resend after a restart finds the id at the node and never posts
// it twice.
func TestFLOWDaemonEndToEnd(t *testing.T) {
	v, tc := flowTestVector(t)
	idx := tc.Pending.Index
	t.Run("mnemonic", func(t *testing.T) {
		runChainCase(t, flowCase(t, &v, tc, backend.Record{ID: "flow-mn", Kind: backend.Mnemonic, Chain: "FLOW", Testnet: true, Secret: []byte(v.Wallets[tc.Wallet].Mnemonic)}, &idx, nil))
	})
	t.Run("private key", func(t *testing.T) {
		runChainCase(t, flowCase(t, &v, tc, backend.Record{ID: "flow-pk", Kind: backend.PrivateKey, Chain: "FLOW", Testnet: true, Secret: []byte(tc.PrivateKey)}, nil, nil))
	})
}

func flowTestVector(t *testing.T) (flowVectors, flowVector) {
	var v flowVectors
	readVectors(t, "flow", &v)
	var tc flowVector
	for _, x := range v.Pending {
		if x.Testnet && x.Kind == "native" && x.Pending.Index > 0 {
			tc = x
			break
		}
	}
	if tc.TxID == "" {
		t.Fatal("no testnet native vector with an index")
	}
	return v, tc
}

// The signed FLOW transaction is in the journal before the access node
// sees it; a send whose outcome the daemon cannot learn in time (not
// sealed before the transaction's deadline) is not reported as failed, and
// the next cycle finds the id at the node, waits for the seal and
// completes, without posting it again.
func TestFLOWJournaledBeforeSentAndAmbiguousSend(t *testing.T) {
	v, tc := flowTestVector(t)
	var w *flowWorld
	c := flowCase(t, &v, tc, backend.Record{ID: "flow-pk", Kind: backend.PrivateKey, Chain: "FLOW", Testnet: true, Secret: []byte(tc.PrivateKey)}, nil, &w)
	f := c.fixture(t)
	set := c.set(t)
	j := journal.NewMemory()
	id := f.srv.Enqueue(c.pending)
	journaled := false
	w.onPost = func() {
		e, err := j.Get(context.Background(), id)
		journaled = err == nil && e.SignedTx != "" && e.TxID == tc.TxID
	}
	w.holdSeal.Store(true)
	d := f.daemon(func(cfg *daemon.Config) {
		cfg.Signers, cfg.Chains, cfg.Journal, cfg.TxTimeout = set, []string{"FLOW"}, j, 300*time.Millisecond
	})
	d.RunCycle(context.Background())
	if !journaled {
		t.Fatal("the access node got the transaction before it was journaled")
	}
	if _, ok := f.srv.Completed(id); ok || len(f.srv.Errors()) != 0 {
		t.Fatalf("an unsealed send was completed or reported: %+v", f.srv.Errors())
	}
	w.holdSeal.Store(false)
	d.RunCycle(context.Background())
	f.requireCompleted(id)
	if got := bodies(f.srv, c.path); len(got) != 1 || !reflect.DeepEqual(got[0], c.body(id)) {
		t.Fatalf("posted %v", got)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.posts != 1 {
		t.Fatalf("the access node took the transaction %d times", w.posts)
	}
}

// refuseSigned refuses every transaction after it is signed.
type refuseSigned struct{}

func (refuseSigned) Name() string { return "test-policy" }
func (refuseSigned) Approve(ctx context.Context, p *daemon.Proposal, next daemon.Next) error {
	if p.Stage == daemon.StageSigned {
		return daemon.Refuse("test-policy", true, "refused after signing (test)")
	}
	return next(ctx, p)
}

// A FLOW transaction refused after it was signed (the policy, on the
// signed bytes) is never sent, and the proposal key Tatum lent for it is
// given back ({proposalKey}, no txData), as when Prepare fails; else
// Tatum's key would stay taken.
func TestFLOWRefusedAfterSigningReleasesTheProposalKey(t *testing.T) {
	v, tc := flowTestVector(t)
	var w *flowWorld
	c := flowCase(t, &v, tc, backend.Record{ID: "flow-pk", Kind: backend.PrivateKey, Chain: "FLOW", Testnet: true, Secret: []byte(tc.PrivateKey)}, nil, &w)
	f := c.fixture(t)
	set := c.set(t)
	id := f.srv.Enqueue(c.pending)
	d := f.daemon(func(cfg *daemon.Config) {
		cfg.Signers, cfg.Chains, cfg.Approvers = set, []string{"FLOW"}, []daemon.Approver{refuseSigned{}}
	})
	if st := d.RunCycle(context.Background()); st.Failed != 1 || st.Broadcast != 0 {
		t.Fatalf("cycle %+v", st)
	}
	if _, err := d.Journal().Get(context.Background(), id); err == nil {
		t.Fatal("a refused transaction was journaled")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.posts != 0 {
		t.Fatalf("the access node took a refused transaction %d times", w.posts)
	}
	if len(w.released) != 1 || w.released[0]["proposalKey"] != float64(tc.Proposer.KeyID) || w.released[0]["txData"] != nil && w.released[0]["txData"] != "" {
		t.Fatalf("proposal key releases %v, want one of key %d without a transaction", w.released, tc.Proposer.KeyID)
	}
}
