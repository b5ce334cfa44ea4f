package kms

import (
	"slices"
	"strings"
	"testing"
)

// ALGO, EGLD, VET and ADA are in the daemon's Set; EGLD and VET take a
// node (--rpc EGLD=URL, --rpc VET=URL), ALGO (no node) and ADA (Tatum's
// Rosetta gateway only: the API key is not sent elsewhere) do not.
func TestChains16Families(t *testing.T) {
	set, closeSet, err := Signers(SignerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeSet()
	for _, c := range []string{"ALGO", "EGLD", "VET", "ADA", "FLOW"} {
		if _, err := set.For(c); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
	nc := NodeChains()
	for c, takes := range map[string]bool{"EGLD": true, "VET": true, "FLOW": true, "ALGO": false, "ADA": false} {
		if slices.Contains(nc, c) != takes {
			t.Errorf("%s takes a node: %v, want %v", c, !takes, takes)
		}
	}
	_, nodes, err := Nodes([]string{"vet=http://thor.example:8669", "EGLD=https://gateway.example"}, func(string) string { return "" })
	if err != nil || nodes["VET"] != "http://thor.example:8669" || nodes["EGLD"] != "https://gateway.example" {
		t.Fatalf("nodes %v, %v", nodes, err)
	}
	if _, _, err := Signers(SignerConfig{Nodes: map[string]string{"ADA": "http://x"}}); err == nil || !strings.Contains(err.Error(), "ADA takes no node") {
		t.Fatalf("ADA node: %v", err)
	}
	for _, c := range []string{"EGLD", "VET", "FLOW"} {
		if _, _, err := Signers(SignerConfig{Nodes: map[string]string{c: "ftp://node"}}); err == nil || !strings.Contains(err.Error(), c) {
			t.Errorf("%s with a bad node URL: %v", c, err)
		}
	}
}
