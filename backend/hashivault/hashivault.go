package hashivault

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/cliconfig"

	"github.com/gokms/gokms/backend"
)

// Defaults for the parts of the address that may be left out.
const (
	DefaultMount  = "secret"
	DefaultPrefix = "gokms/"
)

const (
	// formatVersion marks records written by this package, in both the data
	// and custom_metadata; its presence in custom_metadata also marks a Put
	// that completed its second write.
	formatVersion = "1"
	// listWorkers bounds the metadata reads List runs at once.
	listWorkers = 8
	// Vault's custom_metadata limit per value.
	maxMetaValue = 512
)

// Operation names used in errors.
const (
	opPut    = "store"
	opGet    = "read"
	opDelete = "delete"
	opList   = "list"
	opMount  = "look up mount of"
)

// Config configures New. The zero value talks to VAULT_ADDR with VAULT_TOKEN,
// at secret/gokms/, and is refused on mainnet only for an insecure transport.
type Config struct {
	// Client is the Vault client to use. Nil builds one from the environment
	// exactly as the Vault CLI does (api.DefaultConfig reads VAULT_ADDR,
	// VAULT_CACERT, VAULT_SKIP_VERIFY, ...; api.NewClient VAULT_TOKEN and
	// VAULT_NAMESPACE). The backend sets the client's token; give it a client
	// of its own.
	Client *api.Client
	// Path is "MOUNT/PREFIX"; empty means secret/gokms.
	Path string
	// Login logs in (approle.AppRoleAuth, kubernetes.KubernetesAuth, ...).
	// Nil uses the client's token, or the Vault CLI's token helper.
	Login api.AuthMethod
	// Testnet is the network gokms works on; on mainnet (false) an insecure
	// transport is refused unless AllowInsecure.
	Testnet       bool
	AllowInsecure bool
	// Logger receives diagnostics (never tokens or secrets). Nil discards.
	Logger *slog.Logger
}

// Backend is a backend.SecretBackend over a KV v2 mount. It is safe for
// concurrent use.
type Backend struct {
	c      *api.Client
	kv     *api.KVv2
	mount  string // without slashes, e.g. "secret" or "kv/team-a"
	prefix string // ends in "/", e.g. "gokms/"
	addr   string
	login  api.AuthMethod
	log    *slog.Logger

	authMu    sync.Mutex    // serialises logins
	gen       atomic.Uint64 // counts logins; a request retries only if no one logged in since it started
	logins    atomic.Int64
	ownToken  bool          // the token came from our login: revoke it on Close
	watchStop chan struct{} // stops the current token's watcher; guarded by authMu

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

var _ backend.SecretBackend = (*Backend)(nil)

// New connects to Vault, logs in if cfg.Login is set, checks that the path is
// on a KV version 2 mount and that the token is usable, and returns the
// backend.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	c := cfg.Client
	if c == nil {
		conf := api.DefaultConfig()
		if conf.Error != nil {
			return nil, fmt.Errorf("vault backend: read Vault environment: %w", conf.Error)
		}
		var err error
		if c, err = api.NewClient(conf); err != nil {
			return nil, fmt.Errorf("vault backend: %w", err)
		}
	}
	if err := checkTransport(c, cfg.Testnet || cfg.AllowInsecure); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Backend{c: c, addr: c.Address(), login: cfg.Login, log: log, stop: make(chan struct{})}

	if b.login != nil {
		if err := b.relogin(ctx, b.gen.Load()); err != nil {
			return nil, fmt.Errorf("vault backend: %w", err) // relogin's errors carry no prefix: requests add their own
		}
	} else {
		if c.Token() == "" {
			// As the Vault CLI: without VAULT_TOKEN, the token helper
			// (~/.vault-token, or the helper configured in ~/.vault).
			if h, err := cliconfig.DefaultTokenHelper(); err == nil {
				if tok, err := h.Get(); err == nil && tok != "" {
					c.SetToken(strings.TrimSpace(tok))
				}
			}
		}
		if c.Token() == "" {
			return nil, errors.New("vault backend: no Vault token: set VAULT_TOKEN, run `vault login`, " +
				"or log in with GOKMS_VAULT_AUTH=approle|kubernetes (see docs/vault.md)")
		}
		if err := b.watchStaticToken(ctx); err != nil {
			b.Close()
			return nil, err
		}
	}
	if err := b.findMount(ctx, cfg.Path); err != nil {
		b.Close()
		return nil, err
	}
	b.kv = c.KVv2(b.mount)
	return b, nil
}

