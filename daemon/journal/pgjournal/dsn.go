package pgjournal

import (
	"net/url"
	"regexp"
	"strings"
)

// IsDSN reports whether s names a PostgreSQL state (a postgres:// or
// postgresql:// URL), as opposed to a local journal file.
func IsDSN(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// HasPassword reports whether the URL carries a password (in the user
// information or as a password= parameter): a URL given on the command
// line must not, since every user of the machine can read argv.
func HasPassword(dsn string) bool {
	u, err := url.Parse(strings.TrimSpace(dsn))
	if err != nil {
		// Unparseable: assume the worst, the caller refuses it.
		return strings.Contains(dsn, "@") || strings.Contains(strings.ToLower(dsn), "password")
	}
	if _, ok := u.User.Password(); ok {
		return true
	}
	q := u.Query()
	return q.Get("password") != "" || q.Get("sslpassword") != ""
}

var kvSecret = regexp.MustCompile(`(?i)\b(password|sslpassword)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// MaskDSN returns dsn with every password replaced by "xxxxx", for logs and
// errors. Host, port, database, user and TLS settings stay visible (they
// are what an operator needs to see to fix a wrong address).
func MaskDSN(dsn string) string {
	s := strings.TrimSpace(dsn)
	if IsDSN(s) {
		u, err := url.Parse(s)
		if err != nil {
			return "postgres://<unparseable URL, hidden>"
		}
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			}
		}
		q := u.Query()
		changed := false
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "xxxxx")
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return kvSecret.ReplaceAllString(s, "${1}=xxxxx")
}

// redact removes the known secrets from an error text.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "xxxxx")
		}
	}
	return s
}
