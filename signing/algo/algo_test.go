package algo

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gokms/gokms/wallet"
)

type vector struct {
	Name, Kind            string
	Testnet               bool
	Wallet, Secret        string
	Address               string
	SerializedTransaction string
	TxData                string `json:"txData"`
	TxID                  string `json:"txId"`
	BytesToSign           string
	Decoded               map[string]any
	SdkError              string
}

type vectors struct {
	SDK          map[string]string
	Wallets      []struct{ Label, Secret, Address string }
	Transactions []vector
	Refused      []vector
}

func load(t testing.TB) vectors {
	t.Helper()
	b, err := os.ReadFile("../../testdata/algo/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func key(t testing.TB, secret string) ed25519.PrivateKey {
	t.Helper()
	k, err := wallet.AlgoKeyFromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestVectors: every pending transaction signs to the exact txData that
// signAlgoKMSTransaction returned, and the signature verifies on its own.
func TestVectors(t *testing.T) {
	v := load(t)
	kinds := map[string]int{}
	for _, tc := range v.Transactions {
		kinds[strings.Split(tc.Kind, "-")[0]]++
		t.Run(tc.Name, func(t *testing.T) {
			s, err := Sign(tc.SerializedTransaction, key(t, tc.Secret), tc.Testnet)
			if err != nil {
				t.Fatal(err)
			}
			if s.TxData != tc.TxData {
				t.Fatalf("txData differs from the SDK's\n got %s\nwant %s", s.TxData, tc.TxData)
			}
			if s.TxID != tc.TxID {
				t.Errorf("txID %s, SDK %s", s.TxID, tc.TxID)
			}
			verifyIndependently(t, tc, s)
		})
	}
	if kinds["pay"] < 10 || kinds["axfer"] < 10 {
		t.Errorf("want at least 10 vectors per kind, have %v", kinds)
	}
}

// verifyIndependently decodes the signed bytes with a general msgpack
// decoder (not this package's encoder), compares every field with what
// algosdk decoded, and checks the ed25519 signature against the public key
// of the sender's address.
func verifyIndependently(t *testing.T, tc vector, s *Signed) {
	raw, _ := hex.DecodeString(s.TxData)
	var got map[string]any
	if err := msgpack.Unmarshal(raw, &got); err != nil {
		t.Fatalf("decode signed transaction: %v", err)
	}
	if !reflect.DeepEqual(normalize(got), normalize(tc.Decoded)) {
		t.Errorf("decoded fields differ\n got %v\nwant %v", normalize(got), normalize(tc.Decoded))
	}
	sig, _ := got["sig"].([]byte)
	pub, err := wallet.ParseAlgoAddress(tc.Address)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := hex.DecodeString(tc.BytesToSign)
	if !bytes.Equal(msg, s.Tx.BytesToSign()) {
		t.Errorf("bytes to sign differ from algosdk's")
	}
	if !ed25519.Verify(pub, msg, sig) {
		t.Errorf("signature does not verify against %s", tc.Address)
	}
	// The signed message is "TX" followed by exactly the txn map as sent.
	txn, _ := msgpack.Marshal(got["txn"])
	_ = txn // (re-encoding order is the decoder's; compare via the SDK's bytes above)
	if !bytes.HasPrefix(msg, []byte("TX")) || !bytes.Contains(raw, msg[2:]) {
		t.Errorf("the signed transaction does not carry the signed txn bytes")
	}
}

// normalize turns both decoders' outputs into one form: byte strings as
// {"bin": hex}, numbers as float64.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if b, ok := x["bin"]; ok && len(x) == 1 {
			return "bin:" + b.(string)
		}
		o := map[string]any{}
		for k, e := range x {
			o[k] = normalize(e)
		}
		return o
	case []byte:
		return "bin:" + hex.EncodeToString(x)
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint:
		var f float64
		b, _ := json.Marshal(x)
		_ = json.Unmarshal(b, &f)
		return f
	default:
		return v
	}
}

