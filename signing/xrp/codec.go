package xrp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gokms/gokms/wallet"
)

// The XRPL binary codec (ripple-binary-codec 1.11.0) for the fields of the
// transactions tatum-kms's SDK signs: Payment (XRP and IOU amounts, tags,
// memos), TrustSet and AccountSet. Anything else is refused, never dropped:
// ripple-binary-codec silently ignores keys it does not know, which would
// let a pending transaction show a field that is not signed.

type fieldType int

// Type codes from ripple-binary-codec's definitions.json.
const (
	tUInt16    fieldType = 1
	tUInt32    fieldType = 2
	tHash256   fieldType = 5
	tAmount    fieldType = 6
	tBlob      fieldType = 7
	tAccountID fieldType = 8
	tSTObject  fieldType = 14
	tSTArray   fieldType = 15
	tUInt8     fieldType = 16
)

type field struct {
	name string
	typ  fieldType
	nth  int
}

// The fields gokms encodes, with their definitions.json type and nth.
var fields = func() map[string]field {
	m := map[string]field{}
	for _, f := range []field{
		{"TransactionType", tUInt16, 2},
		{"NetworkID", tUInt32, 1},
		{"Flags", tUInt32, 2},
		{"SourceTag", tUInt32, 3},
		{"Sequence", tUInt32, 4},
		{"TransferRate", tUInt32, 11},
		{"DestinationTag", tUInt32, 14},
		{"QualityIn", tUInt32, 20},
		{"QualityOut", tUInt32, 21},
		{"LastLedgerSequence", tUInt32, 27},
		{"SetFlag", tUInt32, 33},
		{"ClearFlag", tUInt32, 34},
		{"TicketSequence", tUInt32, 41},
		{"InvoiceID", tHash256, 17},
		{"Amount", tAmount, 1},
		{"LimitAmount", tAmount, 3},
		{"Fee", tAmount, 8},
		{"SendMax", tAmount, 9},
		{"DeliverMin", tAmount, 10},
		{"SigningPubKey", tBlob, 3},
		{"TxnSignature", tBlob, 4},
		{"Domain", tBlob, 7},
		{"MemoType", tBlob, 12},
		{"MemoData", tBlob, 13},
		{"MemoFormat", tBlob, 14},
		{"Account", tAccountID, 1},
		{"Destination", tAccountID, 3},
		{"Memo", tSTObject, 10},
		{"Memos", tSTArray, 9},
		{"TickSize", tUInt8, 16},
	} {
		m[f.name] = f
	}
	return m
}()

// Transaction type codes (definitions.json TRANSACTION_TYPES).
var txTypes = map[string]uint16{"Payment": 0, "AccountSet": 3, "TrustSet": 20}

// Fields each transaction type may carry besides the common ones.
var (
	commonFields = []string{"TransactionType", "Account", "Fee", "Sequence", "Flags", "LastLedgerSequence", "SourceTag", "Memos", "TicketSequence", "NetworkID", "SigningPubKey"}
	typeFields   = map[string][]string{
		"Payment":    {"Amount", "Destination", "DestinationTag", "InvoiceID", "SendMax", "DeliverMin"},
		"TrustSet":   {"LimitAmount", "QualityIn", "QualityOut"},
		"AccountSet": {"SetFlag", "ClearFlag", "TransferRate", "TickSize", "Domain"},
	}
)

const tfPartialPayment = 0x00020000

// fieldHeader writes a field id as ripple-binary-codec does.
func fieldHeader(buf *bytes.Buffer, f field) {
	t, n := int(f.typ), f.nth
	switch {
	case t < 16 && n < 16:
		buf.WriteByte(byte(t<<4 | n))
	case t < 16:
		buf.WriteByte(byte(t << 4))
		buf.WriteByte(byte(n))
	case n < 16:
		buf.WriteByte(byte(n))
		buf.WriteByte(byte(t))
	default:
		buf.WriteByte(0)
		buf.WriteByte(byte(t))
		buf.WriteByte(byte(n))
	}
}

// vlPrefix is the length prefix of variable-length fields.
func vlPrefix(buf *bytes.Buffer, n int) error {
	switch {
	case n <= 192:
		buf.WriteByte(byte(n))
	case n <= 12480:
		n -= 193
		buf.WriteByte(byte(193 + n>>8))
		buf.WriteByte(byte(n))
	case n <= 918744:
		n -= 12481
		buf.WriteByte(byte(241 + n>>16))
		buf.WriteByte(byte(n >> 8))
		buf.WriteByte(byte(n))
	default:
		return fmt.Errorf("variable-length field of %d bytes is longer than XRPL's 918744", n)
	}
	return nil
}

