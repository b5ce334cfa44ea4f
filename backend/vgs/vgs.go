// Package vgs keeps gokms secrets in a VGS vault (tokenization): every
// record's secret is stored in VGS and revealed only when gokms needs it;
// gokms itself keeps no secret at rest.
//
// # Design
//
// Tatum hands out signatureIds before a secret reaches any backend (and a
// migration must keep them), so a signatureId cannot be the VGS alias itself.
// Instead each record is split in two:
//
//   - In VGS: one PERSISTENT value in UUID alias format, classified
//     ["gokms", <kind>], whose value is the JSON {"v":1,"id":<signatureId>,
//     "secret":<base64 secret>}. Binding the id into the stored value means a
//     tampered or mixed-up index can never make gokms sign with another
//     record's key: Get checks the revealed id.
//   - In a local index (a bbolt file, mode 0600, default
//     ~/.tatumrc/vgs-index.db, or ?index=/path in the address): signatureId ->
//     alias plus the non-secret metadata List returns (kind, chain, testnet,
//     xpub, address, created). Aliases are opaque; without the vault's access
//     credentials they reveal nothing. The index is opened per operation under
//     bbolt's file lock, so several gokms processes can share it.
//
// Put reserves nothing in the index until VGS has answered with an alias; a
// crash between the two leaves at most an orphaned alias in VGS, never a
// record without its secret. Delete removes the alias from VGS first, then the
// index entry.
//
// # Address
//
//	vgs://api.sandbox.verygoodvault.com?index=/var/lib/gokms/vgs-index.db
//	vgs://api.live.verygoodvault.com
//
// Always HTTPS. Credentials come from TATUM_KMS_VGS_USERNAME and
// TATUM_KMS_VGS_PASSWORD (the vault's access credentials, as tatum-kms uses
// them); a custom CA bundle from GOKMS_VGS_CACERT.
package vgs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterr "go.etcd.io/bbolt/errors"

	"github.com/gokms/gokms/backend"
)

// Options configure a Backend.
type Options struct {
	Client    *Client
	IndexPath string
	// LockTimeout bounds the wait for another process holding the index.
	LockTimeout time.Duration
}

// Backend implements backend.SecretBackend over VGS plus a local index.
type Backend struct {
	c           *Client
	indexPath   string
	lockTimeout time.Duration
	now         func() time.Time
}

var bucket = []byte("records")

// New returns a backend; it creates the index file (and its directory) if needed.
func New(opts Options) (*Backend, error) {
	if opts.Client == nil || opts.Client.BaseURL == "" {
		return nil, errors.New("vgs backend: no VGS client configured")
	}
	if opts.IndexPath == "" {
		return nil, errors.New("vgs backend: no index path")
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 30 * time.Second
	}
	b := &Backend{c: opts.Client, indexPath: opts.IndexPath, lockTimeout: opts.LockTimeout, now: time.Now}
	if err := os.MkdirAll(filepath.Dir(opts.IndexPath), 0o700); err != nil {
		return nil, fmt.Errorf("vgs backend: create index directory: %w", err)
	}
	if err := b.update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		return nil, err
	}
	return b, nil
}

type indexEntry struct {
	Alias   string       `json:"alias"`
	Kind    backend.Kind `json:"kind"`
	Chain   string       `json:"chain"`
	Testnet bool         `json:"testnet"`
	Xpub    string       `json:"xpub,omitempty"`
	Address string       `json:"address,omitempty"`
	Created time.Time    `json:"created"`
	Layout  string       `json:"layout,omitempty"` // added later; absent in older index entries
}

func (e indexEntry) meta(id string) backend.Meta {
	return backend.Meta{ID: id, Kind: e.Kind, Chain: e.Chain, Testnet: e.Testnet, Xpub: e.Xpub, Address: e.Address, Created: e.Created, Layout: e.Layout}
}

