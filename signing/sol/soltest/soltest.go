// Package soltest is a local stand-in for a Solana node's JSON-RPC 2.0 API,
// the few methods gokms's signer uses (getLatestBlockhash, sendTransaction,
// getSignatureStatuses, getBlockHeight), for tests and the demo. Like a real
// node it refuses a transaction whose signatures do not verify or whose
// blockhash it never handed out or has expired, and answers errors in
// Solana's shapes (-32002 preflight failures with logs, -32602 bad params,
// -32601 unknown method). Its wire parsing is its own, independent of the
// signer's codec.
package soltest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/btcsuite/btcd/btcutil/base58"
)

// Request is one JSON-RPC call the node received.
type Request struct {
	Path   string
	Header http.Header
	Method string
	Params json.RawMessage
}

// Node is the stand-in. Its zero value is not usable; call New.
type Node struct {
	*httptest.Server

	mu         sync.Mutex
	blockhash  [32]byte
	lastValid  uint64
	height     uint64
	issued     map[[32]byte]uint64 // blockhash -> last valid block height
	landed     map[string][]byte   // signature -> wire
	requests   []Request
	failSend   *rpcError
	failHTTP   int
	wrongSig   bool
	nextHashes int
}

type rpcError struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

// New starts a node at block height 1000 with a blockhash valid for 150 blocks.
func New() *Node {
	n := &Node{issued: map[[32]byte]uint64{}, landed: map[string][]byte{}, height: 1000}
	n.rotate()
	n.Server = httptest.NewServer(http.HandlerFunc(n.serve))
	return n
}

func (n *Node) rotate() {
	n.nextHashes++
	n.blockhash = sha256.Sum256([]byte(fmt.Sprintf("soltest-blockhash-%d", n.nextHashes)))
	n.lastValid = n.height + 150
}

// SetBlockhash makes getLatestBlockhash answer hash, valid up to lastValid.
func (n *Node) SetBlockhash(hash [32]byte, lastValid uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.blockhash, n.lastValid = hash, lastValid
}

// Advance moves the block height on by blocks and hands out a new blockhash.
func (n *Node) Advance(blocks uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.height += blocks
	n.rotate()
}

// FailNextSend makes the next sendTransaction answer a JSON-RPC error.
func (n *Node) FailNextSend(code int, message string, logs []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failSend = &rpcError{Code: code, Message: message}
	if logs != nil {
		n.failSend.Data = map[string]any{"logs": logs}
	}
}

// FailNextHTTP makes the next request answer an HTTP status with a text body.
func (n *Node) FailNextHTTP(status int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failHTTP = status
}

// AnswerWrongSignature makes sendTransaction accept transactions but report
// another signature, as a broken or lying node might.
func (n *Node) AnswerWrongSignature() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.wrongSig = true
}

// Landed returns the wire transactions the node accepted, by signature.
func (n *Node) Landed() map[string][]byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make(map[string][]byte, len(n.landed))
	for k, v := range n.landed {
		out[k] = append([]byte(nil), v...)
	}
	return out
}

// Requests returns the calls received so far.
func (n *Node) Requests() []Request {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Request(nil), n.requests...)
}