func sortFields(names []string) {
	sort.Slice(names, func(i, j int) bool {
		a, b := fields[names[i]], fields[names[j]]
		if a.typ != b.typ {
			return a.typ < b.typ
		}
		return a.nth < b.nth
	})
}

// encodeObject serializes tx (already checked) in canonical field order.
// signing leaves out the fields that are not signing fields (TxnSignature).
func encodeObject(buf *bytes.Buffer, tx map[string]any, signing bool) error {
	names := make([]string, 0, len(tx))
	for k := range tx {
		if signing && k == "TxnSignature" {
			continue
		}
		names = append(names, k)
	}
	sortFields(names)
	for _, name := range names {
		f := fields[name]
		fieldHeader(buf, f)
		if err := encodeValue(buf, f, tx[name], signing); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func encodeValue(buf *bytes.Buffer, f field, v any, signing bool) error {
	switch f.typ {
	case tUInt8, tUInt16, tUInt32:
		var n uint64
		if f.name == "TransactionType" {
			n = uint64(txTypes[v.(string)])
		} else {
			var err error
			if n, err = uintValue(v, f.typ); err != nil {
				return err
			}
		}
		switch f.typ {
		case tUInt8:
			buf.WriteByte(byte(n))
		case tUInt16:
			buf.Write(binary.BigEndian.AppendUint16(nil, uint16(n)))
		default:
			buf.Write(binary.BigEndian.AppendUint32(nil, uint32(n)))
		}
	case tHash256:
		b, err := hexValue(v, 32)
		if err != nil {
			return err
		}
		buf.Write(b)
	case tBlob:
		b, err := hexValue(v, -1)
		if err != nil {
			return err
		}
		if err := vlPrefix(buf, len(b)); err != nil {
			return err
		}
		buf.Write(b)
	case tAccountID:
		s, _ := v.(string)
		id, err := wallet.DecodeXRPAddress(s)
		if err != nil {
			return err
		}
		buf.WriteByte(20)
		buf.Write(id[:])
	case tAmount:
		b, err := encodeAmount(v)
		if err != nil {
			return err
		}
		buf.Write(b)
	case tSTArray:
		for _, el := range v.([]any) {
			memo := el.(map[string]any)["Memo"].(map[string]any)
			fieldHeader(buf, fields["Memo"])
			if err := encodeObject(buf, memo, signing); err != nil {
				return err
			}
			buf.WriteByte(0xe1) // ObjectEndMarker
		}
		buf.WriteByte(0xf1) // ArrayEndMarker
	default:
		return fmt.Errorf("no encoder for type %d", f.typ)
	}
	return nil
}

func uintValue(v any, t fieldType) (uint64, error) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("want a JSON number, got %s", describe(v))
	}
	max := uint64(math.MaxUint32)
	if t == tUInt8 {
		max = math.MaxUint8
	}
	n, err := strconv.ParseUint(num.String(), 10, 64)
	if err != nil || n > max {
		return 0, fmt.Errorf("want an integer in 0..%d, got %s", max, num)
	}
	return n, nil
}

// hexValue decodes a hex string of n bytes (any length when n < 0). Both
// cases are accepted, as Buffer.from(s, 'hex') does; what Buffer would
// silently truncate (an odd length, a non-hex digit) is refused.
func hexValue(v any, n int) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("want a hex string, got %s", describe(v))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex: %w", err)
	}
	if n >= 0 && len(b) != n {
		return nil, fmt.Errorf("want %d bytes of hex, got %d", n, len(b))
	}
	return b, nil
}

var (
	dropsRE   = regexp.MustCompile(`^[0-9]+$`)
	isoRE     = regexp.MustCompile(`^[A-Z0-9a-z?!@#$%^&*(){}\[\]|]{3}$`)
	hexCurRE  = regexp.MustCompile(`^[A-F0-9]{40}$`)
	decimalRE = regexp.MustCompile(`^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$`)
)

const maxDrops = 100_000_000_000_000_000 // 10^17: all XRP there is

