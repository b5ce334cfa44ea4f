// Package jsonenc appends JSON values the way encoding/json writes them,
// for the records gokms writes by hand on its hot paths (the journal's
// entries, the audit trail's lines): reflection was most of their CPU.
// Anything the fast path does not cover is left to encoding/json, so the
// bytes are always its bytes.
package jsonenc

import "encoding/json"

// AppendString appends s as json.Marshal writes it: as is between quotes
// when every byte is printable ASCII that it does not escape (every id,
// chain, address, amount and hex string gokms writes), else json.Marshal's
// (which escapes control characters, quotes, backslashes, HTML's <, > and
// &, U+2028 and U+2029, and replaces invalid UTF-8).
func AppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !asIs[s[i]] {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// asIs: the bytes json.Marshal writes unescaped in a string.
var asIs = func() (t [256]bool) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendField appends name (the comma, the quoted key and the colon:
// `,"chain":`) and s.
func AppendField(b []byte, name, s string) []byte {
	return AppendString(append(b, name...), s)
}

// AppendOmitEmpty is AppendField, or nothing for "" (omitempty).
func AppendOmitEmpty(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return AppendField(b, name, s)
}

// AppendStrings appends name and ss as an array, or nothing for an empty
// ss (omitempty).
func AppendStrings(b []byte, name string, ss []string) []byte {
	if len(ss) == 0 {
		return b
	}
	b = append(b, name...)
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, s)
	}
	return append(b, ']')
}
