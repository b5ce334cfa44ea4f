package tatumkms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/gokms/gokms/backend"
)

// Entry is one wallet of a tatum-kms store, as its JSON has it. The secret
// fields are byte slices so that they can be zeroed (Zero) when done.
type Entry struct {
	ID         string // the signatureId (the JSON key)
	Mnemonic   []byte // BIP39 words (generatemanagedwallet, storemanagedwallet)
	Xpub       string
	PrivateKey []byte // storemanagedprivatekey; SOL/BNB wallets
	Secret     []byte // XRP, XLM and ALGO wallets: {address, secret}
	Address    string
	Chain      string
	Testnet    bool
	// Unknown lists the names (never the values) of fields gokms does not
	// keep, so that an import can say what it leaves behind.
	Unknown []string
	// order is the xpub/mnemonic order of a decoded entry; zero (an entry
	// made from a record) means the order tatum-kms's SDK uses for the chain.
	order keyOrder
}

type keyOrder uint8

const (
	orderByChain keyOrder = iota
	orderMnemonicFirst
	orderXpubFirst
)

// Zero overwrites the entry's secret bytes.
func (e *Entry) Zero() {
	zero(e.Mnemonic)
	zero(e.PrivateKey)
	zero(e.Secret)
}

// Decode decrypts and parses the text of a wallet.dat. Entries come back in
// the file's order (tatum-kms keeps the newest first). A blank file has no
// entries, as tatum-kms treats it.
//
// Errors: a wrong password wraps backend.ErrBadPassword; a file that is not
// base64, lacks the "Salted__" header or is cut short returns ErrNotBase64,
// ErrNotSalted or ErrTruncated; a well-formed store with a malformed entry
// wraps backend.ErrCorrupt and names the entry (never a secret).
func Decode(data, password []byte) ([]Entry, error) {
	if isEmptyFile(data) {
		return nil, nil
	}
	plain, err := decrypt(data, password)
	if err != nil {
		return nil, err
	}
	defer zero(plain)
	return parse(plain)
}

// parse reads the JSON object of wallets, keeping key order and, for a key
// given twice, the last value at the first position (as JSON.parse does).
func parse(plain []byte) ([]Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(plain))
	tok, err := dec.Token()
	if err != nil {
		// The plaintext of a wrong password that slipped past the padding
		// check is random bytes: never valid JSON, from the first byte on.
		return nil, errWrongPassErr
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if !json.Valid(plain) {
			return nil, errWrongPassErr
		}
		return nil, ErrNotAnObject
	}
	var entries []Entry
	index := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, badJSON(entries, "")
		}
		id, _ := tok.(string) // object keys are always strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, badJSON(entries, id)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			zero(raw)
			zeroEntries(entries)
			return nil, corrupt(id, "not a JSON object")
		}
		order := xpubOrder(raw)
		zero(raw)
		e, err := parseEntry(id, fields)
		e.order = order
		if err != nil {
			zeroEntries(entries)
			return nil, err
		}
		if i, dup := index[id]; dup {
			entries[i].Zero()
			entries[i] = e
			continue
		}
		index[id] = len(entries)
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil || trailing(dec) {
		return nil, badJSON(entries, "")
	}
	return entries, nil
}

// xpubOrder tells whether "xpub" or "mnemonic" comes first among the keys
// of the JSON object raw (orderByChain if it lacks one of them). Values are
// skipped as raw bytes and zeroed, never turned into strings.
func xpubOrder(raw json.RawMessage) keyOrder {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return orderByChain
	}
	var first string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return orderByChain
		}
		k, _ := t.(string)
		var v json.RawMessage
		err = dec.Decode(&v)
		zero(v)
		if err != nil {
			return orderByChain
		}
		switch {
		case k != "xpub" && k != "mnemonic":
		case first == "":
			first = k
		case first != k && first == "xpub":
			return orderXpubFirst
		case first != k:
			return orderMnemonicFirst
		}
	}
	return orderByChain
}

// trailing reports whether anything but whitespace follows the JSON value.
func trailing(dec *json.Decoder) bool {
	_, err := dec.Token()
	return !errors.Is(err, io.EOF)
}

// badJSON classifies a syntax error: at the start it means a wrong password
// (random plaintext); after whole entries were read, a damaged store.
func badJSON(entries []Entry, id string) error {
	n := len(entries)
	zeroEntries(entries)
	if n == 0 {
		return errWrongPassErr
	}
	if id != "" {
		return corrupt(id, "invalid JSON")
	}
	return fmt.Errorf("tatum-kms wallet: invalid JSON after %d entries: %w", n, backend.ErrCorrupt)
}

func zeroEntries(entries []Entry) {
	for i := range entries {
		entries[i].Zero()
	}
}

func corrupt(id, format string, args ...any) error {
	return fmt.Errorf("tatum-kms wallet: entry %q: %s: %w", id, fmt.Sprintf(format, args...), backend.ErrCorrupt)
}

