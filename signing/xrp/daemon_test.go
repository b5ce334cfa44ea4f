package xrp

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

// records is a signing.KeySource that is a signing.RecordSource, as the
// daemon's chain-bound Resolver view is.
type records struct {
	recs   map[string]backend.Record
	handed []backend.Record
}

func (r *records) Key(context.Context, string, *uint32) (*btcec.PrivateKey, error) {
	return nil, errors.New("XRP keys are not secp256k1")
}

func (r *records) Record(_ context.Context, id string) (backend.Record, error) {
	rec, ok := r.recs[id]
	if !ok {
		return backend.Record{}, errors.New("no such wallet")
	}
	c := rec.Clone()
	r.handed = append(r.handed, c)
	return c, nil
}

func TestTxHashIsXRPLs(t *testing.T) {
	for _, v := range loadVectors(t) {
		if got, err := TxHash(v.TxBlob); err != nil || got != v.Hash {
			t.Fatalf("%s: TxHash %s %v, xrpl %s", v.Name, got, err, v.Hash)
		}
	}
	if _, err := TxHash("zz"); err == nil {
		t.Fatal("non-hex blob hashed")
	}
}

func TestRecordSigner(t *testing.T) {
	var v txVector
	for _, c := range loadVectors(t) {
		if c.Kind == "native" && c.Node == nil {
			v = c
			break
		}
	}
	rs := &records{recs: map[string]backend.Record{
		"w":    {Kind: backend.PrivateKey, Chain: "XRP", Secret: []byte(v.Secret), Address: v.Address},
		"bare": {Kind: backend.PrivateKey, Chain: "XRP", Secret: []byte(v.Secret)},
		"bad":  {Kind: backend.PrivateKey, Chain: "XRP", Secret: []byte("sNotASeed")},
	}}
	// A test decoder; the daemon's is kms's key table, whose XRP rules (no
	// mnemonic, no index, the stored address) kms's tests check.
	var keys []*wallet.XRPKey
	s := NewRecordSigner(Params{}, func(rec backend.Record, _ *uint32) (*wallet.XRPKey, error) {
		k, err := wallet.XRPKeyFromSecret(string(rec.Secret))
		if err == nil {
			keys = append(keys, k)
		}
		return k, err
	})
	var _ signing.DetailedSigner = s
	for _, id := range []string{"w", "bare"} {
		sd, err := s.SignDetailed(context.Background(), signing.Request{Chain: "XRP", SerializedTransaction: v.SerializedTransaction, Hashes: []string{id}}, rs)
		if err != nil || sd.Raw != v.TxBlob || sd.TxID != v.Hash {
			t.Fatalf("%s: %v", id, err)
		}
		if sd.View.From != v.Address || sd.View.To == "" || sd.View.Value == nil {
			t.Errorf("%s: view %+v", id, sd.View)
		}
	}
	for id, want := range map[string]string{"bad": "XRP wallet bad", "nope": "no such wallet"} {
		_, err := s.Sign(context.Background(), signing.Request{Chain: "XRP", SerializedTransaction: v.SerializedTransaction, Hashes: []string{id}}, rs)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", id, err, want)
		}
	}
	for _, r := range rs.handed {
		if strings.Trim(string(r.Secret), "\x00") != "" {
			t.Fatal("a seed was not zeroed")
		}
	}
	for _, k := range keys {
		if _, err := k.Sign([]byte("x")); err == nil {
			t.Fatal("a key was not zeroed after the signature")
		}
	}
}
