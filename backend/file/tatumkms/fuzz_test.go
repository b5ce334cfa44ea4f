package tatumkms

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/gokms/gokms/backend"
)

// FuzzDecode feeds arbitrary file contents and passwords to the decoder: it
// must never panic and every failure must be one of the documented errors.
func FuzzDecode(f *testing.F) {
	for name, fx := range loadManifest(f) {
		if name == "large.dat" {
			continue // too big to be a useful seed
		}
		data := readFixture(f, name)
		f.Add(data, []byte(fx.Password))
		f.Add(data, []byte("not the password"))
		if len(data) > 10 {
			f.Add(data[:len(data)/2], []byte(fx.Password))
		}
	}
	f.Add([]byte("U2FsdGVkX1"), []byte(""))
	f.Add([]byte(""), []byte("x"))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		entries, err := Decode(data, password)
		if err != nil {
			checkDocumentedError(t, err)
			return
		}
		exercise(t, entries)
	})
}

// FuzzPlaintext encrypts arbitrary plaintexts with a known password, so the
// fuzzer reaches the JSON and entry layers, which random ciphertexts almost
// never do.
func FuzzPlaintext(f *testing.F) {
	for name, fx := range loadManifest(f) {
		if name == "large.dat" || fx.Entries == 0 {
			continue
		}
		plain, err := decrypt(readFixture(f, name), []byte(fx.Password))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(plain)
	}
	for _, s := range []string{`{}`, `[]`, `null`, `{"a":{"mnemonic":5}}`, `{"a":{"privateKey":"k","chain":"ETH","testnet":"x"}}`,
		`{"a":{"secret":"s\u0000\"","chain":"XRP"},"a":{"privateKey":"p","chain":"ETH","testnet":true}}`, `{"a":1`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, plain []byte) {
		data := encrypt(plain, []byte("pw"), []byte("12345678"))
		entries, err := Decode(data, []byte("pw"))
		if err != nil {
			checkDocumentedError(t, err)
			return
		}
		exercise(t, entries)
		// Whatever decoded re-encodes to something that decodes the same.
		if !utf8.Valid(plain) {
			t.Fatal("non-UTF-8 plaintext decoded")
		}
		again, err := Decode(encrypt(MarshalEntries(entries, ""), []byte("pw"), []byte("12345678")), []byte("pw"))
		if err != nil {
			t.Fatalf("re-encoded entries do not decode: %v", err)
		}
		if len(again) != len(entries) {
			t.Fatalf("re-encoding changed the entry count %d -> %d", len(entries), len(again))
		}
		for i := range again {
			a, b := again[i], entries[i]
			if a.ID != b.ID || !bytes.Equal(a.Mnemonic, b.Mnemonic) || !bytes.Equal(a.PrivateKey, b.PrivateKey) ||
				!bytes.Equal(a.Secret, b.Secret) || a.Chain != b.Chain || a.Testnet != b.Testnet || a.Xpub != b.Xpub || a.Address != b.Address {
				t.Fatalf("entry %d changed in a re-encode round trip", i)
			}
		}
	})
}

func checkDocumentedError(t *testing.T, err error) {
	t.Helper()
	for _, known := range []error{backend.ErrBadPassword, backend.ErrCorrupt, ErrNotBase64, ErrNotSalted, ErrTruncated, ErrNotAnObject} {
		if errors.Is(err, known) {
			return
		}
	}
	t.Fatalf("undocumented error: %v", err)
}

func exercise(t *testing.T, entries []Entry) {
	t.Helper()
	for _, e := range entries {
		if r, err := e.Record(); err == nil {
			if err := r.Validate(); err != nil {
				t.Fatalf("Record() gave an invalid record without error: %v", err)
			}
			if _, err := FromRecord(r); err != nil {
				t.Fatalf("FromRecord of a decoded record: %v", err)
			}
		} else if !errors.Is(err, backend.ErrCorrupt) {
			t.Fatalf("Record error does not wrap ErrCorrupt: %v", err)
		}
	}
}
