package xlm

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// recordStore is a signing.KeySource that is a signing.RecordSource, as the
// daemon's chain-bound Resolver view is.
type recordStore struct {
	recs   map[string]backend.Record
	handed []backend.Record
}

func (r *recordStore) Key(context.Context, string, *uint32) (*btcec.PrivateKey, error) {
	return nil, errors.New("XLM keys are not secp256k1")
}

func (r *recordStore) Record(_ context.Context, id string) (backend.Record, error) {
	rec, ok := r.recs[id]
	if !ok {
		return backend.Record{}, errors.New("no such wallet")
	}
	c := rec.Clone()
	r.handed = append(r.handed, c)
	return c, nil
}

func TestSignerOverRecords(t *testing.T) {
	var v vector
	for _, c := range loadVectors(t).Vectors {
		if c.Testnet && c.Kind == "native" && v.Secret == "" {
			v = c
		}
	}
	rs := &recordStore{recs: map[string]backend.Record{
		"w":    {Kind: backend.PrivateKey, Chain: "XLM", Secret: []byte(v.Secret), Address: v.Address},
		"bare": {Kind: backend.PrivateKey, Chain: "XLM", Secret: []byte(v.Secret)},
		"bad":  {Kind: backend.PrivateKey, Chain: "XLM", Secret: []byte("SNOTASEED")},
	}}
	// A test decoder; the daemon's is kms's key table, whose XLM rules (no
	// mnemonic, no index, the stored address) kms's tests check.
	s := NewSigner(func(rec backend.Record, _ *uint32) (ed25519.PrivateKey, error) {
		return wallet.DecodeStellarSecret(string(rec.Secret))
	})
	var _ signing.DetailedSigner = s
	for _, id := range []string{"w", "bare"} {
		sd, err := s.SignDetailed(context.Background(), signing.Request{Chain: "XLM", Testnet: true, SerializedTransaction: v.Pending.SerializedTransaction, Hashes: []string{id}}, rs)
		if err != nil || sd.Raw != v.TxData || sd.TxID != v.Hash || sd.View.From != v.Address {
			t.Fatalf("%s: %+v %v", id, sd, err)
		}
	}
	// The daemon's network picks the passphrase: mainnet signs other bytes.
	sd, err := s.SignDetailed(context.Background(), signing.Request{Chain: "XLM", SerializedTransaction: v.Pending.SerializedTransaction, Hashes: []string{"w"}}, rs)
	if err != nil || sd.Raw == v.TxData {
		t.Fatalf("mainnet: %v", err)
	}
	for id, want := range map[string]string{"bad": "XLM pending transaction", "nope": "no such wallet"} {
		_, err := s.Sign(context.Background(), signing.Request{Chain: "XLM", Testnet: true, SerializedTransaction: v.Pending.SerializedTransaction, Hashes: []string{id}}, rs)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", id, err, want)
		}
	}
	for _, r := range rs.handed {
		if strings.Trim(string(r.Secret), "\x00") != "" {
			t.Fatal("a secret was not zeroed")
		}
	}
}
