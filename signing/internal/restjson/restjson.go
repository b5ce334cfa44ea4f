// Package restjson is the small HTTP JSON client the EGLD and VET signers
// use to ask a node for the values their SDKs fetch at signing time. Its
// errors never show the base URL's path or query, which often carry an API
// key (Tatum's EGLD gateway is /v3/egld/node/<api key>).
package restjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gokms/gokms/signing/internal/nodehttp"
)

// maxBody bounds what is read from a node: the answers are small.
const maxBody = 1 << 20

// Client talks to one base URL.
type Client struct {
	base   string // never shown
	shown  string // scheme://host
	secret []string
	HTTP   *http.Client
	Header http.Header // extra request headers, e.g. x-api-key
}

// New returns a client for base (an http or https URL). secrets are
// strings scrubbed from every error (an API key sent in a header).
func New(base string, hc *http.Client, secrets ...string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("node URL: want an absolute http:// or https:// URL")
	}
	if hc == nil {
		hc = nodehttp.Client(30 * time.Second)
	}
	var sec []string
	for _, s := range secrets {
		if s != "" {
			sec = append(sec, s)
		}
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		sec = append(sec, p)
	}
	if u.RawQuery != "" {
		sec = append(sec, u.RawQuery)
	}
	return &Client{base: strings.TrimRight(base, "/"), shown: u.Scheme + "://" + u.Host, secret: sec, HTTP: hc, Header: http.Header{}}, nil
}

// Shown is the base URL as errors show it (scheme and host only).
func (c *Client) Shown() string { return c.shown }

func (c *Client) scrub(s string) string {
	s = strings.ReplaceAll(s, c.base, c.shown+"/…")
	for _, x := range c.secret {
		s = strings.ReplaceAll(s, x, "…")
	}
	return s
}

// Get fetches base+path into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

// Post sends body (already JSON) to base+path and decodes the answer into out.
func (c *Client) Post(ctx context.Context, path string, body []byte, out any) error {
	return c.do(ctx, http.MethodPost, path, body, out)
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %s", method, path, c.scrub(err.Error()))
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s via %s: %s", method, path, c.shown, c.scrub(err.Error()))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("%s %s via %s: reading the answer: %s", method, path, c.shown, c.scrub(err.Error()))
	}
	if len(b) > maxBody {
		return fmt.Errorf("%s %s via %s: answer larger than %d bytes", method, path, c.shown, maxBody)
	}
	if resp.StatusCode/100 != 2 {
		snippet := strings.TrimSpace(string(b))
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		return fmt.Errorf("%s %s via %s: HTTP %d: %s", method, path, c.shown, resp.StatusCode, c.scrub(snippet))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s via %s: the answer is not the expected JSON: %v", method, path, c.shown, err)
	}
	return nil
}
