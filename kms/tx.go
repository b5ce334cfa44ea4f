package kms

// The transaction commands' use cases (moved from cmd/gokms/tx.go): the
// pending transactions of the Tatum API, through our client.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gokms/gokms/tatum"
)

// APIConfig is how to reach the Tatum API, as tatum-kms: the API key from
// --apiKey or TATUM_API_KEY, the base URL from TATUM_API_URL.
type APIConfig struct {
	Key       string
	URL       string // "" for tatum.DefaultBaseURL
	Logger    *slog.Logger
	UserAgent string
}

// TatumClient returns a Tatum API client, or tatum-kms's error when no key is set.
func TatumClient(cfg APIConfig) (*tatum.Client, error) {
	key := strings.TrimSpace(cfg.Key)
	if key == "" {
		// tatum-kms's message, word for word.
		return nil, errors.New("Required TATUM_API_KEY is not set. Please set it as env variable or pass it as argument.")
	}
	base := strings.TrimSpace(cfg.URL)
	if base == "" {
		base = tatum.DefaultBaseURL
	}
	if err := tatum.ValidateBaseURL(base); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvAPIURL, err)
	}
	return tatum.New(tatum.Options{
		BaseURL:   base,
		APIKey:    key,
		Logger:    cfg.Logger,
		UserAgent: cfg.UserAgent,
	}), nil
}

// GetTransaction returns a pending transaction as the API sent it, every
// field and null included.
func GetTransaction(ctx context.Context, cfg APIConfig, id string) (json.RawMessage, error) {
	tc, err := TatumClient(cfg)
	if err != nil {
		return nil, err
	}
	return tc.GetJSON(ctx, id)
}

// DeleteTransaction deletes a pending transaction; revert returns amount
// and fee of an off-chain withdrawal to the account.
func DeleteTransaction(ctx context.Context, cfg APIConfig, id string, revert bool) error {
	tc, err := TatumClient(cfg)
	if err != nil {
		return err
	}
	return tc.DeleteRevert(ctx, id, revert)
}

// CompleteTransaction marks a pending transaction broadcast with its txId.
func CompleteTransaction(ctx context.Context, cfg APIConfig, id, txID string) error {
	tc, err := TatumClient(cfg)
	if err != nil {
		return err
	}
	return tc.Complete(ctx, id, txID)
}

// Build is this binary's version, commit and dirty flag; version, if not
// empty, overrides the version read from the build (-ldflags -X main.version).
func Build(version string) tatum.Build {
	b := tatum.ReadBuild()
	if version != "" {
		b.Version = version
	}
	return b
}
