// Package azuretest is a local stand-in for the Azure Key Vault secrets REST
// API, for tests and demos, written from Microsoft's REST reference
// (https://learn.microsoft.com/rest/api/keyvault/secrets): the bearer
// challenge before the first call, PUT/GET/PATCH/DELETE of secrets and
// versions, list with nextLink paging, soft-deleted secrets (/deletedsecrets,
// purge, recover), SecretNotFound 404, 409 Conflict on a soft-deleted name,
// and 429 with Retry-After on demand. It serves HTTPS on 127.0.0.1.
package azuretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Server is the stand-in vault.
type Server struct {
	*httptest.Server
	Token    string // the bearer token the vault accepts
	TenantID string
	// PageSize is the list page size when the client sends no maxresults (Key Vault's is 25).
	PageSize int
	// OnRequest, if set, runs before each authenticated request is handled
	// (tests use it to interleave another writer).
	OnRequest func(r *http.Request)

	mu       sync.Mutex
	secrets  map[string]*secret // lower-case name -> secret
	deleted  map[string]*deletedSecret
	faults   []Fault
	requests map[string]int
	now      func() time.Time
}

type version struct {
	id          string
	value       string
	contentType string
	tags        map[string]string
	enabled     bool
	created     time.Time
	updated     time.Time
}

type secret struct {
	name     string // as first created
	versions []*version
}

type deletedSecret struct {
	s           *secret
	deletedDate time.Time
}

// Fault makes the next Times requests whose method and path prefix match fail.
type Fault struct {
	Method     string // "" matches any
	PathPrefix string // e.g. "/secrets"; "" matches any
	Status     int
	Code       string // error code, e.g. "Throttled"
	Times      int
	RetryAfter string
}

// New starts a vault with a random accepted token.
func New() *Server {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	s := &Server{
		Token:    "kv-test-" + hex.EncodeToString(b),
		TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
		PageSize: 25,
		secrets:  map[string]*secret{},
		deleted:  map[string]*deletedSecret{},
		requests: map[string]int{},
		now:      func() time.Time { return time.Now().UTC() },
	}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s
}

// Credential returns an azcore.TokenCredential that hands out the token this
// vault accepts, for the Key Vault scope only.
func (s *Server) Credential() azcore.TokenCredential { return credential{s} }

type credential struct{ s *Server }

