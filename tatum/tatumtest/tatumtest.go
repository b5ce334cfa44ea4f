// Package tatumtest is a local stand-in for the Tatum API endpoints a KMS
// uses, for tests and demos. It listens on 127.0.0.1 (httptest) and speaks
// the documented wire protocol, errors included:
//
//   - authentication: no x-api-key answers 401 ip-address-key.unauthorized;
//     an unknown key 401 subscription.invalid ("Unable to find valid
//     subscription for '<key>'", echoing the key as Tatum does); keys added
//     with SetKey can be inactive (401 subscription.not.active) or out of
//     credits (403). Error bodies are Tatum's {"statusCode", "errorCode",
//     "message", "data"?}.
//   - POST /v3/kms/pending/{chain} {"signatureIds"}: the transactions of that
//     chain, not completed nor deleted, of which a hashes[] entry or a
//     signatures[].id is among the posted ids (a withdrawal names its wallet
//     in hashes[0]). More than 25,000 ids answer 400 validation.failed
//     (Tatum does not document the exact answer; this is the class-validator
//     ArrayMaxSize error its API gives for oversized arrays).
//   - POST /v3/{chain path}/broadcast {"txData", "signatureId"}: calls the
//     chain's Broadcaster (SetBroadcaster; a real node in end-to-end tests),
//     then marks the pending transaction complete with the txId and answers
//     {"txId", "completed": true}. A Broadcaster error answers 403
//     <name>.broadcast.failed. The default Broadcaster accepts anything and
//     returns the hex SHA-256 of txData: deterministic (the same bytes give
//     the same id, like a node), but not a real chain's txid.
//   - POST /v3/offchain/withdrawal/broadcast {"currency", "withdrawalId",
//     "signatureId", "txData"}: the same for off-chain withdrawals, with
//     Tatum's 403 broadcast.failed.withdrawalId and withdrawal.unexpected.state.
//   - GET, DELETE (?revert=) /v3/kms/{id} and PUT /v3/kms/{id}/{txId};
//     an unknown id answers 403 kms.missing.
//   - POST /v3/tatum/kms/batch {"errors"}: recorded (Errors).
//
// Every answer carries x-ttm-kms-latest-version when one is set. Faults are
// injected with Inject; every request is recorded (Requests).
package tatumtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gokms/gokms/tatum"
)

// MaxSignatureIDs is the largest signatureIds array the pending endpoint takes.
const MaxSignatureIDs = tatum.MaxSignatureIDs

// Options configures a Server.
type Options struct {
	// APIKey is the valid key; default a random one (Server.APIKey).
	APIKey string
	// LatestVersion, if set, is sent as x-ttm-kms-latest-version
	// ("<version>;<level>;<message>") on every answer.
	LatestVersion string
	// NoAutoComplete makes broadcasts answer "completed": false and leave the
	// pending transaction open, as Tatum does when it could not complete it.
	NoAutoComplete bool
	// Logf, if set, receives one line per request (t.Logf).
	Logf func(format string, args ...any)
}

// KeyState is the state of an API key.
type KeyState int

const (
	KeyActive       KeyState = iota // accepted
	KeyInactive                     // 401 subscription.not.active
	KeyOutOfCredits                 // 403, credits exhausted
)

// Broadcaster publishes a raw transaction and returns its id.
type Broadcaster func(ctx context.Context, txData string) (txID string, err error)

// Fault makes matching requests fail. A request matches when its path starts
// with Path and, if Method is set, its method is Method. Faults apply in the
// order injected; each to Times requests (0 means once, negative until
// ClearFaults). Without AfterHandling the request fails before the server
// acts on it; with AfterHandling the server acts (broadcasts, completes,
// deletes...) and then the answer fails: the ambiguous case.
type Fault struct {
	Path          string
	Method        string
	Status        int           // answer this status with Tatum's error JSON (or Body)
	Body          string        // raw body for Status instead of the error JSON
	RetryAfter    time.Duration // Retry-After header (whole seconds) for Status
	Times         int
	Delay         time.Duration // wait before answering (or before failing); ends early if the client leaves
	Reset         bool          // close the connection with a TCP reset, no answer
	Malformed     bool          // answer 200 (or Status) with invalid JSON
	AfterHandling bool
}

