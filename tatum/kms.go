package tatum

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Pending returns chain's pending transactions for the given signatureIds:
// POST /v3/kms/pending/{chain} {"signatureIds": [...]}. More than
// MaxSignatureIDs ids fail with ErrTooManySignatureIDs without calling the
// API; no ids return nothing without calling it (it would only cost credits).
func (c *Client) Pending(ctx context.Context, chain string, signatureIDs []string) ([]PendingTransaction, error) {
	if chain == "" {
		return nil, fmt.Errorf("pending transactions: %w", errEmptyChain)
	}
	if n := len(signatureIDs); n > MaxSignatureIDs {
		return nil, fmt.Errorf("pending transactions for %s: %d signatureIds, but Tatum accepts at most %d per chain and API key; split the wallets over several API keys: %w",
			chain, n, MaxSignatureIDs, ErrTooManySignatureIDs)
	}
	if len(signatureIDs) == 0 {
		return nil, nil
	}
	r := request{
		method:     http.MethodPost,
		path:       "/v3/kms/pending/" + url.PathEscape(chain),
		body:       pendingRequest{SignatureIDs: signatureIDs},
		idempotent: true, // a read, despite the POST
	}
	resp, _, err := c.call(ctx, r)
	if err != nil {
		return nil, err
	}
	var list []plainPending
	if err := c.decode(r, resp, &list); err != nil {
		return nil, err
	}
	if list == nil {
		return nil, nil
	}
	out := make([]PendingTransaction, len(list))
	for i, p := range list {
		out[i] = p.normalized()
	}
	return out, nil
}

// Get returns one pending transaction: GET /v3/kms/{id}. Once broadcast,
// its TxID is set. An unknown id is an *APIError for which IsNotFound is true.
func (c *Client) Get(ctx context.Context, id string) (PendingTransaction, error) {
	var pt PendingTransaction
	raw, err := c.GetJSON(ctx, id)
	if err != nil {
		return pt, err
	}
	if err := json.Unmarshal(raw, &pt); err != nil { // GetJSON checked the syntax
		return pt, fmt.Errorf("tatum API GET /v3/kms/%s: unexpected transaction JSON: %w", url.PathEscape(id), err)
	}
	return pt, nil
}

// GetJSON is Get returning the API's JSON object unchanged (every field,
// nulls included), for operators' output.
func (c *Client) GetJSON(ctx context.Context, id string) (json.RawMessage, error) {
	p, err := pathID("pending transaction id", id)
	if err != nil {
		return nil, fmt.Errorf("get pending transaction: %w", err)
	}
	r := request{method: http.MethodGet, path: "/v3/kms/" + p, idempotent: true}
	resp, _, err := c.call(ctx, r)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := c.decode(r, resp, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("tatum API GET %s: the answer is not a transaction object", r.path)
	}
	return json.RawMessage(resp.body), nil
}

// Delete removes a pending transaction: DELETE /v3/kms/{id}?revert=true,
// the @tatumio/tatum default (for an off-chain withdrawal, Tatum cancels it
// and returns the amount and fee to the account).
func (c *Client) Delete(ctx context.Context, id string) error {
	return c.DeleteRevert(ctx, id, true)
}

// DeleteRevert is Delete with an explicit revert flag; revert=false is what
// Tatum recommends for ERC-20 withdrawals that were already broadcast.
func (c *Client) DeleteRevert(ctx context.Context, id string, revert bool) error {
	p, err := pathID("pending transaction id", id)
	if err != nil {
		return fmt.Errorf("delete pending transaction: %w", err)
	}
	r := request{
		method:     http.MethodDelete,
		path:       "/v3/kms/" + p,
		query:      url.Values{"revert": {strconv.FormatBool(revert)}},
		idempotent: true,
	}
	_, res, err := c.call(ctx, r)
	if err != nil && res.maybeDone && IsNotFound(err) {
		// An earlier attempt went through but its answer was lost.
		return nil
	}
	return err
}

// Complete marks a pending transaction as broadcast with the blockchain
// transaction id: PUT /v3/kms/{id}/{txId}.
func (c *Client) Complete(ctx context.Context, id, txID string) error {
	p, err := pathID("pending transaction id", id)
	if err != nil {
		return fmt.Errorf("complete pending transaction: %w", err)
	}
	t, err := pathID("transaction id (txId)", txID)
	if err != nil {
		return fmt.Errorf("complete pending transaction %s: %w", id, err)
	}
	r := request{method: http.MethodPut, path: "/v3/kms/" + p + "/" + t, idempotent: true}
	_, _, err = c.call(ctx, r)
	return err
}

