package tatumkms

import "testing"

// BenchmarkDecodeLarge decodes the 5,000-entry fixture; compare with
// BenchmarkDecryptLarge (AES only, the floor) and with crypto-js's time for
// the same file (testdata/tatumkms/bench.js).
func BenchmarkDecodeLarge(b *testing.B) {
	data := readFixture(b, "large.dat")
	pw := []byte(loadManifest(b)["large.dat"].Password)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		e, err := Decode(data, pw)
		if err != nil || len(e) != 5000 {
			b.Fatal(len(e), err)
		}
	}
}

func BenchmarkDecryptLarge(b *testing.B) {
	data := readFixture(b, "large.dat")
	pw := []byte(loadManifest(b)["large.dat"].Password)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := decrypt(data, pw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeLarge(b *testing.B) {
	data := readFixture(b, "large.dat")
	pw := []byte(loadManifest(b)["large.dat"].Password)
	e, err := Decode(data, pw)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Encode(e, pw, nil); err != nil {
			b.Fatal(err)
		}
	}
}
