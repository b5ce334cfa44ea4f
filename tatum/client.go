package tatum

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

const (
	// DefaultBaseURL is Tatum's API; cmd lets TATUM_API_URL override it.
	DefaultBaseURL = "https://api.tatum.io"
	// CompatVersion is the tatum-kms release whose wire protocol gokms
	// speaks; the default x-ttm-kms-client-version.
	CompatVersion = "8.0.1"
	// MaxSignatureIDs is Tatum's limit of signatureIds per chain and API key.
	MaxSignatureIDs = 25_000

	DefaultTimeout       = 30 * time.Second
	DefaultRetries       = 3
	DefaultMinBackoff    = 250 * time.Millisecond
	DefaultMaxBackoff    = 8 * time.Second
	DefaultMaxRetryAfter = time.Minute

	// maxResponse bounds what is read of one response: a pending list of
	// 25,000 transactions with large serialized bodies stays well below.
	maxResponse = 64 << 20
)

// Options configures a Client. Zero values mean the documented defaults.
type Options struct {
	BaseURL    string // default DefaultBaseURL
	APIKey     string // sent as x-api-key; never logged nor put in an error
	HTTPClient *http.Client
	// Timeout bounds every single attempt (connect, send, read the answer).
	Timeout time.Duration // default DefaultTimeout
	// Retries is how many times a retryable failure is retried after the
	// first attempt: 0 means DefaultRetries, a negative value none.
	Retries int
	// MinBackoff and MaxBackoff bound the exponential backoff between
	// attempts (full jitter on the upper half).
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for; a
	// longer one fails the call at once (the daemon retries next cycle).
	MaxRetryAfter time.Duration
	Logger        *slog.Logger // default slog.Default()
	// ClientVersion is sent as x-ttm-kms-client-version and compared with
	// the x-ttm-kms-latest-version answer. Default CompatVersion.
	ClientVersion string
	UserAgent     string           // default ReadBuild().UserAgent()
	Now           func() time.Time // clock for the upgrade notice; default time.Now
}

// Client talks to the Tatum API. It is safe for concurrent use.
type Client struct {
	base    string // scheme://host[/prefix] without trailing slash
	baseErr error
	key     string
	hc      *http.Client
	timeout time.Duration
	retries int
	minB    time.Duration
	maxB    time.Duration
	maxRA   time.Duration
	log     *slog.Logger
	version string
	agent   string
	now     func() time.Time
	notice  *versionNotice
	sleep   func(context.Context, time.Duration) error
	jitter  func() float64
}

