package recordkey

import (
	"bytes"
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

// Get fetches through the RecordSource (its refusals stand), hands the
// record to the injected decoder with the index, zeroes the record, and
// Wipe zeroes the keys; without a decoder or records nothing is fetched.
func TestGet(t *testing.T) {
	b := memory.New()
	ctx := context.Background()
	for _, r := range []backend.Record{
		{ID: "v", Kind: backend.PrivateKey, Chain: "VET", Testnet: true, Secret: []byte("vet-secret")},
		{ID: "a", Kind: backend.PrivateKey, Chain: "ALGO", Testnet: true, Secret: []byte("algo-secret")},
		{ID: "bad", Kind: backend.PrivateKey, Chain: "VET", Testnet: true, Secret: []byte("undecodable")},
	} {
		if err := b.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	vet := signing.NewResolver(b, true).ForChain("VET")
	var handed [][]byte
	var indexes []*uint32
	decode := func(rec backend.Record, index *uint32) ([]byte, error) {
		handed = append(handed, rec.Secret)
		indexes = append(indexes, index)
		if string(rec.Secret) == "undecodable" {
			return nil, errors.New("decoder refused")
		}
		return bytes.Clone(rec.Secret), nil
	}
	ks := New("VET", vet, decode, func(k []byte) { clear(k) })
	one := uint32(1)
	k, err := ks.Get(ctx, "v", &one)
	if err != nil || string(k) != "vet-secret" || indexes[0] != &one {
		t.Fatalf("key %q, index %v: %v", k, indexes, err)
	}
	if _, err := ks.Get(ctx, "bad", nil); err == nil || err.Error() != "decoder refused" {
		t.Errorf("decoder error: %v", err)
	}
	if _, err := ks.Get(ctx, "a", nil); err == nil || !strings.Contains(err.Error(), "is a ALGO wallet, but the transaction is for VET") {
		t.Errorf("other chain's wallet: %v", err)
	}
	if len(handed) != 2 {
		t.Errorf("the decoder saw %d records, want 2 (the RecordSource refuses the ALGO one)", len(handed))
	}
	for _, s := range handed {
		if strings.Trim(string(s), "\x00") != "" {
			t.Error("a record was not zeroed")
		}
	}
	ks.Wipe()
	if strings.Trim(string(k), "\x00") != "" {
		t.Error("a key survived Wipe")
	}

	calls := len(handed)
	if _, err := New("VET", vet, nil, func([]byte) {}).Get(ctx, "v", nil); !errors.Is(err, ErrNoDecoder) {
		t.Errorf("no decoder: %v", err)
	}
	if _, err := New("VET", plainKeys{}, decode, func([]byte) {}).Get(ctx, "v", nil); !errors.Is(err, ErrNoRecords) {
		t.Errorf("no records: %v", err)
	}
	if len(handed) != calls {
		t.Error("a record was decoded without a decoder or a RecordSource")
	}
}
