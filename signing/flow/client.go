package flow

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gokms/gokms/signing/internal/nodehttp"
)

// Tatum is the part of Tatum's API that proposes and pays for Flow
// transactions.
type Tatum interface {
	// ProposalKey is GET /v3/flow/proposal/{isPayer}: Tatum's account and key.
	ProposalKey(ctx context.Context, isPayer bool) (Address, uint64, error)
	// SignWithKey is POST /v3/flow/sign {data, isPayer}: Tatum's signature
	// of a message (hex, domain tag included).
	SignWithKey(ctx context.Context, data string, isPayer bool) ([]byte, error)
	// Report is POST /v3/flow/broadcast {txData, signatureId, proposalKey}:
	// with a proposal key it releases that key; with a signatureId it
	// completes the pending transaction.
	Report(ctx context.Context, txID, signatureID string, proposalKey *uint64) error
}

// AccountKey is one key of a Flow account, as the access node reports it.
type AccountKey struct {
	PublicKey      string // hex, 128 characters for secp256k1 and P-256
	SigningAlgo    string // "ECDSA_secp256k1" or "ECDSA_P256"
	HashingAlgo    string // "SHA3_256" or "SHA2_256"
	SequenceNumber uint64
	Weight         uint64
	Revoked        bool
}

// AccessNode is the part of a Flow access node's REST API fcl uses.
type AccessNode interface {
	// ReferenceBlock is GET /v1/blocks?height=final: the block id fcl
	// resolves refBlock to.
	ReferenceBlock(ctx context.Context) ([32]byte, error)
	// AccountKey is GET /v1/accounts/{address}?block_height=sealed&expand=contracts,keys.
	AccountKey(ctx context.Context, a Address, keyID uint64) (AccountKey, error)
	// Send is POST /v1/transactions; it returns the id the node answers.
	Send(ctx context.Context, tx *Tx, payloadSigs, envelopeSigs []Sig) (string, error)
	// Result is GET /v1/transaction_results/{id}.
	Result(ctx context.Context, id string) (status string, errorMessage string, err error)
}

// HTTPError is a non-2xx answer.
type HTTPError struct {
	What    string
	Status  int
	Message string
}

func (e *HTTPError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("%s: HTTP %d: %s", e.What, e.Status, e.Message)
	}
	return fmt.Sprintf("%s: HTTP %d", e.What, e.Status)
}

const maxAnswer = 4 << 20

func call(ctx context.Context, h *http.Client, method, u, apiKey, what string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		body = bytes.NewReader(b)
	}
	r, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if in != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Accept", "application/json")
	if apiKey != "" {
		r.Header.Set("x-api-key", apiKey)
	}
	if h == nil {
		h = defaultHTTP
	}
	res, err := h.Do(r)
	if err != nil {
		// Not the URL: a node's may carry an access token in its path.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	if err != nil || len(b) > maxAnswer {
		return fmt.Errorf("%s: answer unreadable or larger than %d bytes", what, maxAnswer)
	}
	if res.StatusCode/100 != 2 {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		return &HTTPError{What: what, Status: res.StatusCode, Message: e.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: answer is not the documented JSON: %w", what, err)
	}
	return nil
}

// TatumClient implements Tatum over HTTP.
type TatumClient struct {
	BaseURL string // TATUM_API_URL, e.g. https://api.tatum.io
	APIKey  string
	HTTP    *http.Client
}

func (c *TatumClient) url(p string) string { return strings.TrimRight(c.BaseURL, "/") + p }

func (c *TatumClient) ProposalKey(ctx context.Context, isPayer bool) (Address, uint64, error) {
	var r struct {
		KeyID   *uint64 `json:"keyId"`
		Address string  `json:"address"`
	}
	what := "Tatum GET /v3/flow/proposal/" + strconv.FormatBool(isPayer)
	if err := call(ctx, c.HTTP, http.MethodGet, c.url("/v3/flow/proposal/"+strconv.FormatBool(isPayer)), c.APIKey, what, nil, &r); err != nil {
		return Address{}, 0, err
	}
	a, err := ParseAddress(r.Address)
	if err != nil || r.KeyID == nil {
		return Address{}, 0, fmt.Errorf("%s: answer has no address and keyId", what)
	}
	return a, *r.KeyID, nil
}

func (c *TatumClient) SignWithKey(ctx context.Context, data string, isPayer bool) ([]byte, error) {
	var r struct {
		Signature string `json:"signature"`
	}
	if err := call(ctx, c.HTTP, http.MethodPost, c.url("/v3/flow/sign"), c.APIKey, "Tatum POST /v3/flow/sign", map[string]any{"data": data, "isPayer": isPayer}, &r); err != nil {
		return nil, err
	}
	sig, err := hex.DecodeString(strings.TrimPrefix(r.Signature, "0x"))
	if err != nil || len(sig) != 64 {
		return nil, fmt.Errorf("Tatum POST /v3/flow/sign: signature is not 64 bytes of hex")
	}
	return sig, nil
}

