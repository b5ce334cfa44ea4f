// Package algo signs Algorand pending transactions byte for byte as
// tatum-kms 8.0.1 does (@tatumio/tatum 1.37 signAlgoKMSTransaction over
// algosdk 1.16): the pending transaction's serializedTransaction is
// JSON.stringify of an algosdk Transaction; it is rebuilt, encoded as
// canonical MessagePack (sorted keys, zero and empty fields left out),
// signed with ed25519 over "TX" || msgpack, and the signed transaction
// {sig, txn} goes hex-encoded to POST /v3/algorand/broadcast as
// {"txData": hex, "signatureId": id}.
//
// Only what Tatum's SDK creates is signed: payments ("pay", with or
// without note) and asset transfers and opt-ins ("axfer"). Everything that
// could move more than the transaction says (close-to, clawback, rekey) or
// that tatum-kms cannot sign either (asset configuration: its SDK reads a
// receiver that such a transaction has not) is refused before the key is
// touched. docs/algorand.md lists the checks and the differences.
package algo

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/gokms/gokms/signing/internal/onejson"
	"github.com/gokms/gokms/wallet"
)

// ErrRefused is wrapped by every refusal of a pending transaction: it was
// not signed, nothing was sent, and it will not be signed on a retry.
var ErrRefused = errors.New("ALGO transaction refused")

// BroadcastPath is where tatum-kms posts the signed transaction.
const BroadcastPath = "/v3/algorand/broadcast"

// minFee is algosdk's ALGORAND_MIN_TX_FEE; bytesAfterSigning its
// NUM_ADDL_BYTES_AFTER_SIGNING (what a signature adds to the encoding).
const (
	minFee            = 1000
	bytesAfterSigning = 75
	maxSafeInteger    = 1<<53 - 1 // JavaScript's Number.MAX_SAFE_INTEGER
)

// Transaction is what gokms understood a pending ALGO transaction to be:
// every field that goes into the signed bytes.
type Transaction struct {
	Type        string // "pay" or "axfer"
	Sender      ed25519.PublicKey
	Receiver    ed25519.PublicKey
	Amount      uint64 // microAlgos (pay) or asset base units (axfer)
	AssetIndex  uint64 // axfer only
	Fee         uint64 // microAlgos, as signed (after the per-byte rule)
	FirstRound  uint64
	LastRound   uint64
	Note        []byte
	GenesisID   string
	GenesisHash []byte
}

// SenderAddress and ReceiverAddress are the Algorand address forms.
func (t *Transaction) SenderAddress() string   { return wallet.AlgoAddress(t.Sender) }
func (t *Transaction) ReceiverAddress() string { return wallet.AlgoAddress(t.Receiver) }

// Encode is algosdk's toByte(): the canonical msgpack of the transaction.
func (t *Transaction) Encode() []byte {
	return appendMap(nil, t.fields())
}

