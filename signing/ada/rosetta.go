package ada

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gokms/gokms/signing/internal/nodehttp"
)

// RosettaClient calls the Rosetta Construction API through Tatum's node
// gateway, POST {BaseURL}/v3/blockchain/node/{cardano-mainnet|cardano-preprod}/{endpoint},
// as @tatumio/api-client's nodeJsonPostRpcDriver does. tatum-kms puts the
// API key in that URL path; gokms sends it in the x-api-key header instead,
// so that it cannot end up in an error message or an access log.
type RosettaClient struct {
	BaseURL string       // e.g. https://api.tatum.io (TATUM_API_URL)
	APIKey  string       // Tatum API key
	Testnet bool         // cardano-preprod instead of cardano-mainnet
	HTTP    *http.Client // nil: http.DefaultClient
}

// RosettaError is a Rosetta Error object (code, message, retriable, details)
// or a non-2xx answer that is not one.
type RosettaError struct {
	Endpoint  string
	Status    int
	Code      int             `json:"code"`
	Message   string          `json:"message"`
	Retriable bool            `json:"retriable"`
	Details   json.RawMessage `json:"details,omitempty"`
}

func (e *RosettaError) Error() string {
	s := fmt.Sprintf("Cardano node %s: HTTP %d", e.Endpoint, e.Status)
	if e.Message != "" {
		s += fmt.Sprintf(": Rosetta error %d: %s", e.Code, e.Message)
	}
	if len(e.Details) > 0 && len(e.Details) < 512 {
		s += " " + string(e.Details)
	}
	if e.Retriable {
		s += " (retriable)"
	}
	return s
}

const maxAnswer = 4 << 20

// Call implements Node.
func (c *RosettaClient) Call(ctx context.Context, endpoint string, req, resp any) error {
	chain := "cardano-mainnet"
	if c.Testnet {
		chain = "cardano-preprod"
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("Cardano node %s: encode request: %w", endpoint, err)
	}
	u := strings.TrimRight(c.BaseURL, "/") + "/v3/blockchain/node/" + chain + "/" + endpoint
	if _, err := url.Parse(u); err != nil {
		return fmt.Errorf("Cardano node: bad base URL: %w", err)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("Cardano node %s: %w", endpoint, err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	if c.APIKey != "" {
		r.Header.Set("x-api-key", c.APIKey)
	}
	h := c.HTTP
	if h == nil {
		h = defaultHTTP
	}
	res, err := h.Do(r)
	if err != nil {
		return fmt.Errorf("Cardano node %s: %w", endpoint, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("Cardano node %s: read answer: %w", endpoint, err)
	}
	if len(b) > maxAnswer {
		return fmt.Errorf("Cardano node %s: answer larger than %d bytes", endpoint, maxAnswer)
	}
	if res.StatusCode/100 != 2 {
		e := &RosettaError{Endpoint: endpoint, Status: res.StatusCode}
		_ = json.Unmarshal(b, e)
		return e
	}
	if err := json.Unmarshal(b, resp); err != nil {
		return fmt.Errorf("Cardano node %s: answer is not the documented JSON: %w", endpoint, err)
	}
	return nil
}

// defaultHTTP is the client when none is configured (nodehttp: no
// redirects, idle connections kept).
var defaultHTTP = nodehttp.Client(0)
