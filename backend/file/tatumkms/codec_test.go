package tatumkms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gokms/gokms/backend"
)

// The fixtures were made by testdata/tatumkms/gen.js with the real
// crypto-js 4.2.0, exactly as tatum-kms 8.0.1 writes its store.
var fixtureDir = filepath.Join("..", "..", "..", "testdata", "tatumkms")

var update = flag.Bool("update", false, "rewrite testdata/tatumkms/gokms-export.dat (then run `node gen.js verify` there)")

type wrongPassword struct {
	Password     string `json:"password"`
	PaddingValid bool   `json:"paddingValid"`
	TatumKms     struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	} `json:"tatumKms"`
}

type fixture struct {
	Password        string          `json:"password"`
	Bytes           int             `json:"bytes"`
	FileSha256      string          `json:"fileSha256"`
	PlaintextSha256 string          `json:"plaintextSha256"`
	Entries         int             `json:"entries"`
	PerChain        map[string]int  `json:"perChain"`
	Order           []string        `json:"order"`
	WrongPasswords  []wrongPassword `json:"wrongPasswords"`
}

func loadManifest(t testing.TB) map[string]fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Fixtures map[string]fixture `json:"fixtures"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Fixtures) < 6 {
		t.Fatalf("manifest lists %d fixtures", len(m.Fixtures))
	}
	return m.Fixtures
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hexSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// saltOf returns the salt crypto-js chose for a fixture.
func saltOf(t testing.TB, data []byte) []byte {
	raw, err := base64.StdEncoding.DecodeString(string(data))
	if err != nil {
		t.Fatal(err)
	}
	return raw[8:16]
}

func TestEveryFixture(t *testing.T) {
	for name, fx := range loadManifest(t) {
		t.Run(name, func(t *testing.T) {
			data := readFixture(t, name)
			if len(data) != fx.Bytes {
				t.Fatalf("%s has %d bytes, manifest says %d", name, len(data), fx.Bytes)
			}
			if fx.FileSha256 != "" && hexSHA(data) != fx.FileSha256 {
				t.Fatalf("%s is not the file the manifest describes", name)
			}
			entries, err := Decode(data, []byte(fx.Password))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(entries) != fx.Entries {
				t.Fatalf("%d entries, want %d", len(entries), fx.Entries)
			}
			perChain := map[string]int{}
			unknown := 0
			for _, e := range entries {
				net := "mainnet"
				if e.Testnet {
					net = "testnet"
				}
				perChain[e.Chain+"/"+net]++
				r, err := e.Record()
				if err != nil {
					t.Fatalf("entry %s: %v", e.ID, err)
				}
				if err := r.Validate(); err != nil {
					t.Fatalf("entry %s maps to an invalid record: %v", e.ID, err)
				}
				if len(e.Unknown) != 0 {
					unknown++
					if name != "extra-fields.dat" || !reflect.DeepEqual(e.Unknown, []string{"index", "label"}) {
						t.Errorf("entry %s: unknown fields %v", e.ID, e.Unknown)
					}
				}
			}
			if fx.Entries > 0 && !reflect.DeepEqual(perChain, fx.PerChain) {
				t.Errorf("per chain %v, want %v", perChain, fx.PerChain)
			}
			if len(fx.Order) > 0 || fx.Entries == 0 {
				var ids []string
				for _, e := range entries {
					ids = append(ids, e.ID)
				}
				if len(ids) != len(fx.Order) || (len(ids) > 0 && !reflect.DeepEqual(ids, fx.Order)) {
					t.Errorf("order %v, want the file's %v", ids, fx.Order)
				}
			}
			if len(data) == 0 {
				return
			}
			// Byte for byte: our JSON is JSON.stringify's, and our encryption
			// with crypto-js's salt is crypto-js's file.
			plain, err := decrypt(data, []byte(fx.Password))
			if err != nil {
				t.Fatal(err)
			}
			if hexSHA(plain) != fx.PlaintextSha256 {
				t.Fatalf("plaintext differs from the one crypto-js encrypted")
			}
			if name == "extra-fields.dat" {
				// Fields gokms does not keep are named, then dropped.
				if unknown != 1 {
					t.Fatalf("%d entries with unknown fields, want 1", unknown)
				}
				return
			}
			if got := MarshalEntries(entries, ""); !bytes.Equal(got, plain) {
				t.Fatalf("MarshalEntries differs from JSON.stringify's output (%d vs %d bytes)", len(got), len(plain))
			}
			if got := encrypt(plain, []byte(fx.Password), saltOf(t, data)); !bytes.Equal(got, data) {
				t.Fatalf("encrypt with the file's salt is not the file crypto-js wrote")
			}
			// A fresh salt decodes to the same entries.
			again, err := Encode(entries, []byte(fx.Password), nil)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(again, data) {
				t.Fatal("Encode reused the salt")
			}
			back, err := Decode(again, []byte(fx.Password))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, entries) {
				t.Fatal("Encode -> Decode changed the entries")
			}
		})
	}
}

// TestSmallAgainstCryptoJS compares every field with what crypto-js's
// decryption of small.dat gave (small.json), and the export text with
// tatum-kms's `export` output.
func TestSmallAgainstCryptoJS(t *testing.T) {
	fx := loadManifest(t)["small.dat"]
	entries, err := Decode(readFixture(t, "small.dat"), []byte(fx.Password))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]map[string]any
	if err := json.Unmarshal(readFixture(t, "small.json"), &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(entries) {
		t.Fatalf("%d entries, crypto-js saw %d", len(entries), len(want))
	}
	kinds := map[backend.Kind]int{}
	secretField := 0
	for _, e := range entries {
		w := want[e.ID]
		got := map[string]any{"chain": e.Chain, "testnet": e.Testnet}
		for k, v := range map[string]string{"mnemonic": string(e.Mnemonic), "privateKey": string(e.PrivateKey), "secret": string(e.Secret), "xpub": e.Xpub, "address": e.Address} {
			if v != "" {
				got[k] = v
			}
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("entry %s differs from crypto-js's (fields %v vs %v)", e.ID, keys(got), keys(w))
		}
		r, err := e.Record()
		if err != nil {
			t.Fatal(err)
		}
		kinds[r.Kind]++
		if len(e.Secret) > 0 {
			secretField++
			if r.Kind != backend.PrivateKey || !bytes.Equal(r.Secret, e.Secret) {
				t.Errorf("entry %s: secret field not kept as the private key", e.ID)
			}
		}
		if r.Chain != w["chain"] || r.Testnet != w["testnet"] {
			t.Errorf("entry %s: chain/testnet not kept", e.ID)
		}
	}
	if kinds[backend.Mnemonic] != 5 || kinds[backend.PrivateKey] != 7 || secretField != 3 {
		t.Errorf("kinds %v, secret-field entries %d; want 5 mnemonic, 7 private key, 3 with secret", kinds, secretField)
	}
	if got := string(MarshalEntries(entries, "  ")) + "\n"; got != string(readFixture(t, "small.export.txt")) {
		t.Errorf("export text differs from tatum-kms's:\n%s", got)
	}
}

func keys(m map[string]any) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}

func TestWrongPasswords(t *testing.T) {
	sawPaddingValid := 0
	for name, fx := range loadManifest(t) {
		for _, wp := range fx.WrongPasswords {
			data := readFixture(t, name)
			_, err := Decode(data, []byte(wp.Password))
			if !errors.Is(err, backend.ErrBadPassword) || !strings.Contains(err.Error(), "wrong password") {
				t.Errorf("%s with %q: %v, want wrong password", name, wp.Password, err)
			}
			if wp.PaddingValid {
				// This password passes the PKCS#7 check; prove it, so that
				// the test covers the later UTF-8/JSON checks.
				if !paddingPasses(t, data, []byte(wp.Password)) {
					t.Errorf("%s: %q was recorded as passing the padding check but does not", name, wp.Password)
				}
				sawPaddingValid++
			}
			if wp.TatumKms.OK {
				t.Errorf("%s: tatum-kms accepted wrong password %q", name, wp.Password)
			}
		}
	}
	if sawPaddingValid < 3 {
		t.Errorf("only %d wrong passwords with valid padding in the fixtures", sawPaddingValid)
	}
}

func paddingPasses(t *testing.T, data, password []byte) bool {
	raw, _ := base64.StdEncoding.DecodeString(string(data))
	key, iv := evpBytesToKey(password, raw[8:16])
	block, _ := aes.NewCipher(key)
	ct := raw[16:]
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	p := int(plain[len(plain)-1])
	if p == 0 || p > 16 {
		return false
	}
	return bytes.Equal(plain[len(plain)-p:], bytes.Repeat([]byte{byte(p)}, p))
}

func TestBadFiles(t *testing.T) {
	fx := loadManifest(t)["small.dat"]
	pw := []byte(fx.Password)
	small := readFixture(t, "small.dat")
	salted := func(tail int) []byte {
		return []byte(base64.StdEncoding.EncodeToString(append([]byte("Salted__"), make([]byte, tail)...)))
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"cut mid base64 quantum", small[:len(small)-5], ErrTruncated},
		{"cut one char", small[:len(small)-1], ErrTruncated},
		{"cut at a base64 quantum, mid block", small[:len(small)-8], ErrTruncated},
		{"header only", salted(0), ErrTruncated},
		{"header and half a salt", salted(4), ErrTruncated},
		{"header and salt, no ciphertext", salted(8), ErrTruncated},
		{"ciphertext not whole blocks", salted(8 + 20), ErrTruncated},
		{"exported JSON instead", []byte(`{"a":{"privateKey":"x","chain":"ETH","testnet":true}}`), ErrNotBase64},
		{"binary", []byte{0x00, 0xff, 0x10, 0x80}, ErrNotBase64},
		{"base64 of something else", []byte(base64.StdEncoding.EncodeToString([]byte("this is not a tatum-kms wallet file at all"))), ErrNotSalted},
		{"too short for the header", []byte("U2FsdA=="), ErrNotSalted},
		{"gokms file store header", []byte("GOKMS1\x00\x01binary"), ErrNotBase64},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.data, pw)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %v, want %v", err, tc.want)
			}
			if errors.Is(err, backend.ErrBadPassword) {
				t.Fatalf("a damaged file must not be reported as a wrong password")
			}
		})
	}
	// Trailing newline (an editor) and OpenSSL-style line breaks are fine.
	wrapped := bytes.Join(chunks(small, 64), []byte("\n"))
	for _, d := range [][]byte{append(append([]byte(nil), small...), '\n'), wrapped} {
		if e, err := Decode(d, pw); err != nil || len(e) != fx.Entries {
			t.Fatalf("whitespace-laden file: %d entries, %v", len(e), err)
		}
	}
}

func chunks(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}

// encryptJSON makes a store holding an arbitrary plaintext.
func encryptJSON(plain string, pw string) []byte {
	return encrypt([]byte(plain), []byte(pw), []byte("saltsalt"))
}

func TestMalformedEntries(t *testing.T) {
	const pw = "pw"
	const mn = "legal winner thank year wave sausage worth useful legal winner thank yellow"
	const pk = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	cases := []struct {
		name, json string
		decodeErr  error // from Decode
		recordErr  bool  // from Entry.Record
	}{
		{"top level array", `[1,2]`, ErrNotAnObject, false},
		{"top level null", `null`, ErrNotAnObject, false},
		{"entry is a string", `{"a":"` + pk + `"}`, backend.ErrCorrupt, false},
		{"entry is null", `{"a":null}`, backend.ErrCorrupt, false},
		{"mnemonic is a number", `{"a":{"mnemonic":5,"chain":"BTC","testnet":true}}`, backend.ErrCorrupt, false},
		{"testnet is a string", `{"a":{"privateKey":"` + pk + `","chain":"ETH","testnet":"yes"}}`, backend.ErrCorrupt, false},
		{"chain is an object", `{"a":{"privateKey":"` + pk + `","chain":{},"testnet":true}}`, backend.ErrCorrupt, false},
		{"no chain", `{"a":{"privateKey":"` + pk + `","testnet":true}}`, nil, true},
		{"no secret at all", `{"a":{"xpub":"xpub6","chain":"BTC","testnet":true}}`, nil, true},
		{"empty secrets", `{"a":{"mnemonic":"","privateKey":null,"chain":"BTC","testnet":true}}`, nil, true},
		{"mnemonic and private key and a different secret", `{"a":{"mnemonic":"` + mn + `","privateKey":"` + pk + `","secret":"sXXX","chain":"SOL","testnet":true}}`, nil, true},
		{"different privateKey and secret", `{"a":{"privateKey":"` + pk + `","secret":"sXXX","chain":"XRP","testnet":true}}`, nil, true},
		{"empty id", `{"":{"privateKey":"` + pk + `","chain":"ETH","testnet":true}}`, nil, true},
		{"id too long", `{"` + strings.Repeat("i", backend.MaxIDLen+1) + `":{"privateKey":"` + pk + `","chain":"ETH","testnet":true}}`, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := Decode(encryptJSON(tc.json, pw), []byte(pw))
			if tc.decodeErr != nil {
				if !errors.Is(err, tc.decodeErr) {
					t.Fatalf("Decode = %v, want %v", err, tc.decodeErr)
				}
				if errors.Is(err, backend.ErrBadPassword) {
					t.Fatal("a malformed entry is not a wrong password")
				}
				noSecrets(t, err, mn, pk)
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			_, err = entries[0].Record()
			if tc.recordErr != (err != nil) {
				t.Fatalf("Record() = %v", err)
			}
			if err != nil {
				if !errors.Is(err, backend.ErrCorrupt) {
					t.Errorf("Record error %v does not wrap ErrCorrupt", err)
				}
				noSecrets(t, err, mn, pk)
			}
		})
	}
}

func noSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) || strings.Contains(err.Error(), s[:10]) {
			t.Fatalf("error %q contains a secret", err)
		}
	}
}

func TestEntryDetails(t *testing.T) {
	const pw = "pw"
	plain := `{"id-1":{"privateKey":"k1","chain":"ETH","testnet":true,"mystery":{"x":1},"label":"hot"},` +
		`"id-2":{"privateKey":"old","chain":"ETH","testnet":false},` +
		`"id-3":{"address":"rX","secret":"sEsc\u0061ped\"\\","privateKey":"sEscaped\"\\","chain":"XRP"},` +
		`"id-2":{"mnemonic":"new words","xpub":"xpub1","chain":"BTC","testnet":true}}`
	entries, err := Decode(encryptJSON(plain, pw), []byte(pw))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[0].ID != "id-1" || entries[1].ID != "id-2" || entries[2].ID != "id-3" {
		t.Fatalf("entries %+v", entries)
	}
	if !reflect.DeepEqual(entries[0].Unknown, []string{"label", "mystery"}) {
		t.Errorf("unknown fields %v", entries[0].Unknown)
	}
	// A key given twice: the last value, at the first position (JSON.parse).
	if string(entries[1].Mnemonic) != "new words" || entries[1].Chain != "BTC" {
		t.Errorf("duplicate key did not keep the last value")
	}
	r, err := entries[2].Record()
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Secret) != `sEscaped"\` || r.Kind != backend.PrivateKey || r.Testnet {
		t.Errorf("escaped secret / missing testnet: %q %v %v", r.Secret, r.Kind, r.Testnet)
	}
	// FromRecord is Record's inverse, writing `secret` for XRP/XLM/ALGO.
	for _, e := range entries {
		r, err := e.Record()
		if err != nil {
			t.Fatal(err)
		}
		back, err := FromRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := back.Record()
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("Record -> FromRecord -> Record changed %s: %v", e.ID, err)
		}
		if (len(back.Secret) > 0) != (r.Chain == "XRP") {
			t.Errorf("%s: secret field use wrong for chain %s", e.ID, r.Chain)
		}
	}
	if _, err := FromRecord(backend.Record{ID: "bin", Kind: backend.PrivateKey, Chain: "ETH", Secret: []byte{0xff, 0}}); err == nil {
		t.Error("FromRecord accepted a binary secret")
	}
	// Control characters are escaped as JSON.stringify does.
	odd := []Entry{{ID: "ctl\x01\n\t\"", PrivateKey: []byte("a\u2028b\x1f<&>"), Chain: "ETH"}}
	got := string(MarshalEntries(odd, ""))
	want := `{"ctl\u0001\n\t\"":{"privateKey":"a` + "\u2028" + `b\u001f<&>","chain":"ETH","testnet":false}}`
	if got != want {
		t.Errorf("MarshalEntries = %s\nwant %s", got, want)
	}
	back, err := parse([]byte(got))
	if err != nil || !reflect.DeepEqual(back[0].PrivateKey, odd[0].PrivateKey) || back[0].ID != odd[0].ID {
		t.Errorf("escaped entry did not round-trip: %v", err)
	}
}

