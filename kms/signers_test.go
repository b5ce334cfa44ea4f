package kms

import (
	"sort"
	"strings"
	"testing"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/evm"
)

func TestEVMRPCConfig(t *testing.T) {
	env := map[string]string{"TATUM_KMS_RPC_ETH": "http://env-eth:8545", "TATUM_KMS_RPC_BSC": " http://env-bsc ", "TATUM_KMS_RPC_BTC": "http://ignored"}
	getenv := func(k string) string { return env[k] }
	rpc, err := EVMNodes([]string{"eth=http://flag-eth:8545", "MATIC = https://polygon.example/v1/key123"}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ETH": "http://flag-eth:8545", "BSC": "http://env-bsc", "MATIC": "https://polygon.example/v1/key123"}
	if len(rpc) != len(want) {
		t.Fatalf("got %v", rpc)
	}
	for k, v := range want {
		if rpc[k] != v {
			t.Errorf("%s = %q, want %q", k, rpc[k], v)
		}
	}
	for _, c := range []struct{ arg, want string }{
		{"ETH", "want CHAIN=URL"},
		{"=http://x", "want CHAIN=URL"},
		{"BTC=http://x", "not an EVM chain"},
	} {
		_, err := EVMNodes([]string{c.arg}, getenv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err %v, want %q", c.arg, err, c.want)
		}
	}
	if _, err := EVMNodes([]string{"ETH=http://a", "eth=http://b"}, getenv); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate: %v", err)
	}
	// A malformed value never echoes a URL path or query (keys live there).
	for _, v := range []string{"https://h.example/v3/secretkey", "https://h.example/v3/secretkey?apikey=secretkey", "ETH:https://h.example/secretkey"} {
		_, err = EVMNodes([]string{v}, getenv)
		if err == nil || strings.Contains(err.Error(), "secretkey") {
			t.Errorf("%s: err %v", v, err)
		}
	}
}

// Two configurations build two Sets that share no EVM signer (the global
// evm.Default of before could not tell two daemons' nodes apart).
func TestSignersAreValues(t *testing.T) {
	var ea, eb *evm.Signer
	a, closeA, err := Signers(SignerConfig{EVM: evm.Config{RPC: map[string]string{"ETH": "http://node-a:8545"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeA()
	b, closeB, err := Signers(SignerConfig{EVM: evm.Config{RPC: map[string]string{"ETH": "http://node-b:8545"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeB()
	ea, eb = evmOf(t, a), evmOf(t, b)
	ua, _, _ := ea.RPCURL("ETH", true)
	ub, _, _ := eb.RPCURL("ETH", true)
	if ua != "http://node-a:8545" || ub != "http://node-b:8545" {
		t.Fatalf("nodes %q %q", ua, ub)
	}
	sa, _ := a.For("ETH")
	sb, _ := b.For("ETH")
	if sa == sb {
		t.Fatal("two Sets share one EVM signer")
	}
	want := []string{"BCH", "BSC", "BTC", "CELO", "DOGE", "ETH", "KCS", "KLAY", "LTC", "MATIC", "ONE", "XDC"}
	for _, f := range families { // each family's chains, so a new family is one entry
		want = append(want, f.chains...)
	}
	sort.Strings(want)
	if got := strings.Join(a.Chains(), ","); got != strings.Join(want, ",") {
		t.Fatalf("chains %s", got)
	}
	if _, _, err := Signers(SignerConfig{EVM: evm.Config{RPC: map[string]string{"BTC": "http://x"}}}); err == nil || !strings.Contains(err.Error(), FlagRPC) {
		t.Fatalf("BTC node: %v", err)
	}
}

func evmOf(t *testing.T, s *signing.Set) *evm.Signer {
	t.Helper()
	sg, err := s.For("ETH")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := sg.(*evm.Signer)
	if !ok {
		t.Fatalf("ETH signer is %T", sg)
	}
	return e
}

// --rpc takes nodes of every chain that asks one; chains that ask none are
// refused by name, and --evm-rpc stays EVM-only.
func TestRPCNodes(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"TATUM_KMS_RPC_ETH": "http://env-eth"}[k] }
	evmRPC, nodes, err := Nodes([]string{"bsc=http://flag-bsc"}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if evmRPC["ETH"] != "http://env-eth" || evmRPC["BSC"] != "http://flag-bsc" || len(nodes) != 0 {
		t.Fatalf("evm %v nodes %v", evmRPC, nodes)
	}
	if _, _, err := Nodes([]string{"BTC=http://x"}, getenv); err == nil || !strings.Contains(err.Error(), "--rpc: BTC is not a chain gokms asks a node for") {
		t.Fatalf("BTC: %v", err)
	}
	if _, _, err := Signers(SignerConfig{Nodes: map[string]string{"BTC": "http://x"}}); err == nil || !strings.Contains(err.Error(), "takes no node") {
		t.Fatalf("BTC node in config: %v", err)
	}
}