// TestSDKCannotSign: asset configuration, which tatum-kms's SDK fails on,
// is refused with a clear error.
func TestSDKCannotSign(t *testing.T) {
	v := load(t)
	if len(v.Refused) < 10 {
		t.Fatalf("only %d refused vectors", len(v.Refused))
	}
	for _, tc := range v.Refused {
		_, err := Sign(tc.SerializedTransaction, key(t, tc.Secret), tc.Testnet)
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "acfg") {
			t.Errorf("%s: %v (the SDK: %s)", tc.Name, err, tc.SdkError)
		}
	}
}

func mutate(t *testing.T, js string, f func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	return string(mustJSON(m))
}

func addrObj(pub []byte) map[string]any {
	o := map[string]any{}
	for i, b := range pub {
		o[itoa(i)] = int(b)
	}
	return map[string]any{"publicKey": o}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestAttacks plays a Tatum API that alters pending transactions: each
// change is refused before anything is signed, with a reason that names it.
func TestAttacks(t *testing.T) {
	v := load(t)
	var pay, axfer vector
	for _, tc := range v.Transactions {
		if tc.Kind == "pay-note" && pay.Name == "" {
			pay = tc
		}
		if tc.Kind == "axfer" && axfer.Name == "" {
			axfer = tc
		}
	}
	attacker, _ := wallet.ParseAlgoAddress(v.Wallets[3].Address)
	cases := []struct {
		name, base, want string
		f                func(m map[string]any)
	}{
		{"close remainder to (address string)", pay.SerializedTransaction, "close the account", func(m map[string]any) { m["closeRemainderTo"] = v.Wallets[3].Address }},
		{"close remainder to (object)", pay.SerializedTransaction, "close the account", func(m map[string]any) { m["closeRemainderTo"] = addrObj(attacker) }},
		{"asset close-to", axfer.SerializedTransaction, "close the account", func(m map[string]any) { m["closeRemainderTo"] = addrObj(attacker) }},
		{"rekey", pay.SerializedTransaction, "control of the account", func(m map[string]any) { m["reKeyTo"] = addrObj(attacker) }},
		{"clawback", axfer.SerializedTransaction, "claw", func(m map[string]any) { m["assetRevocationTarget"] = addrObj(attacker) }},
		{"other tag", pay.SerializedTransaction, "tag", func(m map[string]any) { m["tag"] = map[string]any{"type": "Buffer", "data": []int{77, 88}} }},
		{"key registration", pay.SerializedTransaction, "keyreg", func(m map[string]any) { m["type"] = "keyreg" }},
		{"application call", pay.SerializedTransaction, "appl", func(m map[string]any) { m["type"] = "appl" }},
		{"app args", pay.SerializedTransaction, "appArgs", func(m map[string]any) { m["appArgs"] = []string{"x"} }},
		{"unknown field", pay.SerializedTransaction, "voteKey", func(m map[string]any) { m["voteKey"] = "AAAA" }},
		{"group", pay.SerializedTransaction, "group", func(m map[string]any) { m["group"] = map[string]any{"type": "Buffer", "data": []int{1}} }},
		{"receiver checksum", pay.SerializedTransaction, "checksum", func(m map[string]any) {
			to := m["to"].(map[string]any)
			to["publicKey"].(map[string]any)["0"] = 1 + int(to["publicKey"].(map[string]any)["0"].(float64))%255
		}},
		{"note with a hole", pay.SerializedTransaction, "note", func(m map[string]any) { m["note"] = map[string]any{"0": 1, "2": 3} }},
		{"note byte out of range", pay.SerializedTransaction, "note", func(m map[string]any) { m["note"] = map[string]any{"0": 256} }},
		{"negative amount", pay.SerializedTransaction, "amount", func(m map[string]any) { m["amount"] = -1 }},
		{"fractional amount", pay.SerializedTransaction, "amount", func(m map[string]any) { m["amount"] = 1.5 }},
		{"amount above 2^53", pay.SerializedTransaction, "amount", func(m map[string]any) { m["amount"] = json.Number("9007199254740993") }},
		{"zero last round", pay.SerializedTransaction, "lastRound", func(m map[string]any) { m["lastRound"] = 0 }},
		{"short genesis hash", pay.SerializedTransaction, "genesisHash", func(m map[string]any) { m["genesisHash"] = map[string]any{"type": "Buffer", "data": []int{1, 2}} }},
		{"no sender", pay.SerializedTransaction, "from", func(m map[string]any) { delete(m, "from") }},
		{"zero asset", axfer.SerializedTransaction, "assetIndex", func(m map[string]any) { m["assetIndex"] = 0 }},
	}
	k := key(t, pay.Secret)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			js := mutate(t, c.base, c.f)
			if c.base == axfer.SerializedTransaction {
				k = key(t, axfer.Secret)
			} else {
				k = key(t, pay.Secret)
			}
			s, err := Sign(js, k, testnetOf(c.base, pay, axfer))
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("signed (%v), want a refusal", s)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not name %q", err, c.want)
			}
			if strings.Contains(err.Error(), pay.Secret[:20]) || strings.Contains(err.Error(), axfer.Secret[:20]) {
				t.Errorf("error repeats the secret")
			}
		})
	}
	// Another wallet's pending transaction is not signed with this key.
	var other vector
	for _, tc := range v.Transactions {
		if tc.Wallet != pay.Wallet {
			other = tc
			break
		}
	}
	if _, err := Sign(other.SerializedTransaction, key(t, pay.Secret), other.Testnet); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "sender") {
		t.Errorf("foreign sender: %v", err)
	}
	for _, bad := range []string{"", "[]", "null", `{"type":"pay"} x`, "not json"} {
		if _, err := Sign(bad, k, false); !errors.Is(err, ErrRefused) {
			t.Errorf("Sign(%q): %v", bad, err)
		}
	}
}

