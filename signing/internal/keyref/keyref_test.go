package keyref

import (
	"strings"
	"testing"

	"github.com/gokms/gokms/signing"
)

func TestOne(t *testing.T) {
	one := uint32(1)
	two := uint32(2)
	id, idx, err := One("VET", signing.Request{Hashes: []string{"a", "a"}, Index: &one})
	if err != nil || id != "a" || idx != &one {
		t.Fatalf("%s %v %v", id, idx, err)
	}
	id, idx, err = One("VET", signing.Request{Signatures: []signing.SignatureRef{{ID: "m", Index: &two}}})
	if err != nil || id != "m" || *idx != 2 {
		t.Fatalf("%s %v %v", id, idx, err)
	}
	if _, _, err := One("VET", signing.Request{Hashes: []string{"a", "b"}}); err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Fatalf("two wallets: %v", err)
	}
	if _, _, err := One("VET", signing.Request{Hashes: []string{"a"}, Signatures: []signing.SignatureRef{{ID: "b"}}}); err == nil {
		t.Fatal("hash and signature of different wallets accepted")
	}
	if _, _, err := One("VET", signing.Request{}); err == nil {
		t.Fatal("no wallet accepted")
	}
}
