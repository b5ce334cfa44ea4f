// Package azure keeps gokms records in Azure Key Vault as secrets, through
// the official SDK (azsecrets) with azidentity authentication.
//
// # Mapping
//
// Each record is one secret named prefix + encoded signatureId (see
// names.go; default prefix "gokms-"). The value is the record as JSON
// (secret included), content type "application/vnd.gokms.record+json".
// Tags carry only non-secret metadata (signatureId, kind, chain, testnet,
// xpub, address), so List pages through secret *properties*
// (NewListSecretPropertiesPager) and never reads a secret value.
//
// # Writes
//
// Key Vault has no create-only write: SetSecret adds a version to an
// existing name. Put therefore checks first, and after writing lists the
// name's versions; if another writer got there first with different content,
// Put restores the first content as the current version and reports
// backend.ErrExists. Identical content (a re-run migration) is not a conflict.
//
// # Deletes and soft delete
//
// Vaults keep deleted secrets for their retention period. Delete deletes the
// secret and, with Options.Purge (--azure-purge, needs the purge permission),
// purges it. Storing a signatureId whose name is soft-deleted recovers the
// deleted secret when its content is identical, and otherwise fails with a
// clear error instead of Key Vault's bare 409.
//
// # Address and authentication
//
//	azure://myvault.vault.azure.net[?prefix=gokms-&purge=true&auth=default]
//
// or TATUM_KMS_AZURE_VAULTURL. auth is "default" (DefaultAzureCredential:
// environment, workload identity, managed identity, Azure CLI),
// "managed-identity" (AZURE_CLIENT_ID selects a user-assigned identity),
// "client-secret" (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) or
// "cli". Throttling (429 with Retry-After) and transient 5xx answers are
// retried by the SDK's retry policy.
package azure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/gokms/gokms/backend"
)

// ContentType marks secrets written by gokms.
const ContentType = "application/vnd.gokms.record+json"

// DefaultPrefix starts every secret name gokms writes.
const DefaultPrefix = "gokms-"

// Options configure a Backend.
type Options struct {
	VaultURL   string // https://myvault.vault.azure.net
	Credential azcore.TokenCredential
	Prefix     string // default DefaultPrefix
	Purge      bool   // purge after delete
	// ClientOptions go to azsecrets (transport, retry policy, and
	// DisableChallengeResourceVerification for a stand-in on loopback).
	ClientOptions *azsecrets.ClientOptions
}

// Backend implements backend.SecretBackend over Key Vault secrets.
type Backend struct {
	c      *azsecrets.Client
	prefix string
	purge  bool
	now    func() time.Time
}

// New returns a backend for one vault.
func New(opts Options) (*Backend, error) {
	if opts.VaultURL == "" {
		return nil, errors.New("azure backend: no vault URL")
	}
	if opts.Credential == nil {
		return nil, errors.New("azure backend: no credential")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if !validPrefix(opts.Prefix) {
		return nil, fmt.Errorf("azure backend: prefix %q may hold only letters, digits and '-'", opts.Prefix)
	}
	c, err := azsecrets.NewClient(opts.VaultURL, opts.Credential, opts.ClientOptions)
	if err != nil {
		return nil, fmt.Errorf("azure backend: %w", err)
	}
	return &Backend{c: c, prefix: strings.ToLower(opts.Prefix), purge: opts.Purge, now: time.Now}, nil
}

func validPrefix(p string) bool {
	for _, c := range p {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return len(p) < 64
}

// value is what a secret holds.
type value struct {
	V       int          `json:"v"`
	ID      string       `json:"id"`
	Kind    backend.Kind `json:"kind"`
	Chain   string       `json:"chain"`
	Testnet bool         `json:"testnet"`
	Secret  []byte       `json:"secret"`
	Xpub    string       `json:"xpub,omitempty"`
	Address string       `json:"address,omitempty"`
	Created time.Time    `json:"created"`
	// Added later; absent in older secrets, which read as before.
	ExtraKey []byte `json:"extraKey,omitempty"`
	Layout   string `json:"layout,omitempty"`
}

func tagsFor(r backend.Record) map[string]*string {
	t := map[string]*string{
		"signatureId": to(r.ID),
		"kind":        to(string(r.Kind)),
		"chain":       to(r.Chain),
		"testnet":     to(fmt.Sprint(r.Testnet)),
	}
	if r.Xpub != "" {
		t["xpub"] = to(r.Xpub)
	}
	if r.Address != "" {
		t["address"] = to(r.Address)
	}
	if r.Layout != "" {
		t["layout"] = to(r.Layout)
	}
	return t
}

func to(s string) *string { return &s }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func statusOf(err error) (int, string) {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode, re.ErrorCode
	}
	return 0, ""
}

// describe turns an SDK error into a short message without the response
// dump azcore includes (which never holds our secrets, but is noisy).
func describe(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		msg := fmt.Sprintf("Key Vault answered HTTP %d %s", re.StatusCode, re.ErrorCode)
		switch re.StatusCode {
		case http.StatusUnauthorized:
			msg += " (authentication failed: check the credential and tenant)"
		case http.StatusForbidden:
			msg += " (the identity lacks a Key Vault secrets permission or role for this operation)"
		case http.StatusTooManyRequests:
			msg += " (throttled; retries exhausted)"
		}
		return errors.New(msg)
	}
	return err
}