// ReportErrors sends the failures of one poll, as tatum-kms does:
// POST /v3/tatum/kms/batch {"errors": [{"signatureId", "error"}]}. Tatum
// turns them into KMS_FAILED_TX notifications. Nothing is sent for none.
func (c *Client) ReportErrors(ctx context.Context, errs []ErrorReport) error {
	if len(errs) == 0 {
		return nil
	}
	r := request{
		method:     http.MethodPost,
		path:       "/v3/tatum/kms/batch",
		body:       batchRequest{Errors: errs},
		idempotent: true, // a repeat can only duplicate a notification
	}
	_, _, err := c.call(ctx, r)
	return err
}

// Broadcast sends a signed transaction for the pending transaction
// pendingID: POST /v3/{chain path}/broadcast {"txData", "signatureId"}.
// See the package documentation for what happens when the outcome is unknown.
func (c *Client) Broadcast(ctx context.Context, chain, txData, pendingID string) (BroadcastResult, error) {
	path, err := BroadcastPath(chain)
	if err != nil {
		return BroadcastResult{}, fmt.Errorf("broadcast %s: %w", pendingID, err)
	}
	if txData == "" {
		return BroadcastResult{}, fmt.Errorf("broadcast %s: empty txData", pendingID)
	}
	return c.broadcast(ctx, path, broadcastRequest{TxData: txData, SignatureID: pendingID}, pendingID)
}

// BroadcastWithdrawal sends a signed off-chain withdrawal transaction:
// POST /v3/offchain/withdrawal/broadcast
// {"currency", "withdrawalId", "signatureId", "txData"}.
func (c *Client) BroadcastWithdrawal(ctx context.Context, currency, withdrawalID, pendingID, txData string) (BroadcastResult, error) {
	if currency == "" || withdrawalID == "" || txData == "" {
		return BroadcastResult{}, fmt.Errorf("broadcast withdrawal %s: currency, withdrawalId and txData are required", pendingID)
	}
	return c.broadcast(ctx, "/v3/offchain/withdrawal/broadcast", withdrawalBroadcastRequest{
		Currency: currency, WithdrawalID: withdrawalID, SignatureID: pendingID, TxData: txData,
	}, pendingID)
}

func (c *Client) broadcast(ctx context.Context, path string, body any, pendingID string) (BroadcastResult, error) {
	r := request{method: http.MethodPost, path: path, body: body}
	resp, _, err := c.call(ctx, r)
	if err == nil {
		var br BroadcastResult
		if derr := c.decode(r, resp, &br); derr != nil {
			err = &sentError{derr}
		} else if br.TxID == "" {
			err = &sentError{fmt.Errorf("tatum API POST %s: %d answer without a txId", path, resp.status)}
		} else {
			return br, nil
		}
	}
	var se *sentError
	if !errors.As(err, &se) {
		return BroadcastResult{}, fmt.Errorf("broadcast %s: %w", pendingID, err)
	}
	if pendingID == "" {
		return BroadcastResult{}, fmt.Errorf("broadcast: %w: %w", ErrAmbiguous, se.err)
	}
	// The request reached Tatum and the answer was lost: Tatum marks the
	// pending transaction complete with the txId once it broadcast it.
	pt, gerr := c.Get(ctx, pendingID)
	if gerr == nil && pt.TxID != "" {
		c.log.Info("broadcast answer lost, but the pending transaction shows it was broadcast",
			"id", pendingID, "txId", pt.TxID, "cause", se.err.Error())
		return BroadcastResult{TxID: pt.TxID, Completed: true}, nil
	}
	if gerr != nil {
		return BroadcastResult{}, fmt.Errorf("broadcast %s: %w: %w; checking it with GET /v3/kms/%s failed too: %v",
			pendingID, ErrAmbiguous, se.err, url.PathEscape(pendingID), gerr)
	}
	return BroadcastResult{}, fmt.Errorf("broadcast %s: %w: %w; GET /v3/kms/%s shows no txId yet, so it is left for the next cycle",
		pendingID, ErrAmbiguous, se.err, url.PathEscape(pendingID))
}