// Request is one recorded request.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	Status   int    // answered status; 0 for a reset
	Fault    string // the injected fault applied, if any
}

type entry struct {
	tx         tatum.PendingTransaction
	txID       string
	deleted    bool
	revert     *bool
	broadcasts int
}

type fault struct {
	Fault
	left int // <0: unlimited
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	URL    string
	APIKey string

	opts Options
	hs   *httptest.Server
	mux  *http.ServeMux

	mu           sync.Mutex
	entries      map[string]*entry
	order        []string
	keys         map[string]KeyState
	faults       []*fault
	broadcasters map[string]Broadcaster
	errors       []tatum.ErrorReport
	requests     []Request
	latest       string
}

// New starts a stand-in on 127.0.0.1; Close it when done.
func New(opts Options) *Server {
	s := &Server{
		opts:         opts,
		entries:      map[string]*entry{},
		keys:         map[string]KeyState{},
		broadcasters: map[string]Broadcaster{},
		latest:       opts.LatestVersion,
	}
	s.APIKey = opts.APIKey
	if s.APIKey == "" {
		s.APIKey = "tatumtest-" + randomHex(16)
	}
	s.keys[s.APIKey] = KeyActive
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v3/kms/pending/{chain}", s.pending)
	s.mux.HandleFunc("GET /v3/kms/{id}", s.get)
	s.mux.HandleFunc("DELETE /v3/kms/{id}", s.delete)
	s.mux.HandleFunc("PUT /v3/kms/{id}/{txId}", s.complete)
	s.mux.HandleFunc("POST /v3/{name}/broadcast", s.broadcast)
	s.mux.HandleFunc("POST /v3/offchain/withdrawal/broadcast", s.withdrawalBroadcast)
	s.mux.HandleFunc("POST /v3/tatum/kms/batch", s.batch)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path), nil)
	})
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve)) // binds 127.0.0.1
	s.URL = s.hs.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.hs.Close() }

// Enqueue adds a pending transaction (an existing id is replaced and
// reopened) and returns its id; an empty ID gets a new 24-hex-digit one,
// like Tatum's. A TxID makes it already complete.
func (s *Server) Enqueue(tx tatum.PendingTransaction) string {
	tx = clone(tx)
	if tx.ID == "" {
		tx.ID = randomHex(12)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[tx.ID]; !ok {
		s.order = append(s.order, tx.ID)
	}
	s.entries[tx.ID] = &entry{tx: tx, txID: tx.TxID}
	return tx.ID
}

// SetBroadcaster sets the function that publishes chain's transactions
// ("BTC", ...; also used for withdrawals in that currency).
func (s *Server) SetBroadcaster(chain string, fn Broadcaster) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broadcasters[strings.ToUpper(chain)] = fn
}

// SetKey adds an API key with a state (or changes one, the default key too).
func (s *Server) SetKey(key string, state KeyState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = state
}

// SetLatestVersion sets the x-ttm-kms-latest-version header ("" for none).
func (s *Server) SetLatestVersion(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latest = v
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{Fault: f, left: left})
}

// ClearFaults removes every fault not yet used up.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Completed returns the txId a pending transaction was completed with.
func (s *Server) Completed(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok || e.txID == "" {
		return "", false
	}
	return e.txID, true
}

// Deleted reports whether id was deleted and with which revert flag.
func (s *Server) Deleted(id string) (revert, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, found := s.entries[id]
	if !found || !e.deleted {
		return false, false
	}
	return e.revert == nil || *e.revert, true
}

// Broadcasts returns how many broadcast requests for the pending id the
// server acted on (a double-broadcast detector). Requests failed by a fault
// before handling are not counted; AfterHandling ones are.
func (s *Server) Broadcasts(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[id]; ok {
		return e.broadcasts
	}
	return 0
}

// Pending returns the transactions still open (not completed nor deleted),
// in the order enqueued.
func (s *Server) Pending() []tatum.PendingTransaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []tatum.PendingTransaction
	for _, id := range s.order {
		if e := s.entries[id]; e.txID == "" && !e.deleted {
			out = append(out, clone(e.tx))
		}
	}
	return out
}

