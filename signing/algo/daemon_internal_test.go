package algo

import (
	"bytes"
	"context"
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/signing"
)

// The adapter hands out the stored key and wipes it after the signature.
func TestRecordKeysWipe(t *testing.T) {
	const secret = "AMQEHX7TAMUSMX7UBRDOU3YHZLB7ZJZDDVHCB5JLP36P7DP3QW33SCUANXO5XJBL2LSCNX4JM6E34FK4GEN4J36LCGXMK5A6HCY3F6A"
	b := memory.New()
	if err := b.Put(context.Background(), backend.Record{ID: "a", Kind: backend.PrivateKey, Chain: "ALGO", Testnet: true, Secret: []byte(secret)}); err != nil {
		t.Fatal(err)
	}
	ks := &recordKeys{keys: signing.NewResolver(b, true).ForChain("ALGO")}
	k, err := ks.Ed25519Key(context.Background(), "a", nil)
	if err != nil || len(k) != 64 {
		t.Fatal(err)
	}
	ks.wipe()
	if !bytes.Equal(k, make([]byte, 64)) {
		t.Fatal("key not wiped after the signature")
	}
}
