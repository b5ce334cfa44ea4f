package tron

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/wallet"
)

type txVector struct {
	Kind, Name, PrivateKey, Address, SerializedTransaction, TxData, TxID string
}

type vectorFile struct {
	Transactions []txVector
	JSON         []struct{ Input, Output string }
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	b, err := os.ReadFile("../../testdata/tron/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func keyOf(t testing.TB, v txVector) *btcec.PrivateKey {
	t.Helper()
	k, err := wallet.DecodePrivateKey(wallet.TRON, v.PrivateKey, false)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Every pending transaction signs to TronWeb's txData byte for byte, and
// the signature is checked with go-ethereum's recovery (not our code path):
// it recovers the owner's address for sha256(raw_data_hex).
func TestVectorsByteIdentical(t *testing.T) {
	f := loadVectors(t)
	kinds := map[string]int{}
	for _, v := range f.Transactions {
		kinds[v.Kind]++
		key := keyOf(t, v)
		got, err := Sign(v.SerializedTransaction, key, Params{})
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		if got != v.TxData {
			t.Errorf("%s:\n got %s\nwant %s", v.Name, got, v.TxData)
			continue
		}
		verifyIndependently(t, v)
	}
	for _, k := range []string{"native", "trc10", "trc20", "memo"} {
		if kinds[k] < 10 {
			t.Errorf("only %d %s vectors", kinds[k], k)
		}
	}
}

func verifyIndependently(t *testing.T, v txVector) {
	t.Helper()
	var signed struct {
		TxID       string          `json:"txID"`
		RawDataHex string          `json:"raw_data_hex"`
		RawData    json.RawMessage `json:"raw_data"`
		Signature  []string        `json:"signature"`
	}
	if err := json.Unmarshal([]byte(v.TxData), &signed); err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(signed.RawDataHex)
	h := sha256.Sum256(raw)
	if hex.EncodeToString(h[:]) != signed.TxID || signed.TxID != v.TxID {
		t.Fatalf("%s: txID is not sha256(raw_data_hex)", v.Name)
	}
	if len(signed.Signature) != 1 {
		t.Fatalf("%s: %d signatures", v.Name, len(signed.Signature))
	}
	sig, err := hex.DecodeString(signed.Signature[0])
	if err != nil || len(sig) != 65 || (sig[64] != 27 && sig[64] != 28) {
		t.Fatalf("%s: signature %q is not r||s||v", v.Name, signed.Signature[0])
	}
	rsv := append(append([]byte{}, sig[:64]...), sig[64]-27)
	pub, err := crypto.SigToPub(h[:], rsv)
	if err != nil {
		t.Fatalf("%s: recover: %v", v.Name, err)
	}
	if EncodeAddress(Address(mustPub(t, crypto.CompressPubkey(pub)))) != v.Address {
		t.Errorf("%s: signature recovers another address", v.Name)
	}
	if !crypto.VerifySignature(crypto.CompressPubkey(pub), h[:], sig[:64]) {
		t.Errorf("%s: signature does not verify (or has a high S)", v.Name)
	}
	// The unsigned part is unchanged: txData minus the signature re-parses
	// to the pending transaction.
	var a, b map[string]any
	json.Unmarshal([]byte(v.SerializedTransaction), &a)
	json.Unmarshal([]byte(v.TxData), &b)
	delete(b, "signature")
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("%s: signed JSON changed the transaction", v.Name)
	}
}

func mustPub(t *testing.T, b []byte) *btcec.PublicKey {
	p, err := btcec.ParsePubKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// What Decode reports is what raw_data_hex holds.
func TestDecodeFields(t *testing.T) {
	var recipients [][21]byte
	for _, v := range loadVectors(t).Transactions[:3] { // TRX transfers 0..2
		tx, err := Decode(v.SerializedTransaction, Params{})
		if err != nil {
			t.Fatal(err)
		}
		recipients = append(recipients, tx.To)
	}
	for _, v := range loadVectors(t).Transactions {
		tx, err := Decode(v.SerializedTransaction, Params{})
		if err != nil {
			t.Fatal(err)
		}
		if EncodeAddress(tx.Owner) != v.Address {
			t.Errorf("%s: owner %s", v.Name, EncodeAddress(tx.Owner))
		}
		switch v.Kind {
		case "trc10":
			if tx.Type != "TransferAssetContract" || !strings.HasPrefix(string(tx.AssetName), "100") {
				t.Errorf("%s: %s %q", v.Name, tx.Type, tx.AssetName)
			}
		case "trc20":
			if tx.Type != "TriggerSmartContract" || !bytes.HasPrefix(tx.Data, []byte{0xa9, 0x05, 0x9c, 0xbb}) || tx.FeeLimit == 0 {
				t.Errorf("%s: %s data %x fee %d", v.Name, tx.Type, tx.Data[:4], tx.FeeLimit)
			}
			// gen.js: recipient RECIPIENTS[i % 3] (the TRX transfers' i-th
			// recipient), value 1234567 × 10^(3i).
			var i int
			fmt.Sscanf(v.Name, "TRC-20 transfer %d", &i)
			to, amount, ok := tx.TRC20Transfer()
			want := new(big.Int).Mul(big.NewInt(1234567), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(3*i)), nil))
			if !ok || amount.Cmp(want) != 0 || to != recipients[i%3] {
				t.Errorf("%s: TRC20Transfer %s %v %v", v.Name, EncodeAddress(to), amount, ok)
			}
		case "memo":
			if len(tx.Memo) == 0 {
				t.Errorf("%s: no memo", v.Name)
			}
		}
	}
}