func (t *Transaction) fields() mpMap {
	m := mpMap{
		{"fv", t.FirstRound}, {"lv", t.LastRound}, {"fee", t.Fee},
		{"gen", t.GenesisID}, {"gh", t.GenesisHash}, {"note", t.Note},
		{"snd", []byte(t.Sender)}, {"type", t.Type},
	}
	if t.Type == "pay" {
		m = append(m, mpField{"amt", t.Amount}, mpField{"rcv", []byte(t.Receiver)})
	} else {
		m = append(m, mpField{"aamt", t.Amount}, mpField{"arcv", []byte(t.Receiver)}, mpField{"xaid", t.AssetIndex})
	}
	// Left out when zero or empty, as get_obj_for_encoding deletes them.
	// lv, gh, snd, rcv/arcv and xaid are never left out (the encoder refuses
	// a zero lv or xaid; Decode refuses them first).
	out := m[:0]
	for _, f := range m {
		switch v := f.val.(type) {
		case uint64:
			if v == 0 && f.key != "lv" && f.key != "xaid" {
				continue
			}
		case string:
			if v == "" {
				continue
			}
		case []byte:
			if len(v) == 0 && (f.key == "note") {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// BytesToSign is "TX" || Encode().
func (t *Transaction) BytesToSign() []byte {
	return append([]byte("TX"), t.Encode()...)
}

// TxID is algosdk's txID(): base32 of SHA-512/256 of BytesToSign, 52
// characters.
func (t *Transaction) TxID() string {
	sum := sha512.Sum512_256(t.BytesToSign())
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])
}

// Signed is the result of Sign.
type Signed struct {
	TxData string // hex of msgpack {sig, txn}: the broadcast body's txData
	TxID   string
	Tx     *Transaction
}

// Networks: genesis id and hash of Algorand mainnet and testnet.
var networks = map[bool]struct{ id, hash string }{
	false: {"mainnet-v1.0", "wGHE2Pwdvd7S12BL5FaOP20EGYesN73ktiC1qzkkit8="},
	true:  {"testnet-v1.0", "SGO1GKSzyE7IEPItTxCByw9x8FmnrCDexi9/cOUJOiI="},
}

// Sign decodes and checks serializedTransaction, checks that it is for the
// given network and that key is the sender's, and signs. The key is not
// kept.
func Sign(serializedTransaction string, key ed25519.PrivateKey, testnet bool) (*Signed, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("ALGO signing key: not an ed25519 private key")
	}
	tx, err := Decode(serializedTransaction)
	if err != nil {
		return nil, err
	}
	net := networks[testnet]
	if base64.StdEncoding.EncodeToString(tx.GenesisHash) != net.hash || (tx.GenesisID != "" && tx.GenesisID != net.id) {
		name := map[bool]string{false: "mainnet", true: "testnet"}[testnet]
		return nil, refuse("its genesis (%q, %s) is not Algorand %s's (%s, %s)", tx.GenesisID, base64.StdEncoding.EncodeToString(tx.GenesisHash), name, net.id, net.hash)
	}
	pub := key.Public().(ed25519.PublicKey)
	if !bytes.Equal(pub, tx.Sender) {
		// algosdk would add the key as "sgnr" (signing for a rekeyed
		// account); a pending transaction of another sender is refused.
		return nil, fmt.Errorf("%w: its sender %s is not the address of the wallet's key (%s); check the signatureId", ErrRefused, tx.SenderAddress(), wallet.AlgoAddress(pub))
	}
	sig := ed25519.Sign(key, tx.BytesToSign())
	stx := appendMap(nil, mpMap{{"sig", sig}, {"txn", tx.fields()}})
	return &Signed{TxData: hex.EncodeToString(stx), TxID: tx.TxID(), Tx: tx}, nil
}

// BroadcastBody is the JSON tatum-kms posts to BroadcastPath.
func BroadcastBody(txData, signatureID string) ([]byte, error) {
	return json.Marshal(struct {
		TxData      string `json:"txData"`
		SignatureID string `json:"signatureId"`
	}{txData, signatureID})
}

// The keys of the JSON form of an algosdk 1.16 Transaction that gokms
// understands. Other keys are refused by name.
var (
	ignoredKeys = map[string]bool{
		"name":    true, // "Transaction"
		"flatFee": true, // read below
		"lease":   true, // signAlgoKMSTransaction drops it (lease = undefined)
	}
	refusedKeys = map[string]string{
		"closeRemainderTo":      "it would close the account and send the whole remaining balance to another address",
		"reKeyTo":               "it would hand control of the account to another key",
		"assetRevocationTarget": "it would claw assets back from another account",
		"group":                 "a transaction group is not something Tatum's SDK creates",
		"assetManager":          "asset configuration is not signed",
		"assetReserve":          "asset configuration is not signed",
		"assetFreeze":           "asset configuration is not signed",
		"assetClawback":         "asset configuration is not signed",
		"freezeAccount":         "asset freezing is not signed",
	}
)

func refuse(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, a...))
}

