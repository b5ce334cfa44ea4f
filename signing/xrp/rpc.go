package xrp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gokms/gokms/signing/internal/nodehttp"
)

// RPC is a Node over rippled's JSON-RPC API (POST {"method", "params": [{}]},
// the protocol of rippled and of Tatum's XRP gateway). It is safe for
// concurrent use.
type RPC struct {
	url    string // never shown: it may carry a key
	shown  string // scheme://host for messages
	apiKey string
	hc     *http.Client
}

// NewRPC returns a Node for the JSON-RPC endpoint rawURL. apiKey, if set,
// is sent as x-api-key (Tatum's gateway). hc nil means a client with a 30s
// timeout.
func NewRPC(rawURL, apiKey string, hc *http.Client) (*RPC, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errors.New("XRPL node URL: want an absolute http or https URL")
	}
	if hc == nil {
		hc = nodehttp.Client(30 * time.Second)
	}
	return &RPC{url: rawURL, shown: u.Scheme + "://" + u.Host, apiKey: apiKey, hc: hc}, nil
}

// maxResponse bounds what is read from a node.
const maxResponse = 1 << 20

func (r *RPC) call(ctx context.Context, method string, params map[string]any, result any) error {
	body, _ := json.Marshal(map[string]any{"method": method, "params": []any{params}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s via %s: %w", method, r.shown, errors.New("bad request"))
	}
	req.Header.Set("Content-Type", "application/json")
	if r.apiKey != "" {
		req.Header.Set("x-api-key", r.apiKey)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s via %s: %s", method, r.shown, r.scrub(err.Error()))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("%s via %s: reading the answer: %s", method, r.shown, r.scrub(err.Error()))
	}
	if len(raw) > maxResponse {
		return fmt.Errorf("%s via %s: answer larger than %d bytes", method, r.shown, maxResponse)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s via %s: HTTP %d", method, r.shown, resp.StatusCode)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || len(env.Result) == 0 {
		return fmt.Errorf("%s via %s: not a rippled JSON-RPC answer", method, r.shown)
	}
	var status struct {
		Status       string `json:"status"`
		Error        string `json:"error"`
		ErrorMessage string `json:"error_message"`
	}
	_ = json.Unmarshal(env.Result, &status)
	if status.Status != "success" {
		msg := status.Error
		if status.ErrorMessage != "" {
			msg += ": " + status.ErrorMessage
		}
		if msg == "" {
			msg = "status " + status.Status
		}
		return fmt.Errorf("%s via %s: %s", method, r.shown, r.scrub(msg))
	}
	dec := json.NewDecoder(bytes.NewReader(env.Result))
	dec.UseNumber()
	if err := dec.Decode(result); err != nil {
		return fmt.Errorf("%s via %s: unexpected answer: %v", method, r.shown, err)
	}
	return nil
}

func (r *RPC) scrub(s string) string {
	s = strings.ReplaceAll(s, r.url, r.shown)
	if r.apiKey != "" {
		s = strings.ReplaceAll(s, r.apiKey, "<api key>")
	}
	return s
}

func toUint32(n json.Number, what string) (uint32, error) {
	v, err := n.Int64()
	if err != nil || v < 0 || v > math.MaxUint32 {
		return 0, fmt.Errorf("%s %q is not a 32-bit unsigned integer", what, n)
	}
	return uint32(v), nil
}

// AccountSequence asks account_info in the current ledger, as xrpl's
// autofill does.
func (r *RPC) AccountSequence(ctx context.Context, account string) (uint32, error) {
	var res struct {
		AccountData struct {
			Sequence json.Number `json:"Sequence"`
		} `json:"account_data"`
	}
	if err := r.call(ctx, "account_info", map[string]any{"account": account, "ledger_index": "current"}, &res); err != nil {
		return 0, err
	}
	return toUint32(res.AccountData.Sequence, "account_info Sequence")
}

// ValidatedLedgerIndex asks ledger (validated), as xrpl's getLedgerIndex.
func (r *RPC) ValidatedLedgerIndex(ctx context.Context) (uint32, error) {
	var res struct {
		LedgerIndex json.Number `json:"ledger_index"`
	}
	if err := r.call(ctx, "ledger", map[string]any{"ledger_index": "validated"}, &res); err != nil {
		return 0, err
	}
	return toUint32(res.LedgerIndex, "ledger_index")
}

// FeeDrops is xrpl 2.14.1's getFeeXrp and calculateFeePerTransactionType
// for a single-signed Payment/TrustSet/AccountSet: server_info's
// validated_ledger.base_fee_xrp × load_factor (1 if absent) × 1.2, at most
// 2 XRP, rounded half-up to 6 decimals, in drops rounded up. Exact decimal
// arithmetic, as bignumber.js does it.
func (r *RPC) FeeDrops(ctx context.Context) (uint64, error) {
	var res struct {
		Info struct {
			LoadFactor      *json.Number `json:"load_factor"`
			ValidatedLedger *struct {
				BaseFeeXRP *json.Number `json:"base_fee_xrp"`
			} `json:"validated_ledger"`
		} `json:"info"`
	}
	if err := r.call(ctx, "server_info", map[string]any{}, &res); err != nil {
		return 0, err
	}
	if res.Info.ValidatedLedger == nil || res.Info.ValidatedLedger.BaseFeeXRP == nil {
		return 0, fmt.Errorf("server_info via %s: no validated_ledger.base_fee_xrp", r.shown)
	}
	base, ok := new(big.Rat).SetString(res.Info.ValidatedLedger.BaseFeeXRP.String())
	if !ok || base.Sign() < 0 {
		return 0, fmt.Errorf("server_info via %s: bad base_fee_xrp", r.shown)
	}
	load := big.NewRat(1, 1)
	if res.Info.LoadFactor != nil {
		if load, ok = new(big.Rat).SetString(res.Info.LoadFactor.String()); !ok || load.Sign() < 0 {
			return 0, fmt.Errorf("server_info via %s: bad load_factor", r.shown)
		}
	}
	fee := new(big.Rat).Mul(base, load)
	fee.Mul(fee, big.NewRat(6, 5))     // xrpl's default feeCushion 1.2
	if fee.Cmp(big.NewRat(2, 1)) > 0 { // maxFeeXRP
		fee = big.NewRat(2, 1)
	}
	// toFixed(6), ROUND_HALF_UP, then drops (×10^6) rounded up: the value is
	// a whole number of drops already, so only the half-up rounding counts.
	micro := new(big.Rat).Mul(fee, big.NewRat(1_000_000, 1))
	q, rem := new(big.Int).QuoRem(micro.Num(), micro.Denom(), new(big.Int))
	if new(big.Int).Mul(rem, big.NewInt(2)).Cmp(micro.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Uint64(), nil
}
