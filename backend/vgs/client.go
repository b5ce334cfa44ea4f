package vgs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Base URLs of the VGS vault HTTP API per environment.
const (
	SandboxURL = "https://api.sandbox.verygoodvault.com"
	LiveURL    = "https://api.live.verygoodvault.com"
)

// ErrUnauthorized means VGS rejected the vault access credentials (401/403).
var ErrUnauthorized = errors.New("VGS rejected the vault access credentials (check TATUM_KMS_VGS_USERNAME / TATUM_KMS_VGS_PASSWORD)")

// ErrAliasNotFound means VGS has no value for an alias (404).
var ErrAliasNotFound = errors.New("VGS has no value for this alias")

// Client speaks the aliases part of the VGS vault HTTP API.
type Client struct {
	BaseURL  string
	Username string
	Password string
	HTTP     *http.Client
	// Retries bounds retries of 429 and 5xx answers (and of network errors
	// for requests that change nothing).
	Retries int
	// Backoff is the first retry delay; it doubles, with jitter.
	Backoff time.Duration
}

// APIError is VGS's error answer: {"errors":[{"status","title","detail","href"}]}.
type APIError struct {
	Status int
	Title  string
	Detail string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("VGS API: HTTP %d", e.Status)
	if e.Title != "" {
		msg += " " + e.Title
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (e *APIError) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	case http.StatusNotFound:
		return ErrAliasNotFound
	}
	return nil
}

type aliasEntry struct {
	Alias  string `json:"alias"`
	Format string `json:"format"`
}

type revealedData struct {
	Value       string       `json:"value"`
	Classifiers []string     `json:"classifiers,omitempty"`
	Aliases     []aliasEntry `json:"aliases,omitempty"`
	CreatedAt   string       `json:"created_at,omitempty"`
	Storage     string       `json:"storage,omitempty"`
}

type createRequestItem struct {
	Value       string   `json:"value"`
	Classifiers []string `json:"classifiers,omitempty"`
	Format      string   `json:"format"`
	Storage     string   `json:"storage"`
}

// CreateAlias stores value persistently and returns its UUID-format alias.
func (c *Client) CreateAlias(ctx context.Context, value string, classifiers []string) (string, error) {
	body, err := json.Marshal(map[string]any{"data": []createRequestItem{{
		Value: value, Classifiers: classifiers, Format: "UUID", Storage: "PERSISTENT",
	}}})
	if err != nil {
		return "", err
	}
	// A create retried after a 5xx may leave an orphaned alias in the vault
	// (VGS has no idempotency key). That costs storage, never a secret on our
	// side, so it is retried like the rest.
	var out struct {
		Data []revealedData `json:"data"`
	}
	if err := c.do(ctx, http.MethodPost, "/aliases", body, true, &out); err != nil {
		return "", fmt.Errorf("create VGS alias: %w", err)
	}
	if len(out.Data) != 1 || len(out.Data[0].Aliases) == 0 || out.Data[0].Aliases[0].Alias == "" {
		return "", errors.New("create VGS alias: answer has no alias")
	}
	return out.Data[0].Aliases[0].Alias, nil
}

// Reveal returns the value stored under alias.
func (c *Client) Reveal(ctx context.Context, alias string) (string, error) {
	var out struct {
		Data []revealedData `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/aliases/"+url.PathEscape(alias), nil, true, &out); err != nil {
		return "", fmt.Errorf("reveal VGS alias %s: %w", alias, err)
	}
	if len(out.Data) == 0 {
		return "", fmt.Errorf("reveal VGS alias %s: %w", alias, ErrAliasNotFound)
	}
	return out.Data[0].Value, nil
}

// DeleteAlias removes alias from the vault.
func (c *Client) DeleteAlias(ctx context.Context, alias string) error {
	if err := c.do(ctx, http.MethodDelete, "/aliases/"+url.PathEscape(alias), nil, true, nil); err != nil {
		return fmt.Errorf("delete VGS alias %s: %w", alias, err)
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, retry bool, out any) error {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = 200 * time.Millisecond
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.SetBasicAuth(c.Username, c.Password)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := hc.Do(req)
		var wait time.Duration
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// url.Error carries the URL, never the credentials (basic auth is a header).
			err = fmt.Errorf("VGS unreachable: %w", err)
		} else {
			err = decode(resp, out)
			if err == nil {
				return nil
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || (apiErr.Status != http.StatusTooManyRequests && apiErr.Status < 500) {
				return err
			}
			wait = retryAfter(resp.Header.Get("Retry-After"))
		}
		if !retry || attempt >= c.Retries {
			return err
		}
		if wait == 0 {
			wait = backoff<<attempt + rand.N(backoff)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, time.Minute)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), time.Minute)
	}
	return 0
}

func decode(resp *http.Response, out any) error {
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read VGS answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		apiErr := &APIError{Status: resp.StatusCode}
		var e struct {
			Errors []struct {
				Status int    `json:"status"`
				Title  string `json:"title"`
				Detail string `json:"detail"`
			} `json:"errors"`
		}
		if json.Unmarshal(data, &e) == nil && len(e.Errors) > 0 {
			apiErr.Title, apiErr.Detail = e.Errors[0].Title, e.Errors[0].Detail
		} else {
			apiErr.Title = http.StatusText(resp.StatusCode)
		}
		return apiErr
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("VGS answer is not the expected JSON (HTTP %d): %w", resp.StatusCode, err)
	}
	return nil
}