// Errors returns the failures reported through POST /v3/tatum/kms/batch.
func (s *Server) Errors() []tatum.ErrorReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errors)
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		r.Body = slices.Clone(r.Body)
		out[i] = r
	}
	return out
}

// CountRequests returns how many requests had this method and path.
func (s *Server) CountRequests(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// statusWriter records the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))

	s.mu.Lock()
	latest := s.latest
	idx := len(s.requests)
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body,
	})
	f := s.takeFault(r.Method, r.URL.Path)
	s.mu.Unlock()

	if latest != "" {
		w.Header().Set("x-ttm-kms-latest-version", latest)
	}
	sw := &statusWriter{ResponseWriter: w}
	desc := ""
	defer func() {
		s.mu.Lock()
		s.requests[idx].Status = sw.status
		s.requests[idx].Fault = desc
		s.mu.Unlock()
		if s.opts.Logf != nil {
			s.opts.Logf("tatumtest: %s %s -> %d %s", r.Method, r.URL.Path, sw.status, desc)
		}
	}()

	if f == nil {
		s.handle(sw, r)
		return
	}
	desc = f.describe()
	if !f.AfterHandling {
		if !wait(r.Context(), f.Delay) {
			return
		}
		if !s.fail(sw, r, f) {
			s.handle(sw, r) // a pure delay: answer normally, late
		}
		return
	}
	rec := httptest.NewRecorder()
	s.handle(rec, r)
	if !wait(r.Context(), f.Delay) {
		return
	}
	if s.fail(sw, r, f) {
		return
	}
	for k, v := range rec.Header() {
		sw.Header()[k] = v
	}
	sw.WriteHeader(rec.Code)
	_, _ = sw.Write(rec.Body.Bytes())
}

