package algo

import (
	"encoding/binary"
	"sort"
)

// A small canonical MessagePack writer: what algosdk's encoding.encode
// produces (algo-msgpack-with-bigint with sortKeys): maps with sorted keys,
// integers as the smallest unsigned form, byte strings as bin, text as str.
// Zero and empty fields are left out by the callers, as algosdk's
// get_obj_for_encoding does. Hand-written because the canonical form is
// twenty lines and a general encoder would need as many options set right.

type mpField struct {
	key string
	val any // uint64, string, []byte, bool, mpMap
}

type mpMap []mpField

func appendMap(b []byte, m mpMap) []byte {
	sorted := append(mpMap(nil), m...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].key < sorted[j].key })
	n := len(sorted)
	switch {
	case n <= 15:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0xde, byte(n>>8), byte(n))
	default:
		b = append(b, 0xdf)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	}
	for _, f := range sorted {
		b = appendStr(b, f.key)
		switch v := f.val.(type) {
		case uint64:
			b = appendUint(b, v)
		case string:
			b = appendStr(b, v)
		case []byte:
			b = appendBin(b, v)
		case bool:
			if v {
				b = append(b, 0xc3)
			} else {
				b = append(b, 0xc2)
			}
		case mpMap:
			b = appendMap(b, v)
		default:
			panic("algo msgpack: unsupported value type")
		}
	}
	return b
}

func appendUint(b []byte, v uint64) []byte {
	switch {
	case v < 0x80:
		return append(b, byte(v))
	case v < 0x100:
		return append(b, 0xcc, byte(v))
	case v < 0x10000:
		return append(b, 0xcd, byte(v>>8), byte(v))
	case v < 0x100000000:
		b = append(b, 0xce)
		return binary.BigEndian.AppendUint32(b, uint32(v))
	default:
		b = append(b, 0xcf)
		return binary.BigEndian.AppendUint64(b, v)
	}
}

func appendStr(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n < 0x100:
		b = append(b, 0xd9, byte(n))
	case n < 0x10000:
		b = append(b, 0xda, byte(n>>8), byte(n))
	default:
		b = append(b, 0xdb)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	}
	return append(b, s...)
}

func appendBin(b []byte, p []byte) []byte {
	n := len(p)
	switch {
	case n < 0x100:
		b = append(b, 0xc4, byte(n))
	case n < 0x10000:
		b = append(b, 0xc5, byte(n>>8), byte(n))
	default:
		b = append(b, 0xc6)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	}
	return append(b, p...)
}
