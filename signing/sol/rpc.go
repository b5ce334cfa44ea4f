package sol

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/gokms/gokms/signing/internal/nodehttp"
)

// Node is what signing needs from a Solana node: a fresh blockhash before,
// and somewhere to send the signed transaction after. RPC implements it over
// Solana's JSON-RPC; tests inject fixed values.
type Node interface {
	LatestBlockhash(ctx context.Context) (Blockhash, error)
	SendTransaction(ctx context.Context, wire []byte) (signature string, err error)
}

// RPCError is a JSON-RPC error object from the node (for sendTransaction's
// preflight failures, Code is -32002 and Logs holds the program logs).
type RPCError struct {
	Method  string
	Code    int
	Message string
	Logs    []string
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("solana node: %s: error %d: %s", e.Method, e.Code, e.Message)
}

// RPC is a Solana JSON-RPC 2.0 client over HTTP. Its requests are the ones
// web3.js 1.56.2's Connection sends for @tatumio/solana's kms.sign:
// getLatestBlockhash [{"commitment":"finalized"}] and sendTransaction
// [base64, {"encoding":"base64","preflightCommitment":"confirmed"}].
type RPC struct {
	url    string
	header http.Header
	hc     *http.Client
	id     atomic.Uint64
}

// maxResponse bounds what the client reads from a node.
const maxResponse = 4 << 20

// NewRPC returns a client for the node at endpoint. header is sent with every
// request (for Tatum's gateway, {"x-api-key": key}); hc nil means
// http.DefaultClient. The endpoint may hold an API key in its path (as
// tatum-kms's default, TATUM_API_URL/v3/blockchain/node/SOL/<key>, does), so
// errors name only its scheme and host.
func NewRPC(endpoint string, header http.Header, hc *http.Client) (*RPC, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("solana node URL: want http(s)://host[:port][/path]")
	}
	if hc == nil {
		hc = nodehttp.Client(0)
	}
	return &RPC{url: endpoint, header: header.Clone(), hc: hc}, nil
}

func (c *RPC) where() string {
	u, _ := url.Parse(c.url)
	return u.Scheme + "://" + u.Host
}

