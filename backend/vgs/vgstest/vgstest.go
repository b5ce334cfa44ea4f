// Package vgstest is a local stand-in for the aliases part of the VGS vault
// HTTP API, for tests and demos. It follows VGS's published reference: HTTP
// basic auth with the vault's access credentials, POST /aliases (1 to 20
// values or references per request, formats UUID and RAW_UUID, PERSISTENT
// or VOLATILE storage), GET /aliases/{alias} and GET /aliases?q=a,b to
// reveal, PUT /aliases/{alias} to reclassify, DELETE /aliases/{alias}, and
// errors as {"errors":[{"status","title","detail","href"}]}. It serves HTTPS
// on 127.0.0.1 with its own certificate.
package vgstest

import (
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/google/uuid"
)

// Server is the stand-in.
type Server struct {
	*httptest.Server
	Username, Password string
	// Env is "sandbox" or "live"; it shows in UUID aliases (tok_sandbox_...).
	Env string

	mu       sync.Mutex
	values   map[string]*value // alias -> value (several aliases may share one)
	faults   []Fault
	requests map[string]int // "METHOD /path-prefix" -> count
}

type value struct {
	data        string
	classifiers []string
	aliases     []aliasJSON
	created     time.Time
	storage     string
}

type aliasJSON struct {
	Alias  string `json:"alias"`
	Format string `json:"format"`
}

// Fault makes the next Times matching requests fail with Status.
type Fault struct {
	Method     string // "" matches any
	Status     int
	Times      int
	RetryAfter string // Retry-After header value, for 429
}

// New starts a stand-in with fresh random credentials.
func New() *Server {
	s := &Server{
		Username: "US" + base58.Encode(randBytes(9)),
		Password: base58.Encode(randBytes(18)),
		Env:      "sandbox",
		values:   map[string]*value{},
		requests: map[string]int{},
	}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s
}

// WriteCACert writes the server's certificate as PEM into dir and returns its path.
func (s *Server) WriteCACert(dir string) (string, error) {
	p := filepath.Join(dir, "vgstest-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	return p, os.WriteFile(p, b, 0o600)
}

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Requests returns how many requests with this method reached the API
// (after authentication), e.g. Requests("GET").
func (s *Server) Requests(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[method]
}

// Aliases returns how many aliases the vault holds.
func (s *Server) Aliases() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.values)
}

// Put stores a value directly (test set-up) and returns its alias.
func (s *Server) Put(data string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.newAlias("UUID")
	s.values[a.Alias] = &value{data: data, aliases: []aliasJSON{a}, created: time.Now().UTC(), storage: "PERSISTENT"}
	return a.Alias
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func (s *Server) newAlias(format string) aliasJSON {
	if format == "RAW_UUID" {
		return aliasJSON{Alias: uuid.NewString(), Format: format}
	}
	return aliasJSON{Alias: "tok_" + s.Env + "_" + base58.Encode(randBytes(16)), Format: format}
}

type apiError struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Href   string `json:"href"`
}

