package sol

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/gokms/gokms/wallet"
)

func seededKey(label string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("gokms-sol-test-" + label))
	return ed25519.NewKeyFromSeed(s[:])
}

func pub(k ed25519.PrivateKey) PublicKey { return PublicKey(k[32:]) }

func pendingJSONOf(m *Message, mintPK string) string {
	p := map[string]string{"txData": hex.EncodeToString(m.Serialize())}
	if mintPK != "" {
		p["mintPK"] = mintPK
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// transfer builds the message web3.js compiles for one SystemProgram.transfer
// (fee payer = from): [from, to, system], header {1, 0, 1}.
func transfer(from, to PublicKey, lamports uint64) *Message {
	data := make([]byte, 12)
	binary.LittleEndian.PutUint32(data, 2)
	binary.LittleEndian.PutUint64(data[4:], lamports)
	return &Message{
		Header:       Header{1, 0, 1},
		AccountKeys:  []PublicKey{from, to, SystemProgram},
		Instructions: []CompiledInstruction{{ProgramIDIndex: 2, Accounts: []uint8{0, 1}, Data: data}},
	}
}

func withInstruction(m *Message, program PublicKey, accounts []PublicKey, data []byte) *Message {
	out := *m
	out.AccountKeys = append([]PublicKey(nil), m.AccountKeys...)
	out.Instructions = append([]CompiledInstruction(nil), m.Instructions...)
	idx := func(k PublicKey) uint8 {
		for i, a := range out.AccountKeys {
			if a == k {
				return uint8(i)
			}
		}
		out.AccountKeys = append(out.AccountKeys, k)
		out.Header.NumReadonlyUnsignedAccounts++
		return uint8(len(out.AccountKeys) - 1)
	}
	ix := CompiledInstruction{Data: data}
	for _, a := range accounts {
		ix.Accounts = append(ix.Accounts, idx(a))
	}
	ix.ProgramIDIndex = idx(program)
	out.Instructions = append(out.Instructions, ix)
	return &out
}

var bh = Blockhash{Hash: sha256.Sum256([]byte("bh")), LastValidBlockHeight: 99}

// TestTransferBuiltHereSigns makes sure the hand-built message of the
// refusal tests is a good one: signed, it verifies.
func TestTransferBuiltHereSigns(t *testing.T) {
	a := seededKey("a")
	s, err := Sign(pendingJSONOf(transfer(pub(a), pub(seededKey("b")), 5), ""), []ed25519.PrivateKey{a}, bh)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(a.Public().(ed25519.PublicKey), s.Message, s.Wire[1:65]) {
		t.Fatal("does not verify")
	}
}

// TestRefusals plays the attacker who controls the pending transaction (a
// leaked API key, a wrong TATUM_API_URL): each must be refused with
// ErrRefused before anything is signed, and no error may quote a key.
func TestRefusals(t *testing.T) {
	a, b, c := seededKey("a"), seededKey("b"), seededKey("c")
	good := transfer(pub(a), pub(b), 1000)
	assign := make([]byte, 36)
	binary.LittleEndian.PutUint32(assign, 1) // System Assign: hands the account to a program
	copy(assign[4:], c[32:])
	setAuthority := append([]byte{6, 2, 1}, c[32:]...) // SPL SetAuthority AccountOwner -> c
	approve := append([]byte{4}, make([]byte, 8)...)   // SPL Approve
	other := mustKey("BPFLoaderUpgradeab1e11111111111111111111111")

	feePayerIsMint := transfer(pub(c), pub(b), 1)
	feePayerIsMint = withInstruction(feePayerIsMint, SystemProgram, []PublicKey{pub(a), pub(b)}, good.Instructions[0].Data)
	feePayerIsMint.Header.NumRequiredSignatures = 2 // c (fee payer) and a sign
	feePayerIsMint.AccountKeys = []PublicKey{pub(c), pub(a), pub(b), SystemProgram}
	feePayerIsMint.Instructions = []CompiledInstruction{{ProgramIDIndex: 3, Accounts: []uint8{1, 2}, Data: good.Instructions[0].Data}}
	cKeyHex := hex.EncodeToString(c)

	twoSigners := transfer(pub(a), pub(b), 1)
	twoSigners.Header = Header{2, 0, 1}
	twoSigners.AccountKeys = []PublicKey{pub(c), pub(a), pub(b), SystemProgram}
	twoSigners.Instructions = []CompiledInstruction{{ProgramIDIndex: 3, Accounts: []uint8{1, 2}, Data: good.Instructions[0].Data}}

	versioned := good.Serialize()
	versioned[0] |= 0x80
	trailing := append(good.Serialize(), 0)
	outOfRange := transfer(pub(a), pub(b), 1)
	outOfRange.Instructions[0].Accounts = []uint8{0, 9}
	dup := transfer(pub(a), pub(a), 1)
	noSigners := transfer(pub(a), pub(b), 1)
	noSigners.Header = Header{0, 0, 1}
	long := good.Serialize()
	// A length written in two bytes where one would do (0x03 as 0x83 0x00).
	nonCanonical := append(append([]byte{}, long[:3]...), append([]byte{0x83, 0x00}, long[4:]...)...)
	badMint := append(ed25519.PrivateKey(nil), c...)
	badMint[40] ^= 1

	cases := []struct {
		name string
		tx   string
		keys []ed25519.PrivateKey
		want string
	}{
		{"not JSON", "{", []ed25519.PrivateKey{a}, "not the JSON"},
		{"two JSON values", `{"txData":"00"}{}`, []ed25519.PrivateKey{a}, "not the JSON"},
		{"no txData", `{"mintPK":null}`, []ed25519.PrivateKey{a}, "no txData"},
		{"txData not hex", `{"txData":"zz"}`, []ed25519.PrivateKey{a}, "not hex"},
		{"too big", `{"txData":"` + strings.Repeat("00", PacketDataSize+1) + `"}`, []ed25519.PrivateKey{a}, "more than a Solana transaction"},
		{"versioned message", `{"txData":"` + hex.EncodeToString(versioned) + `"}`, []ed25519.PrivateKey{a}, "versioned"},
		{"trailing bytes", `{"txData":"` + hex.EncodeToString(trailing) + `"}`, []ed25519.PrivateKey{a}, "after the last instruction"},
		{"non-canonical length", `{"txData":"` + hex.EncodeToString(nonCanonical) + `"}`, []ed25519.PrivateKey{a}, "shortest encoding"},
		{"index out of range", pendingJSONOf(outOfRange, ""), []ed25519.PrivateKey{a}, "account index 9"},
		{"account twice", pendingJSONOf(dup, ""), []ed25519.PrivateKey{a}, "listed twice"},
		{"no fee payer", pendingJSONOf(noSigners, ""), []ed25519.PrivateKey{a}, "no required signatures"},
		{"no key", pendingJSONOf(good, ""), nil, "no wallet key"},
		{"another wallet's transaction", pendingJSONOf(transfer(pub(c), pub(b), 1), ""), []ed25519.PrivateKey{a}, "fee payer " + pub(c).String() + " is not one of"},
		{"key the transaction does not use", pendingJSONOf(good, ""), []ed25519.PrivateKey{a, c}, "does not use that account"},
		{"key of a non-signer account (web3.js would make it sign)", pendingJSONOf(good, ""), []ed25519.PrivateKey{a, b}, "does not ask for its signature"},
		{"a required signature missing", pendingJSONOf(twoSigners, ""), []ed25519.PrivateKey{a}, "fee payer"},
		{"a required co-signer missing", pendingJSONOf(twoSigners, ""), []ed25519.PrivateKey{c}, "needs the signature of " + pub(a).String()},
		{"fee payer only the mint", pendingJSONOf(feePayerIsMint, cKeyHex), []ed25519.PrivateKey{a}, "fee payer"},
		{"mintPK with a foreign public half", pendingJSONOf(good, hex.EncodeToString(badMint)), []ed25519.PrivateKey{a}, "mintPK"},
		{"mintPK not a key", pendingJSONOf(good, "abc"), []ed25519.PrivateKey{a}, "mintPK"},
		{"system assign", pendingJSONOf(withInstruction(good, SystemProgram, []PublicKey{pub(a)}, assign), ""), []ed25519.PrivateKey{a}, "system instruction type 1"},
		{"spl setAuthority", pendingJSONOf(withInstruction(good, TokenProgram, []PublicKey{pub(b), pub(a)}, setAuthority), ""), []ed25519.PrivateKey{a}, "SPL token instruction 6"},
		{"spl approve", pendingJSONOf(withInstruction(good, TokenProgram, []PublicKey{pub(b), pub(c), pub(a)}, approve), ""), []ed25519.PrivateKey{a}, "SPL token instruction 4"},
		{"unknown program", pendingJSONOf(withInstruction(good, other, []PublicKey{pub(a)}, []byte{1}), ""), []ed25519.PrivateKey{a}, "program " + other.String()},
		{"short transfer", pendingJSONOf(withInstruction(good, SystemProgram, []PublicKey{pub(a)}, good.Instructions[0].Data), ""), []ed25519.PrivateKey{a}, "with 1 accounts"},
		{"memo not UTF-8", pendingJSONOf(withInstruction(good, MemoProgram, nil, []byte{0xff, 0xfe}), ""), []ed25519.PrivateKey{a}, "not UTF-8"},
	}
	secrets := []string{wallet.EncodeSolanaPrivateKey(a), wallet.EncodeSolanaPrivateKey(b), wallet.EncodeSolanaPrivateKey(c), cKeyHex, hex.EncodeToString(a), base58.Encode(a[:32])}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Sign(tc.tx, tc.keys, bh)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("signed (%v, %v); want a refusal", s, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			for _, sec := range secrets {
				if strings.Contains(err.Error(), sec) {
					t.Error("error quotes a key")
				}
			}
		})
	}
}