func (n *Node) serve(w http.ResponseWriter, r *http.Request) {
	var call struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
	}
	if r.Method != http.MethodPost {
		http.Error(w, "Used HTTP Method is not allowed. POST or OPTIONS is required", http.StatusMethodNotAllowed)
		return
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&call); err != nil || call.JSONRPC != "2.0" {
		writeJSON(w, map[string]any{"jsonrpc": "2.0", "id": nil, "error": rpcError{Code: -32700, Message: "Parse error"}})
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.requests = append(n.requests, Request{Path: r.URL.Path, Header: r.Header.Clone(), Method: call.Method, Params: call.Params})
	if n.failHTTP != 0 {
		status := n.failHTTP
		n.failHTTP = 0
		http.Error(w, http.StatusText(status), status)
		return
	}
	result, rerr := n.dispatch(call.Method, call.Params)
	resp := map[string]any{"jsonrpc": "2.0", "id": call.ID}
	if rerr != nil {
		resp["error"] = rerr
	} else {
		resp["result"] = result
	}
	writeJSON(w, resp)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (n *Node) dispatch(method string, params json.RawMessage) (any, *rpcError) {
	ctx := map[string]any{"slot": n.height + 10, "apiVersion": "1.18.26"}
	switch method {
	case "getLatestBlockhash":
		n.issued[n.blockhash] = n.lastValid
		return map[string]any{"context": ctx, "value": map[string]any{"blockhash": base58.Encode(n.blockhash[:]), "lastValidBlockHeight": n.lastValid}}, nil
	case "getBlockHeight":
		return n.height, nil
	case "getSignatureStatuses":
		var p []json.RawMessage
		var sigs []string
		if json.Unmarshal(params, &p) != nil || len(p) == 0 || json.Unmarshal(p[0], &sigs) != nil {
			return nil, &rpcError{Code: -32602, Message: "Invalid params: expected an array of signatures"}
		}
		out := make([]any, len(sigs))
		for i, s := range sigs {
			if _, ok := n.landed[s]; ok {
				out[i] = map[string]any{"slot": n.height, "confirmations": nil, "err": nil, "status": map[string]any{"Ok": nil}, "confirmationStatus": "finalized"}
			}
		}
		return map[string]any{"context": ctx, "value": out}, nil
	case "sendTransaction":
		if n.failSend != nil {
			e := n.failSend
			n.failSend = nil
			return nil, e
		}
		return n.send(params)
	}
	return nil, &rpcError{Code: -32601, Message: "Method not found"}
}

func (n *Node) send(params json.RawMessage) (any, *rpcError) {
	var p []json.RawMessage
	var enc string
	var cfg struct {
		Encoding string `json:"encoding"`
	}
	if json.Unmarshal(params, &p) != nil || len(p) < 1 || json.Unmarshal(p[0], &enc) != nil {
		return nil, &rpcError{Code: -32602, Message: "Invalid params: expected [transaction, config]"}
	}
	if len(p) > 1 {
		_ = json.Unmarshal(p[1], &cfg)
	}
	if cfg.Encoding != "base64" { // the default is base58; gokms must say base64
		return nil, &rpcError{Code: -32602, Message: "invalid transaction: this stand-in expects encoding base64"}
	}
	wire, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, &rpcError{Code: -32602, Message: "invalid base64 encoding: " + err.Error()}
	}
	sigs, msg, keys, blockhash, perr := parseWire(wire)
	if perr != "" {
		return nil, &rpcError{Code: -32602, Message: "failed to deserialize solana_sdk::transaction::versioned::VersionedTransaction: " + perr}
	}
	for i, s := range sigs {
		if !ed25519.Verify(ed25519.PublicKey(keys[i][:]), msg, s) {
			return nil, &rpcError{Code: -32003, Message: "Transaction signature verification failure"}
		}
	}
	last, ok := n.issued[blockhash]
	if !ok || n.height > last {
		return nil, &rpcError{Code: -32002, Message: "Transaction simulation failed: Blockhash not found", Data: map[string]any{"err": "BlockhashNotFound", "logs": []string{}}}
	}
	sig := base58.Encode(sigs[0])
	if _, dup := n.landed[sig]; dup {
		return nil, &rpcError{Code: -32002, Message: "Transaction simulation failed: This transaction has already been processed", Data: map[string]any{"err": "AlreadyProcessed", "logs": []string{}}}
	}
	n.landed[sig] = wire
	if n.wrongSig {
		return base58.Encode(make([]byte, 64)), nil
	}
	return sig, nil
}

// parseWire splits a legacy wire transaction into its signatures, message,
// the signers' keys and the blockhash.
func parseWire(b []byte) (sigs [][]byte, msg []byte, keys [][32]byte, blockhash [32]byte, problem string) {
	shortvec := func(b []byte) (int, int) {
		v, s := 0, 0
		for i := 0; i < 3 && i < len(b); i++ {
			v |= int(b[i]&0x7f) << s
			s += 7
			if b[i]&0x80 == 0 {
				return v, i + 1
			}
		}
		return -1, 0
	}
	ns, off := shortvec(b)
	if ns <= 0 || len(b) < off+64*ns+3 {
		return nil, nil, nil, blockhash, "signatures"
	}
	for i := 0; i < ns; i++ {
		sigs = append(sigs, b[off+64*i:off+64*i+64])
	}
	msg = b[off+64*ns:]
	if msg[0]&0x80 != 0 || int(msg[0]) != ns {
		return nil, nil, nil, blockhash, "header does not match the signature count"
	}
	nk, o := shortvec(msg[3:])
	start := 3 + o
	if nk < ns || len(msg) < start+32*nk+32 {
		return nil, nil, nil, blockhash, "account keys"
	}
	for i := 0; i < nk; i++ {
		var k [32]byte
		copy(k[:], msg[start+32*i:])
		keys = append(keys, k)
	}
	copy(blockhash[:], msg[start+32*nk:])
	return sigs, msg, keys, blockhash, ""
}