// encodeAmount writes an XRP amount (a string of drops) or an issued
// currency amount ({currency, issuer, value}) as ripple-binary-codec 1.11.0.
func encodeAmount(v any) ([]byte, error) {
	switch a := v.(type) {
	case string:
		d, err := parseDrops(a)
		if err != nil {
			return nil, err
		}
		return binary.BigEndian.AppendUint64(nil, d|0x4000000000000000), nil
	case map[string]any:
		iou, err := parseIOU(a)
		if err != nil {
			return nil, err
		}
		out := binary.BigEndian.AppendUint64(nil, iou.bits)
		out = append(out, iou.currency[:]...)
		return append(out, iou.issuer[:]...), nil
	}
	return nil, fmt.Errorf("want drops as a string or an {currency, issuer, value} object, got %s", describe(v))
}

func parseDrops(s string) (uint64, error) {
	if !dropsRE.MatchString(s) {
		return 0, fmt.Errorf("XRP amount %q: want whole drops as a decimal string (1 XRP = \"1000000\")", s)
	}
	d, err := strconv.ParseUint(s, 10, 64)
	if err != nil || d > maxDrops {
		return 0, fmt.Errorf("XRP amount %q exceeds 10^17 drops", s)
	}
	return d, nil
}

type iouAmount struct {
	bits     uint64
	currency [20]byte
	issuer   [20]byte
	negative bool
	zero     bool
}

func parseIOU(a map[string]any) (iouAmount, error) {
	var out iouAmount
	if len(a) != 3 {
		return out, fmt.Errorf("issued currency amount must have exactly currency, issuer and value")
	}
	cur, ok1 := a["currency"].(string)
	iss, ok2 := a["issuer"].(string)
	val, ok3 := a["value"].(string)
	if !ok1 || !ok2 || !ok3 {
		return out, fmt.Errorf("issued currency amount: currency, issuer and value must be strings")
	}
	switch {
	case cur == "XRP":
		return out, fmt.Errorf("issued currency amount with currency XRP: XRP amounts are a string of drops")
	case isoRE.MatchString(cur):
		copy(out.currency[12:], cur)
	case hexCurRE.MatchString(cur):
		b, _ := hex.DecodeString(cur)
		if bytes.Equal(b, make([]byte, 20)) {
			return out, fmt.Errorf("issued currency amount with the all-zero (XRP) currency code")
		}
		copy(out.currency[:], b)
	default:
		return out, fmt.Errorf("currency %q: want a 3-character code or 40 upper-case hex digits", cur)
	}
	id, err := wallet.DecodeXRPAddress(iss)
	if err != nil {
		return out, fmt.Errorf("issuer: %w", err)
	}
	out.issuer = id
	bits, neg, zero, err := iouBits(val)
	if err != nil {
		return out, err
	}
	out.bits, out.negative, out.zero = bits, neg, zero
	return out, nil
}

// iouBits normalizes a decimal value to XRPL's 16-digit mantissa and
// exponent, as ripple-binary-codec does with decimal.js.
func iouBits(val string) (bits uint64, negative, isZero bool, err error) {
	m := decimalRE.FindStringSubmatch(val)
	if m == nil || m[2]+m[3] == "" {
		return 0, false, false, fmt.Errorf("value %q is not a decimal number", val)
	}
	exp := 0
	if m[4] != "" {
		e, err := strconv.Atoi(m[4])
		if err != nil || e > 1000 || e < -1000 {
			return 0, false, false, fmt.Errorf("value %q: exponent out of range", val)
		}
		exp = e
	}
	digits := m[2] + m[3]
	exp -= len(m[3]) // value = digits × 10^exp
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return 0x8000000000000000, false, true, nil
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed
	if len(digits) > 16 {
		return 0, false, false, fmt.Errorf("value %q has more than 16 significant digits", val)
	}
	e := exp + len(digits) - 1 // decimal.js's e: exponent of the leading digit
	xrplExp := e - 15
	if xrplExp > 80 || xrplExp < -96 {
		return 0, false, false, fmt.Errorf("value %q: exponent out of XRPL's range", val)
	}
	mant, _ := strconv.ParseUint(digits+strings.Repeat("0", 16-len(digits)), 10, 64)
	bits = 1<<63 | uint64(97+xrplExp)<<54 | mant
	negative = m[1] == "-"
	if !negative {
		bits |= 1 << 62
	}
	return bits, negative, false, nil
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
