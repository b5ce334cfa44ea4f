package xlm

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

type records map[string]string

func (r records) Ed25519Key(_ context.Context, id string, _ *uint32) (ed25519.PrivateKey, error) {
	s, ok := r[id]
	if !ok {
		return nil, fmt.Errorf("no wallet %s", id)
	}
	return wallet.DecodeStellarSecret(s)
}

func TestSignRequest(t *testing.T) {
	v := byKind(t, "memo")
	req := signing.Request{ID: v.Pending.ID, Chain: "XLM", SerializedTransaction: v.Pending.SerializedTransaction, Hashes: []string{"w"}}
	s, err := SignRequest(context.Background(), req, records{"w": v.Secret}, v.Testnet)
	if err != nil || s.TxData != v.TxData {
		t.Fatalf("%v", err)
	}
	req.Hashes = []string{"w", "x"}
	if _, err := SignRequest(context.Background(), req, records{"w": v.Secret, "x": v.Secret}, v.Testnet); !errors.Is(err, ErrRefused) {
		t.Errorf("two wallets: %v", err)
	}
	req.Hashes, req.Chain = []string{"w"}, "XRP"
	if _, err := SignRequest(context.Background(), req, records{"w": v.Secret}, v.Testnet); !errors.Is(err, ErrRefused) {
		t.Errorf("wrong chain: %v", err)
	}
	req.Chain = "XLM"
	if _, err := SignRequest(context.Background(), req, records{}, v.Testnet); err == nil {
		t.Error("missing wallet signed")
	}
}
