package hashivault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/gokms/gokms/backend"
)

var (
	// ErrTokenInvalid means Vault rejected the token as expired or revoked
	// and no login method could replace it.
	ErrTokenInvalid = errors.New("vault token is expired or revoked")
	// ErrPermissionDenied means the token is valid but its policy does not
	// allow the request.
	ErrPermissionDenied = errors.New("vault permission denied")
	// ErrUnreachable means no HTTP response came back from Vault.
	ErrUnreachable = errors.New("vault unreachable")
)

// responseError returns the Vault API error inside err, if any.
func responseError(err error) (*api.ResponseError, bool) {
	var re *api.ResponseError
	ok := errors.As(err, &re)
	return re, ok
}

func hasStatus(err error, code int) bool {
	re, ok := responseError(err)
	return ok && re.StatusCode == code
}

func vaultSays(re *api.ResponseError, substr string) bool {
	for _, e := range re.Errors {
		if strings.Contains(strings.ToLower(e), substr) {
			return true
		}
	}
	return false
}

// isCASMismatch reports Vault's refusal of a cas=0 write to an existing key.
func isCASMismatch(err error) bool {
	re, ok := responseError(err)
	return ok && re.StatusCode == 400 && vaultSays(re, "check-and-set")
}

func isSealed(err error) bool {
	re, ok := responseError(err)
	return ok && re.StatusCode == 503 && vaultSays(re, "sealed")
}

// isTransport reports an error with no HTTP response: refused, reset, DNS,
// TLS handshake, timeout.
func isTransport(err error) bool {
	if _, ok := responseError(err); ok {
		return false
	}
	var ue *url.Error
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.As(err, &oe)
}

// capability names what a policy must grant for an operation, for the hint
// in permission errors.
func capability(op string) string {
	switch op {
	case opPut:
		return `"create" on the data path and "update" on the metadata path`
	case opGet:
		return `"read" on the data path`
	case opDelete:
		return `"read" and "delete" on the metadata path`
	case opList:
		return `"list" and "read" on the metadata path`
	case opMount:
		return `any capability on the prefix (for sys/internal/ui/mounts)`
	}
	return "access"
}

// classify turns an API error into a clear gokms error: what was being done,
// on which path, why it failed and what to do, wrapping a sentinel where one
// applies. It never includes the request (tokens travel in headers, secrets
// in bodies; neither is part of api.ResponseError or url.Error).
func (b *Backend) classify(ctx context.Context, op, path string, err error) error {
	where := fmt.Sprintf("vault backend: %s %s", op, path)
	if errors.Is(err, backend.ErrNotFound) || errors.Is(err, backend.ErrExists) || errors.Is(err, backend.ErrLocked) ||
		errors.Is(err, ErrTokenInvalid) || errors.Is(err, ErrPermissionDenied) || errors.Is(err, ErrUnreachable) {
		return fmt.Errorf("%s: %w", where, err)
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return fmt.Errorf("%s: %w", where, err)
	}
	re, ok := responseError(err)
	if !ok {
		if isTransport(err) {
			return fmt.Errorf("%s: Vault at %s is unreachable (%v): %w", where, b.addr, transportCause(err), ErrUnreachable)
		}
		return fmt.Errorf("%s: %w", where, err)
	}
	msg := vaultMessage(re)
	switch re.StatusCode {
	case 503:
		if vaultSays(re, "sealed") {
			return fmt.Errorf("%s: Vault at %s is sealed; unseal it (vault operator unseal) and retry: %w", where, b.addr, backend.ErrLocked)
		}
		return fmt.Errorf("%s: Vault at %s is unavailable (HTTP 503: %s)", where, b.addr, msg)
	case 403:
		if b.tokenRejected(ctx, re) {
			hint := "log in again (vault login) or set a fresh VAULT_TOKEN"
			if b.login != nil {
				hint = "logging in again did not help; check the auth method's credentials"
			}
			return fmt.Errorf("%s: %s: %w", where, hint, ErrTokenInvalid)
		}
		return fmt.Errorf("%s: the token's policy must grant %s under %s (see docs/vault.md): %w",
			where, capability(op), b.policyPath(), ErrPermissionDenied)
	case 404:
		return fmt.Errorf("%s: %w", where, backend.ErrNotFound)
	}
	return fmt.Errorf("%s: Vault answered HTTP %d: %s", where, re.StatusCode, msg)
}

// vaultMessage is Vault's error text on one line (it often sends
// multi-line "1 error occurred:\n\t* ..." texts).
func vaultMessage(re *api.ResponseError) string {
	var parts []string
	for _, e := range re.Errors {
		e = strings.Join(strings.Fields(e), " ")
		e = strings.TrimPrefix(e, "1 error occurred: * ")
		parts = append(parts, e)
	}
	return strings.Join(parts, "; ")
}

// transportCause strips the request URL from a url.Error (the path is
// already in the message) and keeps the network cause.
func transportCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// tokenRejected tells an expired/revoked token apart from a policy refusal:
// Vault answers 403 for both. Newer servers say "invalid token"; otherwise
// a token that cannot even look itself up (allowed by Vault's default
// policy) is not valid any more.
func (b *Backend) tokenRejected(ctx context.Context, re *api.ResponseError) bool {
	if vaultSays(re, "invalid token") || vaultSays(re, "token expired") {
		return true
	}
	_, err := b.c.Auth().Token().LookupSelfWithContext(ctx)
	return hasStatus(err, 403)
}

func (b *Backend) policyPath() string {
	return fmt.Sprintf("%s/data/%s* and %s/metadata/%s*", b.mount, b.prefix, b.mount, b.prefix)
}
