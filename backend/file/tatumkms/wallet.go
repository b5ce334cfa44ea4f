package tatumkms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
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
	// Fields are the names of the fields the entry has, in the order of its
	// JSON object (only those gokms keeps, each once). Nil (an entry made
	// from a record without a layout) means the shape tatum-kms writes for
	// the chain and kind.
	Fields []string
}

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
		names := keyNames(raw)
		zero(raw)
		e, err := parseEntry(id, fields, names)
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

// keyNames lists the keys of the JSON object raw in order, each once at its
// first position (JSON.parse keeps a repeated key's first position).
// Values are skipped as raw bytes and zeroed, never turned into strings.
func keyNames(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil
	}
	var names []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return names
		}
		k, _ := t.(string)
		var v json.RawMessage
		err = dec.Decode(&v)
		zero(v)
		if err != nil {
			return names
		}
		if !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	return names
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

func parseEntry(id string, fields map[string]json.RawMessage, names []string) (Entry, error) {
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
	hasTestnet := false
	if v, ok := fields["testnet"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &e.Testnet); err != nil {
			e.Zero()
			return e, corrupt(id, `field "testnet" is not a boolean`)
		}
		hasTestnet = true
	}
	for _, name := range names {
		if name == "testnet" && hasTestnet || name != "testnet" && e.has(name) {
			e.Fields = append(e.Fields, name)
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

// has reports whether the entry holds a value for the field name (testnet:
// always, it is a boolean).
func (e Entry) has(name string) bool {
	switch name {
	case "mnemonic":
		return len(e.Mnemonic) > 0
	case "privateKey":
		return len(e.PrivateKey) > 0
	case "secret":
		return len(e.Secret) > 0
	case "xpub":
		return e.Xpub != ""
	case "address":
		return e.Address != ""
	case "chain":
		return e.Chain != ""
	case "testnet":
		return true
	}
	return false
}

// Record maps the entry to a gokms record, keeping every field: Kind
// Mnemonic when it has a mnemonic (a private key beside it, as in
// tatum-kms's SOL wallets {mnemonic, address, privateKey}, goes to
// ExtraKey); Kind PrivateKey when it has a privateKey or a secret (the field
// tatum-kms's XRP, XLM and ALGO wallets use; its signer reads
// `secret ?? privateKey` for them). The chain is kept as stored, whether or
// not gokms can sign it. Layout records the entry's field names in order,
// so FromRecord gives the entry back unchanged. An entry gokms cannot
// represent (no secret, or a privateKey and a different secret) is an error
// naming the entry, never its secrets. The record shares the entry's
// secret bytes: zero one or the other, not both.
func (e Entry) Record() (backend.Record, error) {
	r := backend.Record{ID: e.ID, Chain: e.Chain, Testnet: e.Testnet, Xpub: e.Xpub, Address: e.Address, Layout: strings.Join(e.Fields, ",")}
	key := e.PrivateKey
	if len(key) == 0 {
		key = e.Secret
	}
	switch {
	case e.ID == "":
		return r, corrupt(e.ID, "empty signatureId")
	case len(e.ID) > backend.MaxIDLen:
		return r, corrupt(e.ID[:20]+"…", "signatureId longer than %d bytes", backend.MaxIDLen)
	case e.Chain == "":
		return r, corrupt(e.ID, `no "chain"`)
	case len(e.PrivateKey) > 0 && len(e.Secret) > 0 && !bytes.Equal(e.PrivateKey, e.Secret):
		return r, corrupt(e.ID, `holds a "privateKey" and a different "secret"`)
	case len(e.Mnemonic) > 0:
		r.Kind, r.Secret = backend.Mnemonic, e.Mnemonic
		if len(key) > 0 {
			r.ExtraKey = key
		}
	case len(key) > 0:
		r.Kind, r.Secret = backend.PrivateKey, key
	default:
		return r, corrupt(e.ID, `has no "mnemonic", "privateKey" or "secret"`)
	}
	if err := backend.ValidLayout(r.Layout, r.Kind, r.ExtraKey != nil); err != nil {
		return r, corrupt(e.ID, "%v", err)
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
	xpubFirstChains = map[string]bool{"ETH": true, "BSC": true, "MATIC": true, "CELO": true, "ONE": true, "KLAY": true, "XDC": true, "KCS": true, "VET": true}
)

// FromRecord maps a gokms record back to a tatum-kms entry (the inverse of
// Record). A record imported from tatum-kms carries its entry's layout and
// comes back with exactly those fields in that order. A record gokms made
// itself gets the shape tatum-kms itself writes for that kind and chain, so
// that tatum-kms answers after a rollback as it did before: a private key
// keeps its address only where tatum-kms's own wallets of that chain have
// one (tatum-kms's getaddress returns a stored address as is). The entry
// shares the record's secret bytes. A secret that is not UTF-8 cannot live
// in tatum-kms's JSON and is an error.
func FromRecord(r backend.Record) (Entry, error) {
	e := Entry{ID: r.ID, Xpub: r.Xpub, Address: r.Address, Chain: r.Chain, Testnet: r.Testnet}
	if !utf8.Valid(r.Secret) || !utf8.Valid(r.ExtraKey) {
		return e, fmt.Errorf("record %q: secret is binary, which a tatum-kms wallet (JSON text) cannot hold", r.ID)
	}
	if len(r.Secret) == 0 {
		return e, fmt.Errorf("record %q: empty secret", r.ID)
	}
	if !r.Kind.Valid() {
		return e, fmt.Errorf("record %q: unknown kind %q", r.ID, r.Kind)
	}
	if err := backend.ValidLayout(r.Layout, r.Kind, r.ExtraKey != nil); err != nil {
		return e, fmt.Errorf("record %q: %w", r.ID, err)
	}
	key := r.Secret
	if r.Kind == backend.Mnemonic {
		key = r.ExtraKey
	}
	if r.Layout != "" {
		e.Fields = strings.Split(r.Layout, ",")
		e.Xpub, e.Address = "", ""
		for _, f := range e.Fields {
			switch f {
			case "mnemonic":
				e.Mnemonic = r.Secret
			case "privateKey":
				e.PrivateKey = key
			case "secret":
				e.Secret = key
			case "xpub":
				e.Xpub = r.Xpub
			case "address":
				e.Address = r.Address
			}
		}
		return e, nil
	}
	switch r.Kind {
	case backend.Mnemonic:
		e.Mnemonic = r.Secret
		e.PrivateKey = r.ExtraKey
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
	nl, colon := jsonLayout(indent)
	var b []byte
	b = append(b, '{')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		nl(&b, 1)
		b = appendString(b, []byte(e.ID))
		b = append(b, colon...)
		b = appendObject(b, e, nl, colon, 1)
	}
	if len(entries) > 0 {
		nl(&b, 0)
	}
	b = append(b, '}')
	return b
}

// MarshalEntry writes one entry's object as JSON.stringify(entry, null,
// indent) would: what tatum-kms's getmanagedwallet prints (with indent "  ").
// The caller zeroes the result.
func MarshalEntry(e Entry, indent string) []byte {
	nl, colon := jsonLayout(indent)
	return appendObject(nil, e, nl, colon, 0)
}

// jsonLayout returns JSON.stringify's line break (with indentation for a
// depth) and key separator for an indent ("" for compact).
func jsonLayout(indent string) (func(b *[]byte, depth int), string) {
	if indent == "" {
		return func(*[]byte, int) {}, ":"
	}
	return func(b *[]byte, depth int) {
		*b = append(*b, '\n')
		for i := 0; i < depth; i++ {
			*b = append(*b, indent...)
		}
	}, ": "
}

// appendObject writes the entry's fields: in its Fields order when it has
// one, else in the order tatum-kms builds them ({...wallet, chain,
// testnet}, the wallet's keys in its SDK's order: xpub first for the EVM
// chains and VET, mnemonic first for the others).
func appendObject(b []byte, e Entry, nl func(*[]byte, int), colon string, depth int) []byte {
	b = append(b, '{')
	names := e.Fields
	if names == nil {
		names = defaultOrder
		if xpubFirstChains[e.Chain] {
			names = defaultXpubFirst
		}
	}
	first := true
	for _, name := range names {
		if !e.has(name) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		nl(&b, depth+1)
		b = appendString(b, []byte(name))
		b = append(b, colon...)
		switch name {
		case "testnet":
			b = strconv.AppendBool(b, e.Testnet)
		case "mnemonic":
			b = appendString(b, e.Mnemonic)
		case "privateKey":
			b = appendString(b, e.PrivateKey)
		case "secret":
			b = appendString(b, e.Secret)
		case "xpub":
			b = appendString(b, []byte(e.Xpub))
		case "address":
			b = appendString(b, []byte(e.Address))
		case "chain":
			b = appendString(b, []byte(e.Chain))
		}
	}
	if !first {
		nl(&b, depth)
	}
	return append(b, '}')
}

var (
	defaultOrder     = []string{"mnemonic", "xpub", "address", "privateKey", "secret", "chain", "testnet"}
	defaultXpubFirst = []string{"xpub", "mnemonic", "address", "privateKey", "secret", "chain", "testnet"}
)

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