func testnetOf(base string, pay, axfer vector) bool {
	if base == axfer.SerializedTransaction {
		return axfer.Testnet
	}
	return pay.Testnet
}

// TestNetwork: a transaction of the other network (or of an unknown one)
// is refused; the check is what stops a mainnet daemon from signing what a
// testnet request carries and the reverse.
func TestNetwork(t *testing.T) {
	v := load(t)
	for _, tc := range v.Transactions[:4] {
		if _, err := Sign(tc.SerializedTransaction, key(t, tc.Secret), !tc.Testnet); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "genesis") {
			t.Errorf("%s on the other network: %v", tc.Name, err)
		}
	}
	tc := v.Transactions[0]
	js := mutate(t, tc.SerializedTransaction, func(m map[string]any) { m["genesisID"] = "betanet-v1.0" })
	if _, err := Sign(js, key(t, tc.Secret), tc.Testnet); !errors.Is(err, ErrRefused) {
		t.Errorf("betanet genesis id: %v", err)
	}
}

func TestBroadcastBody(t *testing.T) {
	b, _ := BroadcastBody("82a3", "26d3883e-4e17-48b3-a0ee-09a3e484ac83")
	if string(b) != `{"txData":"82a3","signatureId":"26d3883e-4e17-48b3-a0ee-09a3e484ac83"}` {
		t.Fatal(string(b))
	}
}

// BenchmarkSign signs one pending payment (JSON decode, checks, encode,
// ed25519); BenchmarkBareEd25519 is the signature alone over the same bytes.
func BenchmarkSign(b *testing.B) {
	v := load(b)
	tc := v.Transactions[8]
	k := key(b, tc.Secret)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(tc.SerializedTransaction, k, tc.Testnet); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareEd25519(b *testing.B) {
	v := load(b)
	tc := v.Transactions[8]
	k := key(b, tc.Secret)
	msg, _ := hex.DecodeString(tc.BytesToSign)
	b.ReportAllocs()
	for b.Loop() {
		ed25519.Sign(k, msg)
	}
}
