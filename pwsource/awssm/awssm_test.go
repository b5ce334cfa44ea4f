package awssm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testRegion   = "eu-central-1"
	testAKID     = "AKIAGOKMSTEST0000001"
	testSecret   = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYGOKMSTESTKEY"
	envAKID      = "AKIAGOKMSENVCHAIN0001"
	envSecret    = "envChainSecretKey/GOKMS/0123456789abcdefgh"
	testPassword = "correct horse battery staple 42!"
)

// standIn speaks the Secrets Manager JSON 1.1 protocol for GetSecretValue as
// AWS documents it, and verifies each request's SigV4 signature with the
// credentials it knows.
type standIn struct {
	t       *testing.T
	keys    map[string]string // access key id -> secret access key
	secrets map[string]string // SecretId -> SecretString (nil value: binary secret)
	denied  map[string]bool   // SecretIds the caller may not read

	mu    sync.Mutex
	calls []string // "akid secretId"
}

var credRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`)

func (s *standIn) fail(w http.ResponseWriter, status int, code, msg string) {
	// AWS JSON protocols: the error type in the x-amzn-ErrorType header and
	// in the body's __type; Secrets Manager capitalises Message.
	w.Header().Set("X-Amzn-Errortype", code+":http://internal.amazon.com/coral/com.amazonaws.secretsmanager/")
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "Message": msg})
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		s.fail(w, 404, "UnknownOperationException", "")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		s.fail(w, 400, "SerializationException", "bad content type "+ct)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "secretsmanager.GetSecretValue" {
		s.fail(w, 400, "UnknownOperationException", "unexpected target "+target)
		return
	}
	m := credRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		s.fail(w, 400, "IncompleteSignatureException", "Authorization header is not a SigV4 signature")
		return
	}
	akid, region, service, signedHeaders, sig := m[1], m[3], m[4], m[5], m[6]
	secretKey, ok := s.keys[akid]
	if !ok {
		s.fail(w, 400, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	if region != testRegion || service != "secretsmanager" {
		s.fail(w, 400, "InvalidSignatureException", fmt.Sprintf("Credential should be scoped to a valid region / service, not %s/%s", region, service))
		return
	}
	if want := s.resign(r, body, akid, secretKey, region, signedHeaders); want != sig {
		s.fail(w, 400, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
		return
	}
	var in struct{ SecretId string }
	if err := json.Unmarshal(body, &in); err != nil || in.SecretId == "" {
		s.fail(w, 400, "InvalidParameterException", "SecretId is required")
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, akid+" "+in.SecretId)
	s.mu.Unlock()
	if s.denied[in.SecretId] {
		s.fail(w, 400, "AccessDeniedException", fmt.Sprintf("User: arn:aws:iam::123456789012:user/gokms is not authorized to perform: secretsmanager:GetSecretValue on resource: %s because no identity-based policy allows the secretsmanager:GetSecretValue action", in.SecretId))
		return
	}
	str, ok := s.secrets[in.SecretId]
	if !ok {
		s.fail(w, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	out := map[string]interface{}{
		"ARN":           "arn:aws:secretsmanager:" + testRegion + ":123456789012:secret:" + in.SecretId + "-AbCdEf",
		"Name":          in.SecretId,
		"VersionId":     "a2b2c3d4-5678-90ab-cdef-EXAMPLE22222",
		"VersionStages": []string{"AWSCURRENT"},
		"CreatedDate":   1.523477145713e9,
	}
	if str == "\x00binary" {
		out["SecretBinary"] = "AAEC"
	} else {
		out["SecretString"] = str
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

// resign recomputes the signature with the SDK's own SigV4 signer over the
// headers the client said it signed.
func (s *standIn) resign(r *http.Request, body []byte, akid, secretKey, region, signedHeaders string) string {
	t, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "bad date"
	}
	req, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = http.Header{}
	for _, h := range strings.Split(signedHeaders, ";") {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = int64(len(body))
		default:
			req.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secretKey},
		req, hex.EncodeToString(sum[:]), "secretsmanager", region, t)
	if err != nil {
		return "sign error"
	}
	m := credRE.FindStringSubmatch(req.Header.Get("Authorization"))
	if m == nil {
		return "no signature"
	}
	return m[6]
}

func newStandIn(t *testing.T) (*standIn, string) {
	t.Helper()
	s := &standIn{
		t:    t,
		keys: map[string]string{testAKID: testSecret, envAKID: envSecret},
		secrets: map[string]string{
			"tatum/kms":     `{"password": "` + testPassword + `", "other": "x"}`,
			"not-json":      `p` + testPassword,
			"not-object":    `["` + testPassword + `"]`,
			"number":        `{"password": 42}`,
			"empty":         `{"password": ""}`,
			"binary-secret": "\x00binary",
		},
		denied: map[string]bool{"forbidden": true},
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// isolate keeps the SDK's default chain away from this machine's AWS setup
// and from the instance metadata service.
func isolate(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
		"AWS_SESSION_TOKEN": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func staticCfg(endpoint, name string) Config {
	return Config{Region: testRegion, SecretName: name, SecretKey: "password",
		AccessKeyID: testAKID, SecretAccessKey: testSecret, Endpoint: endpoint}
}

// noLeak fails if err's text carries the password or a secret access key.
func noLeak(t *testing.T, err error) {
	t.Helper()
	msg := fmt.Sprintf("%v %+v", err, err)
	for _, s := range []string{testPassword, testSecret, envSecret, "horse battery"} {
		if strings.Contains(msg, s) {
			t.Fatalf("error leaks secret material: %q", s)
		}
	}
}

func TestFetchPasswordStaticKeys(t *testing.T) {
	isolate(t)
	s, url := newStandIn(t)
	pw, err := FetchPassword(ctx(t), staticCfg(url, "tatum/kms"))
	if err != nil {
		t.Fatal(err)
	}
	if string(pw) != testPassword {
		t.Fatal("wrong password returned")
	}
	if len(s.calls) != 1 || s.calls[0] != testAKID+" tatum/kms" {
		t.Fatalf("stand-in saw %v", s.calls)
	}
}

func TestFetchPasswordFromEnvLikeTatumKMS(t *testing.T) {
	isolate(t)
	_, url := newStandIn(t)
	env := map[string]string{
		EnvRegion: testRegion, EnvSecretName: "tatum/kms", EnvSecretKey: "password",
		EnvAccessKeyID: testAKID, EnvSecretAccessKey: testSecret,
	}
	cfg := ConfigFromEnv(func(k string) string { return env[k] })
	cfg.Endpoint = url
	pw, err := FetchPassword(ctx(t), cfg)
	if err != nil || string(pw) != testPassword {
		t.Fatalf("FetchPassword: %v", err)
	}
}

// Without TATUM_KMS_AWS_ACCESS_KEY_ID the SDK's default chain is used; here
// it finds the standard AWS_* variables.
func TestFetchPasswordDefaultCredentialChain(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", envAKID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", envSecret)
	s, url := newStandIn(t)
	cfg := staticCfg(url, "tatum/kms")
	cfg.AccessKeyID, cfg.SecretAccessKey = "", ""
	pw, err := FetchPassword(ctx(t), cfg)
	if err != nil || string(pw) != testPassword {
		t.Fatalf("FetchPassword: %v", err)
	}
	if s.calls[0] != envAKID+" tatum/kms" {
		t.Fatalf("request signed with %v, want the AWS_ACCESS_KEY_ID credentials", s.calls)
	}
}

func TestNoCredentialsAnywhere(t *testing.T) {
	isolate(t)
	_, url := newStandIn(t)
	cfg := staticCfg(url, "tatum/kms")
	cfg.AccessKeyID, cfg.SecretAccessKey = "", ""
	_, err := FetchPassword(ctx(t), cfg)
	if err == nil {
		t.Fatal("succeeded without any credentials")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "tatum/kms") || !strings.Contains(err.Error(), "no usable AWS credentials") {
		t.Fatalf("error does not name the secret and the cause: %v", err)
	}
}

func TestErrors(t *testing.T) {
	isolate(t)
	_, url := newStandIn(t)
	cases := []struct {
		name     string
		cfg      Config
		sentinel error
		want     []string
	}{
		{"missing secret", staticCfg(url, "nope"), ErrSecretNotFound, []string{`"nope"`, "not found", "can't find"}},
		{"access denied", staticCfg(url, "forbidden"), ErrAccessDenied, []string{`"forbidden"`, "access denied", "secretsmanager:GetSecretValue"}},
		{"missing key", func() Config { c := staticCfg(url, "tatum/kms"); c.SecretKey = "pass"; return c }(), ErrBadSecret,
			[]string{`no key "pass"`, "other, password"}},
		{"bad JSON", staticCfg(url, "not-json"), ErrBadSecret, []string{"not a JSON object"}},
		{"JSON array", staticCfg(url, "not-object"), ErrBadSecret, []string{"not a JSON object"}},
		{"number value", staticCfg(url, "number"), ErrBadSecret, []string{"not a string"}},
		{"empty password", staticCfg(url, "empty"), ErrBadSecret, []string{"empty"}},
		{"binary secret", staticCfg(url, "binary-secret"), ErrBadSecret, []string{"no SecretString"}},
		{"wrong secret access key", func() Config { c := staticCfg(url, "tatum/kms"); c.SecretAccessKey = envSecret; return c }(),
			ErrAccessDenied, []string{"InvalidSignatureException", "rejected the credentials"}},
		{"unknown access key", func() Config { c := staticCfg(url, "tatum/kms"); c.AccessKeyID = "AKIAUNKNOWN"; return c }(),
			ErrAccessDenied, []string{"UnrecognizedClientException"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pw, err := FetchPassword(ctx(t), tc.cfg)
			if err == nil {
				t.Fatalf("succeeded, returned %d bytes", len(pw))
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tc.sentinel)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			noLeak(t, err)
		})
	}
}

func TestBadConfig(t *testing.T) {
	isolate(t)
	cases := map[string]Config{
		EnvSecretName:   {Region: testRegion, SecretKey: "password"},
		EnvSecretKey:    {Region: testRegion, SecretName: "x"},
		"or neither":    {Region: testRegion, SecretName: "x", SecretKey: "k", AccessKeyID: testAKID},
		"no region":     {SecretName: "x", SecretKey: "k", AccessKeyID: testAKID, SecretAccessKey: testSecret},
		"and neither 2": {Region: testRegion, SecretName: "x", SecretKey: "k", SecretAccessKey: testSecret},
	}
	for want, cfg := range cases {
		_, err := FetchPassword(ctx(t), cfg)
		if err == nil {
			t.Errorf("%s: config accepted", want)
			continue
		}
		w := strings.TrimSuffix(want, " 2")
		if strings.HasPrefix(w, "and ") {
			w = "or neither"
		}
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
		noLeak(t, err)
	}
}

func TestUnreachableEndpoint(t *testing.T) {
	isolate(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	_, err := FetchPassword(ctx(t), staticCfg(url, "tatum/kms"))
	if err == nil || !strings.Contains(err.Error(), "tatum/kms") {
		t.Fatalf("FetchPassword against a closed port = %v", err)
	}
	noLeak(t, err)
}