// Decode parses serializedTransaction the way signAlgoKMSTransaction and
// algosdk's Transaction constructor read it, and refuses what it does not
// understand. It never needs the key.
func Decode(serializedTransaction string) (*Transaction, error) {
	raw, err := onejson.Object(serializedTransaction)
	if errors.Is(err, onejson.ErrTrailing) {
		return nil, refuse("serializedTransaction has data after the JSON object")
	}
	if err != nil {
		return nil, refuse("serializedTransaction is not a JSON object (want algosdk's Transaction JSON)")
	}
	get := func(k string) (json.RawMessage, bool) {
		v, ok := raw[k]
		if !ok || string(v) == "null" {
			return nil, false
		}
		return v, true
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t := &Transaction{Type: "pay"} // algosdk's default type
	if v, ok := get("type"); ok {
		if err := json.Unmarshal(v, &t.Type); err != nil {
			return nil, refuse("type is not a string")
		}
	}
	switch t.Type {
	case "pay", "axfer":
	case "acfg":
		return nil, refuse("asset configuration (acfg: creating or destroying an asset) is not signed; tatum-kms 8.0.1 cannot sign it either (its SDK reads the missing receiver)")
	default:
		return nil, refuse("transaction type %q is not signed (only pay and axfer, what Tatum's SDK creates)", t.Type)
	}
	for _, k := range keys {
		if why, bad := refusedKeys[k]; bad && string(raw[k]) != "null" {
			return nil, refuse("it sets %q: %s", k, why)
		}
	}
	known := map[string]bool{"tag": true, "from": true, "to": true, "amount": true, "note": true, "type": true,
		"genesisHash": true, "genesisID": true, "fee": true, "firstRound": true, "lastRound": true, "appArgs": true}
	if t.Type == "axfer" {
		known["assetIndex"] = true
	}
	for _, k := range keys {
		if !known[k] && !ignoredKeys[k] && string(raw[k]) != "null" {
			return nil, refuse("unknown field %q for a %s transaction", k, t.Type)
		}
	}

	// The prefix signed before the msgpack: algosdk copies "tag" from the
	// JSON over its own "TX", so a different tag would be signed as given.
	if v, ok := get("tag"); ok {
		b, err := jsBuffer(v)
		if err != nil || string(b) != "TX" {
			return nil, refuse(`tag is not the Buffer "TX" (a different prefix would sign something other than a transaction)`)
		}
	}
	if t.Sender, err = jsAddress(raw, "from"); err != nil {
		return nil, err
	}
	if t.Receiver, err = jsAddress(raw, "to"); err != nil {
		return nil, err
	}
	if t.Amount, err = jsUint(raw, "amount", false); err != nil {
		return nil, err
	}
	if t.Type == "axfer" {
		if t.AssetIndex, err = jsUint(raw, "assetIndex", true); err != nil {
			return nil, err
		}
		if t.AssetIndex == 0 {
			return nil, refuse("assetIndex is 0 (algosdk's encoder refuses it)")
		}
	}
	if t.FirstRound, err = jsUint(raw, "firstRound", true); err != nil {
		return nil, err
	}
	if t.LastRound, err = jsUint(raw, "lastRound", true); err != nil {
		return nil, err
	}
	if t.LastRound == 0 {
		return nil, refuse("lastRound is 0 (algosdk's encoder refuses it)")
	}
	if t.LastRound < t.FirstRound {
		return nil, refuse("lastRound %d is before firstRound %d", t.LastRound, t.FirstRound)
	}
	if v, ok := get("genesisID"); ok {
		if err := json.Unmarshal(v, &t.GenesisID); err != nil {
			return nil, refuse("genesisID is not a string")
		}
	}
	v, ok := get("genesisHash")
	if !ok {
		return nil, refuse("genesisHash is missing")
	}
	if t.GenesisHash, err = jsBuffer(v); err != nil || len(t.GenesisHash) != 32 {
		return nil, refuse(`genesisHash is not a 32-byte Buffer ({"type":"Buffer","data":[...]})`)
	}
	if t.Note, err = jsBytes(raw, "note"); err != nil {
		return nil, err
	}
	if v, ok := get("appArgs"); ok {
		var args []json.RawMessage
		if json.Unmarshal(v, &args) != nil || len(args) != 0 {
			return nil, refuse("appArgs is not empty (application calls are not signed)")
		}
	}
	fee, err := jsUint(raw, "fee", true)
	if err != nil {
		return nil, err
	}
	flat := false
	if v, ok := get("flatFee"); ok {
		if json.Unmarshal(v, &flat) != nil {
			return nil, refuse("flatFee is not a boolean")
		}
	}
	t.Fee = fee
	if !flat {
		// algosdk's constructor treats a non-flat fee as per byte and
		// multiplies it by the estimated signed size, with the minimum fee
		// as floor, even though the JSON already holds the final fee.
		// signAlgoKMSTransaction runs the constructor again, so tatum-kms
		// multiplies twice; copied for byte equality (docs/algorand.md).
		size := uint64(len(t.Encode()) + bytesAfterSigning)
		if fee != 0 && fee > maxSafeInteger/size {
			return nil, refuse("fee %d per byte overflows", fee)
		}
		t.Fee = fee * size
		if t.Fee < minFee {
			t.Fee = minFee
		}
	}
	return t, nil
}

// jsBuffer reads Node's Buffer JSON {"type":"Buffer","data":[bytes]}.
func jsBuffer(v json.RawMessage) ([]byte, error) {
	var b struct {
		Type string
		Data []json.Number
	}
	if err := json.Unmarshal(v, &b); err != nil || b.Type != "Buffer" {
		return nil, errors.New("not a Buffer")
	}
	out := make([]byte, len(b.Data))
	for i, n := range b.Data {
		x, err := strconv.ParseUint(n.String(), 10, 8)
		if err != nil {
			return nil, errors.New("not a byte")
		}
		out[i] = byte(x)
	}
	return out, nil
}

// jsTypedArray reads a Uint8Array's JSON: {"0":b0,"1":b1,...}, every index
// exactly once (in any order, as Object.values would sort them). A small
// scanner rather than encoding/json: a map per public key made decoding
// most of the signing time.
func jsTypedArray(v json.RawMessage) ([]byte, error) {
	p := bytes.TrimSpace(v)
	if len(p) < 2 || p[0] != '{' || p[len(p)-1] != '}' {
		return nil, errors.New("not an object")
	}
	p = p[1 : len(p)-1]
	var vals []int
	var seen []bool
	num := func(q []byte, trim bool) (int, []byte, bool) {
		if trim {
			q = bytes.TrimLeft(q, " \t\r\n")
		}
		n, i := 0, 0
		for i < len(q) && q[i] >= '0' && q[i] <= '9' && i < 4 {
			n = n*10 + int(q[i]-'0')
			i++
		}
		if i == 0 || (i > 1 && q[0] == '0') {
			return 0, nil, false
		}
		if trim {
			return n, bytes.TrimLeft(q[i:], " \t\r\n"), true
		}
		return n, q[i:], true
	}
	for len(bytes.TrimSpace(p)) > 0 {
		p = bytes.TrimLeft(p, " \t\r\n")
		if len(p) == 0 || p[0] != '"' {
			return nil, errors.New("want a quoted index")
		}
		idx, rest, ok := num(p[1:], false)
		if !ok || len(rest) == 0 || rest[0] != '"' {
			return nil, errors.New("an index is not a small integer")
		}
		rest = bytes.TrimLeft(rest[1:], " \t\r\n")
		if len(rest) == 0 || rest[0] != ':' {
			return nil, errors.New("want a colon")
		}
		val, rest, ok := num(rest[1:], true)
		if !ok || val > 255 {
			return nil, fmt.Errorf("index %d is not a byte", idx)
		}
		for len(vals) <= idx {
			vals, seen = append(vals, 0), append(seen, false)
		}
		if seen[idx] {
			return nil, fmt.Errorf("index %d twice", idx)
		}
		vals[idx], seen[idx] = val, true
		if len(rest) > 0 {
			if rest[0] != ',' {
				return nil, errors.New("want a comma")
			}
			rest = rest[1:]
			if len(bytes.TrimSpace(rest)) == 0 {
				return nil, errors.New("trailing comma")
			}
		}
		p = rest
	}
	out := make([]byte, len(vals))
	for i, x := range vals {
		if !seen[i] {
			return nil, fmt.Errorf("index %d missing", i)
		}
		out[i] = byte(x)
	}
	return out, nil
}

func jsBytes(raw map[string]json.RawMessage, key string) ([]byte, error) {
	v, ok := raw[key]
	if !ok || string(v) == "null" || string(v) == `""` {
		return nil, nil
	}
	b, err := jsTypedArray(v)
	if err != nil {
		return nil, refuse("%s is not a Uint8Array's JSON ({\"0\":byte,...}): %v", key, err)
	}
	return b, nil
}

// jsAddress reads algosdk's decoded address {publicKey, checksum}. The SDK
// reads only publicKey; a checksum that is present must match too.
func jsAddress(raw map[string]json.RawMessage, key string) (ed25519.PublicKey, error) {
	v, ok := raw[key]
	if !ok || string(v) == "null" {
		return nil, refuse("%s is missing", key)
	}
	var a struct {
		PublicKey json.RawMessage `json:"publicKey"`
		Checksum  json.RawMessage `json:"checksum"`
	}
	if err := json.Unmarshal(v, &a); err != nil || a.PublicKey == nil {
		return nil, refuse("%s is not algosdk's address object ({publicKey, checksum})", key)
	}
	pub, err := jsTypedArray(a.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, refuse("%s.publicKey is not 32 bytes", key)
	}
	if a.Checksum != nil && string(a.Checksum) != "null" {
		sum, err := jsTypedArray(a.Checksum)
		want := sha512.Sum512_256(pub)
		if err != nil || !bytes.Equal(sum, want[28:]) {
			return nil, refuse("%s.checksum does not match its public key", key)
		}
	}
	return ed25519.PublicKey(pub), nil
}

// jsUint reads a non-negative safe integer (algosdk's Number.isSafeInteger
// checks); absent is 0 unless required.
func jsUint(raw map[string]json.RawMessage, key string, required bool) (uint64, error) {
	v, ok := raw[key]
	if !ok || string(v) == "null" {
		if required {
			return 0, refuse("%s is missing", key)
		}
		return 0, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return 0, refuse("%s is not a number", key)
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || f < 0 || f != math.Trunc(f) || f > maxSafeInteger {
		return 0, refuse("%s %s is not a non-negative integer below 2^53", key, n)
	}
	return uint64(f), nil
}