func parseEntry(id string, fields map[string]json.RawMessage) (Entry, error) {
	e := Entry{ID: id}
	if fields == nil {
		return e, corrupt(id, "not a JSON object")
	}
	defer func() {
		for _, v := range fields {
			zero(v)
		}
	}()
	// Missing, null and "" are all "absent", as tatum-kms tests fields for truthiness.
	str := func(name string) ([]byte, error) {
		v, ok := fields[name]
		if !ok || string(v) == "null" {
			return nil, nil
		}
		b, err := jsonString(v)
		if err != nil {
			return nil, corrupt(id, "field %q is not a string", name)
		}
		if len(b) == 0 {
			return nil, nil
		}
		return b, nil
	}
	var err error
	if e.Mnemonic, err = str("mnemonic"); err != nil {
		return e, err
	}
	if e.PrivateKey, err = str("privateKey"); err != nil {
		e.Zero()
		return e, err
	}
	if e.Secret, err = str("secret"); err != nil {
		e.Zero()
		return e, err
	}
	for name, dst := range map[string]*string{"xpub": &e.Xpub, "address": &e.Address, "chain": &e.Chain} {
		b, err := str(name)
		if err != nil {
			e.Zero()
			return e, err
		}
		*dst = string(b)
	}
	if v, ok := fields["testnet"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &e.Testnet); err != nil {
			e.Zero()
			return e, corrupt(id, `field "testnet" is not a boolean`)
		}
	}
	for name := range fields {
		switch name {
		case "mnemonic", "xpub", "privateKey", "secret", "address", "chain", "testnet":
		default:
			e.Unknown = append(e.Unknown, name)
		}
	}
	sort.Strings(e.Unknown)
	return e, nil
}