func writeError(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []apiError{{
		Status: status, Title: http.StatusText(status), Detail: detail, Href: "https://" + r.Host + r.URL.Path,
	}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	u, p, ok := r.BasicAuth()
	if !ok || u != s.Username || p != s.Password {
		w.Header().Set("WWW-Authenticate", `Basic realm="vault"`)
		writeError(w, r, http.StatusUnauthorized, "Authentication failed: invalid or missing vault access credentials.")
		return
	}
	s.mu.Lock()
	s.requests[r.Method]++
	for i := range s.faults {
		f := &s.faults[i]
		if f.Times > 0 && (f.Method == "" || f.Method == r.Method) {
			f.Times--
			s.mu.Unlock()
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			writeError(w, r, f.Status, "injected fault")
			return
		}
	}
	s.mu.Unlock()

	path := r.URL.Path
	switch {
	case path == "/aliases" && r.Method == http.MethodPost:
		s.create(w, r)
	case path == "/aliases" && r.Method == http.MethodGet:
		s.revealMany(w, r)
	case strings.HasPrefix(path, "/aliases/") && len(path) > len("/aliases/"):
		alias := strings.TrimPrefix(path, "/aliases/")
		switch r.Method {
		case http.MethodGet:
			s.reveal(w, r, alias)
		case http.MethodPut:
			s.reclassify(w, r, alias)
		case http.MethodDelete:
			s.delete(w, r, alias)
		default:
			writeError(w, r, http.StatusMethodNotAllowed, "Method not allowed.")
		}
	default:
		writeError(w, r, http.StatusNotFound, "Not found.")
	}
}

type createItem struct {
	Value       *string  `json:"value"`
	Alias       string   `json:"alias"`
	Classifiers []string `json:"classifiers"`
	Format      string   `json:"format"`
	Storage     string   `json:"storage"`
}

var formats = map[string]bool{
	"UUID": true, "RAW_UUID": true, "NUM_LENGTH_PRESERVING": true, "PFPT": true, "FPE_ACC_NUM_T_FOUR": true,
	"FPE_ALPHANUMERIC_ACC_NUM_T_FOUR": true, "FPE_SIX_T_FOUR": true, "FPE_SSN_T_FOUR": true, "FPE_T_FOUR": true,
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Data []createItem `json:"data"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&req); err != nil {
		writeError(w, r, http.StatusBadRequest, "Request body is not valid JSON.")
		return
	}
	if len(req.Data) < 1 || len(req.Data) > 20 {
		writeError(w, r, http.StatusBadRequest, "data must contain between 1 and 20 items.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seenRefs := map[string]bool{}
	for i, it := range req.Data {
		switch {
		case !formats[it.Format]:
			writeError(w, r, http.StatusBadRequest, fmt.Sprintf("data[%d].format: unknown alias format %q.", i, it.Format))
			return
		case it.Storage != "" && it.Storage != "PERSISTENT" && it.Storage != "VOLATILE":
			writeError(w, r, http.StatusBadRequest, fmt.Sprintf("data[%d].storage must be PERSISTENT or VOLATILE.", i))
			return
		case it.Value == nil && it.Alias == "":
			writeError(w, r, http.StatusBadRequest, fmt.Sprintf("data[%d]: either value or alias is required.", i))
			return
		case it.Alias != "":
			if seenRefs[it.Alias] {
				writeError(w, r, http.StatusBadRequest, "The same alias cannot be referenced more than once in a request.")
				return
			}
			seenRefs[it.Alias] = true
			if s.values[it.Alias] == nil {
				writeError(w, r, http.StatusNotFound, fmt.Sprintf("data[%d]: alias not found.", i))
				return
			}
		}
	}
	var out []map[string]any
	for _, it := range req.Data {
		var v *value
		if it.Alias != "" {
			v = s.values[it.Alias]
		} else {
			storage := it.Storage
			if storage == "" {
				storage = "PERSISTENT"
			}
			v = &value{data: *it.Value, classifiers: it.Classifiers, created: time.Now().UTC(), storage: storage}
		}
		a := s.newAlias(it.Format)
		v.aliases = append(v.aliases, a)
		s.values[a.Alias] = v
		out = append(out, revealed(v))
	}
	writeJSON(w, http.StatusCreated, map[string]any{"data": out})
}

func revealed(v *value) map[string]any {
	cl := v.classifiers
	if cl == nil {
		cl = []string{}
	}
	return map[string]any{
		"value": v.data, "classifiers": cl, "aliases": v.aliases,
		"created_at": v.created.Format(time.RFC3339), "storage": v.storage,
	}
}

func (s *Server) reveal(w http.ResponseWriter, r *http.Request, alias string) {
	s.mu.Lock()
	v := s.values[alias]
	var body map[string]any
	if v != nil {
		body = revealed(v)
	}
	s.mu.Unlock()
	if v == nil {
		writeError(w, r, http.StatusNotFound, "Alias not found.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": []any{body}})
}

func (s *Server) revealMany(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if q == "" {
		writeError(w, r, http.StatusBadRequest, "Query parameter q is required.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{}
	for _, a := range strings.Split(q, ",") {
		if v := s.values[a]; v != nil {
			out[a] = revealed(v)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (s *Server) reclassify(w http.ResponseWriter, r *http.Request, alias string) {
	var req struct {
		Data struct {
			Classifiers []string `json:"classifiers"`
		} `json:"data"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || req.Data.Classifiers == nil {
		writeError(w, r, http.StatusBadRequest, "data.classifiers is required.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.values[alias]
	if v == nil {
		writeError(w, r, http.StatusNotFound, "Alias not found.")
		return
	}
	v.classifiers = req.Data.Classifiers
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, alias string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.values[alias]
	if v == nil {
		writeError(w, r, http.StatusNotFound, "Alias not found.")
		return
	}
	delete(s.values, alias)
	for i, a := range v.aliases {
		if a.Alias == alias {
			v.aliases = append(v.aliases[:i], v.aliases[i+1:]...)
			break
		}
	}
	if len(v.aliases) == 0 {
		v.data = ""
	}
	w.WriteHeader(http.StatusNoContent)
}