func (c *TatumClient) Report(ctx context.Context, txID, signatureID string, proposalKey *uint64) error {
	body := map[string]any{"txData": txID}
	if signatureID != "" {
		body["signatureId"] = signatureID
	}
	if proposalKey != nil {
		body["proposalKey"] = *proposalKey
	}
	return call(ctx, c.HTTP, http.MethodPost, c.url("/v3/flow/broadcast"), c.APIKey, "Tatum POST /v3/flow/broadcast", body, nil)
}

// Access nodes fcl is pointed at by @tatumio/tatum.
const (
	MainnetAccessNode = "https://rest-mainnet.onflow.org"
	TestnetAccessNode = "https://rest-testnet.onflow.org"
)

// AccessClient implements AccessNode over the Flow REST API.
type AccessClient struct {
	BaseURL string
	HTTP    *http.Client
}

func (c *AccessClient) url(p string) string { return strings.TrimRight(c.BaseURL, "/") + p }

func (c *AccessClient) ReferenceBlock(ctx context.Context) ([32]byte, error) {
	var id [32]byte
	var r []struct {
		Header struct {
			ID string `json:"id"`
		} `json:"header"`
	}
	if err := call(ctx, c.HTTP, http.MethodGet, c.url("/v1/blocks?height=final"), "", "Flow access node GET /v1/blocks", nil, &r); err != nil {
		return id, err
	}
	if len(r) != 1 {
		return id, fmt.Errorf("Flow access node GET /v1/blocks: %d blocks, want 1", len(r))
	}
	b, err := hex.DecodeString(r[0].Header.ID)
	if err != nil || len(b) != 32 {
		return id, fmt.Errorf("Flow access node GET /v1/blocks: block id is not 32 bytes of hex")
	}
	copy(id[:], b)
	return id, nil
}

func (c *AccessClient) AccountKey(ctx context.Context, a Address, keyID uint64) (AccountKey, error) {
	var r struct {
		Keys []struct {
			Index          string `json:"index"`
			PublicKey      string `json:"public_key"`
			SigningAlgo    string `json:"signing_algorithm"`
			HashingAlgo    string `json:"hashing_algorithm"`
			SequenceNumber string `json:"sequence_number"`
			Weight         string `json:"weight"`
			Revoked        bool   `json:"revoked"`
		} `json:"keys"`
	}
	what := "Flow access node GET /v1/accounts/" + a.Hex()
	if err := call(ctx, c.HTTP, http.MethodGet, c.url("/v1/accounts/"+url.PathEscape(a.Hex())+"?block_height=sealed&expand=contracts,keys"), "", what, nil, &r); err != nil {
		return AccountKey{}, err
	}
	for _, k := range r.Keys {
		if k.Index != strconv.FormatUint(keyID, 10) {
			continue
		}
		seq, err1 := strconv.ParseUint(k.SequenceNumber, 10, 64)
		w, err2 := strconv.ParseUint(k.Weight, 10, 64)
		if err1 != nil || err2 != nil {
			return AccountKey{}, fmt.Errorf("%s: key %d has a bad sequence number or weight", what, keyID)
		}
		return AccountKey{PublicKey: strings.TrimPrefix(k.PublicKey, "0x"), SigningAlgo: k.SigningAlgo, HashingAlgo: k.HashingAlgo, SequenceNumber: seq, Weight: w, Revoked: k.Revoked}, nil
	}
	return AccountKey{}, fmt.Errorf("%s: the account has no key %d", what, keyID)
}

type restSig struct {
	Address   string `json:"address"`
	KeyIndex  string `json:"key_index"`
	Signature string `json:"signature"`
}

func restSigs(s []Sig) []restSig {
	out := make([]restSig, len(s))
	for i, x := range s {
		out[i] = restSig{x.Address.Hex(), strconv.FormatUint(x.KeyID, 10), base64.StdEncoding.EncodeToString(x.Sig)}
	}
	return out
}

// Send posts the transaction as @onflow/transport-http's sendTransaction
// builds its body.
func (c *AccessClient) Send(ctx context.Context, tx *Tx, payloadSigs, envelopeSigs []Sig) (string, error) {
	body := restBody(tx, payloadSigs, envelopeSigs)
	var r struct {
		ID string `json:"id"`
	}
	if err := call(ctx, c.HTTP, http.MethodPost, c.url("/v1/transactions"), "", "Flow access node POST /v1/transactions", body, &r); err != nil {
		return "", err
	}
	return r.ID, nil
}

func (c *AccessClient) Result(ctx context.Context, id string) (string, string, error) {
	var r struct {
		Status       string `json:"status"`
		ErrorMessage string `json:"error_message"`
	}
	if err := call(ctx, c.HTTP, http.MethodGet, c.url("/v1/transaction_results/"+url.PathEscape(id)), "", "Flow access node GET /v1/transaction_results", nil, &r); err != nil {
		return "", "", err
	}
	return r.Status, r.ErrorMessage, nil
}

// defaultHTTP is the client when none is configured (nodehttp: no
// redirects, idle connections kept).
var defaultHTTP = nodehttp.Client(0)