func (b *Backend) name(id string) (string, error) {
	n, err := secretName(b.prefix, id)
	if err != nil {
		return "", fmt.Errorf("azure backend: %w", err)
	}
	return n, nil
}

// Put implements backend.SecretBackend.
func (b *Backend) Put(ctx context.Context, r backend.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("azure backend: %w", err)
	}
	name, err := b.name(r.ID)
	if err != nil {
		return err
	}
	if r.Created.IsZero() {
		r.Created = b.now().UTC().Truncate(time.Second)
	}
	v := value{V: 1, ID: r.ID, Kind: r.Kind, Chain: r.Chain, Testnet: r.Testnet, Secret: r.Secret, Xpub: r.Xpub, Address: r.Address, Created: r.Created,
		ExtraKey: r.ExtraKey, Layout: r.Layout}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	defer clear(raw)

	existing, err := b.get(ctx, name, "")
	switch {
	case err == nil:
		existing.Zero()
		return fmt.Errorf("azure backend: signatureId %s: %w", r.ID, backend.ErrExists)
	case !errors.Is(err, backend.ErrNotFound):
		return fmt.Errorf("azure backend: store %s: %w", r.ID, err)
	}
	params := azsecrets.SetSecretParameters{Value: to(string(raw)), ContentType: to(ContentType), Tags: tagsFor(r)}
	_, err = b.c.SetSecret(ctx, name, params, nil)
	if code, _ := statusOf(err); code == http.StatusConflict {
		return b.putOverDeleted(ctx, name, r, raw, params)
	}
	if err != nil {
		return fmt.Errorf("azure backend: store %s: %w", r.ID, describe(err))
	}
	return b.settleRace(ctx, name, r.ID, raw)
}

// putOverDeleted handles a name in soft-delete retention.
func (b *Backend) putOverDeleted(ctx context.Context, name string, r backend.Record, raw []byte, params azsecrets.SetSecretParameters) error {
	d, err := b.c.GetDeletedSecret(ctx, name, nil)
	if err != nil {
		return fmt.Errorf("azure backend: store %s: the name is taken (HTTP 409) and the deleted secret cannot be read: %w", r.ID, describe(err))
	}
	if sameRecord(deref(d.Value), raw) {
		if _, err := b.c.RecoverDeletedSecret(ctx, name, nil); err != nil {
			return fmt.Errorf("azure backend: recover deleted secret for %s: %w", r.ID, describe(err))
		}
		return nil
	}
	if !b.purge {
		return fmt.Errorf("azure backend: store %s: a different, deleted record with this signatureId is in Key Vault's soft-delete retention; "+
			"recover it, or purge it (az keyvault secret purge --name %s, or run gokms with --azure-purge): %w", r.ID, name, backend.ErrExists)
	}
	if err := b.purgeName(ctx, name); err != nil {
		return fmt.Errorf("azure backend: store %s: %w", r.ID, err)
	}
	if _, err := b.c.SetSecret(ctx, name, params, nil); err != nil {
		return fmt.Errorf("azure backend: store %s: %w", r.ID, describe(err))
	}
	return b.settleRace(ctx, name, r.ID, raw)
}

// sameRecord compares stored JSON with ours ignoring Created, which a
// re-run sets anew.
func sameRecord(stored string, ours []byte) bool {
	var a, b value
	if json.Unmarshal([]byte(stored), &a) != nil || json.Unmarshal(ours, &b) != nil {
		return false
	}
	defer clear(a.Secret)
	defer clear(b.Secret)
	defer clear(a.ExtraKey)
	defer clear(b.ExtraKey)
	return backend.Same(a.record(), b.record())
}

