package main

import (
	"strings"
	"testing"
)

func TestEVMRPCConfig(t *testing.T) {
	env := map[string]string{"TATUM_KMS_RPC_ETH": "http://env-eth:8545", "TATUM_KMS_RPC_BSC": " http://env-bsc ", "TATUM_KMS_RPC_BTC": "http://ignored"}
	getenv := func(k string) string { return env[k] }
	rpc, err := evmRPCConfig([]string{"eth=http://flag-eth:8545", "MATIC = https://polygon.example/v1/key123"}, getenv)
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
		_, err := evmRPCConfig([]string{c.arg}, getenv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err %v, want %q", c.arg, err, c.want)
		}
	}
	if _, err := evmRPCConfig([]string{"ETH=http://a", "eth=http://b"}, getenv); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate: %v", err)
	}
	// A malformed value never echoes a URL path or query (keys live there).
	for _, v := range []string{"https://h.example/v3/secretkey", "https://h.example/v3/secretkey?apikey=secretkey", "ETH:https://h.example/secretkey"} {
		_, err = evmRPCConfig([]string{v}, getenv)
		if err == nil || strings.Contains(err.Error(), "secretkey") {
			t.Errorf("%s: err %v", v, err)
		}
	}
}
