package utxo

import (
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
)

// TestEncodeAddress: encodeAddress gives btcutil's address for every
// script class a view shows, on every UTXO chain and network, for random
// hashes and keys; a witness version it does not encode falls back.
func TestEncodeAddress(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	bytesOf := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	n := 0
	for _, c := range chains {
		for _, testnet := range []bool{false, true} {
			params := c.params(testnet)
			for range 50 {
				var addrs []btcutil.Address
				if a, err := btcutil.NewAddressWitnessPubKeyHash(bytesOf(20), params); err == nil {
					addrs = append(addrs, a)
				}
				if a, err := btcutil.NewAddressWitnessScriptHash(bytesOf(32), params); err == nil {
					addrs = append(addrs, a)
				}
				if a, err := btcutil.NewAddressTaproot(bytesOf(32), params); err == nil {
					addrs = append(addrs, a)
				}
				if a, err := btcutil.NewAddressPubKeyHash(bytesOf(20), params); err == nil {
					addrs = append(addrs, a)
				}
				if a, err := btcutil.NewAddressScriptHashFromHash(bytesOf(20), params); err == nil {
					addrs = append(addrs, a)
				}
				for _, a := range addrs {
					n++
					if got, want := encodeAddress(a), a.EncodeAddress(); got != want {
						t.Fatalf("%s testnet=%v %T: %q, want %q", c.code, testnet, a, got, want)
					}
					script, err := txscript.PayToAddrScript(a)
					if err != nil {
						t.Fatal(err)
					}
					if got, ok := scriptAddress(script, params); !ok || got != a.EncodeAddress() {
						t.Fatalf("%s scriptAddress %q %v, want %q", c.code, got, ok, a.EncodeAddress())
					}
				}
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d addresses compared", n)
	}
	// Version 2 is btcutil's to refuse (an empty string), not ours to encode.
	v2 := fakeWitness{version: 2, program: bytesOf(32), hrp: "bc"}
	if got := encodeAddress(v2); got != "fallback" {
		t.Fatalf("witness version 2 encoded as %q", got)
	}
}

type fakeWitness struct {
	btcutil.Address
	version byte
	program []byte
	hrp     string
}

func (f fakeWitness) Hrp() string            { return f.hrp }
func (f fakeWitness) WitnessVersion() byte   { return f.version }
func (f fakeWitness) WitnessProgram() []byte { return f.program }
func (f fakeWitness) EncodeAddress() string  { return "fallback" }
