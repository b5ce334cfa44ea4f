package vet

import (
	"context"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

type mnemonicKeys struct {
	mnemonic string
	testnet  bool
}

func (k mnemonicKeys) Key(_ context.Context, id string, index *uint32) (*btcec.PrivateKey, error) {
	if id != "m" || index == nil {
		return nil, errors.New("no such wallet or no index")
	}
	return wallet.VETKeyFromMnemonic(k.mnemonic, *index, k.testnet)
}

// TestSignRequest: a VET mnemonic wallet with an index signs (tatum-kms's
// daemon cannot: it derives with Currency.BNB).
func TestSignRequest(t *testing.T) {
	vs := load(t)
	tc := vs[3]
	idx := tc.Index
	req := signing.Request{ID: "p", Chain: "VET", Testnet: tc.Testnet, SerializedTransaction: tc.SerializedTransaction, Hashes: []string{"m"}, Index: &idx}
	s, err := SignRequest(context.Background(), req, mnemonicKeys{tc.Mnemonic, tc.Testnet}, &fakeNode{t: t, tc: tc}, fixedNonce(tc.Nonce))
	if err != nil || s.RawTransaction != tc.RawTransaction {
		t.Fatalf("%v", err)
	}
	req.Chain = "ETH"
	if _, err := SignRequest(context.Background(), req, mnemonicKeys{tc.Mnemonic, tc.Testnet}, &fakeNode{t: t, tc: tc}, nil); !errors.Is(err, signing.ErrUnsupportedChain) {
		t.Errorf("chain: %v", err)
	}
	req.Chain, req.Index = "VET", nil
	if _, err := SignRequest(context.Background(), req, mnemonicKeys{tc.Mnemonic, tc.Testnet}, &fakeNode{t: t, tc: tc}, nil); err == nil {
		t.Error("mnemonic wallet without index accepted")
	}
}
