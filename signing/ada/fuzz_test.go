package ada

import (
	"encoding/hex"
	"testing"
)

// The node controls unsigned_transaction and signed_transaction: decoding
// them must never panic, whatever they hold.
func FuzzRosettaDecode(f *testing.F) {
	vs := load(f)
	for _, v := range vs.Pending[:4] {
		f.Add(v.UnsignedTransaction, v.SignedTransaction)
	}
	f.Add("82", "8200")
	f.Add("826130a0", "8261308180")
	pl, err := parse(vs.Pending[0].Pending.SerializedTransaction, Params{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, unsigned, signed string) {
		if body, err := rosettaBody(unsigned, false); err == nil {
			_ = checkBody(body, pl)
		}
		if b, err := hex.DecodeString(signed); err == nil {
			_ = checkBody(b, pl)
		}
		_ = checkSigned(signed, []byte{0xa0}, []signature{{}})
	})
}

// Every prefix and every single-byte corruption of real answers decodes
// without panicking (the fuzzer is too slow on a loaded machine to be relied
// on; this runs in every go test).
func TestRosettaDecodeCorruptions(t *testing.T) {
	vs := load(t)
	v := vs.Pending[2]
	pl, _ := parse(v.Pending.SerializedTransaction, Params{})
	for _, s := range []string{v.UnsignedTransaction, v.SignedTransaction} {
		raw, _ := hex.DecodeString(s)
		for i := 0; i <= len(raw); i++ {
			for _, b := range [][]byte{raw[:i], corrupt(raw, i)} {
				h := hex.EncodeToString(b)
				if body, err := rosettaBody(h, false); err == nil {
					_ = checkBody(body, pl)
				}
				_ = checkSigned(h, []byte{0xa0}, []signature{{}})
			}
		}
	}
	body, _ := hex.DecodeString(v.BodyHex)
	accepted := 0
	for i := 0; i <= len(body); i++ {
		if checkBody(body[:i], pl) == nil {
			accepted++
		}
		// The last 4 bytes are the ttl's value, which no operation fixes.
		if i < len(body)-4 && checkBody(corrupt(body, i), pl) == nil {
			t.Fatalf("body with byte %d flipped accepted", i)
		}
	}
	if accepted != 1 { // only the whole body
		t.Fatalf("%d prefixes of the body accepted", accepted)
	}
}

func corrupt(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	if i < len(c) {
		c[i] ^= 0xff
	}
	return c
}
