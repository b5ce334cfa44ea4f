package hashivault

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/backendtest"
)

// gokmsPolicy is the minimal policy of docs/vault.md for one prefix.
func gokmsPolicy(mount, prefix string) string {
	return fmt.Sprintf(`
path "%[1]s/data/%[2]s/*" {
  capabilities = ["create", "read"]
}
path "%[1]s/metadata/%[2]s/*" {
  capabilities = ["read", "update", "delete", "list"]
}
`, mount, prefix)
}

var approleOnce sync.Once

// appRole creates a policy for secret/<prefix>/ and an AppRole bound to it,
// and returns the role id and a secret id written to a 0600 file.
func appRole(t *testing.T, prefix string, roleOpts map[string]interface{}) (roleID, secretID, secretFile string) {
	t.Helper()
	requireVault(t)
	ctx := testCtx(t)
	root := dev.Client(dev.RootToken)
	approleOnce.Do(func() {
		if err := root.Sys().EnableAuthWithOptionsWithContext(ctx, "approle", &api.EnableAuthOptions{Type: "approle"}); err != nil {
			t.Fatalf("enable approle: %v", err)
		}
	})
	name := "gokms-" + randHex(4)
	if err := root.Sys().PutPolicyWithContext(ctx, name, gokmsPolicy("secret", prefix)); err != nil {
		t.Fatal(err)
	}
	opts := map[string]interface{}{"token_policies": name, "token_ttl": "1h", "token_max_ttl": "4h"}
	for k, v := range roleOpts {
		opts[k] = v
	}
	if _, err := root.Logical().WriteWithContext(ctx, "auth/approle/role/"+name, opts); err != nil {
		t.Fatal(err)
	}
	s, err := root.Logical().ReadWithContext(ctx, "auth/approle/role/"+name+"/role-id")
	if err != nil {
		t.Fatal(err)
	}
	roleID = s.Data["role_id"].(string)
	s, err = root.Logical().WriteWithContext(ctx, "auth/approle/role/"+name+"/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	secretID = s.Data["secret_id"].(string)
	secretFile = filepath.Join(t.TempDir(), "secret-id")
	if err := os.WriteFile(secretFile, []byte(secretID+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return roleID, secretID, secretFile
}

// logBuffer collects the backend's log lines (at debug level) so tests can
// check no token or secret id ever reaches them.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func approleEnv(roleID, secretFile string) map[string]string {
	return map[string]string{EnvAuth: "approle", EnvRoleID: roleID, EnvSecretIDFile: secretFile}
}

func openAddr(t *testing.T, path string, env map[string]string, log *slog.Logger) (*Backend, error) {
	t.Helper()
	u, _ := url.Parse(dev.Addr)
	oc := openCfg(env, false)
	oc.Logger = log
	sb, err := registry.Open(testCtx(t), "vault+http://"+u.Host+"/"+path, oc)
	if err != nil {
		return nil, err
	}
	b := sb.(*Backend)
	t.Cleanup(func() { b.Close() })
	return b, nil
}

// The whole conformance suite passes with an AppRole token whose policy is
// the minimal one of docs/vault.md, and nothing reaches the logs.
func TestAppRoleConformanceWithMinimalPolicy(t *testing.T) {
	requireVault(t)
	prefix := "approle-" + randHex(4)
	roleID, secretID, file := appRole(t, prefix, nil)
	logs := &logBuffer{}
	var tokens []string
	n := 0
	backendtest.Run(t, func(t *testing.T) backend.SecretBackend {
		n++
		u, _ := url.Parse(dev.Addr)
		oc := openCfg(approleEnv(roleID, file), false)
		oc.Logger = logs.logger()
		sb, err := registry.Open(testCtx(t), fmt.Sprintf("vault+http://%s/secret/%s/%d", u.Host, prefix, n), oc)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, sb.(*Backend).c.Token())
		return sb
	})
	out := logs.String()
	if !strings.Contains(out, "logged in") {
		t.Fatalf("no login logged: %q", out)
	}
	for _, s := range append(tokens, secretID) {
		if s != "" && strings.Contains(out, s) {
			t.Fatal("a token or the secret id reached the log")
		}
	}
}

func TestAppRoleOutsidePrefixRefused(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	prefix := "approle-" + randHex(4)
	roleID, secretID, file := appRole(t, prefix, nil)
	inside, err := openAddr(t, "secret/"+prefix, approleEnv(roleID, file), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := inside.Put(ctx, testRecord("in", "s")); err != nil {
		t.Fatal(err)
	}
	// The same token writing outside its prefix: refused by Vault.
	if _, err := inside.c.KVv2("secret").Put(ctx, "elsewhere/x", map[string]interface{}{"a": "b"}); !hasStatus(err, 403) {
		t.Fatalf("write outside the prefix = %v, want 403", err)
	}
	// A backend pointed outside the prefix fails with a clear error that
	// names the path and the missing capability, never the token.
	outside, err := openAddr(t, "secret/other-"+prefix, approleEnv(roleID, file), nil)
	if err == nil {
		err = outside.Put(ctx, testRecord("out", "s"))
	}
	if !errors.Is(err, ErrPermissionDenied) || !strings.Contains(err.Error(), "other-"+prefix) || !strings.Contains(err.Error(), "policy") {
		t.Fatalf("outside the prefix: %v", err)
	}
	noToken(t, err, inside.c.Token(), secretID)
	t.Logf("outside the prefix: %v", err)
	if outside != nil {
		for _, op := range []func() error{
			func() error { _, err := outside.Get(ctx, "in"); return err },
			func() error { _, err := outside.List(ctx); return err },
			func() error { return outside.Delete(ctx, "in") },
		} {
			if err := op(); !errors.Is(err, ErrPermissionDenied) {
				t.Fatalf("read outside the prefix = %v", err)
			}
		}
	}
}

func TestAppRoleWrappedSecretID(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	prefix := "approle-" + randHex(4)
	roleID, _, _ := appRole(t, prefix, nil)
	// Re-issue the secret id response-wrapped, as an orchestrator would.
	root := dev.Client(dev.RootToken)
	var roleName string
	s, err := root.Logical().ListWithContext(ctx, "auth/approle/role")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range s.Data["keys"].([]interface{}) {
		r, _ := root.Logical().ReadWithContext(ctx, "auth/approle/role/"+k.(string)+"/role-id")
		if r != nil && r.Data["role_id"] == roleID {
			roleName = k.(string)
		}
	}
	wc, err := root.Clone()
	if err != nil {
		t.Fatal(err)
	}
	wc.SetToken(dev.RootToken)
	wc.SetWrappingLookupFunc(func(string, string) string { return "5m" })
	w, err := wc.Logical().WriteWithContext(ctx, "auth/approle/role/"+roleName+"/secret-id", nil)
	if err != nil || w.WrapInfo == nil {
		t.Fatalf("wrapped secret id: %v", err)
	}
	file := filepath.Join(t.TempDir(), "wrapped")
	if err := os.WriteFile(file, []byte(w.WrapInfo.Token), 0o600); err != nil {
		t.Fatal(err)
	}
	env := approleEnv(roleID, file)
	env[EnvSecretIDWrapped] = "true"
	b, err := openAddr(t, "secret/"+prefix, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, testRecord("w", "s")); err != nil {
		t.Fatal(err)
	}
	// A wrapping token works once: a second process with the same file is
	// told so, without the token in the message.
	_, err = openAddr(t, "secret/"+prefix, env, nil)
	if err == nil || !strings.Contains(err.Error(), "approle") {
		t.Fatalf("second unwrap = %v", err)
	}
	noToken(t, err, w.WrapInfo.Token)
	t.Logf("second unwrap: %v", err)
}

func TestAppRoleBadSecretID(t *testing.T) {
	requireVault(t)
	prefix := "approle-" + randHex(4)
	roleID, _, _ := appRole(t, prefix, nil)
	file := filepath.Join(t.TempDir(), "sid")
	const wrong = "00000000-1111-2222-3333-444444444444"
	if err := os.WriteFile(file, []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := openAddr(t, "secret/"+prefix, approleEnv(roleID, file), nil)
	if err == nil || !strings.Contains(err.Error(), "log in") || !strings.Contains(err.Error(), "invalid") {
		t.Fatalf("bad secret id = %v", err)
	}
	noToken(t, err, wrong, dev.RootToken)
	t.Logf("bad secret id: %v", err)
	_, err = openAddr(t, "secret/"+prefix, approleEnv(roleID, filepath.Join(t.TempDir(), "missing")), nil)
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing secret id file = %v", err)
	}
}

// An AppRole token revoked behind the backend's back: the next request logs
// in again and succeeds.
func TestReloginAfterRevocation(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	prefix := "approle-" + randHex(4)
	roleID, _, file := appRole(t, prefix, nil)
	logs := &logBuffer{}
	b, err := openAddr(t, "secret/"+prefix, approleEnv(roleID, file), logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, testRecord("r", "s")); err != nil {
		t.Fatal(err)
	}
	old := b.c.Token()
	if err := dev.Client(dev.RootToken).Auth().Token().RevokeOrphanWithContext(ctx, old); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, "r")
	if err != nil || string(got.Secret) != "s" {
		t.Fatalf("Get after revocation: %v", err)
	}
	if b.Logins() != 2 || b.c.Token() == old {
		t.Fatalf("logins = %d; token replaced: %v", b.Logins(), b.c.Token() != old)
	}
	// Many requests failing at once log in once.
	if err := dev.Client(dev.RootToken).Auth().Token().RevokeOrphanWithContext(ctx, b.c.Token()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := b.Get(ctx, "r"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if b.Logins() != 3 {
		t.Fatalf("8 concurrent requests with a revoked token made %d logins, want 1", b.Logins()-2)
	}
	for _, tok := range []string{old, b.c.Token()} {
		if strings.Contains(logs.String(), tok) {
			t.Fatal("token in the log")
		}
	}
}

// A token at the end of its max TTL is replaced by the LifetimeWatcher
// before requests fail.
func TestReloginAtMaxTTL(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	prefix := "approle-" + randHex(4)
	roleID, _, file := appRole(t, prefix, map[string]interface{}{"token_ttl": "3s", "token_max_ttl": "6s"})
	b, err := openAddr(t, "secret/"+prefix, approleEnv(roleID, file), nil)
	if err != nil {
		t.Fatal(err)
	}
	first := b.c.Token()
	deadline := time.Now().Add(90 * time.Second)
	for b.Logins() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no new login after the token's max TTL")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if b.c.Token() == first {
		t.Fatal("token not replaced")
	}
	if err := b.Put(ctx, testRecord("late", "s")); err != nil {
		t.Fatalf("Put after the max TTL: %v", err)
	}
}

// When logging in again is impossible (the secret id was single-use), the
// request fails with a clear login error.
func TestReloginFailure(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	prefix := "approle-" + randHex(4)
	roleID, secretID, file := appRole(t, prefix, map[string]interface{}{"secret_id_num_uses": 1})
	b, err := openAddr(t, "secret/"+prefix, approleEnv(roleID, file), nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := b.c.Token()
	if err := dev.Client(dev.RootToken).Auth().Token().RevokeOrphanWithContext(ctx, tok); err != nil {
		t.Fatal(err)
	}
	_, err = b.Get(ctx, "x")
	if err == nil || !strings.Contains(err.Error(), "log in") {
		t.Fatalf("Get when re-login is impossible = %v", err)
	}
	noToken(t, err, tok, secretID)
	t.Logf("re-login impossible: %v", err)
}

// ---- Kubernetes auth: the real Vault plugin against a stand-in of the
// Kubernetes TokenReview API ----

type tokenReviewer struct {
	mu       sync.Mutex
	reviewed []string // JWTs Vault asked about
	valid    map[string]bool
}

func (tr *tokenReviewer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" {
		http.Error(w, `{"kind":"Status","status":"Failure","code":404}`, 404)
		return
	}
	var req struct {
		Spec struct {
			Token     string   `json:"token"`
			Audiences []string `json:"audiences"`
		} `json:"spec"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	tr.mu.Lock()
	tr.reviewed = append(tr.reviewed, req.Spec.Token)
	ok := tr.valid[req.Spec.Token]
	tr.mu.Unlock()
	status := map[string]interface{}{"authenticated": false, "error": "invalid bearer token"}
	if ok {
		status = map[string]interface{}{
			"authenticated": true,
			"user": map[string]interface{}{
				"username": "system:serviceaccount:gokms-ns:gokms-sa",
				"uid":      "5b0d6c9e-6f3b-4a4e-9a77-1c1f3f5f0a11",
				"groups":   []string{"system:serviceaccounts", "system:serviceaccounts:gokms-ns", "system:authenticated"},
			},
			"audiences": req.Spec.Audiences,
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]interface{}{
		"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
		"spec": req.Spec, "status": status,
	})
}

// serviceAccountJWT makes a JWT shaped like a Kubernetes service-account
// token (RS256, the standard claims).
func serviceAccountJWT(t *testing.T, key *rsa.PrivateKey, n int) string {
	enc := func(v interface{}) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now().Unix()
	signing := enc(map[string]string{"alg": "RS256", "kid": "gokms-test"}) + "." + enc(map[string]interface{}{
		"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:gokms-ns:gokms-sa",
		"kubernetes.io/serviceaccount/namespace":            "gokms-ns",
		"kubernetes.io/serviceaccount/service-account.name": "gokms-sa",
		"kubernetes.io/serviceaccount/service-account.uid":  "5b0d6c9e-6f3b-4a4e-9a77-1c1f3f5f0a11",
		"kubernetes.io/serviceaccount/secret.name":          fmt.Sprintf("gokms-sa-token-%d", n),
		"iat": now, "nbf": now, "exp": now + 3600,
	})
	h := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestKubernetesAuth(t *testing.T) {
	requireVault(t)
	ctx := testCtx(t)
	root := dev.Client(dev.RootToken)
	reviewer := &tokenReviewer{valid: map[string]bool{}}
	k8s := httptest.NewServer(reviewer)
	defer k8s.Close()

	mount := "kubernetes-" + randHex(3)
	if err := root.Sys().EnableAuthWithOptionsWithContext(ctx, mount, &api.EnableAuthOptions{Type: "kubernetes"}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().WriteWithContext(ctx, "auth/"+mount+"/config", map[string]interface{}{
		"kubernetes_host": k8s.URL, "disable_local_ca_jwt": true, "token_reviewer_jwt": "reviewer-" + randHex(8),
	}); err != nil {
		t.Fatal(err)
	}
	prefix := "k8s-" + randHex(4)
	if err := root.Sys().PutPolicyWithContext(ctx, prefix, gokmsPolicy("secret", prefix)); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().WriteWithContext(ctx, "auth/"+mount+"/role/gokms", map[string]interface{}{
		"bound_service_account_names": "gokms-sa", "bound_service_account_namespaces": "gokms-ns",
		"token_policies": prefix, "token_ttl": "1h",
	}); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwt1 := serviceAccountJWT(t, key, 1)
	reviewer.valid[jwt1] = true
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(jwt1), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvAuth: "kubernetes", EnvK8sRole: "gokms", EnvK8sTokenFile: file, EnvAuthMount: mount}
	b, err := openAddr(t, "secret/"+prefix, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, testRecord("pod", "s")); err != nil {
		t.Fatal(err)
	}
	// Kubernetes rotates the projected token; the next login reads the new one.
	jwt2 := serviceAccountJWT(t, key, 2)
	reviewer.mu.Lock()
	reviewer.valid[jwt2] = true
	delete(reviewer.valid, jwt1)
	reviewer.mu.Unlock()
	if err := os.WriteFile(file, []byte(jwt2), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := root.Auth().Token().RevokeOrphanWithContext(ctx, b.c.Token()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "pod"); err != nil {
		t.Fatalf("Get after token rotation and revocation: %v", err)
	}
	reviewer.mu.Lock()
	seen := append([]string(nil), reviewer.reviewed...)
	reviewer.mu.Unlock()
	if len(seen) != 2 || seen[0] != jwt1 || seen[1] != jwt2 {
		t.Fatalf("TokenReview saw %d tokens; want the original then the rotated one", len(seen))
	}
	// A service account the role does not accept.
	if err := os.WriteFile(file, []byte(serviceAccountJWT(t, key, 3)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = openAddr(t, "secret/"+prefix, env, nil)
	if err == nil || !strings.Contains(err.Error(), "kubernetes") {
		t.Fatalf("login with an unreviewed token = %v", err)
	}
	noToken(t, err, jwt1, jwt2)
	t.Logf("rejected service account: %v", err)
}
