package algo

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// The adapter hands out the stored key and wipes it after the signature.
func TestRecordKeysWipe(t *testing.T) {
	const secret = "AMQEHX7TAMUSMX7UBRDOU3YHZLB7ZJZDDVHCB5JLP36P7DP3QW33SCUANXO5XJBL2LSCNX4JM6E34FK4GEN4J36LCGXMK5A6HCY3F6A"
	b := memory.New()
	if err := b.Put(context.Background(), backend.Record{ID: "a", Kind: backend.PrivateKey, Chain: "ALGO", Testnet: true, Secret: []byte(secret)}); err != nil {
		t.Fatal(err)
	}
	// A test decoder: the daemon's is kms's key table (kms tests).
	decode := func(rec backend.Record, _ *uint32) (ed25519.PrivateKey, error) {
		return wallet.AlgoKeyFromSecret(string(rec.Secret))
	}
	ks := newRecordKeys(signing.NewResolver(b, true).ForChain("ALGO"), decode)
	k, err := ks.Ed25519Key(context.Background(), "a", nil)
	if err != nil || len(k) != 64 {
		t.Fatal(err)
	}
	ks.Wipe()
	if !bytes.Equal(k, make([]byte, 64)) {
		t.Fatal("key not wiped after the signature")
	}
}