// TestExportReadByCryptoJS checks the committed proof that crypto-js (as
// tatum-kms calls it) decrypts a file gokms wrote: gen.js verify decrypted
// gokms-export.dat and recorded the file's hash and what it read.
func TestExportReadByCryptoJS(t *testing.T) {
	data := readFixture(t, "gokms-export.dat")
	pw := readFixture(t, "gokms-export.password")
	var proof struct {
		VerifiedWith string                    `json:"verifiedWith"`
		FileSha256   string                    `json:"fileSha256"`
		Entries      int                       `json:"entries"`
		ExportOutput string                    `json:"exportOutput"`
		Wallets      map[string]map[string]any `json:"wallets"`
	}
	if err := json.Unmarshal(readFixture(t, "gokms-export.crypto-js.json"), &proof); err != nil {
		t.Fatal(err)
	}
	if proof.FileSha256 != hexSHA(data) {
		t.Fatal("gokms-export.crypto-js.json is about another file: re-run `node gen.js verify`")
	}
	if !strings.HasPrefix(proof.VerifiedWith, "crypto-js 4.2.0") {
		t.Fatalf("verified with %q", proof.VerifiedWith)
	}
	entries, err := Decode(data, pw)
	if err != nil {
		t.Fatal(err)
	}
	small, err := Decode(readFixture(t, "small.dat"), []byte(loadManifest(t)["small.dat"].Password))
	if err != nil {
		t.Fatal(err)
	}
	if proof.Entries != len(entries) || len(entries) != len(small) {
		t.Fatalf("crypto-js read %d entries, we wrote %d of %d", proof.Entries, len(entries), len(small))
	}
	if got := string(MarshalEntries(entries, "  ")) + "\n"; got != proof.ExportOutput {
		t.Fatalf("crypto-js read something else than we wrote")
	}
	// And it is the small wallet, record for record.
	want := map[string]backend.Record{}
	for _, e := range small {
		r, _ := e.Record()
		want[r.ID] = r
	}
	for _, e := range entries {
		r, err := e.Record()
		if err != nil || !reflect.DeepEqual(r, want[e.ID]) {
			t.Fatalf("exported entry %s differs from the imported one (%v)", e.ID, err)
		}
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		if err := writeExportFixture(); err != nil {
			fmt.Fprintln(os.Stderr, "write export fixture:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "wrote gokms-export.dat; now run: cd testdata/tatumkms && node gen.js verify")
	}
	os.Exit(m.Run())
}

// writeExportFixture (go test -update) exports the small wallet as gokms
// does (records -> FromRecord -> Encode) for `node gen.js verify` to check.
func writeExportFixture() error {
	var m struct {
		Fixtures map[string]fixture `json:"fixtures"`
	}
	b, err := os.ReadFile(filepath.Join(fixtureDir, "manifest.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(fixtureDir, "small.dat"))
	if err != nil {
		return err
	}
	small, err := Decode(data, []byte(m.Fixtures["small.dat"].Password))
	if err != nil {
		return err
	}
	var out []Entry
	for _, e := range small {
		r, err := e.Record()
		if err != nil {
			return err
		}
		back, err := FromRecord(r)
		if err != nil {
			return err
		}
		out = append(out, back)
	}
	pw := "exported by gokms, read by crypto-js"
	data, err = Encode(out, []byte(pw), nil)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(fixtureDir, "gokms-export.dat"), data, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(fixtureDir, "gokms-export.password"), []byte(pw), 0o644)
}