// Call sends one JSON-RPC request and decodes its result into out.
func (c *RPC) Call(ctx context.Context, method string, params any, out any) error {
	id := c.id.Add(1)
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if err != nil {
		return fmt.Errorf("solana node: %s: encode request: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("solana node %s: %s: %w", c.where(), method, err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		// The transport's error quotes the URL, which may hold a key.
		if ctx.Err() != nil {
			return fmt.Errorf("solana node %s: %s: %w", c.where(), method, ctx.Err())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("solana node %s: %s: %v", c.where(), method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("solana node %s: %s: read response: %v", c.where(), method, err)
	}
	if len(b) > maxResponse {
		return fmt.Errorf("solana node %s: %s: response larger than %d bytes", c.where(), method, maxResponse)
	}
	var r struct {
		ID     *uint64         `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int             `json:"code"`
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("solana node %s: %s: HTTP %d: %s", c.where(), method, resp.StatusCode, snippet(b))
		}
		return fmt.Errorf("solana node %s: %s: not a JSON-RPC response: %s", c.where(), method, snippet(b))
	}
	if r.Error != nil {
		e := &RPCError{Method: method, Code: r.Error.Code, Message: r.Error.Message}
		var data struct {
			Logs []string `json:"logs"`
		}
		if json.Unmarshal(r.Error.Data, &data) == nil {
			e.Logs = data.Logs
		}
		return e
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("solana node %s: %s: HTTP %d: %s", c.where(), method, resp.StatusCode, snippet(b))
	}
	if r.ID == nil || *r.ID != id {
		return fmt.Errorf("solana node %s: %s: response id does not match the request's", c.where(), method)
	}
	if len(r.Result) == 0 || string(r.Result) == "null" {
		return fmt.Errorf("solana node %s: %s: empty result", c.where(), method)
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		return fmt.Errorf("solana node %s: %s: unexpected result: %v", c.where(), method, err)
	}
	return nil
}

func snippet(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// LatestBlockhash is getLatestBlockhash at "finalized", as web3.js asks.
func (c *RPC) LatestBlockhash(ctx context.Context) (Blockhash, error) {
	var r struct {
		Value struct {
			Blockhash            string  `json:"blockhash"`
			LastValidBlockHeight *uint64 `json:"lastValidBlockHeight"`
		} `json:"value"`
	}
	if err := c.Call(ctx, "getLatestBlockhash", []any{map[string]string{"commitment": "finalized"}}, &r); err != nil {
		return Blockhash{}, err
	}
	h := base58.Decode(r.Value.Blockhash)
	if len(h) != 32 || r.Value.LastValidBlockHeight == nil {
		return Blockhash{}, fmt.Errorf("solana node %s: getLatestBlockhash: want a base58 32-byte blockhash and lastValidBlockHeight", c.where())
	}
	return Blockhash{Hash: [32]byte(h), LastValidBlockHeight: *r.Value.LastValidBlockHeight}, nil
}

// SendTransaction is sendTransaction with base64 encoding and preflight at
// "confirmed" (web3.js's defaults for a "confirmed" Connection). It returns
// the signature the node reports.
func (c *RPC) SendTransaction(ctx context.Context, wire []byte) (string, error) {
	var sig string
	err := c.Call(ctx, "sendTransaction", []any{base64.StdEncoding.EncodeToString(wire), map[string]string{"encoding": "base64", "preflightCommitment": "confirmed"}}, &sig)
	return sig, err
}

// SignatureStatus is one entry of getSignatureStatuses.
type SignatureStatus struct {
	Slot               uint64          `json:"slot"`
	Confirmations      *uint64         `json:"confirmations"`
	Err                json.RawMessage `json:"err"`
	ConfirmationStatus string          `json:"confirmationStatus"`
}

// SignatureStatuses asks for the status of transactions (nil: the node does
// not know it), searching history, so that a daemon can tell after a
// restart whether a journaled transaction landed.
func (c *RPC) SignatureStatuses(ctx context.Context, sigs []string) ([]*SignatureStatus, error) {
	var r struct {
		Value []*SignatureStatus `json:"value"`
	}
	if err := c.Call(ctx, "getSignatureStatuses", []any{sigs, map[string]bool{"searchTransactionHistory": true}}, &r); err != nil {
		return nil, err
	}
	if len(r.Value) != len(sigs) {
		return nil, fmt.Errorf("solana node %s: getSignatureStatuses: %d statuses for %d signatures", c.where(), len(r.Value), len(sigs))
	}
	return r.Value, nil
}

// BlockHeight is getBlockHeight at "finalized": once it passes a
// transaction's LastValidBlockHeight, that transaction can never land.
func (c *RPC) BlockHeight(ctx context.Context) (uint64, error) {
	var h uint64
	err := c.Call(ctx, "getBlockHeight", []any{map[string]string{"commitment": "finalized"}}, &h)
	return h, err
}

// ErrSignatureMismatch means the node acknowledged a transaction under
// another signature than the one gokms signed: do not report it as sent.
var ErrSignatureMismatch = errors.New("solana node answered another signature than the transaction's")

// Send sends a signed transaction and checks that the node acknowledges it
// under its own id. On any error the transaction may or may not have reached
// the network: send the same Wire again (it cannot land twice), never a
// re-signed one, until BlockHeight passes LastValidBlockHeight.
func Send(ctx context.Context, node Node, s *Signed) error {
	sig, err := node.SendTransaction(ctx, s.Wire)
	if err != nil {
		return err
	}
	if sig != s.TxID {
		return fmt.Errorf("%w: sent %s, node says %.100q", ErrSignatureMismatch, s.TxID, sig)
	}
	return nil
}

// SignAndSend is the whole of tatum-kms's kms.sign, minus its wait for
// confirmation: a fresh blockhash, Sign, Send. A daemon that journals the
// signed transaction before it is sent (gokms's at-most-once rule) calls
// LatestBlockhash, Sign and Send itself instead.
func SignAndSend(ctx context.Context, node Node, serializedTransaction string, keys []ed25519.PrivateKey) (*Signed, error) {
	bh, err := node.LatestBlockhash(ctx)
	if err != nil {
		return nil, err
	}
	s, err := Sign(serializedTransaction, keys, bh)
	if err != nil {
		return nil, err
	}
	return s, Send(ctx, node, s)
}
