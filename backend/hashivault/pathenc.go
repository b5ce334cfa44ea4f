package hashivault

import "strings"

const hexDigits = "0123456789ABCDEF"

// keep reports whether c stays unescaped in a path segment. The set is small
// on purpose: Vault treats '/' as a folder separator, cleans '.' and '..',
// and policies glob on '*' and '+'.
func keep(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// encodeID maps a signatureId to one path segment, injectively.
func encodeID(id string) string {
	var sb strings.Builder
	sb.Grow(len(id))
	for i := 0; i < len(id); i++ {
		c := id[i]
		if keep(c) {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('~')
		sb.WriteByte(hexDigits[c>>4])
		sb.WriteByte(hexDigits[c&15])
	}
	return sb.String()
}

// decodeID reverses encodeID. It accepts only the canonical form, so a
// foreign name under the prefix is never taken for an id.
func decodeID(name string) (string, bool) {
	if name == "" {
		return "", false
	}
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		if keep(c) {
			b = append(b, c)
			continue
		}
		if c != '~' || i+2 >= len(name) {
			return "", false
		}
		hi, lo := strings.IndexByte(hexDigits, name[i+1]), strings.IndexByte(hexDigits, name[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		v := byte(hi<<4 | lo)
		if keep(v) {
			return "", false // not canonical
		}
		b = append(b, v)
		i += 2
	}
	return string(b), true
}