// settleRace makes sure our SetSecret did not add a version on top of a
// record another writer created a moment earlier.
func (b *Backend) settleRace(ctx context.Context, name, id string, raw []byte) error {
	type ver struct {
		version string
		created time.Time
	}
	var vs []ver
	pager := b.c.NewListSecretPropertiesVersionsPager(name, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("azure backend: check versions of %s: %w", id, describe(err))
		}
		for _, p := range page.Value {
			if p.ID == nil || p.Attributes == nil || p.Attributes.Created == nil {
				continue
			}
			vs = append(vs, ver{p.ID.Version(), *p.Attributes.Created})
		}
	}
	if len(vs) <= 1 {
		return nil
	}
	sort.Slice(vs, func(i, j int) bool {
		if !vs[i].created.Equal(vs[j].created) {
			return vs[i].created.Before(vs[j].created)
		}
		return vs[i].version < vs[j].version
	})
	first, err := b.c.GetSecret(ctx, name, vs[0].version, nil)
	if err != nil {
		return fmt.Errorf("azure backend: check first version of %s: %w", id, describe(err))
	}
	if sameRecord(deref(first.Value), raw) {
		return nil
	}
	// Someone else's record came first: make it current again.
	_, err = b.c.SetSecret(ctx, name, azsecrets.SetSecretParameters{Value: first.Value, ContentType: first.ContentType, Tags: first.Tags}, nil)
	if err != nil {
		return fmt.Errorf("azure backend: signatureId %s was stored concurrently by another writer and restoring it failed: %w", id, describe(err))
	}
	return fmt.Errorf("azure backend: signatureId %s: %w (stored concurrently by another writer)", id, backend.ErrExists)
}

func (b *Backend) get(ctx context.Context, name, version string) (backend.Record, error) {
	resp, err := b.c.GetSecret(ctx, name, version, nil)
	if err != nil {
		if code, _ := statusOf(err); code == http.StatusNotFound {
			return backend.Record{}, backend.ErrNotFound
		}
		return backend.Record{}, describe(err)
	}
	if deref(resp.ContentType) != ContentType {
		return backend.Record{}, fmt.Errorf("secret %s was not written by gokms (content type %q): %w", name, deref(resp.ContentType), backend.ErrCorrupt)
	}
	var v value
	if err := json.Unmarshal([]byte(deref(resp.Value)), &v); err != nil || v.V != 1 {
		return backend.Record{}, fmt.Errorf("secret %s does not hold a gokms record: %w", name, backend.ErrCorrupt)
	}
	return v.record(), nil
}

func (v value) record() backend.Record {
	return backend.Record{ID: v.ID, Kind: v.Kind, Chain: v.Chain, Testnet: v.Testnet, Secret: v.Secret, Xpub: v.Xpub, Address: v.Address, Created: v.Created,
		ExtraKey: v.ExtraKey, Layout: v.Layout}
}

// Get implements backend.SecretBackend.
func (b *Backend) Get(ctx context.Context, id string) (backend.Record, error) {
	name, err := b.name(id)
	if err != nil {
		return backend.Record{}, err
	}
	r, err := b.get(ctx, name, "")
	if err != nil {
		return backend.Record{}, fmt.Errorf("azure backend: signatureId %s: %w", id, err)
	}
	if r.ID != id {
		r.Zero()
		return backend.Record{}, fmt.Errorf("azure backend: secret %s holds the record of another signatureId: %w", name, backend.ErrCorrupt)
	}
	return r, nil
}

// Delete implements backend.SecretBackend.
func (b *Backend) Delete(ctx context.Context, id string) error {
	name, err := b.name(id)
	if err != nil {
		return err
	}
	if _, err := b.c.DeleteSecret(ctx, name, nil); err != nil {
		if code, _ := statusOf(err); code == http.StatusNotFound {
			return fmt.Errorf("azure backend: signatureId %s: %w", id, backend.ErrNotFound)
		}
		return fmt.Errorf("azure backend: delete %s: %w", id, describe(err))
	}
	if b.purge {
		if err := b.purgeName(ctx, name); err != nil {
			return fmt.Errorf("azure backend: %s was deleted but not purged: %w", id, err)
		}
	}
	return nil
}