// takeFault returns the first fault matching, using one of its times.
// s.mu must be held.
func (s *Server) takeFault(method, path string) *Fault {
	for i, f := range s.faults {
		if !strings.HasPrefix(path, f.Path) || (f.Method != "" && !strings.EqualFold(f.Method, method)) {
			continue
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		ff := f.Fault
		return &ff
	}
	return nil
}

func (f *Fault) describe() string {
	var parts []string
	if f.Delay > 0 {
		parts = append(parts, "delay "+f.Delay.String())
	}
	switch {
	case f.Reset:
		parts = append(parts, "reset")
	case f.Malformed:
		parts = append(parts, "malformed")
	case f.Status != 0:
		parts = append(parts, "status "+strconv.Itoa(f.Status))
	}
	if f.AfterHandling {
		parts = append(parts, "after handling")
	}
	return "fault: " + strings.Join(parts, ", ")
}

// fail applies f's failure; false if f has none (a pure delay).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	switch {
	case f.Reset:
		hj, ok := w.(*statusWriter).ResponseWriter.(http.Hijacker)
		if !ok {
			panic("tatumtest: connection cannot be hijacked")
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return true
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST, not FIN
		}
		_ = conn.Close()
		return true
	case f.Malformed:
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"txId": "0x`) // cut short
		return true
	case f.Status != 0:
		if f.RetryAfter > 0 {
			secs := int((f.RetryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		if f.Body != "" {
			w.WriteHeader(f.Status)
			_, _ = io.WriteString(w, f.Body)
			return true
		}
		writeError(w, f.Status, "", http.StatusText(f.Status), nil)
		return true
	}
	return false
}

func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// handle authenticates and routes.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("x-api-key")
	s.mu.Lock()
	state, known := s.keys[key]
	s.mu.Unlock()
	switch {
	case key == "":
		writeError(w, http.StatusUnauthorized, "ip-address-key.unauthorized",
			"Authentication required. Make sure your requests are authenticated with a Tatum API key. Find out how at: https://docs.tatum.io/docs/authentication. If you don't have one, get one for FREE via the Tatum Dashboard at https://dashboard.tatum.io.", nil)
		return
	case !known:
		writeError(w, http.StatusUnauthorized, "subscription.invalid",
			fmt.Sprintf("Unable to find valid subscription for '%s'", key), nil)
		return
	case state == KeyInactive:
		writeError(w, http.StatusUnauthorized, "subscription.not.active", "Subscription not active anymore.", nil)
		return
	case state == KeyOutOfCredits:
		writeError(w, http.StatusForbidden, "",
			fmt.Sprintf("You have reached the limit of 10000 credits with your free plan for '%s'. Upgrade your plan at https://co.tatum.io/3JjG5Ih", key), nil)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// wireTx is a pending transaction as Tatum sends it: absent optional
// fields are null, as in Tatum's KMS guide.
type wireTx struct {
	WithdrawalID          *string           `json:"withdrawalId"`
	Chain                 string            `json:"chain"`
	SerializedTransaction string            `json:"serializedTransaction"`
	Hashes                []string          `json:"hashes"`
	Index                 *uint32           `json:"index"`
	Signatures            []tatum.Signature `json:"signatures,omitempty"`
	WithdrawalResponses   json.RawMessage   `json:"withdrawalResponses"`
	TxID                  string            `json:"txId,omitempty"`
	ID                    string            `json:"id"`
}

func (e *entry) wire() wireTx {
	w := wireTx{
		Chain:                 e.tx.Chain,
		SerializedTransaction: e.tx.SerializedTransaction,
		Hashes:                e.tx.Hashes,
		Index:                 e.tx.Index,
		Signatures:            e.tx.Signatures,
		WithdrawalResponses:   e.tx.WithdrawalResponses,
		TxID:                  e.txID,
		ID:                    e.tx.ID,
	}
	if w.Hashes == nil {
		w.Hashes = []string{}
	}
	if e.tx.WithdrawalID != "" {
		id := e.tx.WithdrawalID
		w.WithdrawalID = &id
	}
	return w
}

func (s *Server) pending(w http.ResponseWriter, r *http.Request) {
	chain := r.PathValue("chain")
	var req struct {
		SignatureIDs *[]string `json:"signatureIds"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		validationError(w, "signatureIds", nil, map[string]string{"isArray": "signatureIds must be an array"})
		return
	}
	if req.SignatureIDs == nil {
		validationError(w, "signatureIds", nil, map[string]string{"isArray": "signatureIds must be an array"})
		return
	}
	ids := *req.SignatureIDs
	if len(ids) > MaxSignatureIDs {
		validationError(w, "signatureIds", len(ids), map[string]string{
			"arrayMaxSize": fmt.Sprintf("signatureIds must contain not more than %d elements", MaxSignatureIDs),
		})
		return
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	s.mu.Lock()
	out := []wireTx{}
	for _, id := range s.order {
		e := s.entries[id]
		if e.txID != "" || e.deleted || !strings.EqualFold(e.tx.Chain, chain) || !e.matches(want) {
			continue
		}
		out = append(out, e.wire())
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (e *entry) matches(ids map[string]bool) bool {
	for _, h := range e.tx.Hashes {
		if ids[h] {
			return true
		}
	}
	for _, sig := range e.tx.Signatures {
		if ids[sig.ID] {
			return true
		}
	}
	return false
}

// lookup returns the live entry for id or writes 403 kms.missing.
// s.mu must be held.
func (s *Server) lookup(w http.ResponseWriter, id string) *entry {
	e, ok := s.entries[id]
	if !ok || e.deleted {
		writeError(w, http.StatusForbidden, "kms.missing", fmt.Sprintf("No such KMS signature with id '%s'.", id), nil)
		return nil
	}
	return e
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	e := s.lookup(w, r.PathValue("id"))
	var wt wireTx
	if e != nil {
		wt = e.wire()
	}
	s.mu.Unlock()
	if e != nil {
		writeJSON(w, http.StatusOK, wt)
	}
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	var revert *bool
	if v := r.URL.Query().Get("revert"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			validationError(w, "revert", v, map[string]string{"isBoolean": "revert must be a boolean value"})
			return
		}
		revert = &b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.lookup(w, r.PathValue("id")); e != nil {
		e.deleted, e.revert = true, revert
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.lookup(w, r.PathValue("id")); e != nil {
		e.txID = r.PathValue("txId")
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Errors *[]tatum.ErrorReport `json:"errors"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Errors == nil {
		validationError(w, "errors", nil, map[string]string{"isArray": "errors must be an array"})
		return
	}
	s.mu.Lock()
	s.errors = append(s.errors, *req.Errors...)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) broadcast(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	chain, ok := tatum.ChainForBroadcastPath(name)
	if !ok {
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path), nil)
		return
	}
	var req struct {
		TxData      string `json:"txData"`
		SignatureID string `json:"signatureId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.TxData == "" {
		validationError(w, "txData", nil, map[string]string{"isNotEmpty": "txData should not be empty"})
		return
	}
	prefix := name
	if chain == "BCH" {
		prefix = "bch"
	}
	s.publish(w, r, chain, prefix+".broadcast.failed", req.TxData, req.SignatureID, "")
}

func (s *Server) withdrawalBroadcast(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Currency     string `json:"currency"`
		WithdrawalID string `json:"withdrawalId"`
		SignatureID  string `json:"signatureId"`
		TxData       string `json:"txData"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Currency == "" || req.TxData == "" {
		validationError(w, "txData", nil, map[string]string{"isNotEmpty": "currency and txData should not be empty"})
		return
	}
	if req.WithdrawalID == "" {
		writeError(w, http.StatusForbidden, "broadcast.failed.withdrawalId", "WithdrawalId must be present.", nil)
		return
	}
	s.publish(w, r, strings.ToUpper(req.Currency), "blockchain.broadcast.error", req.TxData, req.SignatureID, req.WithdrawalID)
}

// publish broadcasts txData through chain's Broadcaster and completes the
// pending transaction sigID (if given).
func (s *Server) publish(w http.ResponseWriter, r *http.Request, chain, failCode, txData, sigID, withdrawalID string) {
	s.mu.Lock()
	var e *entry
	if sigID != "" {
		if e = s.lookup(w, sigID); e == nil {
			s.mu.Unlock()
			return
		}
		e.broadcasts++
		if withdrawalID != "" {
			if e.tx.WithdrawalID != withdrawalID {
				s.mu.Unlock()
				writeError(w, http.StatusForbidden, "withdrawal.not.found",
					fmt.Sprintf("Withdrawal '%s' does not belong to KMS transaction '%s'.", withdrawalID, sigID), nil)
				return
			}
			if e.txID != "" {
				s.mu.Unlock()
				writeError(w, http.StatusForbidden, "withdrawal.unexpected.state",
					"Unable to complete withdrawal, which is not in InProgress state.", nil)
				return
			}
		}
	}
	bc := s.broadcasters[chain]
	s.mu.Unlock()
	if bc == nil {
		bc = defaultBroadcaster
	}
	txID, err := bc(r.Context(), txData)
	if err == nil && txID == "" {
		err = fmt.Errorf("broadcaster returned no txId")
	}
	if err != nil {
		writeError(w, http.StatusForbidden, failCode, "Unable to broadcast transaction. Error from blockchain: "+err.Error(), nil)
		return
	}
	completed := false
	if e != nil && !s.opts.NoAutoComplete {
		s.mu.Lock()
		e.txID = txID
		s.mu.Unlock()
		completed = true
	}
	writeJSON(w, http.StatusOK, tatum.BroadcastResult{TxID: txID, Completed: completed})
}

func defaultBroadcaster(_ context.Context, txData string) (string, error) {
	h := sha256.Sum256([]byte(txData))
	return hex.EncodeToString(h[:]), nil
}

type errorJSON struct {
	StatusCode int    `json:"statusCode"`
	ErrorCode  string `json:"errorCode,omitempty"`
	Message    string `json:"message"`
	Data       any    `json:"data,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, msg string, data any) {
	writeJSON(w, status, errorJSON{StatusCode: status, ErrorCode: code, Message: msg, Data: data})
}

// validationError is Tatum's 400 validation.failed with class-validator data.
func validationError(w http.ResponseWriter, property string, value any, constraints map[string]string) {
	writeError(w, http.StatusBadRequest, "validation.failed",
		"Request validation failed. Please see data for additional information.",
		[]map[string]any{{"target": map[string]any{}, "value": value, "property": property, "constraints": constraints}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own types always marshal
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func clone(tx tatum.PendingTransaction) tatum.PendingTransaction {
	tx.Hashes = slices.Clone(tx.Hashes)
	tx.Signatures = slices.Clone(tx.Signatures)
	tx.WithdrawalResponses = slices.Clone(tx.WithdrawalResponses)
	if tx.Index != nil {
		i := *tx.Index
		tx.Index = &i
	}
	return tx
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
