package recordkey

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/signing"
)

type plainKeys struct{}

func (plainKeys) Key(context.Context, string, *uint32) (*btcec.PrivateKey, error) {
	return nil, errors.New("generic key asked")
}

// The wallet kind and the index must agree (Strict), ALGO takes private
// keys only, and a key source without records is refused rather than
// falling back to the generic key derivation.
func TestFetch(t *testing.T) {
	b := memory.New()
	ctx := context.Background()
	for _, r := range []backend.Record{
		{ID: "pk", Kind: backend.PrivateKey, Chain: "VET", Testnet: true, Secret: []byte("pk-secret")},
		{ID: "mn", Kind: backend.Mnemonic, Chain: "VET", Testnet: true, Secret: []byte("mn-secret")},
		{ID: "algo-mn", Kind: backend.Mnemonic, Chain: "ALGO", Testnet: true, Secret: []byte("words")},
		{ID: "algo-pk", Kind: backend.PrivateKey, Chain: "ALGO", Testnet: true, Secret: []byte("algo-secret")},
	} {
		if err := b.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	r := signing.NewResolver(b, true)
	vet, algo := r.ForChain("VET"), r.ForChain("ALGO")
	one := uint32(1)
	cases := []struct {
		keys  signing.KeySource
		id    string
		index *uint32
		rule  Rule
		want  string // "" = ok
	}{
		{vet, "pk", nil, Strict, ""},
		{vet, "mn", &one, Strict, ""},
		{vet, "pk", &one, Strict, "private-key wallet, but the transaction asks for index 1"},
		{vet, "mn", nil, Strict, "mnemonic wallet, but the transaction gives no index"},
		{algo, "algo-pk", &one, PrivateKeyOnly, ""},
		{algo, "algo-mn", nil, PrivateKeyOnly, "private-key wallets only"},
		{vet, "algo-pk", nil, Strict, "is a ALGO wallet, but the transaction is for VET"},
		{plainKeys{}, "pk", nil, Strict, "gives no stored records"},
	}
	for _, c := range cases {
		rec, err := Fetch(ctx, c.keys, "VET", c.id, c.index, c.rule)
		if c.want == "" {
			if err != nil || len(rec.Secret) == 0 {
				t.Errorf("%s: %v", c.id, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.id, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") && !strings.Contains(c.want, "secret") && strings.Contains(err.Error(), "-secret") {
			t.Errorf("%s: error shows a secret", c.id)
		}
	}
}
