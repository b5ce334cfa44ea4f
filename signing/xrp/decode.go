package xrp

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gokms/gokms/wallet"
)

// Decode parses a tx_blob of the fields gokms encodes back into xrpl's JSON
// form (UInt fields as numbers, amounts as drops strings or
// {currency, issuer, value}, blobs as upper-case hex). It lets tests and
// audits check independently what a blob says.
func Decode(blobHex string) (map[string]any, error) {
	b, err := hex.DecodeString(blobHex)
	if err != nil {
		return nil, fmt.Errorf("tx_blob is not hex: %w", err)
	}
	d := &decoder{b: b}
	out, err := d.object(false)
	if err != nil {
		return nil, err
	}
	if d.i != len(b) {
		return nil, fmt.Errorf("trailing bytes at %d", d.i)
	}
	return out, nil
}

type decoder struct {
	b []byte
	i int
}

func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || d.i+n > len(d.b) {
		return nil, fmt.Errorf("blob ends early at %d", d.i)
	}
	out := d.b[d.i : d.i+n]
	d.i += n
	return out, nil
}

func (d *decoder) header() (fieldType, int, error) {
	h, err := d.take(1)
	if err != nil {
		return 0, 0, err
	}
	t, n := int(h[0]>>4), int(h[0]&0x0f)
	if t == 0 {
		x, err := d.take(1)
		if err != nil {
			return 0, 0, err
		}
		t = int(x[0])
	}
	if n == 0 {
		x, err := d.take(1)
		if err != nil {
			return 0, 0, err
		}
		n = int(x[0])
	}
	return fieldType(t), n, nil
}

func (d *decoder) vl() (int, error) {
	b, err := d.take(1)
	if err != nil {
		return 0, err
	}
	switch b0 := int(b[0]); {
	case b0 <= 192:
		return b0, nil
	case b0 <= 240:
		b1, err := d.take(1)
		if err != nil {
			return 0, err
		}
		return 193 + (b0-193)<<8 + int(b1[0]), nil
	default:
		r, err := d.take(2)
		if err != nil {
			return 0, err
		}
		return 12481 + (b0-241)<<16 + int(r[0])<<8 + int(r[1]), nil
	}
}

func lookup(t fieldType, n int) (field, bool) {
	for _, f := range fields {
		if f.typ == t && f.nth == n {
			return f, true
		}
	}
	return field{}, false
}

func (d *decoder) object(inner bool) (map[string]any, error) {
	out := map[string]any{}
	for d.i < len(d.b) {
		if inner && d.b[d.i] == 0xe1 {
			d.i++
			return out, nil
		}
		t, n, err := d.header()
		if err != nil {
			return nil, err
		}
		f, ok := lookup(t, n)
		if !ok {
			return nil, fmt.Errorf("unknown field (type %d, nth %d) at %d", t, n, d.i)
		}
		v, err := d.value(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		out[f.name] = v
	}
	if inner {
		return nil, fmt.Errorf("object without end marker")
	}
	return out, nil
}

func (d *decoder) value(f field) (any, error) {
	switch f.typ {
	case tUInt8:
		b, err := d.take(1)
		if err != nil {
			return nil, err
		}
		return json.Number(strconv.Itoa(int(b[0]))), nil
	case tUInt16:
		b, err := d.take(2)
		if err != nil {
			return nil, err
		}
		code := binary.BigEndian.Uint16(b)
		for name, c := range txTypes {
			if c == code {
				return name, nil
			}
		}
		return nil, fmt.Errorf("unknown transaction type %d", code)
	case tUInt32:
		b, err := d.take(4)
		if err != nil {
			return nil, err
		}
		return json.Number(strconv.FormatUint(uint64(binary.BigEndian.Uint32(b)), 10)), nil
	case tHash256:
		b, err := d.take(32)
		if err != nil {
			return nil, err
		}
		return strings.ToUpper(hex.EncodeToString(b)), nil
	case tBlob, tAccountID:
		n, err := d.vl()
		if err != nil {
			return nil, err
		}
		b, err := d.take(n)
		if err != nil {
			return nil, err
		}
		if f.typ == tAccountID {
			if n != 20 {
				return nil, fmt.Errorf("account id of %d bytes", n)
			}
			var id [20]byte
			copy(id[:], b)
			return wallet.EncodeXRPAccountID(id), nil
		}
		return strings.ToUpper(hex.EncodeToString(b)), nil
	case tAmount:
		return d.amount()
	case tSTArray:
		var arr []any
		for {
			if d.i < len(d.b) && d.b[d.i] == 0xf1 {
				d.i++
				return arr, nil
			}
			t, n, err := d.header()
			if err != nil {
				return nil, err
			}
			if t != tSTObject || n != fields["Memo"].nth {
				return nil, fmt.Errorf("array element is not a Memo")
			}
			o, err := d.object(true)
			if err != nil {
				return nil, err
			}
			arr = append(arr, map[string]any{"Memo": o})
		}
	}
	return nil, fmt.Errorf("no decoder for type %d", f.typ)
}

func (d *decoder) amount() (any, error) {
	b, err := d.take(8)
	if err != nil {
		return nil, err
	}
	v := binary.BigEndian.Uint64(b)
	if v&(1<<63) == 0 {
		if v&(1<<62) == 0 {
			return nil, fmt.Errorf("negative XRP amount")
		}
		return strconv.FormatUint(v&^(1<<62), 10), nil
	}
	rest, err := d.take(40)
	if err != nil {
		return nil, err
	}
	var cur, iss [20]byte
	copy(cur[:], rest[:20])
	copy(iss[:], rest[20:])
	currency := strings.ToUpper(hex.EncodeToString(cur[:]))
	if isStd := strings.Count(currency[:24], "0") == 24 && strings.Count(currency[30:], "0") == 10; isStd {
		currency = string(cur[12:15])
	}
	value := "0"
	if v != 1<<63 {
		mant := v & (1<<54 - 1)
		exp := int((v>>54)&0xff) - 97
		s := strconv.FormatUint(mant, 10)
		value = decimalString(s, exp)
		if v&(1<<62) == 0 {
			value = "-" + value
		}
	}
	return map[string]any{"currency": currency, "issuer": wallet.EncodeXRPAccountID(iss), "value": value}, nil
}

// decimalString writes digits × 10^exp in plain notation, trimmed.
func decimalString(digits string, exp int) string {
	digits = strings.TrimLeft(digits, "0")
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		exp++
	}
	if digits == "" {
		return "0"
	}
	if exp >= 0 {
		return digits + strings.Repeat("0", exp)
	}
	if -exp >= len(digits) {
		return "0." + strings.Repeat("0", -exp-len(digits)) + digits
	}
	return digits[:len(digits)+exp] + "." + digits[len(digits)+exp:]
}
