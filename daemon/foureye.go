package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// pendingIDPattern is what a Tatum pending transaction id looks like: a
// MongoDB ObjectId, 24 lower-case hex digits. Upper case is refused too:
// ObjectIds parse case-insensitively, so "ABC…" could name the same
// transaction under a key the journal has not seen.
var pendingIDPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

// ErrBadPendingID is wrapped by ValidatePendingID.
var ErrBadPendingID = errors.New("pending transaction id is not a Tatum id")

// ValidatePendingID refuses an id outside Tatum's charset: an id is data and
// must never be able to change a URL path or a journal key.
func ValidatePendingID(id string) error {
	if !pendingIDPattern.MatchString(id) {
		return fmt.Errorf("%w (want 24 lower-case hex digits, got %q); refusing to sign it", ErrBadPendingID, clip(id, 64))
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// FourEye is the four-eye approver: before a transaction is signed, GET (or
// POST, with the pending transaction as JSON) {URL}/{escaped id} must answer
// 2xx, directly. A redirect (any 3xx), any other status, a timeout, a reset
// or an unreadable body is a refusal: an approvals service behind a sign-in
// proxy that redirects an unauthenticated check to a 200 login page must not
// count as approval.
type FourEye struct {
	URL    string // base URL, no trailing slash
	Method string // GET or POST
	Client *http.Client
}

// maxApprovalBody bounds what is read of an approval answer.
const maxApprovalBody = 64 << 10

// NewFourEye checks the URL and method and returns the approver. hc may be
// nil (10 s timeout); its redirect policy is replaced: redirects are never
// followed.
func NewFourEye(rawURL, method string, hc *http.Client) (*FourEye, error) {
	rawURL = strings.TrimRight(strings.TrimSpace(rawURL), "/")
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--externalUrl %q: want an absolute http(s) URL, e.g. https://approvals.example.com/kms/approve", rawURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--externalUrl %q: must not have a query or fragment (the pending id is appended as a path segment)", rawURL)
	}
	method = strings.ToUpper(strings.TrimSpace(method))
	if method == "" {
		method = http.MethodGet
	}
	if method != http.MethodGet && method != http.MethodPost {
		return nil, fmt.Errorf("--externalUrlMethod %q: want GET or POST", method)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	if hc != nil {
		cp := *hc
		c = &cp
		if c.Timeout <= 0 {
			c.Timeout = 10 * time.Second
		}
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &FourEye{URL: rawURL, Method: method, Client: c}, nil
}

// Name implements Approver.
func (f *FourEye) Name() string { return "four-eye" }

// Approve implements Approver: it asks at StageRequest and passes other
// stages on.
func (f *FourEye) Approve(ctx context.Context, p *Proposal, next Next) error {
	if p.Stage != StageRequest {
		return next(ctx, p)
	}
	if err := f.check(ctx, p); err != nil {
		return err
	}
	return next(ctx, p)
}

func (f *FourEye) check(ctx context.Context, p *Proposal) error {
	id := p.Pending.ID
	if err := ValidatePendingID(id); err != nil {
		return &Refusal{Approver: f.Name(), Reason: "invalid pending id", Report: true, Err: err}
	}
	u := f.URL + "/" + url.PathEscape(id)
	var body io.Reader
	if f.Method == http.MethodPost {
		b, err := json.Marshal(p.Pending)
		if err != nil {
			return &Refusal{Approver: f.Name(), Reason: "encode the transaction", Err: err}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, f.Method, u, body)
	if err != nil {
		return &Refusal{Approver: f.Name(), Reason: "build the request", Err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return &Refusal{Approver: f.Name(), Reason: fmt.Sprintf("%s %s failed (no answer is no approval)", f.Method, u), Err: err}
	}
	defer resp.Body.Close()
	// Read the whole answer: a connection reset or a timeout in the middle
	// of it is no approval either.
	n, rerr := io.Copy(io.Discard, io.LimitReader(resp.Body, maxApprovalBody+1))
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return Refuse(f.Name(), false, "%s %s answered %s, a redirect (to %q): redirects are never followed, only a direct 2xx approves",
			f.Method, u, resp.Status, clip(resp.Header.Get("Location"), 200))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return Refuse(f.Name(), false, "%s %s answered %s; only 2xx approves", f.Method, u, resp.Status)
	case rerr != nil:
		return &Refusal{Approver: f.Name(), Reason: fmt.Sprintf("%s %s: reading the answer failed", f.Method, u), Err: rerr}
	case n > maxApprovalBody:
		return Refuse(f.Name(), false, "%s %s: answer larger than %d bytes", f.Method, u, maxApprovalBody)
	}
	return nil
}