func (c credential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if len(o.Scopes) != 1 || o.Scopes[0] != "https://vault.azure.net/.default" {
		return azcore.AccessToken{}, fmt.Errorf("azuretest credential: unexpected scopes %v", o.Scopes)
	}
	if o.TenantID != c.s.TenantID {
		return azcore.AccessToken{}, fmt.Errorf("azuretest credential: challenge named tenant %q", o.TenantID)
	}
	return azcore.AccessToken{Token: c.s.Token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Requests counts authenticated requests: "GET secrets" (list), "GET
// secrets/*" (one secret or its versions), "PUT secrets/*", "DELETE deletedsecrets/*", ...
func (s *Server) Requests(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[key]
}

// Deleted reports whether name is in soft-delete retention.
func (s *Server) Deleted(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleted[strings.ToLower(name)] != nil
}

// Versions returns how many versions name has.
func (s *Server) Versions(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := s.secrets[strings.ToLower(name)]; sec != nil {
		return len(sec.versions)
	}
	return 0
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

var nameRE = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-ms-request-id", newVersionID())
	auth := r.Header.Get("Authorization")
	if auth != "Bearer "+s.Token {
		// The challenge Key Vault sends, which the SDK uses to find the tenant and scope.
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="https://login.microsoftonline.com/%s", resource="https://vault.azure.net"`, s.TenantID))
		if auth == "" {
			writeError(w, http.StatusUnauthorized, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
		} else {
			writeError(w, http.StatusUnauthorized, "Unauthorized", "AKV10022: Invalid audience or token.")
		}
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		writeError(w, http.StatusBadRequest, "BadParameter", "The request URI contains an invalid API version or is missing the 'api-version' parameter.")
		return
	}
	if s.OnRequest != nil {
		s.OnRequest(r)
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Method + " " + parts[0]
	if len(parts) > 1 {
		key += "/*"
	}
	s.requests[key]++
	for i := range s.faults {
		f := &s.faults[i]
		if f.Times > 0 && (f.Method == "" || f.Method == r.Method) && strings.HasPrefix(r.URL.Path, f.PathPrefix) {
			f.Times--
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			code := f.Code
			if code == "" {
				code = http.StatusText(f.Status)
			}
			writeError(w, f.Status, code, "Injected fault.")
			return
		}
	}
	if len(parts) >= 2 && !nameRE.MatchString(parts[1]) {
		writeError(w, http.StatusBadRequest, "BadParameter", "The request URI contains an invalid name: "+parts[1])
		return
	}
	switch {
	case parts[0] == "secrets" && len(parts) == 1 && r.Method == http.MethodGet:
		s.list(w, r)
	case parts[0] == "secrets" && len(parts) == 2 && r.Method == http.MethodPut:
		s.set(w, r, parts[1])
	case parts[0] == "secrets" && len(parts) == 2 && r.Method == http.MethodDelete:
		s.delete(w, r, parts[1])
	case parts[0] == "secrets" && len(parts) == 2 && r.Method == http.MethodGet:
		s.get(w, r, parts[1], "")
	case parts[0] == "secrets" && len(parts) == 3 && parts[2] == "versions" && r.Method == http.MethodGet:
		s.listVersions(w, r, parts[1])
	case parts[0] == "secrets" && len(parts) == 3 && r.Method == http.MethodGet:
		s.get(w, r, parts[1], parts[2])
	case parts[0] == "secrets" && len(parts) == 3 && r.Method == http.MethodPatch:
		s.update(w, r, parts[1], parts[2])
	case parts[0] == "deletedsecrets" && len(parts) == 1 && r.Method == http.MethodGet:
		s.listDeleted(w, r)
	case parts[0] == "deletedsecrets" && len(parts) == 2 && r.Method == http.MethodGet:
		s.getDeleted(w, r, parts[1])
	case parts[0] == "deletedsecrets" && len(parts) == 2 && r.Method == http.MethodDelete:
		s.purge(w, r, parts[1])
	case parts[0] == "deletedsecrets" && len(parts) == 3 && parts[2] == "recover" && r.Method == http.MethodPost:
		s.recover(w, r, parts[1])
	default:
		writeError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.")
	}
}

func newVersionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) base(r *http.Request) string { return "https://" + r.Host }

func attrs(v *version) map[string]any {
	return map[string]any{
		"enabled": v.enabled, "created": v.created.Unix(), "updated": v.updated.Unix(),
		"recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90,
	}
}

func (s *Server) bundle(r *http.Request, sec *secret, v *version, withValue bool) map[string]any {
	m := map[string]any{
		"id":         fmt.Sprintf("%s/secrets/%s/%s", s.base(r), sec.name, v.id),
		"attributes": attrs(v),
	}
	if withValue {
		m["value"] = v.value
	}
	if v.contentType != "" {
		m["contentType"] = v.contentType
	}
	if len(v.tags) > 0 {
		m["tags"] = v.tags
	}
	return m
}

func (s *Server) deletedBundle(r *http.Request, d *deletedSecret, withValue bool) map[string]any {
	v := d.s.versions[len(d.s.versions)-1]
	m := s.bundle(r, d.s, v, withValue)
	m["recoveryId"] = fmt.Sprintf("%s/deletedsecrets/%s", s.base(r), d.s.name)
	m["deletedDate"] = d.deletedDate.Unix()
	m["scheduledPurgeDate"] = d.deletedDate.Add(90 * 24 * time.Hour).Unix()
	return m
}

func notFound(w http.ResponseWriter, name string) {
	writeError(w, http.StatusNotFound, "SecretNotFound", fmt.Sprintf("A secret with (name/id) %s was not found in this key vault. "+
		"If you recently deleted this secret you may be able to recover it using the correct recovery command. "+
		"For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", name))
}

func (s *Server) set(w http.ResponseWriter, r *http.Request, name string) {
	var body struct {
		Value       *string           `json:"value"`
		ContentType string            `json:"contentType"`
		Tags        map[string]string `json:"tags"`
		Attributes  *struct {
			Enabled *bool `json:"enabled"`
		} `json:"attributes"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "BadParameter", "The request body is not valid JSON.")
		return
	}
	if body.Value == nil {
		writeError(w, http.StatusBadRequest, "BadParameter", "Property 'value' is required.")
		return
	}
	if len(*body.Value) > 25*1024 {
		writeError(w, http.StatusBadRequest, "BadParameter", "Secret value exceeds the maximum size of 25 KB.")
		return
	}
	if len(body.Tags) > 15 {
		writeError(w, http.StatusBadRequest, "BadParameter", "A secret can have at most 15 tags.")
		return
	}
	key := strings.ToLower(name)
	if s.deleted[key] != nil {
		// As the service answers (see e.g. Azure/azure-powershell#14788): code
		// Conflict with inner error ObjectIsDeletedButRecoverable.
		writeJSON(w, http.StatusConflict, map[string]any{"error": map[string]any{
			"code": "Conflict",
			"message": fmt.Sprintf("Secret %s is currently in a deleted but recoverable state, "+
				"and its name cannot be reused; in this state, the secret can only be recovered or purged.", name),
			"innererror": map[string]any{"code": "ObjectIsDeletedButRecoverable"},
		}})
		return
	}
	sec := s.secrets[key]
	if sec == nil {
		sec = &secret{name: name}
		s.secrets[key] = sec
	}
	now := s.now()
	v := &version{id: newVersionID(), value: *body.Value, contentType: body.ContentType, tags: body.Tags, enabled: true, created: now, updated: now}
	if body.Attributes != nil && body.Attributes.Enabled != nil {
		v.enabled = *body.Attributes.Enabled
	}
	sec.versions = append(sec.versions, v)
	writeJSON(w, http.StatusOK, s.bundle(r, sec, v, true))
}

func (s *Server) find(name, ver string) (*secret, *version) {
	sec := s.secrets[strings.ToLower(name)]
	if sec == nil {
		return nil, nil
	}
	if ver == "" {
		return sec, sec.versions[len(sec.versions)-1]
	}
	for _, v := range sec.versions {
		if v.id == ver {
			return sec, v
		}
	}
	return sec, nil
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, name, ver string) {
	sec, v := s.find(name, ver)
	if v == nil {
		notFound(w, name)
		return
	}
	if !v.enabled {
		writeError(w, http.StatusForbidden, "Forbidden", "Operation get is not allowed on a disabled secret.")
		return
	}
	writeJSON(w, http.StatusOK, s.bundle(r, sec, v, true))
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, name, ver string) {
	sec, v := s.find(name, ver)
	if v == nil {
		notFound(w, name)
		return
	}
	var body struct {
		ContentType *string            `json:"contentType"`
		Tags        *map[string]string `json:"tags"`
		Attributes  *struct {
			Enabled *bool `json:"enabled"`
		} `json:"attributes"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "BadParameter", "The request body is not valid JSON.")
		return
	}
	if body.ContentType != nil {
		v.contentType = *body.ContentType
	}
	if body.Tags != nil {
		v.tags = *body.Tags
	}
	if body.Attributes != nil && body.Attributes.Enabled != nil {
		v.enabled = *body.Attributes.Enabled
	}
	v.updated = s.now()
	writeJSON(w, http.StatusOK, s.bundle(r, sec, v, false))
}

// page cuts items by $skiptoken/maxresults and builds nextLink as Key Vault does.
func (s *Server) page(w http.ResponseWriter, r *http.Request, n int, item func(i int) map[string]any) {
	total := n
	q := r.URL.Query()
	size := s.PageSize
	if m := q.Get("maxresults"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > 25 {
			writeError(w, http.StatusBadRequest, "BadParameter", "maxresults must be between 1 and 25.")
			return
		}
		size = n
	}
	start := 0
	if tok := q.Get("$skiptoken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > total {
			writeError(w, http.StatusBadRequest, "BadParameter", "Invalid $skiptoken.")
			return
		}
		start = n
	}
	end := min(start+size, total)
	items := make([]map[string]any, 0, end-start)
	for i := start; i < end; i++ {
		items = append(items, item(i))
	}
	body := map[string]any{"value": items, "nextLink": nil}
	if end < total {
		next := url.Values{"api-version": {q.Get("api-version")}, "$skiptoken": {strconv.Itoa(end)}}
		if q.Get("maxresults") != "" {
			next.Set("maxresults", q.Get("maxresults"))
		}
		body["nextLink"] = s.base(r) + r.URL.Path + "?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	keys := make([]string, 0, len(s.secrets))
	for k := range s.secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s.page(w, r, len(keys), func(i int) map[string]any {
		sec := s.secrets[keys[i]]
		item := s.bundle(r, sec, sec.versions[len(sec.versions)-1], false)
		item["id"] = fmt.Sprintf("%s/secrets/%s", s.base(r), sec.name) // list items carry the unversioned id
		return item
	})
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request, name string) {
	sec := s.secrets[strings.ToLower(name)]
	if sec == nil {
		notFound(w, name)
		return
	}
	s.page(w, r, len(sec.versions), func(i int) map[string]any { return s.bundle(r, sec, sec.versions[i], false) })
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, name string) {
	key := strings.ToLower(name)
	sec := s.secrets[key]
	if sec == nil {
		notFound(w, name)
		return
	}
	d := &deletedSecret{s: sec, deletedDate: s.now()}
	delete(s.secrets, key)
	s.deleted[key] = d
	writeJSON(w, http.StatusOK, s.deletedBundle(r, d, false))
}

func (s *Server) listDeleted(w http.ResponseWriter, r *http.Request) {
	keys := make([]string, 0, len(s.deleted))
	for k := range s.deleted {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s.page(w, r, len(keys), func(i int) map[string]any {
		item := s.deletedBundle(r, s.deleted[keys[i]], false)
		item["id"] = fmt.Sprintf("%s/secrets/%s", s.base(r), s.deleted[keys[i]].s.name)
		return item
	})
}

func deletedNotFound(w http.ResponseWriter, name string) {
	writeError(w, http.StatusNotFound, "SecretNotFound", fmt.Sprintf("Deleted Secret not found: %s", name))
}

func (s *Server) getDeleted(w http.ResponseWriter, r *http.Request, name string) {
	d := s.deleted[strings.ToLower(name)]
	if d == nil {
		deletedNotFound(w, name)
		return
	}
	writeJSON(w, http.StatusOK, s.deletedBundle(r, d, true))
}

func (s *Server) purge(w http.ResponseWriter, _ *http.Request, name string) {
	key := strings.ToLower(name)
	if s.deleted[key] == nil {
		deletedNotFound(w, name)
		return
	}
	delete(s.deleted, key)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) recover(w http.ResponseWriter, r *http.Request, name string) {
	key := strings.ToLower(name)
	d := s.deleted[key]
	if d == nil {
		deletedNotFound(w, name)
		return
	}
	delete(s.deleted, key)
	s.secrets[key] = d.s
	writeJSON(w, http.StatusOK, s.bundle(r, d.s, d.s.versions[len(d.s.versions)-1], false))
}

// SetDirect stores a new version as another client would (test set-up).
func (s *Server) SetDirect(name, value, contentType string, tags map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	sec := s.secrets[key]
	if sec == nil {
		sec = &secret{name: name}
		s.secrets[key] = sec
	}
	now := s.now()
	sec.versions = append(sec.versions, &version{id: newVersionID(), value: value, contentType: contentType, tags: tags, enabled: true, created: now, updated: now})
}