// storedValue is what an alias holds: every secret of the record.
// ExtraKey was added later; older values lack it and read as before.
type storedValue struct {
	V        int    `json:"v"`
	ID       string `json:"id"`
	Secret   string `json:"secret"`
	ExtraKey string `json:"extraKey,omitempty"`
}

func b64OrEmpty(b []byte) string {
	if b == nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

func (b *Backend) open(readOnly bool) (*bolt.DB, error) {
	db, err := bolt.Open(b.indexPath, 0o600, &bolt.Options{Timeout: b.lockTimeout, ReadOnly: readOnly})
	if errors.Is(err, bolterr.ErrTimeout) {
		return nil, fmt.Errorf("vgs index %s: %w", b.indexPath, backend.ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open vgs index %s: %w", b.indexPath, err)
	}
	return db, nil
}

func (b *Backend) view(fn func(*bolt.Tx) error) error {
	db, err := b.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(fn)
}

func (b *Backend) update(fn func(*bolt.Tx) error) error {
	db, err := b.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(fn)
}

func (b *Backend) lookup(id string) (indexEntry, error) {
	var e indexEntry
	err := b.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucket).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("vgs backend: signatureId %s: %w", id, backend.ErrNotFound)
		}
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("vgs index entry %s: %w", id, backend.ErrCorrupt)
		}
		return nil
	})
	return e, err
}

// Put implements backend.SecretBackend.
func (b *Backend) Put(ctx context.Context, r backend.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("vgs backend: %w", err)
	}
	if _, err := b.lookup(r.ID); err == nil {
		return fmt.Errorf("vgs backend: signatureId %s: %w", r.ID, backend.ErrExists)
	} else if !errors.Is(err, backend.ErrNotFound) {
		return err
	}
	value, err := json.Marshal(storedValue{V: 1, ID: r.ID, Secret: base64.StdEncoding.EncodeToString(r.Secret), ExtraKey: b64OrEmpty(r.ExtraKey)})
	if err != nil {
		return err
	}
	alias, err := b.c.CreateAlias(ctx, string(value), []string{"gokms", string(r.Kind)})
	clear(value)
	if err != nil {
		return fmt.Errorf("vgs backend: store %s: %w", r.ID, err)
	}
	created := r.Created
	if created.IsZero() {
		created = b.now().UTC()
	}
	entry, err := json.Marshal(indexEntry{Alias: alias, Kind: r.Kind, Chain: r.Chain, Testnet: r.Testnet, Xpub: r.Xpub, Address: r.Address, Created: created, Layout: r.Layout})
	if err != nil {
		return err
	}
	err = b.update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucket)
		if bk.Get([]byte(r.ID)) != nil { // another process won the race
			return fmt.Errorf("vgs backend: signatureId %s: %w", r.ID, backend.ErrExists)
		}
		return bk.Put([]byte(r.ID), entry)
	})
	if err != nil {
		// Do not leave the secret in VGS unreferenced.
		if derr := b.c.DeleteAlias(context.WithoutCancel(ctx), alias); derr != nil {
			return fmt.Errorf("%w (and removing the new alias failed: %v)", err, derr)
		}
		return err
	}
	return nil
}

// Get implements backend.SecretBackend.
func (b *Backend) Get(ctx context.Context, id string) (backend.Record, error) {
	e, err := b.lookup(id)
	if err != nil {
		return backend.Record{}, err
	}
	raw, err := b.c.Reveal(ctx, e.Alias)
	if err != nil {
		if errors.Is(err, ErrAliasNotFound) {
			return backend.Record{}, fmt.Errorf("vgs backend: signatureId %s is in the index but VGS no longer has its alias: %w", id, backend.ErrNotFound)
		}
		return backend.Record{}, fmt.Errorf("vgs backend: get %s: %w", id, err)
	}
	var v storedValue
	err = json.Unmarshal([]byte(raw), &v)
	if err != nil || v.V != 1 {
		return backend.Record{}, fmt.Errorf("vgs backend: value of %s is not a gokms record: %w", id, backend.ErrCorrupt)
	}
	if v.ID != id {
		return backend.Record{}, fmt.Errorf("vgs backend: alias of %s holds the record of another signatureId (index tampered with?): %w", id, backend.ErrCorrupt)
	}
	secret, err := base64.StdEncoding.DecodeString(v.Secret)
	if err != nil {
		return backend.Record{}, fmt.Errorf("vgs backend: value of %s: %w", id, backend.ErrCorrupt)
	}
	var extra []byte
	if v.ExtraKey != "" {
		if extra, err = base64.StdEncoding.DecodeString(v.ExtraKey); err != nil {
			clear(secret)
			return backend.Record{}, fmt.Errorf("vgs backend: value of %s: %w", id, backend.ErrCorrupt)
		}
	}
	return backend.Record{ID: id, Kind: e.Kind, Chain: e.Chain, Testnet: e.Testnet, Secret: secret,
		Xpub: e.Xpub, Address: e.Address, Created: e.Created, ExtraKey: extra, Layout: e.Layout}, nil
}

