package utxo

import (
	"encoding/hex"
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

// TestScriptCache: the remembered address of a script is the one of its
// chain and network (the same script is another address on LTC, or on
// testnet), and its hex the script's, for scripts seen again and after
// the cache filled and started again; a script that is no address stays
// none.
func TestScriptCache(t *testing.T) {
	var c scriptCache
	rng := rand.New(rand.NewPCG(3, 4))
	scripts := make([][]byte, scriptCacheMax+500)
	for i := range scripts {
		h := make([]byte, 20)
		for j := range h {
			h[j] = byte(rng.UintN(256))
		}
		scripts[i] = append([]byte{txscript.OP_0, 20}, h...)
	}
	scripts = append(scripts, []byte{txscript.OP_RETURN, 1, 7})
	for round := range 2 {
		for i, s := range scripts {
			// Every script under every chain and network, seen twice
			// in the first round.
			for _, ch := range chains {
				for _, testnet := range []bool{false, true} {
					p := ch.params(testnet)
					for range 2 - round {
						got := c.of(s, p)
						want, wantOK := scriptAddress(s, p)
						if got.addr != want || got.ok != wantOK || got.hex != hex.EncodeToString(s) {
							t.Fatalf("round %d script %d %s testnet=%v: %+v, want %q %v", round, i, ch.code, testnet, got, want, wantOK)
						}
					}
					if n := len(c.m[p]); n > scriptCacheMax {
						t.Fatalf("the cache holds %d for %s, past %d", n, ch.code, scriptCacheMax)
					}
				}
			}
		}
	}
}
