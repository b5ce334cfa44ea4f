package file

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/gokms/gokms/backend"
)

// TestSealExtraKeyAndLayout: a record with a key beside its mnemonic and a
// tatum-kms layout survives seal/open; the same record without them is
// sealed in exactly the version-1 encoding (older gokms reads it); and the
// two secrets come back as separate slices that Zero wipes.
func TestSealExtraKeyAndLayout(t *testing.T) {
	aead, err := chacha20poly1305.NewX(bytes.Repeat([]byte{7}, keyLen))
	if err != nil {
		t.Fatal(err)
	}
	r := backend.Record{ID: "sol", Kind: backend.Mnemonic, Chain: "SOL", Secret: []byte("install document curious"),
		ExtraKey: []byte("4k252StXH4w2AWfUhMhQ71qJ"), Address: "EENzb1avu4RPdMNJ1deANC96zmHcYzPEABysXzc4nVjW",
		Layout: "mnemonic,address,privateKey,chain,testnet", Created: time.Unix(1700000000, 5).UTC()}
	v, err := sealRecord(aead, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := openRecord(aead, r.ID, v)
	if err != nil {
		t.Fatal(err)
	}
	if !backend.Same(got, r) || !got.Created.Equal(r.Created) {
		t.Fatalf("record changed through seal/open: layout %q address %q", got.Layout, got.Address)
	}
	m, err := openMeta(aead, r.ID, v, nil)
	if err != nil || m.Layout != r.Layout {
		t.Fatalf("openMeta: %v, layout %q", err, m.Layout)
	}
	got.Zero()
	if !bytes.Equal(got.Secret, make([]byte, len(got.Secret))) || !bytes.Equal(got.ExtraKey, make([]byte, len(got.ExtraKey))) {
		t.Fatal("Zero left secret bytes")
	}

	old := r
	old.ExtraKey, old.Layout = nil, ""
	meta, err := encodeMeta(old)
	if err != nil {
		t.Fatal(err)
	}
	if want := 8 + 2 + 2 + len(old.Chain) + 2 + 2 + len(old.Address); len(meta) != want || meta[9] != 0 {
		t.Fatalf("a record without the new fields encodes %d bytes of metadata, flags %#x; version 1 has %d, flags 0", len(meta), meta[9], want)
	}
}

// TestExtraKeyFramingChecked: a sealed secret whose metadata says it holds
// an extra key but whose length prefix does not fit is refused, not split
// at a wrong place.
func TestExtraKeyFramingChecked(t *testing.T) {
	aead, err := chacha20poly1305.NewX(bytes.Repeat([]byte{9}, keyLen))
	if err != nil {
		t.Fatal(err)
	}
	r := backend.Record{ID: "x", Kind: backend.Mnemonic, Chain: "SOL", Secret: []byte("words"), ExtraKey: []byte("key")}
	meta, err := encodeMeta(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range [][]byte{
		{0, 0},                                 // no room for a length
		binary.BigEndian.AppendUint32(nil, 99), // longer than what follows
		append(binary.BigEndian.AppendUint32(nil, 0), "key"...),   // empty mnemonic
		append(binary.BigEndian.AppendUint32(nil, 5), "words"...), // no extra key
	} {
		out := make([]byte, 5)
		out[0] = recordVersion
		sealedMeta, err := seal(aead, nil, meta, recordAD(adMeta, r.ID, nil))
		if err != nil {
			t.Fatal(err)
		}
		binary.BigEndian.PutUint32(out[1:], uint32(len(sealedMeta)))
		out = append(out, sealedMeta...)
		if out, err = seal(aead, out, secret, recordAD(adSecret, r.ID, sealedMeta)); err != nil {
			t.Fatal(err)
		}
		if _, err := openRecord(aead, r.ID, out); err == nil {
			t.Errorf("secret %x opened as a record with an extra key", secret)
		}
	}
}
