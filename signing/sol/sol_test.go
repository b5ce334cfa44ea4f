package sol

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/gokms/gokms/signing/sol/soltest"
	"github.com/gokms/gokms/wallet"
)

type rpcCall struct {
	Path   string          `json:"path"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

type vector struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	PrivateKeys []string `json:"privateKeys"`
	Addresses   []string `json:"addresses"`
	Pending     struct {
		ID                    string   `json:"id"`
		Chain                 string   `json:"chain"`
		SerializedTransaction string   `json:"serializedTransaction"`
		Hashes                []string `json:"hashes"`
	} `json:"pending"`
	Blockhash            string          `json:"blockhash"`
	LastValidBlockHeight uint64          `json:"lastValidBlockHeight"`
	SignedMessage        string          `json:"signedMessage"`
	Wire                 string          `json:"wire"`
	TxID                 string          `json:"txId"`
	Broadcast            json.RawMessage `json:"broadcast"`
	RPC                  []rpcCall       `json:"rpc"`
}

type vectorFile struct {
	SDK       map[string]string `json:"sdk"`
	Collation []string          `json:"collation"`
	Vectors   []vector          `json:"vectors"`
}

var cached *vectorFile

func loadVectors(t testing.TB) *vectorFile {
	t.Helper()
	if cached != nil {
		return cached
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sol", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	cached = &f
	return cached
}

func keysOf(t testing.TB, v vector) []ed25519.PrivateKey {
	t.Helper()
	var ks []ed25519.PrivateKey
	for _, p := range v.PrivateKeys {
		k, err := wallet.DecodeSolanaPrivateKey(p)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
	return ks
}

func blockhashOf(t testing.TB, v vector) Blockhash {
	t.Helper()
	h := base58.Decode(v.Blockhash)
	if len(h) != 32 {
		t.Fatal("bad blockhash in vector")
	}
	return Blockhash{Hash: [32]byte(h), LastValidBlockHeight: v.LastValidBlockHeight}
}

func byName(t testing.TB, name string) vector {
	for _, v := range loadVectors(t).Vectors {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no vector %s", name)
	return vector{}
}

// TestCollation: the account order of web3.js's compileMessage is Node's
// localeCompare; gokms sorts the generator's keys (base58 keys and short
// strings that tie but for case or length) into Node's order.
func TestCollation(t *testing.T) {
	want := loadVectors(t).Collation
	if len(want) < 400 {
		t.Fatalf("only %d collation entries", len(want))
	}
	got := append([]string(nil), want...)
	for i := range got { // scramble deterministically
		j := (i*7919 + 13) % len(got)
		got[i], got[j] = got[j], got[i]
	}
	sort.SliceStable(got, func(i, j int) bool { return localeCompare(got[i], got[j]) < 0 })
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("position %d: %q, Node has %q", i, got[i], want[i])
		}
	}
	if localeCompare("abc", "abc") != 0 || localeCompare("a", "B") >= 0 || localeCompare("a", "A") >= 0 || localeCompare("A", "b") >= 0 || localeCompare("9", "a") >= 0 || localeCompare("ab", "a") <= 0 {
		t.Error("basic collation cases")
	}
}

// TestVectors: for every pending transaction, gokms's signed wire
// transaction, message and txId are byte-identical to what
// @tatumio/solana's kms.sign sent to its node; every signature verifies
// independently; the instructions are those the pending transaction asked
// for; the broadcast body is tatum-kms's.
func TestVectors(t *testing.T) {
	f := loadVectors(t)
	kinds := map[string]int{}
	for _, v := range f.Vectors {
		kinds[v.Kind]++
		t.Run(v.Name, func(t *testing.T) {
			s, err := Sign(v.Pending.SerializedTransaction, keysOf(t, v), blockhashOf(t, v))
			if err != nil {
				t.Fatal(err)
			}
			if got := base64.StdEncoding.EncodeToString(s.Wire); got != v.Wire {
				t.Fatalf("wire transaction differs from web3.js's\n got %s\nwant %s", got, v.Wire)
			}
			if hex.EncodeToString(s.Message) != v.SignedMessage {
				t.Errorf("message differs")
			}
			if s.TxID != v.TxID {
				t.Errorf("txId %s, SDK %s", s.TxID, v.TxID)
			}
			body, _ := json.Marshal(map[string]string{"txData": s.TxID, "signatureId": v.Pending.ID})
			if !jsonEqual(body, v.Broadcast) {
				t.Errorf("broadcast body %s, tatum-kms %s", body, v.Broadcast)
			}
			if s.FeePayer != v.Addresses[0] && !(len(v.Addresses) > 1 && s.FeePayer == v.Addresses[1]) {
				t.Errorf("fee payer %s is none of the wallets %v", s.FeePayer, v.Addresses)
			}
			verifyIndependently(t, v, s)
		})
	}
	for _, kind := range []string{"native", "native-feepayer", "spl", "memo", "deploy", "reordered", "multi"} {
		if kinds[kind] < 10 {
			t.Errorf("only %d %s vectors; want at least 10", kinds[kind], kind)
		}
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

// verifyIndependently splits the wire by hand (not with ParseMessage),
// checks each signature with ed25519.Verify against the account it stands
// for, and compares the instructions with the pending transaction's.
func verifyIndependently(t *testing.T, v vector, s *Signed) {
	t.Helper()
	w := s.Wire
	ns := int(w[0])
	if ns == 0 || ns >= 128 {
		t.Fatalf("%d signatures", ns)
	}
	msg := w[1+64*ns:]
	if !bytes.Equal(msg, s.Message) {
		t.Fatal("wire does not end with the message")
	}
	if int(msg[0]) != ns {
		t.Fatalf("header asks for %d signatures, wire has %d", msg[0], ns)
	}
	for i := 0; i < ns; i++ {
		pub := ed25519.PublicKey(msg[4+32*i : 4+32*i+32])
		if !ed25519.Verify(pub, msg, w[1+64*i:1+64*i+64]) {
			t.Errorf("signature %d does not verify against %s", i, base58.Encode(pub))
		}
	}
	var p struct {
		TxData string `json:"txData"`
	}
	_ = json.Unmarshal([]byte(v.Pending.SerializedTransaction), &p)
	raw, _ := hex.DecodeString(p.TxData)
	asked, err := ParseMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := ParseMessage(s.Message)
	if err != nil {
		t.Fatal(err)
	}
	if len(asked.Instructions) != len(signed.Instructions) {
		t.Fatalf("%d instructions signed, %d asked", len(signed.Instructions), len(asked.Instructions))
	}
	for i := range asked.Instructions {
		a, b := asked.Instructions[i], signed.Instructions[i]
		if asked.AccountKeys[a.ProgramIDIndex] != signed.AccountKeys[b.ProgramIDIndex] || !bytes.Equal(a.Data, b.Data) || len(a.Accounts) != len(b.Accounts) {
			t.Fatalf("instruction %d changed", i)
		}
		for j := range a.Accounts {
			x, y := int(a.Accounts[j]), int(b.Accounts[j])
			if asked.AccountKeys[x] != signed.AccountKeys[y] || asked.IsSigner(x) != signed.IsSigner(y) || asked.IsWritable(x) != signed.IsWritable(y) {
				t.Fatalf("instruction %d account %d changed key or role", i, j)
			}
		}
	}
	if signed.RecentBlockhash != blockhashOf(t, v).Hash {
		t.Error("not the node's blockhash")
	}
	// The decoded summary says the same.
	if len(s.Instructions) != len(signed.Instructions) {
		t.Error("summary length")
	}
	if v.Kind == "native" {
		d := s.Instructions[0]
		if d.Program != "system" || d.Type != "transfer" || d.Accounts[0] != v.Addresses[0] || d.Amount != binary.LittleEndian.Uint64(asked.Instructions[0].Data[4:]) {
			t.Errorf("native summary %+v", d)
		}
	}
}

// TestThroughNode runs the whole of tatum-kms's kms.sign against the
// stand-in node with the real JSON-RPC client: the blockhash comes from the
// node, the requests are web3.js's (same methods and params as the
// generator's node saw), the node verifies and accepts the transaction, and
// it is the SDK's byte for byte.
func TestThroughNode(t *testing.T) {
	node := soltest.New()
	defer node.Close()
	for _, name := range []string{"native-0", "native-feepayer-3", "spl-2", "memo-1", "deploy-2", "reordered-3"} {
		v := byName(t, name)
		node.SetBlockhash(blockhashOf(t, v).Hash, v.LastValidBlockHeight+1000)
		c, err := NewRPC(node.URL+"/v3/blockchain/node/SOL", http.Header{"X-Api-Key": {"k"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		before := len(node.Requests())
		s, err := SignAndSend(context.Background(), c, v.Pending.SerializedTransaction, keysOf(t, v))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		landed := node.Landed()[s.TxID]
		if base64.StdEncoding.EncodeToString(landed) != v.Wire {
			t.Errorf("%s: the node received another transaction than web3.js sent", name)
		}
		reqs := node.Requests()[before:]
		if len(reqs) != 2 {
			t.Fatalf("%s: %d requests", name, len(reqs))
		}
		for i, want := range v.RPC[:2] {
			if reqs[i].Method != want.Method || !jsonEqual(reqs[i].Params, want.Params) {
				t.Errorf("%s: request %d is %s %s; web3.js sent %s %s", name, i, reqs[i].Method, reqs[i].Params, want.Method, want.Params)
			}
			if reqs[i].Header.Get("X-Api-Key") != "k" {
				t.Errorf("%s: header not sent", name)
			}
		}
	}
	c, _ := NewRPC(node.URL, nil, nil)
	st, err := c.SignatureStatuses(context.Background(), []string{byName(t, "native-0").TxID, base58.Encode(make([]byte, 64))})
	if err != nil || st[0] == nil || st[0].ConfirmationStatus != "finalized" || st[1] != nil {
		t.Errorf("statuses %v %v", st, err)
	}
	if h, err := c.BlockHeight(context.Background()); err != nil || h != 1000 {
		t.Errorf("block height %d %v", h, err)
	}
}

// TestNodeErrors: what a node can answer, and that no error quotes the API
// key in the node URL.
func TestNodeErrors(t *testing.T) {
	const key = "secret-api-key-123"
	node := soltest.New()
	defer node.Close()
	c, _ := NewRPC(node.URL+"/v3/blockchain/node/SOL/"+key, nil, nil)
	v := byName(t, "native-1")
	ctx := context.Background()
	noKey := func(err error) {
		t.Helper()
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("error quotes the API key: %v", err)
		}
	}

	node.FailNextSend(-32002, "Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1", []string{"Program 11111111111111111111111111111111 invoke [1]", "Transfer: insufficient lamports 0, need 1001"})
	_, err := SignAndSend(ctx, c, v.Pending.SerializedTransaction, keysOf(t, v))
	var re *RPCError
	if !errors.As(err, &re) || re.Code != -32002 || len(re.Logs) != 2 || !strings.Contains(re.Error(), "insufficient") && !strings.Contains(re.Message, "custom program error") {
		t.Errorf("preflight failure: %v", err)
	}
	noKey(err)

	node.FailNextHTTP(http.StatusBadGateway)
	_, err = c.LatestBlockhash(ctx)
	if err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Errorf("HTTP 502: %v", err)
	}
	noKey(err)

	// A blockhash that expired before the transaction arrived.
	bh, err := c.LatestBlockhash(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Sign(v.Pending.SerializedTransaction, keysOf(t, v), bh)
	if err != nil {
		t.Fatal(err)
	}
	node.Advance(200)
	err = Send(ctx, c, s)
	if !errors.As(err, &re) || !strings.Contains(re.Message, "Blockhash not found") {
		t.Errorf("expired blockhash: %v", err)
	}
	if h, _ := c.BlockHeight(ctx); h <= s.LastValidBlockHeight {
		t.Errorf("height %d should be past %d", h, s.LastValidBlockHeight)
	}

	// A node that reports another signature than the transaction's.
	node.AnswerWrongSignature()
	_, err = SignAndSend(ctx, c, v.Pending.SerializedTransaction, keysOf(t, v))
	if !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("wrong signature: %v", err)
	}

	// A tampered wire transaction: the node refuses it.
	bh, _ = c.LatestBlockhash(ctx)
	s, _ = Sign(v.Pending.SerializedTransaction, keysOf(t, v), bh)
	s.Wire[len(s.Wire)-1] ^= 1
	if _, err := c.SendTransaction(ctx, s.Wire); !errors.As(err, &re) || re.Code != -32003 {
		t.Errorf("tampered wire: %v", err)
	}

	// Unknown method, nothing listening, not JSON-RPC, bad URL.
	if err := c.Call(ctx, "getNothing", []any{}, new(any)); !errors.As(err, &re) || re.Code != -32601 {
		t.Errorf("unknown method: %v", err)
	}
	dead, _ := NewRPC("http://127.0.0.1:1/v3/blockchain/node/SOL/"+key, nil, nil)
	_, err = dead.LatestBlockhash(ctx)
	if err == nil {
		t.Error("dead node answered")
	}
	noKey(err)
	html := soltest.New()
	html.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>gateway</html>")) })
	defer html.Close()
	hc, _ := NewRPC(html.URL+"/"+key, nil, nil)
	if _, err := hc.LatestBlockhash(ctx); err == nil || !strings.Contains(err.Error(), "not a JSON-RPC response") {
		t.Errorf("HTML answer: %v", err)
	}
	for _, u := range []string{"", "ftp://x", "http://", "::"} {
		if _, err := NewRPC(u, nil, nil); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
}
