// Package nodehttp is the HTTP client the signers call chain nodes and
// Tatum's gateways with, when their configuration gives none.
package nodehttp

import (
	"errors"
	"net/http"
	"time"
)

// transport is shared by every default client, so that each node keeps
// its connections across signers.
var transport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// The daemon calls a node from every worker at once: with net/http's
	// default of 2 idle connections per host, each burst dialled new
	// connections and closed them again (a TLS handshake each to a remote
	// node).
	t.MaxIdleConnsPerHost = 64
	return t
}()

// ErrRedirect is what a node's redirect becomes.
var ErrRedirect = errors.New("the node answered with a redirect, which gokms does not follow (it would carry the request's x-api-key to wherever it points, and sign with that server's answers): configure the URL it redirects to, if it is yours")

// Client returns a client with the given timeout (0: none) that keeps
// idle connections for concurrent callers and follows no redirect.
func Client(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return ErrRedirect
		},
	}
}