// TestKeysUntouched: Sign wipes the mint key it decodes itself, but leaves
// the caller's keys alone (they are the caller's to wipe).
func TestKeysUntouched(t *testing.T) {
	a := seededKey("a")
	keep := append(ed25519.PrivateKey(nil), a...)
	if _, err := Sign(pendingJSONOf(transfer(pub(a), pub(seededKey("b")), 5), ""), []ed25519.PrivateKey{a}, bh); err != nil {
		t.Fatal(err)
	}
	if string(a) != string(keep) {
		t.Error("Sign changed the caller's key")
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, v := range loadVectors(t).Vectors {
		var p struct {
			TxData string `json:"txData"`
		}
		_ = json.Unmarshal([]byte(v.Pending.SerializedTransaction), &p)
		raw, _ := hex.DecodeString(p.TxData)
		m, err := ParseMessage(raw)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if hex.EncodeToString(m.Serialize()) != p.TxData {
			t.Fatalf("%s: message does not encode back to its bytes", v.Name)
		}
	}
	for _, n := range []int{0, 1, 127, 128, 255, 16383, 16384, 65535} {
		b := appendCompactU16(nil, n)
		r := reader{b: b}
		got, err := r.compactU16()
		if err != nil || got != n || r.off != len(b) {
			t.Errorf("compact-u16 %d: %d %v", n, got, err)
		}
	}
	r := reader{b: []byte{0xff, 0xff, 0x04}}
	if _, err := r.compactU16(); err == nil {
		t.Error("65536+ accepted")
	}
}

func FuzzParseMessage(f *testing.F) {
	for _, v := range loadVectors(f).Vectors[:5] {
		var p struct {
			TxData string `json:"txData"`
		}
		_ = json.Unmarshal([]byte(v.Pending.SerializedTransaction), &p)
		raw, _ := hex.DecodeString(p.TxData)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil {
			return
		}
		if string(m.Serialize()) != string(b) {
			t.Fatal("parsed message does not encode back to its bytes")
		}
	})
}

// TestDuplicateKeys: a wallet named twice (or also given as mintPK) signs
// once, as web3.js's sign() dedupes its signers.
func TestDuplicateKeys(t *testing.T) {
	v := byName(t, "native-2")
	k := keysOf(t, v)
	s, err := Sign(v.Pending.SerializedTransaction, append(k, k...), blockhashOf(t, v))
	if err != nil {
		t.Fatal(err)
	}
	if s.TxID != v.TxID || len(s.Signers) != 1 {
		t.Errorf("duplicate key: %d signers", len(s.Signers))
	}
	var p map[string]string
	_ = json.Unmarshal([]byte(v.Pending.SerializedTransaction), &p)
	p["mintPK"] = hex.EncodeToString(k[0])
	b, _ := json.Marshal(p)
	if s, err := Sign(string(b), k, blockhashOf(t, v)); err != nil || s.TxID != v.TxID {
		t.Errorf("wallet key also as mintPK: %v", err)
	}
}
