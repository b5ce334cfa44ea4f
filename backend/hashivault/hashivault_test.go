package hashivault

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/backendtest"
	"github.com/gokms/gokms/backend/hashivault/vaulttest"
)

// ---- tests that need no server ----

func TestEncodeID(t *testing.T) {
	ids := []string{"b8eb99cd-ba04-4031-a65f-11d6420ebdd1", "a/b", "a//b", "/leading", "trailing/", "..", ".",
		"with space", "ünïcødé-ключ", "%2F", "a%2Fb", "~", "~2F", "x?y=1&z#frag", "tab\tin", `quote"s'`, "*", "+", "A-B", "a_b"}
	seen := map[string]string{}
	for _, id := range ids {
		enc := encodeID(id)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; !keep(c) && c != '~' {
				t.Errorf("encodeID(%q) = %q contains %q", id, enc, c)
			}
		}
		if other, dup := seen[enc]; dup {
			t.Errorf("ids %q and %q both encode to %q", id, other, enc)
		}
		seen[enc] = id
		if dec, ok := decodeID(enc); !ok || dec != id {
			t.Errorf("decodeID(encodeID(%q)) = %q, %v", id, dec, ok)
		}
	}
	if encodeID("b8eb99cd-ba04-4031-a65f-11d6420ebdd1") != "b8eb99cd-ba04-4031-a65f-11d6420ebdd1" {
		t.Error("a Tatum UUID is not stored under its own name")
	}
	for _, bad := range []string{"", "~", "~2", "~2f", "~41", "a.b", "a/b", "~ZZ"} {
		if id, ok := decodeID(bad); ok {
			t.Errorf("decodeID(%q) accepted a non-canonical name as %q", bad, id)
		}
	}
}

func openCfg(env map[string]string, testnet bool) backend.OpenConfig {
	return backend.OpenConfig{Testnet: testnet, Getenv: func(k string) string { return env[k] }}
}