// checkTransport refuses, unless allowed, to send the token unencrypted over
// a network or to a server whose certificate is not verified.
func checkTransport(c *api.Client, allow bool) error {
	if allow {
		return nil
	}
	u, err := url.Parse(c.Address())
	if err != nil {
		return fmt.Errorf("vault backend: bad Vault address: %w", err)
	}
	const force = "set GOKMS_VAULT_ALLOW_INSECURE=true to force it"
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("vault backend: refusing plain HTTP to %s on mainnet: the Vault token would cross the network unencrypted; use https (vault://) or %s", u.Host, force)
	}
	if u.Scheme == "https" {
		if tr, ok := c.CloneConfig().HttpClient.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil && tr.TLSClientConfig.InsecureSkipVerify {
			return fmt.Errorf("vault backend: VAULT_SKIP_VERIFY is set: refusing to talk to Vault without verifying its certificate on mainnet; set VAULT_CACERT instead, or %s", force)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// findMount resolves "MOUNT/PREFIX" into the mount and the prefix, using the
// endpoint the Vault CLI's kv commands use, and refuses anything but KV v2.
func (b *Backend) findMount(ctx context.Context, p string) error {
	p = strings.Trim(p, "/")
	if p == "" {
		p = DefaultMount
	}
	mount, version, kind := "", "", ""
	var s *api.Secret
	err := b.retryOnLogin(ctx, func() error {
		var err error
		s, err = b.c.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/"+p)
		return err
	})
	if err != nil {
		cerr := b.classify(ctx, opMount, p, err)
		if errors.Is(cerr, ErrPermissionDenied) {
			// The endpoint answers 403 both for "nothing mounted there" and
			// for "the policy grants nothing under that mount".
			return fmt.Errorf("vault backend: no secrets engine is mounted at %s, or the token's policy allows nothing under it (see docs/vault.md): %w", p, ErrPermissionDenied)
		}
		return cerr
	}
	switch {
	case s == nil || s.Data == nil:
		// Old servers without the endpoint: the first segment is the mount.
		return fmt.Errorf("vault backend: cannot find the secrets engine mounted at %s (sys/internal/ui/mounts answered nothing)", p)
	}
	mount, _ = s.Data["path"].(string)
	kind, _ = s.Data["type"].(string)
	if opts, ok := s.Data["options"].(map[string]interface{}); ok {
		version, _ = opts["version"].(string)
	}
	mount = strings.Trim(mount, "/")
	if mount == "" || (p != mount && !strings.HasPrefix(p, mount+"/")) {
		return fmt.Errorf("vault backend: no secrets engine is mounted at %s", p)
	}
	if kind != "kv" && kind != "generic" {
		return fmt.Errorf("vault backend: %s/ is a %q secrets engine, not KV version 2", mount, kind)
	}
	if version != "2" {
		return fmt.Errorf("vault backend: %s/ is a KV version 1 mount; gokms needs KV version 2 "+
			"(vault kv enable-versioning %s/, or mount a new one: vault secrets enable -path=%s kv-v2)", mount, mount, mount)
	}
	prefix := strings.Trim(strings.TrimPrefix(p, mount), "/")
	if prefix == "" {
		prefix = DefaultPrefix
	} else {
		prefix += "/"
	}
	b.mount, b.prefix = mount, prefix
	return nil
}

// Mount and Prefix report where the records live.
func (b *Backend) Mount() string  { return b.mount }
func (b *Backend) Prefix() string { return b.prefix }

func (b *Backend) secretPath(id string) string { return b.prefix + encodeID(id) }

func (b *Backend) dataPath(p string) string { return b.mount + "/data/" + p }
func (b *Backend) metaPath(p string) string { return b.mount + "/metadata/" + p }

// Put implements backend.SecretBackend. See the package doc for the two
// writes it makes and how an interrupted Put is completed.
func (b *Backend) Put(ctx context.Context, r backend.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("vault backend: %w", err)
	}
	for name, v := range map[string]string{"xpub": r.Xpub, "address": r.Address, "chain": r.Chain, "layout": r.Layout} {
		if len(v) > maxMetaValue {
			return fmt.Errorf("vault backend: record %s: %s is longer than Vault's %d-byte metadata limit", r.ID, name, maxMetaValue)
		}
	}
	if r.Created.IsZero() {
		r.Created = time.Now().UTC()
	}
	p := b.secretPath(r.ID)
	data := recordData(r)
	err := b.retryOnLogin(ctx, func() error {
		_, err := b.kv.Put(ctx, p, data, api.WithCheckAndSet(0))
		return err
	})
	if isCASMismatch(err) {
		return b.existing(ctx, r, p)
	}
	if hasStatus(err, 403) {
		// A policy with "create" but not "update" on the data path makes
		// Vault refuse a write to an existing key with 403 before it looks
		// at cas; tell that apart from a real refusal.
		if _, gerr := b.kv.GetMetadata(ctx, p); gerr == nil {
			return b.existing(ctx, r, p)
		}
	}
	if err != nil {
		return b.classify(ctx, opPut, b.dataPath(p), err)
	}
	if err := b.writeMeta(ctx, p, r.Meta()); err != nil {
		// Undo the first write so the failed Put leaves nothing behind.
		// If Vault cannot do that now (sealed, down), the record is whole in
		// its data and a repeated Put completes it (see existing).
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if derr := b.kv.DeleteMetadata(uctx, p); derr != nil {
			b.log.Warn("vault backend: a failed store left the record without its List metadata; storing it again completes it",
				"id", r.ID, "path", b.dataPath(p))
		}
		return err
	}
	return nil
}

// existing decides a Put that found the id taken: ErrExists, unless the
// stored record is the same record left incomplete by an interrupted Put,
// which is then completed.
func (b *Backend) existing(ctx context.Context, r backend.Record, p string) error {
	taken := fmt.Errorf("vault backend: signatureId %s: %w", r.ID, backend.ErrExists)
	cur, complete, err := b.read(ctx, r.ID, p)
	switch {
	case errors.Is(err, backend.ErrNotFound):
		// Its latest version was deleted by hand (vault kv delete), which
		// keeps the id taken, or it was deleted since the write was refused.
		return fmt.Errorf("vault backend: signatureId %s is taken by a deleted version at %s (an operator can free it with vault kv metadata delete), or was deleted concurrently: %w",
			r.ID, b.dataPath(p), backend.ErrExists)
	case err != nil:
		return err
	}
	defer cur.Zero()
	if complete || !sameRecord(cur, r) {
		return taken
	}
	return b.writeMeta(ctx, p, cur.Meta())
}

func sameRecord(a, b backend.Record) bool { return backend.Same(a, b) }

func (b *Backend) writeMeta(ctx context.Context, p string, m backend.Meta) error {
	body := map[string]interface{}{"custom_metadata": customMetadata(m)}
	err := b.retryOnLogin(ctx, func() error {
		_, err := b.c.Logical().WriteWithContext(ctx, b.metaPath(p), body)
		return err
	})
	if err != nil {
		return b.classify(ctx, opPut, b.metaPath(p), err)
	}
	return nil
}

// Get implements backend.SecretBackend.
func (b *Backend) Get(ctx context.Context, id string) (backend.Record, error) {
	if id == "" || len(id) > backend.MaxIDLen {
		return backend.Record{}, fmt.Errorf("vault backend: signatureId %.20q: %w", id, backend.ErrNotFound)
	}
	r, _, err := b.read(ctx, id, b.secretPath(id))
	return r, err
}

// read fetches one record with its secret; complete reports whether its
// custom_metadata was written.
func (b *Backend) read(ctx context.Context, id, p string) (backend.Record, bool, error) {
	var s *api.KVSecret
	err := b.retryOnLogin(ctx, func() error {
		var err error
		s, err = b.kv.Get(ctx, p)
		return err
	})
	switch {
	case errors.Is(err, api.ErrSecretNotFound):
		return backend.Record{}, false, fmt.Errorf("vault backend: signatureId %s: %w", id, backend.ErrNotFound)
	case err != nil:
		return backend.Record{}, false, b.classify(ctx, opGet, b.dataPath(p), err)
	case s.Data == nil:
		// The latest version was deleted (soft delete) or destroyed by hand.
		return backend.Record{}, false, fmt.Errorf("vault backend: signatureId %s: %w", id, backend.ErrNotFound)
	}
	r, err := parseData(s.Data)
	if err != nil {
		return backend.Record{}, false, fmt.Errorf("vault backend: %s: %w: %v", b.dataPath(p), backend.ErrCorrupt, err)
	}
	if r.ID != id {
		r.Zero()
		return backend.Record{}, false, fmt.Errorf("vault backend: %s holds signatureId %q, not %q: %w", b.dataPath(p), r.ID, id, backend.ErrCorrupt)
	}
	return r, s.CustomMetadata["gokms_format"] != nil, nil
}

// Delete implements backend.SecretBackend: it destroys every version.
func (b *Backend) Delete(ctx context.Context, id string) error {
	if id == "" || len(id) > backend.MaxIDLen {
		return fmt.Errorf("vault backend: signatureId %.20q: %w", id, backend.ErrNotFound)
	}
	p := b.secretPath(id)
	// Vault answers 204 to deleting a key that does not exist; read first
	// so a missing id is reported.
	var m *api.KVMetadata
	err := b.retryOnLogin(ctx, func() error {
		var err error
		m, err = b.kv.GetMetadata(ctx, p)
		return err
	})
	switch {
	case errors.Is(err, api.ErrSecretNotFound):
		return fmt.Errorf("vault backend: signatureId %s: %w", id, backend.ErrNotFound)
	case err != nil:
		return b.classify(ctx, opDelete, b.metaPath(p), err)
	case !live(m):
		return fmt.Errorf("vault backend: signatureId %s: %w", id, backend.ErrNotFound)
	}
	err = b.retryOnLogin(ctx, func() error { return b.kv.DeleteMetadata(ctx, p) })
	if err != nil {
		return b.classify(ctx, opDelete, b.metaPath(p), err)
	}
	return nil
}

// live reports whether the latest version of a secret can be read.
func live(m *api.KVMetadata) bool {
	if m == nil || m.CurrentVersion == 0 {
		return false
	}
	v, ok := m.Versions[strconv.Itoa(m.CurrentVersion)]
	return ok && !v.Destroyed && v.DeletionTime.IsZero()
}

// List implements backend.SecretBackend; see the package doc.
func (b *Backend) List(ctx context.Context) ([]backend.Meta, error) {
	dir := b.metaPath(b.prefix)
	var s *api.Secret
	err := b.retryOnLogin(ctx, func() error {
		var err error
		s, err = b.c.Logical().ListWithContext(ctx, dir)
		return err
	})
	if err != nil {
		return nil, b.classify(ctx, opList, dir, err)
	}
	var names []string
	if s != nil && s.Data != nil {
		keys, _ := s.Data["keys"].([]interface{})
		for _, k := range keys {
			name, _ := k.(string)
			if name == "" || strings.HasSuffix(name, "/") {
				continue // a folder: not ours
			}
			names = append(names, name)
		}
	}

	metas := make([]*backend.Meta, len(names))
	errs := make([]error, len(names))
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for w := 0; w < min(listWorkers, len(names)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(names) || ctx.Err() != nil {
					return
				}
				metas[i], errs[i] = b.listOne(ctx, names[i])
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("vault backend: list %s: %w", dir, err)
	}
	out := make([]backend.Meta, 0, len(names))
	for i := range names {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if metas[i] != nil {
			out = append(out, *metas[i])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// listOne reads one entry's metadata; nil means skip it.
func (b *Backend) listOne(ctx context.Context, name string) (*backend.Meta, error) {
	id, ok := decodeID(name)
	if !ok {
		b.log.Debug("vault backend: skipping a name that is not a gokms signatureId", "path", b.metaPath(b.prefix+name))
		return nil, nil
	}
	p := b.prefix + name
	var m *api.KVMetadata
	err := b.retryOnLogin(ctx, func() error {
		var err error
		m, err = b.kv.GetMetadata(ctx, p)
		return err
	})
	switch {
	case errors.Is(err, api.ErrSecretNotFound):
		return nil, nil // deleted since the LIST
	case err != nil:
		return nil, b.classify(ctx, opList, b.metaPath(p), err)
	case !live(m):
		return nil, nil
	}
	if m.CustomMetadata["gokms_format"] != nil {
		meta, err := parseCustomMetadata(id, m.CustomMetadata)
		if err != nil {
			return nil, fmt.Errorf("vault backend: %s: %w: %v", b.metaPath(p), backend.ErrCorrupt, err)
		}
		return &meta, nil
	}
	// A Put interrupted between its two writes: the data is whole.
	r, _, err := b.read(ctx, id, p)
	if errors.Is(err, backend.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.Zero()
	meta := r.Meta()
	return &meta, nil
}

// Close stops token renewal, revokes a token this backend logged in for, and
// forgets the token.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() {
		close(b.stop)
		b.authMu.Lock()
		if b.watchStop != nil {
			close(b.watchStop)
			b.watchStop = nil
		}
		own := b.ownToken
		b.authMu.Unlock()
		b.wg.Wait()
		if own && b.c.Token() != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := b.c.Auth().Token().RevokeSelfWithContext(ctx, ""); err != nil {
				b.log.Debug("vault backend: could not revoke the login token on close", "err", b.classify(ctx, "revoke", "auth/token/revoke-self", err))
			}
			cancel()
		}
		b.c.ClearToken()
	})
	return nil
}

// recordData is the KV data of a record: all of it. "extra_key" and
// "layout" are written only when set, so records without them are stored
// exactly as before they existed.
func recordData(r backend.Record) map[string]interface{} {
	d := map[string]interface{}{
		"gokms_format": formatVersion,
		"id":           r.ID,
		"kind":         string(r.Kind),
		"chain":        r.Chain,
		"testnet":      r.Testnet,
		"secret":       base64.StdEncoding.EncodeToString(r.Secret),
		"xpub":         r.Xpub,
		"address":      r.Address,
		"created":      r.Created.UTC().Format(time.RFC3339Nano),
	}
	if r.ExtraKey != nil {
		d["extra_key"] = base64.StdEncoding.EncodeToString(r.ExtraKey)
	}
	if r.Layout != "" {
		d["layout"] = r.Layout
	}
	return d
}

func customMetadata(m backend.Meta) map[string]interface{} {
	cm := map[string]interface{}{
		"gokms_format": formatVersion,
		"kind":         string(m.Kind),
		"chain":        m.Chain,
		"testnet":      strconv.FormatBool(m.Testnet),
		"created":      m.Created.UTC().Format(time.RFC3339Nano),
	}
	// The id is the secret's name (Vault refuses unprintable characters in
	// custom_metadata, which ids may contain). Vault refuses empty custom_metadata values: absent means empty.
	if m.Xpub != "" {
		cm["xpub"] = m.Xpub
	}
	if m.Address != "" {
		cm["address"] = m.Address
	}
	if m.Layout != "" {
		cm["layout"] = m.Layout
	}
	return cm
}

func str(m map[string]interface{}, k string) string { s, _ := m[k].(string); return s }

func parseData(d map[string]interface{}) (backend.Record, error) {
	if str(d, "gokms_format") != formatVersion {
		return backend.Record{}, fmt.Errorf("not a gokms record (format %q)", str(d, "gokms_format"))
	}
	var r backend.Record
	r.ID, r.Kind, r.Chain = str(d, "id"), backend.Kind(str(d, "kind")), str(d, "chain")
	r.Xpub, r.Address = str(d, "xpub"), str(d, "address")
	r.Testnet, _ = d["testnet"].(bool)
	created, err := time.Parse(time.RFC3339Nano, str(d, "created"))
	if err != nil {
		return backend.Record{}, errors.New("bad created time")
	}
	r.Created = created
	enc := str(d, "secret")
	r.Secret = make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	n, err := base64.StdEncoding.Decode(r.Secret, []byte(enc))
	if err != nil {
		r.Zero()
		return backend.Record{}, errors.New("secret is not valid base64") // never the decoder's message: it quotes input
	}
	r.Secret = r.Secret[:n]
	r.Layout = str(d, "layout")
	if enc, ok := d["extra_key"].(string); ok {
		r.ExtraKey = make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
		n, err := base64.StdEncoding.Decode(r.ExtraKey, []byte(enc))
		if err != nil {
			r.Zero()
			return backend.Record{}, errors.New("extra key is not valid base64")
		}
		r.ExtraKey = r.ExtraKey[:n]
	}
	if !r.Kind.Valid() || r.ID == "" || len(r.Secret) == 0 {
		r.Zero()
		return backend.Record{}, errors.New("record fields missing")
	}
	return r, nil
}

func parseCustomMetadata(id string, cm map[string]interface{}) (backend.Meta, error) {
	var m backend.Meta
	m.ID, m.Kind, m.Chain = id, backend.Kind(str(cm, "kind")), str(cm, "chain")
	m.Xpub, m.Address, m.Layout = str(cm, "xpub"), str(cm, "address"), str(cm, "layout")
	var err error
	if m.Testnet, err = strconv.ParseBool(str(cm, "testnet")); err != nil {
		return m, errors.New("bad testnet flag")
	}
	if m.Created, err = time.Parse(time.RFC3339Nano, str(cm, "created")); err != nil {
		return m, errors.New("bad created time")
	}
	if !m.Kind.Valid() || m.Chain == "" {
		return m, errors.New("metadata fields missing")
	}
	return m, nil
}
