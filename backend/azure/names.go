package azure

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Key Vault secret names allow only letters, digits and '-' (1-127) and are
// case-insensitive, so a signatureId maps to a name in one of two forms that
// can never collide:
//
//	plain:   prefix + id        when id is lowercase letters/digits in
//	                            single-dash-separated groups (every Tatum UUID)
//	escaped: prefix + "-" + e   otherwise; e keeps [0-9a-z] and writes every
//	                            other byte as "-" plus two lowercase hex digits
//
// A plain id never starts with '-', so the leading '-' tells the forms apart.
var plainID = regexp.MustCompile(`^[0-9a-z]+(-[0-9a-z]+)*$`)

const maxNameLen = 127

func secretName(prefix, id string) (string, error) {
	var name string
	if plainID.MatchString(id) {
		name = prefix + id
	} else {
		var b strings.Builder
		b.WriteString(prefix)
		b.WriteByte('-')
		for i := 0; i < len(id); i++ {
			c := id[i]
			if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "-%02x", c)
			}
		}
		name = b.String()
	}
	if len(name) > maxNameLen {
		return "", fmt.Errorf("signatureId is too long for an Azure Key Vault secret name (%d > %d characters once encoded)", len(name), maxNameLen)
	}
	return name, nil
}

// idFromName reverses secretName; ok is false for names that are not ours.
func idFromName(prefix, name string) (string, bool) {
	if len(name) <= len(prefix) || !strings.EqualFold(name[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.ToLower(name[len(prefix):])
	if rest[0] != '-' {
		return rest, plainID.MatchString(rest)
	}
	var b []byte
	for i := 1; i < len(rest); i++ {
		c := rest[i]
		if c != '-' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(rest) {
			return "", false
		}
		v, err := strconv.ParseUint(rest[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b = append(b, byte(v))
		i += 2
	}
	return string(b), true
}