// New returns a Client. An invalid BaseURL is reported by every call.
func New(o Options) *Client {
	c := &Client{
		key:     o.APIKey,
		hc:      o.HTTPClient,
		timeout: o.Timeout,
		retries: o.Retries,
		minB:    o.MinBackoff,
		maxB:    o.MaxBackoff,
		maxRA:   o.MaxRetryAfter,
		log:     o.Logger,
		version: o.ClientVersion,
		agent:   o.UserAgent,
		now:     o.Now,
		sleep:   sleepCtx,
		jitter:  rand.Float64,
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	c.base, c.baseErr = normalizeBaseURL(o.BaseURL)
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 32 // the daemon calls concurrently
		c.hc = &http.Client{
			Transport: t,
			// A redirect would carry x-api-key to wherever it points:
			// refuse to follow and report the 3xx instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultRetries
	case c.retries < 0:
		c.retries = 0
	}
	if c.minB <= 0 {
		c.minB = DefaultMinBackoff
	}
	if c.maxB <= 0 {
		c.maxB = DefaultMaxBackoff
	}
	if c.maxB < c.minB {
		c.maxB = c.minB
	}
	if c.maxRA <= 0 {
		c.maxRA = DefaultMaxRetryAfter
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.version == "" {
		c.version = CompatVersion
	}
	if c.agent == "" {
		c.agent = ReadBuild().UserAgent()
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.notice = &versionNotice{current: c.version, now: c.now, log: c.log}
	return c
}

// ValidateBaseURL reports whether s can serve as the API base URL
// (http or https, a host, no query).
func ValidateBaseURL(s string) error {
	_, err := normalizeBaseURL(s)
	return err
}

func normalizeBaseURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("invalid Tatum API URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("invalid Tatum API URL %q: want http(s)://host[/path]", u.Redacted())
	}
	if u.User != nil {
		return "", fmt.Errorf("invalid Tatum API URL %q: credentials belong in the API key, not the URL", u.Redacted())
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// BaseURL returns the API base URL the client uses.
func (c *Client) BaseURL() string { return c.base }

// request describes one API call.
type request struct {
	method     string
	path       string // escaped path, e.g. /v3/kms/abc
	query      url.Values
	body       any
	idempotent bool // may be repeated after it reached the server
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// sentError marks a failure after a non-idempotent request may have been
// processed by the server: its outcome is unknown.
type sentError struct{ err error }

func (e *sentError) Error() string { return e.err.Error() }
func (e *sentError) Unwrap() error { return e.err }

// callResult is what call returns besides the response.
type callResult struct {
	// maybeDone is true when an earlier attempt may have been processed
	// by the server although it failed (sent, then timeout/reset/5xx).
	maybeDone bool
}

// call performs r with retries: transport failures, 429 and 5xx are retried
// with backoff when r is idempotent or when the request never left this
// process; 429 always (the server refused it unprocessed). A non-idempotent
// request that failed after it was sent returns a *sentError at once.
func (c *Client) call(ctx context.Context, r request) (*response, callResult, error) {
	var res callResult
	if c.baseErr != nil {
		return nil, res, c.baseErr
	}
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return nil, res, fmt.Errorf("tatum API %s %s: encode request: %w", r.method, r.path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		resp, sent, err := c.roundTrip(ctx, r, body)
		var last error
		var wait time.Duration
		switch {
		case err != nil:
			last = fmt.Errorf("tatum API %s %s: %w", r.method, r.path, err)
			if sent && !r.idempotent {
				return nil, res, &sentError{last}
			}
			if ctx.Err() != nil { // the caller gave up: no retry
				return nil, res, last
			}
			res.maybeDone = res.maybeDone || sent
		case resp.status >= 200 && resp.status < 300:
			return resp, res, nil
		default:
			apiErr := newAPIError(r.method, r.path, resp.status, resp.body, resp.header.Get("Retry-After"), c.key)
			last = apiErr
			switch {
			case resp.status == http.StatusTooManyRequests:
			case resp.status >= 500:
				if !r.idempotent {
					return nil, res, &sentError{apiErr}
				}
				res.maybeDone = true
			default:
				return nil, res, apiErr
			}
			if ra, ok := parseRetryAfter(apiErr.RetryAfter, c.now()); ok {
				if ra > c.maxRA {
					return nil, res, fmt.Errorf("%w (the server asks to retry after %s; giving up now)", apiErr, ra)
				}
				wait = ra
			}
		}
		if attempt >= c.retries {
			if attempt > 0 {
				return nil, res, fmt.Errorf("%w (gave up after %d attempts)", last, attempt+1)
			}
			return nil, res, last
		}
		d := max(c.backoff(attempt), wait)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			return nil, res, fmt.Errorf("%w (no time left to retry)", last)
		}
		c.log.Warn("tatum API call failed, retrying", "method", r.method, "path", r.path,
			"attempt", attempt+1, "retry_in", d.String(), "error", last.Error())
		if err := c.sleep(ctx, d); err != nil {
			return nil, res, last
		}
	}
}

// roundTrip performs one attempt. sent reports whether any of the request
// may have reached the server: false only when it provably never left
// (for example a refused connection or a DNS failure).
func (c *Client) roundTrip(ctx context.Context, r request, body []byte) (*response, bool, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var wrote atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		// Called once the request (or part of it) was written to a
		// connection; before that the server cannot have acted on it.
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	})
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, u, rd)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("x-api-key", c.key)
	req.Header.Set("x-ttm-kms-client-version", c.version)
	req.Header.Set("User-Agent", c.agent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	hr, err := c.hc.Do(req)
	if err != nil {
		return nil, wrote.Load(), err
	}
	defer hr.Body.Close()
	b, err := io.ReadAll(io.LimitReader(hr.Body, maxResponse+1))
	if err == nil && len(b) > maxResponse {
		err = fmt.Errorf("response larger than %d bytes", maxResponse)
	}
	c.log.Debug("tatum API call", "method", r.method, "path", r.path, "status", hr.StatusCode,
		"duration", time.Since(start).String())
	c.notice.observe(ctx, hr.Header.Get("x-ttm-kms-latest-version"))
	if err != nil {
		return nil, true, fmt.Errorf("read response (status %d): %w", hr.StatusCode, err)
	}
	return &response{status: hr.StatusCode, header: hr.Header, body: b}, true, nil
}

// backoff returns the delay before retry number attempt+1: exponential
// from MinBackoff, capped at MaxBackoff, jittered over its upper half.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.maxB
	if attempt < 30 {
		if e := c.minB << attempt; e > 0 && e < c.maxB {
			d = e
		}
	}
	return d/2 + time.Duration(c.jitter()*float64(d/2))
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// decode parses a 2xx body into out with a clear error for garbage.
func (c *Client) decode(r request, resp *response, out any) error {
	if err := json.Unmarshal(resp.body, out); err != nil {
		return fmt.Errorf("tatum API %s %s: malformed JSON in the %d answer: %v (body starts: %q)",
			r.method, r.path, resp.status, err, redact(excerpt(resp.body, 80), c.key))
	}
	return nil
}

func pathID(what, id string) (string, error) {
	if strings.TrimSpace(id) == "" {
		return "", fmt.Errorf("empty %s", what)
	}
	return url.PathEscape(id), nil
}

var errEmptyChain = errors.New("empty chain")