func TestConfigFromAddress(t *testing.T) {
	cases := []struct {
		addr, want, path string
	}{
		{"vault://vault.example:8200/secret/gokms", "https://vault.example:8200", "/secret/gokms"},
		{"vault://vault.example/kv/team/gokms", "https://vault.example:8200", "/kv/team/gokms"},
		{"vault+http://127.0.0.1:18200/secret", "http://127.0.0.1:18200", "/secret"},
		{"vault+http://[::1]/secret", "http://[::1]:8200", "/secret"},
	}
	for _, tc := range cases {
		u, err := backend.ParseAddress(tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := ConfigFromAddress(u, openCfg(nil, true))
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		if cfg.Client.Address() != tc.want || cfg.Path != tc.path || cfg.Login != nil {
			t.Errorf("%s: address %s path %s, want %s %s", tc.addr, cfg.Client.Address(), cfg.Path, tc.want, tc.path)
		}
	}
	// No host: VAULT_ADDR decides, as for the Vault CLI.
	t.Setenv("VAULT_ADDR", "https://from-env.example:8443")
	u, _ := backend.ParseAddress("vault:///secret/gokms")
	cfg, err := ConfigFromAddress(u, openCfg(nil, true))
	if err != nil || cfg.Client.Address() != "https://from-env.example:8443" {
		t.Fatalf("VAULT_ADDR not honoured: %v %v", cfg.Client, err)
	}
	for _, bad := range []string{"vault://h/secret?tls=false", "vault://h/secret#x"} {
		u, _ := backend.ParseAddress(bad)
		if _, err := ConfigFromAddress(u, openCfg(nil, true)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestAuthFromEnv(t *testing.T) {
	dir := t.TempDir()
	sidFile := filepath.Join(dir, "sid")
	if err := os.WriteFile(sidFile, []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	u, _ := backend.ParseAddress("vault+http://127.0.0.1:1/secret")
	good := []map[string]string{
		{},
		{EnvAuth: "token"},
		{EnvAuth: "approle", EnvRoleID: "r", EnvSecretIDFile: sidFile},
		{EnvAuth: "approle", EnvRoleID: "r", EnvSecretIDFile: sidFile, EnvSecretIDWrapped: "true", EnvAuthMount: "ar2"},
		{EnvAuth: "approle", EnvRoleID: "r", EnvSecretID: "s"},
		{EnvAuth: "kubernetes", EnvK8sRole: "gokms", EnvK8sTokenFile: sidFile},
	}
	for _, env := range good {
		if _, err := ConfigFromAddress(u, openCfg(env, true)); err != nil {
			t.Errorf("%v: %v", env, err)
		}
	}
	bad := map[string]map[string]string{
		EnvRoleID:       {EnvAuth: "approle", EnvSecretIDFile: sidFile},
		EnvSecretIDFile: {EnvAuth: "approle", EnvRoleID: "r"},
		"not both":      {EnvAuth: "approle", EnvRoleID: "r", EnvSecretIDFile: sidFile, EnvSecretID: "s"},
		EnvK8sRole:      {EnvAuth: "kubernetes"},
		"use token":     {EnvAuth: "userpass"},
		"true or false": {EnvAuth: "approle", EnvRoleID: "r", EnvSecretIDFile: sidFile, EnvSecretIDWrapped: "yes please"},
	}
	for want, env := range bad {
		_, err := ConfigFromAddress(u, openCfg(env, true))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v, want one mentioning %s", env, err, want)
		}
	}
}

// On mainnet, plain HTTP to another host and VAULT_SKIP_VERIFY are refused
// before anything is sent.
func TestInsecureTransportRefusedOnMainnet(t *testing.T) {
	ctx := context.Background()
	open := func(addr string, env map[string]string, testnet bool) error {
		u, err := backend.ParseAddress(addr)
		if err != nil {
			return err
		}
		b, err := Open(ctx, u, openCfg(env, testnet))
		if b != nil {
			b.Close()
		}
		return err
	}
	// Nothing listens at these addresses: an error that is not the refusal
	// shows the check passed and a connection was attempted.
	err := open("vault+http://192.0.2.1:8200/secret", nil, false)
	if err == nil || !strings.Contains(err.Error(), "refusing plain HTTP") {
		t.Fatalf("plain HTTP to a remote host on mainnet: %v", err)
	}
	t.Setenv("VAULT_MAX_RETRIES", "0")
	t.Setenv("VAULT_SKIP_VERIFY", "true")
	err = open("vault://127.0.0.1:1/secret", nil, false)
	if err == nil || !strings.Contains(err.Error(), "VAULT_SKIP_VERIFY") {
		t.Fatalf("VAULT_SKIP_VERIFY on mainnet: %v", err)
	}
	t.Setenv("VAULT_TOKEN", "hvs.not-a-real-token")
	for _, tc := range []struct {
		env     map[string]string
		testnet bool
	}{{nil, true}, {map[string]string{EnvAllowInsecure: "true"}, false}} {
		err = open("vault://127.0.0.1:1/secret", tc.env, tc.testnet)
		if err == nil || strings.Contains(err.Error(), "VAULT_SKIP_VERIFY") || !errors.Is(err, ErrUnreachable) {
			t.Fatalf("testnet=%v env=%v: %v", tc.testnet, tc.env, err)
		}
		if strings.Contains(err.Error(), "hvs.not-a-real-token") {
			t.Fatal("error contains the token")
		}
	}
}

// ---- tests against the dev server ----

var pathSeq atomic.Int64

// uniquePath returns a fresh prefix under secret/ for one test.
func uniquePath(name string) string {
	return fmt.Sprintf("secret/%s-%d-%s", name, pathSeq.Add(1), randHex(3))
}

func newBackend(t testing.TB, token, path string) *Backend {
	t.Helper()
	b, err := New(testCtx(t), Config{Client: dev.Client(token), Path: path})
	if err != nil {
		t.Fatalf("New(%s): %v", path, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestConformance(t *testing.T) {
	requireVault(t)
	backendtest.Run(t, func(t *testing.T) backend.SecretBackend {
		b, err := New(testCtx(t), Config{Client: dev.Client(dev.RootToken), Path: uniquePath("conformance")})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

// The registered opener: vault+http://host:port/mount/prefix with
// VAULT_TOKEN from the environment, as the CLI's --backend uses it.
func TestOpenThroughRegistry(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	u, _ := url.Parse(dev.Addr)
	path := uniquePath("registry")
	addr := "vault+http://" + u.Host + "/" + path
	if _, err := registry.Open(ctx, addr, openCfg(nil, false)); err == nil || !strings.Contains(err.Error(), "no Vault token") {
		t.Fatalf("Open without a token = %v", err)
	}
	t.Setenv("VAULT_TOKEN", dev.RootToken)
	sb, err := registry.Open(ctx, addr, openCfg(nil, false))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	b := sb.(*Backend)
	if b.Mount() != "secret" || b.Prefix() != strings.TrimPrefix(path, "secret/")+"/" {
		t.Fatalf("mount %q prefix %q", b.Mount(), b.Prefix())
	}
	r := testRecord("7c9a1e0e-4a8e-4c53-9e3c-2b0ad0c0b0aa", "secret words")
	if err := b.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	// The record is where the docs say, readable with plain Vault tools.
	s, err := dev.Client(dev.RootToken).KVv2("secret").Get(ctx, b.Prefix()+r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Data["chain"] != "ETH" || s.CustomMetadata["kind"] != "privateKey" || s.CustomMetadata["secret"] != nil {
		t.Fatalf("unexpected layout: custom_metadata %v", s.CustomMetadata)
	}
	for k, v := range s.CustomMetadata {
		if strings.Contains(fmt.Sprint(v), "secret words") {
			t.Fatalf("custom_metadata %s holds the secret", k)
		}
	}
	// Default path: secret/gokms/.
	d, err := registry.Open(ctx, "vault+http://"+u.Host, openCfg(nil, false))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.(*Backend); got.Mount() != DefaultMount || got.Prefix() != DefaultPrefix {
		t.Fatalf("defaults: %q %q", got.Mount(), got.Prefix())
	}
}

func testRecord(id, secret string) backend.Record {
	return backend.Record{ID: id, Kind: backend.PrivateKey, Chain: "ETH", Secret: []byte(secret), Address: "0x9858effd232b4033e47d90003d41ec34ecaeda94"}
}

func TestKVv1MountRefused(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	root := dev.Client(dev.RootToken)
	mount := "kv1-" + randHex(3)
	if err := root.Sys().MountWithContext(ctx, mount, &api.MountInput{Type: "kv", Options: map[string]string{"version": "1"}}); err != nil {
		t.Fatal(err)
	}
	_, err := New(ctx, Config{Client: dev.Client(dev.RootToken), Path: mount + "/gokms"})
	if err == nil || !strings.Contains(err.Error(), "KV version 1") || !strings.Contains(err.Error(), "enable-versioning") {
		t.Fatalf("New on a KV v1 mount = %v", err)
	}
	_, err = New(ctx, Config{Client: dev.Client(dev.RootToken), Path: "sys/gokms"})
	if err == nil || !strings.Contains(err.Error(), "not KV version 2") {
		t.Fatalf("New on sys/ = %v", err)
	}
	_, err = New(ctx, Config{Client: dev.Client(dev.RootToken), Path: "nothing-mounted-here/gokms"})
	if err == nil {
		t.Fatal("New on an unmounted path succeeded")
	}
	t.Logf("unmounted path: %v", err)
}

func TestUnreachable(t *testing.T) {
	requireVault(t)
	port, err := vaulttest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	c := dev.Client(dev.RootToken)
	if err := c.SetAddress(fmt.Sprintf("http://127.0.0.1:%d", port)); err != nil {
		t.Fatal(err)
	}
	_, err = New(testCtx(t), Config{Client: c})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Fatalf("New against a closed port = %v", err)
	}
	noToken(t, err, dev.RootToken)
	t.Logf("unreachable: %v", err)
}

func noToken(t *testing.T, err error, tokens ...string) {
	t.Helper()
	msg := fmt.Sprintf("%v %+v %#v", err, err, err)
	for _, tok := range tokens {
		if tok != "" && strings.Contains(msg, tok) {
			t.Fatalf("error contains a token or secret: %v", err)
		}
	}
}

func TestSoftDeletedByOperator(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	b := newBackend(t, dev.RootToken, uniquePath("softdel"))
	r := testRecord("soft", "s3cret")
	if err := b.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	// An operator runs `vault kv delete`: the latest version is soft-deleted.
	if err := dev.Client(dev.RootToken).KVv2("secret").Delete(ctx, b.Prefix()+"soft"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "soft"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Get of a soft-deleted record = %v", err)
	}
	if l, err := b.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("List shows a soft-deleted record: %v %v", l, err)
	}
	if err := b.Put(ctx, r); !errors.Is(err, backend.ErrExists) || !strings.Contains(err.Error(), "metadata delete") {
		t.Fatalf("Put over a soft-deleted record = %v", err)
	}
	if err := b.Delete(ctx, "soft"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Delete of a soft-deleted record = %v", err)
	}
}

// Delete destroys every version: nothing is left for `vault kv undelete`.
func TestDeleteDestroysAllVersions(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	b := newBackend(t, dev.RootToken, uniquePath("destroy"))
	if err := b.Put(ctx, testRecord("gone", "s3cret")); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	_, err := dev.Client(dev.RootToken).KVv2("secret").GetMetadata(ctx, b.Prefix()+"gone")
	if !errors.Is(err, api.ErrSecretNotFound) {
		t.Fatalf("metadata still present after Delete: %v", err)
	}
}

// A Put interrupted between its data write and its metadata write leaves a
// record that Get and List see whole, and that the same Put completes.
func TestInterruptedPutIsCompletedByRetry(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	b := newBackend(t, dev.RootToken, uniquePath("interrupted"))
	r := testRecord("half", "s3cret-half")
	r.Created = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	// The first write only, as Put makes it.
	if _, err := b.kv.Put(ctx, b.secretPath(r.ID), recordData(r), api.WithCheckAndSet(0)); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, "half")
	if err != nil || string(got.Secret) != "s3cret-half" || !got.Created.Equal(r.Created) {
		t.Fatalf("Get of an incomplete record: %v", err)
	}
	l, err := b.List(ctx)
	if err != nil || len(l) != 1 || !sameMeta(l[0], r.Meta()) {
		t.Fatalf("List of an incomplete record = %+v, %v", l, err)
	}
	other := r
	other.Secret = []byte("another secret")
	if err := b.Put(ctx, other); !errors.Is(err, backend.ErrExists) {
		t.Fatalf("Put of a different record over an incomplete one = %v", err)
	}
	again := r
	again.Created = time.Time{}
	if err := b.Put(ctx, again); err != nil {
		t.Fatalf("repeating the interrupted Put: %v", err)
	}
	m, err := b.kv.GetMetadata(ctx, b.secretPath(r.ID))
	if err != nil || m.CustomMetadata["gokms_format"] == nil || m.CustomMetadata["created"] != r.Created.Format(time.RFC3339Nano) {
		t.Fatalf("metadata not completed: %v %v", m, err)
	}
	if err := b.Put(ctx, again); !errors.Is(err, backend.ErrExists) {
		t.Fatalf("Put of a complete record = %v, want ErrExists", err)
	}
}

// Two backends (two gokms processes) with four writers each race for the
// same 60 ids: each id is stored exactly once, by one writer, and both see
// the same complete list.
func TestEightConcurrentWriters(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	path := uniquePath("writers")
	procs := []*Backend{newBackend(t, dev.RootToken, path), newBackend(t, dev.RootToken, path)}
	const writers, ids = 8, 60
	var wins [ids]atomic.Int32
	winner := make([]atomic.Int32, ids)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			b := procs[w%2]
			for k := 0; k < ids; k++ {
				i := (k + w*7) % ids // writers start at different ids, then collide
				r := testRecord(fmt.Sprintf("race-%02d", i), fmt.Sprintf("secret-of-writer-%d", w))
				switch err := b.Put(ctx, r); {
				case err == nil:
					wins[i].Add(1)
					winner[i].Store(int32(w))
				case errors.Is(err, backend.ErrExists):
				default:
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range wins {
		if n := wins[i].Load(); n != 1 {
			t.Fatalf("race-%02d was stored %d times", i, n)
		}
		got, err := procs[i%2].Get(ctx, fmt.Sprintf("race-%02d", i))
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("secret-of-writer-%d", winner[i].Load()); string(got.Secret) != want {
			t.Fatalf("race-%02d holds another writer's secret than the one told it won", i)
		}
	}
	l0, err := procs[0].List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l1, err := procs[1].List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l0) != ids || !reflect.DeepEqual(l0, l1) {
		t.Fatalf("lists differ or are incomplete: %d vs %d entries", len(l0), len(l1))
	}
}

// Sealing Vault while eight writers store records: every writer stops with
// a clear "sealed" error wrapping backend.ErrLocked; after unsealing, every
// acknowledged record is there and whole, no record is half-written, and
// repeating each refused Put succeeds.
func TestSealMidRun(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	root := dev.Client(dev.RootToken)
	b := newBackend(t, dev.RootToken, uniquePath("seal"))
	sealed := false
	t.Cleanup(func() {
		if sealed { // never leave the shared server sealed for other tests
			_, _ = root.Sys().UnsealWithContext(context.Background(), dev.UnsealKey)
		}
	})

	const writers, sealAfter = 8, 40
	var acked sync.Map // id -> record
	var refused sync.Map
	var nAcked atomic.Int32
	sealNow := make(chan struct{})
	var sealOnce sync.Once
	var wg sync.WaitGroup
	werrs := make([]error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				r := testRecord(fmt.Sprintf("seal-%d-%03d", w, i), fmt.Sprintf("secret-%d-%03d", w, i))
				if err := b.Put(ctx, r); err != nil {
					werrs[w] = err
					refused.Store(r.ID, r)
					return
				}
				acked.Store(r.ID, r)
				if nAcked.Add(1) == sealAfter {
					sealOnce.Do(func() { close(sealNow) })
				}
			}
		}(w)
	}
	<-sealNow
	if err := root.Sys().SealWithContext(ctx); err != nil {
		t.Fatalf("seal: %v", err)
	}
	sealed = true
	wg.Wait()
	for w, err := range werrs {
		if err == nil {
			t.Fatalf("writer %d stored 1000 records through a sealed Vault", w)
		}
		if !errors.Is(err, backend.ErrLocked) || !strings.Contains(err.Error(), "sealed") {
			t.Fatalf("writer %d: error %v, want a 'sealed' error wrapping ErrLocked", w, err)
		}
		noToken(t, err, dev.RootToken, dev.UnsealKey)
	}
	t.Logf("writer error: %v", werrs[0])
	// Reads and deletes say the same.
	var someID string
	acked.Range(func(k, _ any) bool { someID = k.(string); return false })
	if _, err := b.Get(ctx, someID); !errors.Is(err, backend.ErrLocked) {
		t.Fatalf("Get while sealed = %v", err)
	}
	if _, err := b.List(ctx); !errors.Is(err, backend.ErrLocked) {
		t.Fatalf("List while sealed = %v", err)
	}
	if err := b.Delete(ctx, someID); !errors.Is(err, backend.ErrLocked) {
		t.Fatalf("Delete while sealed = %v", err)
	}

	if _, err := root.Sys().UnsealWithContext(ctx, dev.UnsealKey); err != nil {
		t.Fatalf("unseal: %v", err)
	}
	if err := dev.WaitActive(ctx); err != nil {
		t.Fatal(err)
	}
	sealed = false
	waitKVReady(t, root, "secret")

	listed := map[string]backend.Meta{}
	l, err := b.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range l {
		listed[m.ID] = m
	}
	n := 0
	acked.Range(func(k, v any) bool {
		n++
		r := v.(backend.Record)
		got, err := b.Get(ctx, r.ID)
		if err != nil || string(got.Secret) != string(r.Secret) {
			t.Errorf("acknowledged record %s lost or changed: %v", r.ID, err)
		}
		if m, ok := listed[r.ID]; !ok || m.Kind != r.Kind || m.Chain != r.Chain || m.Address != r.Address {
			t.Errorf("acknowledged record %s missing from List or its metadata is wrong", r.ID)
		}
		return true
	})
	if n < sealAfter {
		t.Fatalf("only %d records acknowledged", n)
	}
	// Everything List shows is whole; a refused Put left nothing or a whole record.
	for id := range listed {
		got, err := b.Get(ctx, id)
		if err != nil {
			t.Fatalf("listed record %s cannot be read: %v", id, err)
		}
		if _, ok := acked.Load(id); !ok {
			rr, _ := refused.Load(id)
			if rr == nil || string(got.Secret) != string(rr.(backend.Record).Secret) {
				t.Fatalf("listed record %s was never stored by a writer", id)
			}
		}
	}
	refused.Range(func(k, v any) bool {
		if err := b.Put(ctx, v.(backend.Record)); err != nil {
			t.Errorf("repeating refused Put %s: %v", k, err)
		}
		return true
	})
	if l, err := b.List(ctx); err != nil || len(l) != n+writers {
		t.Fatalf("after retries List has %d entries (%v), want %d", len(l), err, n+writers)
	}
}

// A Vault restart (persistent storage): while it is down, requests fail
// with "unreachable"; once it is back but sealed, with "sealed"; once
// unsealed, the same backend object works again and nothing was lost.
func TestRestart(t *testing.T) {
	requireVault(t)
	srv, key := startFileServer(t, t.TempDir())
	ctx := testCtx(t)
	b, err := New(ctx, Config{Client: srv.Client(srv.RootToken), Path: "secret/gokms"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var want []string
	for i := 0; i < 20; i++ {
		r := testRecord(fmt.Sprintf("restart-%02d", i), fmt.Sprintf("secret-%02d", i))
		if err := b.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r.ID)
	}

	srv.Stop()
	if _, err := b.Get(ctx, "restart-00"); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), srv.Addr) {
		t.Fatalf("Get while Vault is down = %v", err)
	}
	if err := b.Put(ctx, testRecord("while-down", "x")); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Put while Vault is down = %v", err)
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitHTTP(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = b.Get(ctx, "restart-00")
	if !errors.Is(err, backend.ErrLocked) || !strings.Contains(err.Error(), "sealed") {
		t.Fatalf("Get from a restarted, sealed Vault = %v", err)
	}
	noToken(t, err, srv.RootToken, key)
	unseal(t, srv, key)
	waitKVReady(t, srv.Client(srv.RootToken), "secret")

	l, err := b.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range l {
		got = append(got, m.ID)
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after restart List = %v", got)
	}
	for i, id := range want {
		r, err := b.Get(ctx, id)
		if err != nil || string(r.Secret) != fmt.Sprintf("secret-%02d", i) {
			t.Fatalf("%s after restart: %v", id, err)
		}
	}
	if err := b.Put(ctx, testRecord("after-restart", "x")); err != nil {
		t.Fatalf("Put after restart: %v", err)
	}
}

// A fixed token that expires or is revoked gives ErrTokenInvalid, with a
// hint and without the token.
func TestStaticTokenRevoked(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	root := dev.Client(dev.RootToken)
	tok, err := root.Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{Policies: []string{"root"}, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, tok.Auth.ClientToken, uniquePath("static"))
	if err := b.Put(ctx, testRecord("x", "s")); err != nil {
		t.Fatal(err)
	}
	if err := root.Auth().Token().RevokeTreeWithContext(ctx, tok.Auth.ClientToken); err != nil {
		t.Fatal(err)
	}
	_, err = b.Get(ctx, "x")
	if !errors.Is(err, ErrTokenInvalid) || !strings.Contains(err.Error(), "vault login") {
		t.Fatalf("Get with a revoked token = %v", err)
	}
	noToken(t, err, tok.Auth.ClientToken, dev.RootToken)
	t.Logf("revoked token: %v", err)
	// Opening with it fails the same way, before any record operation.
	_, err = New(ctx, Config{Client: dev.Client(tok.Auth.ClientToken), Path: uniquePath("static")})
	if !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("New with a revoked token = %v", err)
	}
	noToken(t, err, tok.Auth.ClientToken)
}

// A renewable fixed token is kept alive by the LifetimeWatcher: its expiry
// keeps moving past the one it was created with.
func TestStaticTokenRenewed(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	root := dev.Client(dev.RootToken)
	tok, err := root.Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{
		Policies: []string{"root"}, TTL: "6s", ExplicitMaxTTL: "1h", Renewable: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	expiry := func() time.Time {
		t.Helper()
		s, err := root.Auth().Token().LookupWithContext(ctx, tok.Auth.ClientToken)
		if err != nil {
			t.Fatalf("token gone instead of renewed: %v", err)
		}
		raw, _ := s.Data["expire_time"].(string)
		e, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			t.Fatalf("token lookup has no expire_time: %v", err)
		}
		return e
	}
	first := expiry()
	b := newBackend(t, tok.Auth.ClientToken, uniquePath("renew"))
	// The watcher renews at once and then at about two thirds of the TTL;
	// an expiry 2s past the original one proves a renewal after the first.
	// Waiting is bounded; a token that expires first fails the lookup.
	deadline := time.Now().Add(time.Minute)
	for !expiry().After(first.Add(2 * time.Second)) {
		if time.Now().After(deadline) {
			t.Fatal("token not renewed within a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := b.Put(ctx, testRecord("alive", "s")); err != nil {
		t.Fatalf("Put with the renewed token: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func sameMeta(a, b backend.Meta) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.Chain == b.Chain && a.Testnet == b.Testnet &&
		a.Xpub == b.Xpub && a.Address == b.Address && a.Created.Equal(b.Created)
}