func TestJSONStringifyCompat(t *testing.T) {
	f := loadVectors(t)
	if len(f.JSON) < 5 {
		t.Fatal("no JSON vectors")
	}
	for _, c := range f.JSON {
		v, err := parseJSON(c.Input)
		if err != nil {
			t.Errorf("%q: %v", c.Input, err)
			continue
		}
		var buf bytes.Buffer
		v.write(&buf)
		if buf.String() != c.Output {
			t.Errorf("%q:\n got %q\nwant %q", c.Input, buf.String(), c.Output)
		}
	}
	for _, bad := range []string{`{"a":1,"a":2}`, `{"a":"\ud800"}`, `{"a":"\udc00x"}`, "{\"a\":\"\xff\"}", `{"a":9007199254740992}`, `{"a":1.5}`, `{"a":01}`, `{"a":1,}`, `[1] x`, `{"a":"` + "\n" + `"}`, strings.Repeat("[", 40) + strings.Repeat("]", 40)} {
		if _, err := parseJSON(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func mutate(t *testing.T, js string, f func(m map[string]any)) string {
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(js))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func rawData(m map[string]any) map[string]any { return m["raw_data"].(map[string]any) }
func contractValue(m map[string]any) map[string]any {
	return rawData(m)["contract"].([]any)[0].(map[string]any)["parameter"].(map[string]any)["value"].(map[string]any)
}

// rehash makes raw_data_hex and txID consistent with a forged raw, so only
// the JSON-versus-bytes check can catch the forgery.
func rehash(m map[string]any, raw []byte) {
	m["raw_data_hex"] = hex.EncodeToString(raw)
	h := sha256.Sum256(raw)
	m["txID"] = hex.EncodeToString(h[:])
}

func byKind(t *testing.T, kind string) txVector {
	for _, v := range loadVectors(t).Transactions {
		if v.Kind == kind {
			return v
		}
	}
	t.Fatalf("no %s vector", kind)
	return txVector{}
}

// The attacker controls the pending transaction. Each case must be refused
// before anything is signed.
func TestRefusals(t *testing.T) {
	nat := byKind(t, "native")
	trc20 := byKind(t, "trc20")
	other := loadVectors(t).Transactions[1]
	attacker := "41" + strings.Repeat("ab", 20)
	origRaw := func(js string) []byte {
		var m map[string]any
		json.Unmarshal([]byte(js), &m)
		b, _ := hex.DecodeString(m["raw_data_hex"].(string))
		return b
	}
	// A raw_data whose recipient is the attacker, consistently hashed: the
	// JSON still shows the honest recipient.
	forged := func() string {
		var m map[string]any
		json.Unmarshal([]byte(nat.SerializedTransaction), &m)
		tx, _ := Decode(nat.SerializedTransaction, Params{})
		raw := bytes.Replace(origRaw(nat.SerializedTransaction), tx.To[:], mustHex(attacker), 1)
		return mutate(t, nat.SerializedTransaction, func(m map[string]any) { rehash(m, raw) })
	}()
	cases := []struct{ name, js, want string }{
		{"amount changed in the JSON only", mutate(t, nat.SerializedTransaction, func(m map[string]any) { contractValue(m)["amount"] = json.Number("5") }), "JSON and the bytes disagree"},
		{"recipient changed in the bytes, hashes consistent", forged, "JSON and the bytes disagree"},
		{"recipient changed in JSON and bytes, txID kept", mutate(t, nat.SerializedTransaction, func(m map[string]any) {
			contractValue(m)["to_address"] = attacker
			tx, _ := Decode(nat.SerializedTransaction, Params{})
			m["raw_data_hex"] = hex.EncodeToString(bytes.Replace(origRaw(nat.SerializedTransaction), tx.To[:], mustHex(attacker), 1))
		}), "txID is not sha256"},
		{"txID of another transaction", mutate(t, nat.SerializedTransaction, func(m map[string]any) { m["txID"] = strings.Repeat("00", 32) }), "txID is not sha256"},
		{"another owner", other.SerializedTransaction, "is not the address of the signing wallet"},
		{"unsupported contract", mutate(t, nat.SerializedTransaction, func(m map[string]any) {
			c := rawData(m)["contract"].([]any)[0].(map[string]any)
			c["type"] = "FreezeBalanceV2Contract"
			c["parameter"].(map[string]any)["type_url"] = typeURLPrefix + "FreezeBalanceV2Contract"
		}), "signs only TransferContract"},
		{"type_url of another contract", mutate(t, nat.SerializedTransaction, func(m map[string]any) {
			rawData(m)["contract"].([]any)[0].(map[string]any)["parameter"].(map[string]any)["type_url"] = typeURLPrefix + "TransferAssetContract"
		}), "does not match contract type"},
		{"two contracts", mutate(t, nat.SerializedTransaction, func(m map[string]any) {
			cs := rawData(m)["contract"].([]any)
			rawData(m)["contract"] = append(cs, cs[0])
		}), "exactly one contract"},
		{"unknown raw_data member", mutate(t, nat.SerializedTransaction, func(m map[string]any) { rawData(m)["auths"] = []any{} }), `"auths"`},
		{"unknown value member", mutate(t, nat.SerializedTransaction, func(m map[string]any) { contractValue(m)["extra"] = "x" }), `"extra"`},
		{"function_selector form", mutate(t, trc20.SerializedTransaction, func(m map[string]any) { contractValue(m)["function_selector"] = "transfer(address,uint256)" }), `"function_selector"`},
		{"already signed", mutate(t, nat.SerializedTransaction, func(m map[string]any) { m["signature"] = []any{"00"} }), "already signed"},
		{"fee_limit above the cap", consistent(t, mutate(t, trc20.SerializedTransaction, func(m map[string]any) { rawData(m)["fee_limit"] = json.Number("1000000001") })), "fee_limit of 1000000001 sun exceeds"},
		{"negative amount", mutate(t, nat.SerializedTransaction, func(m map[string]any) { contractValue(m)["amount"] = json.Number("-1") }), "want at least 1"},
		{"amount as string", mutate(t, nat.SerializedTransaction, func(m map[string]any) { contractValue(m)["amount"] = "1" }), "must be a JSON number"},
		{"unsafe integer", strings.Replace(nat.SerializedTransaction, `"amount":1`, `"amount":9007199254740993`, 1), "JavaScript holds exactly"},
		{"odd hex", mutate(t, nat.SerializedTransaction, func(m map[string]any) { rawData(m)["data"] = "abc" }), "even number of digits"},
		{"bad owner address", mutate(t, nat.SerializedTransaction, func(m map[string]any) { contractValue(m)["owner_address"] = "42" + strings.Repeat("00", 20) }), "not a TRON address"},
		{"duplicate key", strings.Replace(nat.SerializedTransaction, `"amount":1`, `"amount":1,"amount":1`, 1), "appears twice"},
		{"no raw_data_hex", mutate(t, nat.SerializedTransaction, func(m map[string]any) { delete(m, "raw_data_hex") }), "raw_data_hex missing"},
		{"not JSON", "{", "not JSON"},
	}
	key := keyOf(t, nat)
	for _, c := range cases {
		_, err := Sign(c.js, key, Params{})
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want a refusal saying %q", c.name, err, c.want)
		}
	}
}

// consistent recomputes raw_data_hex and txID from the JSON with our own
// encoder: a forgery a careless signer would accept.
func consistent(t *testing.T, js string) string {
	v, err := parseJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := (&Transaction{}).encodeRaw(v.get("raw_data"))
	if err != nil {
		t.Fatal(err)
	}
	return mutate(t, js, func(m map[string]any) { rehash(m, raw) })
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestMaxFeeLimitConfigurable(t *testing.T) {
	v := byKind(t, "trc20") // fee_limit 1e8
	key := keyOf(t, v)
	if _, err := Sign(v.SerializedTransaction, key, Params{MaxFeeLimit: 99_999_999}); !errors.Is(err, ErrRefused) {
		t.Fatalf("below the fee limit: %v", err)
	}
	if _, err := Sign(v.SerializedTransaction, key, Params{MaxFeeLimit: 100_000_000}); err != nil {
		t.Fatal(err)
	}
}

type fakeKeys struct {
	keys  map[string]*btcec.PrivateKey
	calls int
	index *uint32
}

func (f *fakeKeys) Key(_ context.Context, id string, index *uint32) (*btcec.PrivateKey, error) {
	f.calls++
	f.index = index
	k, ok := f.keys[id]
	if !ok {
		return nil, errors.New("no such wallet")
	}
	return k, nil
}

func TestSignerRequest(t *testing.T) {
	v := byKind(t, "trc20")
	keys := &fakeKeys{keys: map[string]*btcec.PrivateKey{"sig-1": keyOf(t, v)}}
	s := NewSigner(Params{})
	var _ signing.Signer = s
	idx := uint32(3)
	got, err := s.Sign(context.Background(), signing.Request{Chain: "TRON", SerializedTransaction: v.SerializedTransaction, Hashes: []string{"sig-1"}, Index: &idx}, keys)
	if err != nil || got != v.TxData {
		t.Fatalf("Signer.Sign: %v", err)
	}
	if keys.index == nil || *keys.index != 3 {
		t.Error("the index was not passed to the KeySource")
	}
	for name, r := range map[string]signing.Request{
		"other chain": {Chain: "ETH", SerializedTransaction: v.SerializedTransaction, Hashes: []string{"sig-1"}},
		"two hashes":  {Chain: "TRON", SerializedTransaction: v.SerializedTransaction, Hashes: []string{"sig-1", "sig-1"}},
		"bad tx":      {Chain: "TRON", SerializedTransaction: "{}", Hashes: []string{"sig-1"}},
	} {
		keys.calls = 0
		if _, err := s.Sign(context.Background(), r, keys); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v", name, err)
		}
		if keys.calls != 0 {
			t.Errorf("%s: the key was resolved before the refusal", name)
		}
	}
}

// Errors never carry the private key.
func TestErrorsCarryNoSecret(t *testing.T) {
	v := byKind(t, "native")
	other := loadVectors(t).Transactions[1]
	_, err := Sign(other.SerializedTransaction, keyOf(t, v), Params{})
	if err == nil || strings.Contains(err.Error(), v.PrivateKey) {
		t.Fatalf("%v", err)
	}
}
