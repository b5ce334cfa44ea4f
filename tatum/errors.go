package tatum

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

// ErrAmbiguous means a broadcast may or may not have reached the blockchain:
// the request was sent, then the call failed (timeout, connection reset, 5xx,
// unreadable 2xx body), and a follow-up GET /v3/kms/{id} could not show a
// txId. Do not broadcast again now; leave the transaction for the next cycle,
// when Tatum's pending list tells the truth. Returned errors wrap it together
// with the underlying cause; test with errors.Is.
var ErrAmbiguous = errors.New("broadcast outcome unknown")

// ErrTooManySignatureIDs is returned by Pending, without calling the API,
// when more than MaxSignatureIDs ids are asked for one chain.
var ErrTooManySignatureIDs = errors.New("too many signatureIds")

// APIError is a non-2xx answer of the Tatum API, decoded from Tatum's error
// JSON {"statusCode":..,"errorCode":"..","message":"..","data":[..]}.
// Error() never contains the API key: Tatum echoes the key in some messages
// ("Unable to find valid subscription for '<key>'"), so the client redacts
// it from Message and Data before building the error.
type APIError struct {
	StatusCode int
	ErrorCode  string
	Message    string
	Data       json.RawMessage // Tatum's validation details, if any
	Method     string
	Path       string // request path without query, e.g. /v3/kms/pending/BTC
	RetryAfter string // the Retry-After header of a 429/503, if any
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tatum API %s %s: %d", e.Method, e.Path, e.StatusCode)
	if e.ErrorCode != "" {
		b.WriteString(" " + e.ErrorCode)
	} else if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if len(e.Data) > 0 && string(e.Data) != "null" {
		// Validation details may echo the whole request (txData included):
		// keep error strings, and so logs and batch reports, short.
		b.WriteString(" " + excerpt(e.Data, 300))
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		b.WriteString(" (the API key is missing, invalid or inactive: set TATUM_API_KEY or --apiKey)")
	case http.StatusForbidden:
		if IsAuthError(e) {
			b.WriteString(" (the API key may not be used for this: check your Tatum plan and key)")
		}
	}
	return b.String()
}

// IsAuthError reports whether err is the API refusing the API key: any 401,
// or a 403 about the subscription or credits rather than about the request.
func IsAuthError(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	if e.StatusCode == http.StatusUnauthorized {
		return true
	}
	if e.StatusCode != http.StatusForbidden {
		return false
	}
	c := strings.ToLower(e.ErrorCode)
	m := strings.ToLower(e.Message)
	return strings.HasPrefix(c, "subscription.") || strings.HasPrefix(c, "ip-address-key.") ||
		strings.Contains(c, "credit") || strings.Contains(m, "credits") || (c == "" && strings.Contains(m, "api key"))
}

// IsNotFound reports whether err is Tatum's answer for an unknown pending
// transaction id (403 kms.missing).
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.ErrorCode == "kms.missing" || e.StatusCode == http.StatusNotFound)
}

type errorBody struct {
	StatusCode int             `json:"statusCode"`
	ErrorCode  string          `json:"errorCode"`
	Message    json.RawMessage `json:"message"` // usually a string, sometimes an array (NestJS validation)
	Error      string          `json:"error"`   // NestJS default exceptions
	Data       json.RawMessage `json:"data"`
}

// newAPIError builds the error for a non-2xx response body, redacting the
// API key wherever the server echoed it.
func newAPIError(method, path string, status int, body []byte, retryAfter, apiKey string) *APIError {
	e := &APIError{StatusCode: status, Method: method, Path: path, RetryAfter: retryAfter}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil {
		e.ErrorCode = eb.ErrorCode
		var s string
		if json.Unmarshal(eb.Message, &s) == nil {
			e.Message = s
		} else if len(eb.Message) > 0 && string(eb.Message) != "null" {
			e.Message = string(eb.Message)
		}
		if e.Message == "" {
			e.Message = eb.Error
		}
		if len(eb.Data) > 0 && string(eb.Data) != "null" {
			e.Data = eb.Data
		}
	} else if len(body) > 0 {
		// A proxy's HTML page or plain text: keep a short printable excerpt.
		e.Message = "non-JSON response: " + excerpt(body, 200)
	}
	e.Message = redact(e.Message, apiKey)
	if len(e.Data) > 0 {
		e.Data = json.RawMessage(redact(string(e.Data), apiKey))
	}
	return e
}

// redact removes every occurrence of the API key from s.
func redact(s, key string) string {
	if key == "" || !strings.Contains(s, key) {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
}

// excerpt returns at most n bytes of b with control characters replaced,
// so a garbage body cannot break a log line or a terminal.
func excerpt(b []byte, n int) string {
	s := string(b)
	if len(s) > n {
		s = s[:n] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
}
