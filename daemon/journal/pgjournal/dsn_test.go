package pgjournal

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestMaskDSN(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://gokms:s3cr%40t@db.example:5432/gokms?sslmode=verify-full&sslrootcert=/etc/ca.crt",
			"postgres://gokms:xxxxx@db.example:5432/gokms?sslmode=verify-full&sslrootcert=/etc/ca.crt"},
		{"postgresql://gokms@db/gokms?password=hunter2&sslmode=require", "postgresql://gokms@db/gokms?password=xxxxx&sslmode=require"},
		{"postgres://db/gokms", "postgres://db/gokms"},
		{"host=db user=gokms password='p w\\'x' sslmode=verify-full", "host=db user=gokms password=xxxxx sslmode=verify-full"},
		{"host=db password=hunter2 sslpassword=keypass", "host=db password=xxxxx sslpassword=xxxxx"},
	} {
		got := MaskDSN(c.in)
		if got != c.want {
			t.Errorf("MaskDSN(%q) = %q, want %q", c.in, got, c.want)
		}
		for _, s := range []string{"s3cr", "hunter2", "p w", "keypass"} {
			if strings.Contains(got, s) {
				t.Errorf("MaskDSN(%q) still shows %q", c.in, s)
			}
		}
	}
}

func TestHasPassword(t *testing.T) {
	for in, want := range map[string]bool{
		"postgres://u:p@h/db":               true,
		"postgres://u@h/db?password=p":      true,
		"postgres://u@h/db?sslpassword=p":   true,
		"postgres://u@h/db?sslmode=require": false,
		"postgres://h/db":                   false,
		"postgres://u:@h/db":                true, // an empty password is still one given on argv
		"postgres://%zz:p@h/db":             true, // unparseable: assume the worst
	} {
		if got := HasPassword(in); got != want {
			t.Errorf("HasPassword(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestSecretsOf(t *testing.T) {
	got := secretsOf("postgres://u:pw1@h/db")
	if len(got) != 1 || got[0] != "pw1" {
		t.Fatalf("%q", got)
	}
	got = secretsOf("host=h password=pw2")
	if len(got) != 1 || got[0] != "pw2" {
		t.Fatalf("%q", got)
	}
}

func TestMigrationsAreContiguous(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || LatestVersion() != len(ms) {
		t.Fatalf("%d migrations, latest %d", len(ms), LatestVersion())
	}
}

func TestRetryable(t *testing.T) {
	bad := &net.OpError{Op: "write", Net: "tcp", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}
	if retryable(bad) {
		t.Fatal("a certificate that does not verify is retried")
	}
	if retryable(fmt.Errorf("x: %w", x509.HostnameError{Host: "db"})) {
		t.Fatal("a wrong host name is retried")
	}
	if !retryable(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}) {
		t.Fatal("a refused connection (server restarting) is not retried")
	}
	if !retryable(&pgconn.PgError{Code: "57P01"}) || retryable(&pgconn.PgError{Code: "28P01"}) || retryable(&pgconn.PgError{Code: "23505"}) {
		t.Fatal("server error classes: want admin shutdown retried, bad password and unique violation not")
	}
}
