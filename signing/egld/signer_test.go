package egld

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

type mnemonicKeys struct {
	mnemonic string
	testnet  bool
	asked    int
}

func (k *mnemonicKeys) Ed25519Key(_ context.Context, id string, index *uint32) (ed25519.PrivateKey, error) {
	k.asked++
	if id != "m" {
		return nil, errors.New("no such wallet")
	}
	if index == nil {
		return nil, errors.New("mnemonic wallet without index")
	}
	return wallet.EGLDKeyFromMnemonic(k.mnemonic, *index, k.testnet)
}

func TestSignRequest(t *testing.T) {
	vs := load(t)
	tc := vs[2]
	ks := &mnemonicKeys{mnemonic: tc.Mnemonic, testnet: tc.Testnet}
	idx := tc.Index
	req := signing.Request{ID: "p1", Chain: "EGLD", Testnet: tc.Testnet, SerializedTransaction: tc.SerializedTransaction, Hashes: []string{"m"}, Index: &idx}
	s, err := SignRequest(context.Background(), req, ks, &fakeNode{v: tc.Node})
	if err != nil || s.TxData != tc.TxData {
		t.Fatalf("%v", err)
	}
	wrong := tc.Index + 1
	req.Index = &wrong
	if _, err := SignRequest(context.Background(), req, ks, &fakeNode{v: tc.Node}); !errors.Is(err, ErrRefused) {
		t.Errorf("another index's key: %v", err)
	}
	req.Index = nil
	if _, err := SignRequest(context.Background(), req, ks, &fakeNode{v: tc.Node}); err == nil {
		t.Error("no index accepted")
	}
	req.Chain = "ALGO"
	if _, err := SignRequest(context.Background(), req, ks, &fakeNode{v: tc.Node}); !errors.Is(err, signing.ErrUnsupportedChain) {
		t.Errorf("chain: %v", err)
	}
	ks.asked = 0
	req.Chain, req.SerializedTransaction = "EGLD", `{"to":"x"}`
	if _, err := SignRequest(context.Background(), req, ks, &fakeNode{v: tc.Node}); !errors.Is(err, ErrRefused) || ks.asked != 0 {
		t.Errorf("refused transaction: %v, key asked %d times", err, ks.asked)
	}
}