// Delete implements backend.SecretBackend: the alias goes first, so a
// failure never leaves a secret in VGS that the index has forgotten.
func (b *Backend) Delete(ctx context.Context, id string) error {
	e, err := b.lookup(id)
	if err != nil {
		return err
	}
	if err := b.c.DeleteAlias(ctx, e.Alias); err != nil && !errors.Is(err, ErrAliasNotFound) {
		return fmt.Errorf("vgs backend: delete %s: %w", id, err)
	}
	return b.update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucket)
		if bk.Get([]byte(id)) == nil {
			return fmt.Errorf("vgs backend: signatureId %s: %w", id, backend.ErrNotFound)
		}
		return bk.Delete([]byte(id))
	})
}

// List implements backend.SecretBackend from the index alone.
func (b *Backend) List(context.Context) ([]backend.Meta, error) {
	var l []backend.Meta
	err := b.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			var e indexEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("vgs index entry %s: %w", k, backend.ErrCorrupt)
			}
			l = append(l, e.meta(string(k)))
			return nil
		})
	})
	sort.Slice(l, func(i, j int) bool { return l[i].ID < l[j].ID })
	return l, err
}

// Close implements backend.SecretBackend. Nothing is held between operations.
func (b *Backend) Close() error { return nil }

// NewClientFromEnv builds a client from the tatum-kms environment variables.
func NewClientFromEnv(baseURL string, getenv func(string) string) (*Client, error) {
	user, pass := getenv("TATUM_KMS_VGS_USERNAME"), getenv("TATUM_KMS_VGS_PASSWORD")
	if user == "" || pass == "" {
		return nil, errors.New("VGS credentials missing: set TATUM_KMS_VGS_USERNAME and TATUM_KMS_VGS_PASSWORD")
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if ca := getenv("GOKMS_VGS_CACERT"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("read GOKMS_VGS_CACERT: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("GOKMS_VGS_CACERT %s holds no PEM certificate", ca)
		}
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	return &Client{BaseURL: baseURL, Username: user, Password: pass, HTTP: hc, Retries: 4}, nil
}

// Driver is VGS for a backend.Registry.
func Driver() backend.Driver {
	return backend.Driver{Schemes: []string{"vgs"}, Open: openAddress,
		About: "vgs://api.live.verygoodvault.com: VGS aliases + local index"}
}

func openAddress(ctx context.Context, u *url.URL, cfg backend.OpenConfig) (backend.SecretBackend, error) {
	if u.Host == "" {
		return nil, errors.New("vgs backend address needs a host, e.g. vgs://api.sandbox.verygoodvault.com")
	}
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	c, err := NewClientFromEnv("https://"+u.Host, getenv)
	if err != nil {
		return nil, fmt.Errorf("vgs backend: %w", err)
	}
	index := u.Query().Get("index")
	if index == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("vgs backend: no ?index= path and no home directory: %w", err)
		}
		index = filepath.Join(home, ".tatumrc", "vgs-index.db")
	}
	return New(Options{Client: c, IndexPath: index})
}
