package algo

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

type keys map[string]string // signatureId -> tatum-kms secret

func (k keys) Ed25519Key(_ context.Context, id string, _ *uint32) (ed25519.PrivateKey, error) {
	s, ok := k[id]
	if !ok {
		return nil, errors.New("no such wallet")
	}
	return wallet.AlgoKeyFromSecret(s)
}

func TestSignRequest(t *testing.T) {
	v := load(t)
	tc := v.Transactions[0]
	ks := keys{"w": tc.Secret}
	req := signing.Request{ID: "p1", Chain: "ALGO", Testnet: tc.Testnet, SerializedTransaction: tc.SerializedTransaction, Hashes: []string{"w"}}
	s, err := SignRequest(context.Background(), req, ks)
	if err != nil || s.TxData != tc.TxData {
		t.Fatalf("%v", err)
	}
	bad := req
	bad.Chain = "EGLD"
	if _, err := SignRequest(context.Background(), bad, ks); !errors.Is(err, signing.ErrUnsupportedChain) {
		t.Errorf("chain: %v", err)
	}
	bad = req
	bad.Hashes = []string{"w", "x"}
	if _, err := SignRequest(context.Background(), bad, ks); err == nil {
		t.Error("two wallets accepted")
	}
	bad = req
	bad.Hashes = []string{"missing"}
	if _, err := SignRequest(context.Background(), bad, ks); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("unknown wallet: %v", err)
	}
	// A refused transaction never asks for the key.
	bad = req
	bad.SerializedTransaction = `{"type":"keyreg"}`
	if _, err := SignRequest(context.Background(), bad, panicKeys{}); !errors.Is(err, ErrRefused) {
		t.Errorf("keyreg: %v", err)
	}
}

type panicKeys struct{}

func (panicKeys) Ed25519Key(context.Context, string, *uint32) (ed25519.PrivateKey, error) {
	panic("key fetched for a refused transaction")
}