// purgeName purges a deleted secret. Deletion completes asynchronously in
// Key Vault; until it does, purge answers 409 (or 404), so it is retried briefly.
func (b *Backend) purgeName(ctx context.Context, name string) error {
	delay := 250 * time.Millisecond
	for attempt := 0; ; attempt++ {
		_, err := b.c.PurgeDeletedSecret(ctx, name, nil)
		if err == nil {
			return nil
		}
		code, _ := statusOf(err)
		if (code != http.StatusConflict && code != http.StatusNotFound) || attempt >= 8 {
			return fmt.Errorf("purge deleted secret %s: %w", name, describe(err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 4*time.Second)
	}
}

// List implements backend.SecretBackend from secret properties alone.
func (b *Backend) List(ctx context.Context) ([]backend.Meta, error) {
	var l []backend.Meta
	pager := b.c.NewListSecretPropertiesPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("azure backend: list: %w", describe(err))
		}
		for _, p := range page.Value {
			if p.ID == nil || deref(p.ContentType) != ContentType {
				continue
			}
			name := p.ID.Name()
			id, ok := idFromName(b.prefix, name)
			if !ok || id != deref(p.Tags["signatureId"]) {
				continue // not ours, or tags edited by hand
			}
			if canonical, err := secretName(b.prefix, id); err != nil || !strings.EqualFold(canonical, name) {
				continue
			}
			m := backend.Meta{ID: id, Kind: backend.Kind(deref(p.Tags["kind"])), Chain: deref(p.Tags["chain"]),
				Testnet: deref(p.Tags["testnet"]) == "true", Xpub: deref(p.Tags["xpub"]), Address: deref(p.Tags["address"]), Layout: deref(p.Tags["layout"])}
			if p.Attributes != nil && p.Attributes.Created != nil {
				m.Created = p.Attributes.Created.UTC()
			}
			l = append(l, m)
		}
	}
	sort.Slice(l, func(i, j int) bool { return l[i].ID < l[j].ID })
	return l, nil
}

// Close implements backend.SecretBackend.
func (b *Backend) Close() error { return nil }

// Credential builds the credential named by auth.
func Credential(auth string) (azcore.TokenCredential, error) {
	switch auth {
	case "", "default":
		return azidentity.NewDefaultAzureCredential(nil)
	case "managed-identity":
		var o azidentity.ManagedIdentityCredentialOptions
		if id := os.Getenv("AZURE_CLIENT_ID"); id != "" {
			o.ID = azidentity.ClientID(id)
		}
		return azidentity.NewManagedIdentityCredential(&o)
	case "client-secret":
		t, c, s := os.Getenv("AZURE_TENANT_ID"), os.Getenv("AZURE_CLIENT_ID"), os.Getenv("AZURE_CLIENT_SECRET")
		if t == "" || c == "" || s == "" {
			return nil, errors.New("auth=client-secret needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET")
		}
		return azidentity.NewClientSecretCredential(t, c, s, nil)
	case "cli":
		return azidentity.NewAzureCLICredential(nil)
	}
	return nil, fmt.Errorf("unknown Azure auth %q (default, managed-identity, client-secret, cli)", auth)
}

// VaultURL turns a host ("myvault.vault.azure.net") or URL into the vault URL.
func VaultURL(s string) string {
	if strings.HasPrefix(s, "https://") {
		return strings.TrimRight(s, "/")
	}
	return "https://" + strings.TrimRight(s, "/")
}

// ReadSecret reads one plain secret (not a gokms record) from a Key Vault:
// what the --azure password source reads. cred nil means
// DefaultAzureCredential; version "" the latest.
func ReadSecret(ctx context.Context, vaultURL, name, version string, cred azcore.TokenCredential, opts *azsecrets.ClientOptions) ([]byte, error) {
	if cred == nil {
		var err error
		if cred, err = azidentity.NewDefaultAzureCredential(nil); err != nil {
			return nil, err
		}
	}
	c, err := azsecrets.NewClient(VaultURL(vaultURL), cred, opts)
	if err != nil {
		return nil, err
	}
	resp, err := c.GetSecret(ctx, name, version, nil)
	if err != nil {
		if code, _ := statusOf(err); code == http.StatusNotFound {
			return nil, fmt.Errorf("Azure Vault secret %s does not exist", name)
		}
		return nil, fmt.Errorf("read Azure Vault secret %s: %w", name, describe(err))
	}
	if deref(resp.Value) == "" {
		return nil, fmt.Errorf("Azure Vault secret %s is empty", name)
	}
	return []byte(*resp.Value), nil
}

// Driver is Azure Key Vault for a backend.Registry.
func Driver() backend.Driver {
	return backend.Driver{Schemes: []string{"azure"}, Open: openAddress,
		About: "azure://NAME.vault.azure.net: Azure Key Vault secrets"}
}

func openAddress(ctx context.Context, u *url.URL, cfg backend.OpenConfig) (backend.SecretBackend, error) {
	host := u.Host
	if host == "" {
		host = cfg.Env("TATUM_KMS_AZURE_VAULTURL")
	}
	if host == "" {
		return nil, errors.New("azure backend: give the vault as azure://NAME.vault.azure.net or TATUM_KMS_AZURE_VAULTURL")
	}
	q := u.Query()
	cred, err := Credential(q.Get("auth"))
	if err != nil {
		return nil, fmt.Errorf("azure backend: %w", err)
	}
	return New(Options{VaultURL: VaultURL(host), Credential: cred, Prefix: q.Get("prefix"), Purge: q.Get("purge") == "true"})
}
