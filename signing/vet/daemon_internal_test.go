package vet

import (
	"context"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// The adapter decodes the stored key and zeroes it after the signature.
func TestRecordKeysWipe(t *testing.T) {
	b := memory.New()
	if err := b.Put(context.Background(), backend.Record{ID: "v", Kind: backend.PrivateKey, Chain: "VET", Testnet: true,
		Secret: []byte("0x307f098332f41fe361243bcfb6b5605bf7c31052c3cde7a57434cd3199c7f6c0")}); err != nil {
		t.Fatal(err)
	}
	// A test decoder: the daemon's is kms's key table (kms tests).
	decode := func(rec backend.Record, _ *uint32) (*btcec.PrivateKey, error) {
		return wallet.VETKeyFromPrivateKey(string(rec.Secret))
	}
	ks := newRecordKeys(signing.NewResolver(b, true).ForChain("VET"), decode)
	k, err := ks.Key(context.Background(), "v", nil)
	if err != nil || k.Key.IsZero() {
		t.Fatal(err)
	}
	ks.Wipe()
	if !k.Key.IsZero() {
		t.Fatal("key not zeroed after the signature")
	}
}
