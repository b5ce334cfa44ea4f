package hashivault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/gokms/gokms/backend"
)

// retryOnLogin runs fn; if Vault rejected the token as expired or revoked
// and the backend has a login method, it logs in once and runs fn again.
func (b *Backend) retryOnLogin(ctx context.Context, fn func() error) error {
	seen := b.gen.Load()
	err := fn()
	if err == nil || b.login == nil {
		return err
	}
	re, ok := responseError(err)
	if !ok || re.StatusCode != 403 {
		return err
	}
	if b.gen.Load() != seen {
		return fn() // another request logged in meanwhile: use its token
	}
	if !b.tokenRejected(ctx, re) {
		return err
	}
	b.log.Info("vault backend: token rejected as expired or revoked; logging in again")
	if lerr := b.relogin(ctx, seen); lerr != nil {
		return lerr
	}
	return fn()
}

// Logins reports how many times the backend has logged in (for tests and
// metrics).
func (b *Backend) Logins() int64 { return b.logins.Load() }

// relogin logs in and swaps the client's token, unless someone else logged
// in since seen (then their token is used). It starts a renewal watcher for
// the new token and stops the old one.
func (b *Backend) relogin(ctx context.Context, seen uint64) error {
	b.authMu.Lock()
	defer b.authMu.Unlock()
	if b.gen.Load() != seen {
		return nil
	}
	select {
	case <-b.stop:
		return errors.New("backend closed")
	default:
	}
	// Log in on a clone without the old token: Vault refuses some requests
	// that carry an invalid token, even to login endpoints. Headers are
	// cloned so VAULT_NAMESPACE still applies.
	lc, err := b.c.CloneWithHeaders()
	if err != nil {
		return err
	}
	lc.ClearToken()
	s, err := lc.Auth().Login(ctx, b.login)
	if err != nil {
		return b.loginError(ctx, err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return fmt.Errorf("log in to %s (%s): Vault returned no token", b.addr, methodName(b.login))
	}
	b.c.SetToken(s.Auth.ClientToken)
	b.ownToken = true
	b.logins.Add(1)
	gen := b.gen.Add(1)
	b.log.Info("vault backend: logged in", "method", methodName(b.login),
		"ttl", time.Duration(s.Auth.LeaseDuration)*time.Second, "renewable", s.Auth.Renewable)
	b.startWatcherLocked(s, gen)
	return nil
}

func (b *Backend) loginError(ctx context.Context, err error) error {
	where := fmt.Sprintf("log in to %s (%s)", b.addr, methodName(b.login))
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", where, ctx.Err())
	}
	if re, ok := responseError(err); ok {
		if isSealed(err) {
			return fmt.Errorf("%s: Vault is sealed; unseal it (vault operator unseal) and retry: %w", where, backend.ErrLocked)
		}
		// Vault's login errors name the cause ("invalid role or secret ID",
		// "permission denied") and never echo the credentials.
		return fmt.Errorf("%s: Vault answered HTTP %d: %s", where, re.StatusCode, vaultMessage(re))
	}
	if isTransport(err) {
		return fmt.Errorf("%s: Vault is unreachable (%v): %w", where, transportCause(err), ErrUnreachable)
	}
	return fmt.Errorf("%s: %w", where, err)
}

func methodName(m api.AuthMethod) string {
	if m == nil {
		return "token"
	}
	t := strings.ToLower(fmt.Sprintf("%T", m))
	switch {
	case strings.Contains(t, "approle"):
		return "approle"
	case strings.Contains(t, "kubernetes"):
		return "kubernetes"
	}
	return t
}

// watchStaticToken checks a given token and, if it is renewable, keeps it
// renewed.
func (b *Backend) watchStaticToken(ctx context.Context) error {
	s, err := b.c.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return b.classify(ctx, "look up the token with", "auth/token/lookup-self", err)
	}
	ttl, _ := s.TokenTTL()
	renewable, _ := s.TokenIsRenewable()
	if ttl == 0 {
		return nil // no expiry (root or periodic without TTL)
	}
	if !renewable {
		b.log.Warn("vault backend: the Vault token is not renewable; requests fail once it expires", "ttl", ttl)
		return nil
	}
	b.authMu.Lock()
	defer b.authMu.Unlock()
	b.startWatcherLocked(&api.Secret{Auth: &api.SecretAuth{
		ClientToken: b.c.Token(), Renewable: true, LeaseDuration: int(ttl / time.Second),
	}}, b.gen.Load())
	return nil
}

// startWatcherLocked renews the token of s until it cannot be renewed any
// more, then logs in again (if the backend can). authMu must be held.
func (b *Backend) startWatcherLocked(s *api.Secret, gen uint64) {
	if b.watchStop != nil {
		close(b.watchStop)
	}
	stop := make(chan struct{})
	b.watchStop = stop
	w, err := b.c.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: s})
	if err != nil {
		b.log.Warn("vault backend: cannot watch the token's lifetime", "err", err)
		return
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		go w.Start()
		defer w.Stop()
		for {
			select {
			case <-stop:
				return
			case <-b.stop:
				return
			case r := <-w.RenewCh():
				if r != nil && r.Secret != nil && r.Secret.Auth != nil {
					b.log.Debug("vault backend: token renewed", "ttl", time.Duration(r.Secret.Auth.LeaseDuration)*time.Second)
				}
			case err := <-w.DoneCh():
				if b.login == nil {
					b.log.Warn("vault backend: the Vault token cannot be renewed any more; requests fail once it expires",
						"err", errString(err))
					return
				}
				b.log.Info("vault backend: token reached the end of its renewals; logging in again")
				b.reloginUntilDone(stop, gen)
				return
			}
		}
	}()
}

// reloginUntilDone retries a background login with backoff until it
// succeeds, the backend closes, or a request logged in first.
func (b *Backend) reloginUntilDone(stop chan struct{}, gen uint64) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-b.stop:
		case <-stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	wait := time.Second
	for {
		err := b.relogin(ctx, gen)
		if err == nil || ctx.Err() != nil {
			return
		}
		b.log.Warn("vault backend: background login failed; retrying", "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, time.Minute)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