// jsonString decodes a JSON string token into bytes without passing through
// an immutable Go string when it holds no escapes (mnemonics and keys never
// do), so the result can be zeroed.
func jsonString(v json.RawMessage) ([]byte, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, errors.New("not a string")
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return append([]byte(nil), inner...), nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// Record maps the entry to a gokms record: Kind Mnemonic when it has a
// mnemonic, PrivateKey when it has a privateKey or a secret (the field
// tatum-kms's XRP, XLM and ALGO wallets use; its signer reads
// `secret ?? privateKey` for them). The chain is kept as stored. An entry
// gokms cannot represent faithfully (no secret, or two different secrets)
// is an error naming the entry, never its secrets. The record shares the
// entry's secret bytes: zero one or the other, not both.
func (e Entry) Record() (backend.Record, error) {
	r := backend.Record{ID: e.ID, Chain: e.Chain, Testnet: e.Testnet, Xpub: e.Xpub, Address: e.Address}
	switch {
	case e.ID == "":
		return r, corrupt(e.ID, "empty signatureId")
	case len(e.ID) > backend.MaxIDLen:
		return r, corrupt(e.ID[:20]+"…", "signatureId longer than %d bytes", backend.MaxIDLen)
	case e.Chain == "":
		return r, corrupt(e.ID, `no "chain"`)
	case len(e.Mnemonic) > 0 && (len(e.PrivateKey) > 0 || len(e.Secret) > 0):
		return r, corrupt(e.ID, "holds both a mnemonic and a private key; gokms keeps one secret per signatureId")
	case len(e.Mnemonic) > 0:
		r.Kind, r.Secret = backend.Mnemonic, e.Mnemonic
	case len(e.PrivateKey) > 0 && len(e.Secret) > 0 && !bytes.Equal(e.PrivateKey, e.Secret):
		return r, corrupt(e.ID, `holds a "privateKey" and a different "secret"`)
	case len(e.PrivateKey) > 0:
		r.Kind, r.Secret = backend.PrivateKey, e.PrivateKey
	case len(e.Secret) > 0:
		r.Kind, r.Secret = backend.PrivateKey, e.Secret
	default:
		return r, corrupt(e.ID, `has no "mnemonic", "privateKey" or "secret"`)
	}
	return r, nil
}

// The shapes tatum-kms 8.0.1 writes (testdata/tatumkms/real-8.0.1, made
// with the real build): generatemanagedwallet and storemanagedwallet store
// the chain SDK's wallet object ({...wallet, chain, testnet}), so its key
// order is the SDK's; storemanagedprivatekey and the batch store
// {privateKey, chain, testnet}, without an address.
var (
	// secretChains' generated wallets are {address, secret}; an export
	// writes such a key there so that tatum-kms's getprivatekey finds it.
	secretChains = map[string]bool{"XRP": true, "XLM": true, "ALGO": true}
	// addressKeyChains' generated wallets are {address, privateKey}.
	addressKeyChains = map[string]bool{"BNB": true, "SOL": true}
	// xpubFirstChains' SDKs return {xpub, mnemonic}; the others {mnemonic, xpub}.
	xpubFirstChains = map[string]bool{"ETH": true, "BSC": true, "MATIC": true, "CELO": true, "ONE": true, "KLAY": true, "XDC": true, "VET": true}
)

// FromRecord maps a gokms record back to a tatum-kms entry (the inverse of
// Record), in the shape tatum-kms itself writes for that kind and chain, so
// that tatum-kms answers after a rollback as it did before the import: a
// private key keeps its address only where tatum-kms's own wallets of that
// chain have one (tatum-kms's getaddress returns a stored address as is).
// The entry shares the record's secret bytes. A secret that is not UTF-8
// cannot live in tatum-kms's JSON and is an error.
func FromRecord(r backend.Record) (Entry, error) {
	e := Entry{ID: r.ID, Xpub: r.Xpub, Address: r.Address, Chain: r.Chain, Testnet: r.Testnet}
	if !utf8.Valid(r.Secret) {
		return e, fmt.Errorf("record %q: secret is binary, which a tatum-kms wallet (JSON text) cannot hold", r.ID)
	}
	if len(r.Secret) == 0 {
		return e, fmt.Errorf("record %q: empty secret", r.ID)
	}
	switch r.Kind {
	case backend.Mnemonic:
		e.Mnemonic = r.Secret
	case backend.PrivateKey:
		e.Xpub = ""
		switch {
		case r.Address != "" && secretChains[r.Chain]:
			e.Secret = r.Secret
		case r.Address != "" && addressKeyChains[r.Chain]:
			e.PrivateKey = r.Secret
		default:
			// storemanagedprivatekey's {privateKey}: gokms keeps the
			// address it derived, tatum-kms never wrote one.
			e.PrivateKey, e.Address = r.Secret, ""
		}
	default:
		return e, fmt.Errorf("record %q: unknown kind %q", r.ID, r.Kind)
	}
	return e, nil
}

// MarshalEntries writes the wallets object as JSON.stringify(wallets, null, indent)
// would for the given indent ("" for the compact form tatum-kms stores):
// entries in order, fields in the order tatum-kms builds them
// ({...wallet, chain, testnet}, the wallet's keys in its SDK's order: xpub
// first for the EVM chains and VET, mnemonic first for the others). Strings are escaped as JSON.stringify does,
// without passing secrets through Go strings. The caller zeroes the result.
func MarshalEntries(entries []Entry, indent string) []byte {
	var b []byte
	nl := func(depth int) {
		if indent == "" {
			return
		}
		b = append(b, '\n')
		for i := 0; i < depth; i++ {
			b = append(b, indent...)
		}
	}
	colon := ":"
	if indent != "" {
		colon = ": "
	}
	b = append(b, '{')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		nl(1)
		b = appendString(b, []byte(e.ID))
		b = append(b, colon...)
		b = append(b, '{')
		first := true
		field := func(name string, v []byte) {
			if !first {
				b = append(b, ',')
			}
			first = false
			nl(2)
			b = appendString(b, []byte(name))
			b = append(b, colon...)
			b = appendString(b, v)
		}
		xpubFirst := e.order == orderXpubFirst || (e.order == orderByChain && xpubFirstChains[e.Chain])
		if xpubFirst && e.Xpub != "" {
			field("xpub", []byte(e.Xpub))
		}
		if len(e.Mnemonic) > 0 {
			field("mnemonic", e.Mnemonic)
		}
		if !xpubFirst && e.Xpub != "" {
			field("xpub", []byte(e.Xpub))
		}
		if e.Address != "" {
			field("address", []byte(e.Address))
		}
		if len(e.PrivateKey) > 0 {
			field("privateKey", e.PrivateKey)
		}
		if len(e.Secret) > 0 {
			field("secret", e.Secret)
		}
		field("chain", []byte(e.Chain))
		b = append(b, ',')
		nl(2)
		b = appendString(b, []byte("testnet"))
		b = append(b, colon...)
		b = strconv.AppendBool(b, e.Testnet)
		nl(1)
		b = append(b, '}')
	}
	if len(entries) > 0 {
		nl(0)
	}
	b = append(b, '}')
	return b
}

// appendString quotes s as JSON.stringify does: '"' and '\\' escaped,
// \b \f \n \r \t by name, other control characters as \u00XX, everything
// else (including non-ASCII and U+2028/2029) as is. s must be valid UTF-8.
func appendString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// Encode returns the text of a wallet.dat holding entries, encrypted with
// password and a fresh random salt, byte for byte what tatum-kms would write
// for the same wallets object. rand may be nil (crypto/rand).
func Encode(entries []Entry, password []byte, rand io.Reader) ([]byte, error) {
	for _, e := range entries {
		for _, s := range [][]byte{e.Mnemonic, e.PrivateKey, e.Secret, []byte(e.ID), []byte(e.Chain), []byte(e.Xpub), []byte(e.Address)} {
			if !utf8.Valid(s) {
				return nil, fmt.Errorf("tatum-kms wallet: entry %q holds text that is not UTF-8", e.ID)
			}
		}
	}
	salt, err := newSalt(rand)
	if err != nil {
		return nil, err
	}
	plain := MarshalEntries(entries, "")
	defer zero(plain)
	return encrypt(plain, password, salt), nil
}
