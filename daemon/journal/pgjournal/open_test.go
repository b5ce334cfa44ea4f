package pgjournal_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gokms/gokms/daemon/journal"
	"github.com/gokms/gokms/daemon/journal/pgjournal"
)

// Daemons starting together on a fresh database apply each migration once.
func TestMigrateConcurrentlyOnce(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j, err := pgjournal.Open(ctx, db.DSN(), pgjournal.Options{Logger: quiet()})
			if err != nil {
				errs <- err
				return
			}
			j.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n, v int
	if err := c.QueryRow(ctx, "SELECT count(*), max(version) FROM gokms_schema_migrations").Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if n != pgjournal.LatestVersion() || v != pgjournal.LatestVersion() {
		t.Fatalf("%d migration rows, version %d; want each of 1..%d once", n, v, pgjournal.LatestVersion())
	}
	// Again: nothing to do.
	pool, err := pgxpool.New(ctx, db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	res, err := pgjournal.Migrate(ctx, pool)
	if err != nil || len(res.Applied) != 0 || res.From != v || res.To != v {
		t.Fatalf("second migrate: %+v %v", res, err)
	}
}

// A database migrated by a newer gokms is refused and left untouched; a
// schema that is not current with NoMigrate says what to run.
func TestSchemaRefusals(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	_, err := pgjournal.Open(ctx, db.DSN(), pgjournal.Options{NoMigrate: true, Logger: quiet()})
	if err == nil || !strings.Contains(err.Error(), "gokms state migrate") {
		t.Fatalf("NoMigrate on an empty database: %v, want a hint to run gokms state migrate", err)
	}
	j := openDB(t, db, pgjournal.Options{})
	j.Close()
	c, err := pgx.Connect(ctx, db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "INSERT INTO gokms_schema_migrations (version, name) VALUES (99, 'future')"); err != nil {
		t.Fatal(err)
	}
	_, err = pgjournal.Open(ctx, db.DSN(), pgjournal.Options{Logger: quiet()})
	if !errors.Is(err, pgjournal.ErrSchemaTooNew) || !strings.Contains(err.Error(), "99") {
		t.Fatalf("newer schema: %v, want ErrSchemaTooNew naming version 99", err)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM gokms_schema_migrations").Scan(&n); err != nil || n != pgjournal.LatestVersion()+1 {
		t.Fatalf("refused migrate changed the version table: %d rows, %v", n, err)
	}
}

// TLS as libpq users expect it, and no password in any error.
func TestTLSAndCredentials(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	j := openDB(t, db, pgjournal.Options{})
	var ssl bool
	if err := j.Pool().QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
		t.Fatalf("verify-full connection without TLS: %v %v", ssl, err)
	}
	if strings.Contains(j.DSN(), db.Password) || !strings.Contains(j.DSN(), "xxxxx") {
		t.Fatalf("DSN() %q shows the password", j.DSN())
	}
	// A CA that did not sign the server's certificate: refused, and the
	// error names the database (masked) and TLS.
	other := filepath.Join(t.TempDir(), "other-ca.crt")
	writeOtherCA(t, other)
	for _, mode := range []string{"verify-full", "verify-ca", "require"} { // require + sslrootcert verifies, as libpq
		short, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := pgjournal.Open(short, db.DSNWith(mode, other), pgjournal.Options{Logger: quiet(), RetryFor: time.Millisecond})
		cancel()
		if err == nil {
			t.Fatalf("sslmode=%s with a foreign sslrootcert connected", mode)
		}
		if strings.Contains(err.Error(), db.Password) {
			t.Fatalf("error shows the password: %v", err)
		}
		if !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "xxxxx@") {
			t.Fatalf("sslmode=%s: error %q should name the masked database and the certificate", mode, err)
		}
	}
	bad := *db
	bad.Password = "definitely-wrong-" + db.Password[:6]
	_, err := pgjournal.Open(ctx, bad.DSN(), pgjournal.Options{Logger: quiet(), RetryFor: time.Millisecond})
	if err == nil || strings.Contains(err.Error(), bad.Password) || strings.Contains(err.Error(), db.Password) {
		t.Fatalf("wrong password: %v", err)
	}
	_, err = pgjournal.Open(ctx, "postgres://u:topsecret@[bad", pgjournal.Options{Logger: quiet()})
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("unparseable DSN: %v", err)
	}
}

// The server restarts (and crashes) under a running journal: operations
// in flight wait for it and succeed; nothing recorded is lost.
func TestServerRestart(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	j := openDB(t, db, pgjournal.Options{})
	l, _, err := j.Claim(ctx, "R1", "d1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Record(ctx, l, journal.Entry{ID: "R1", Chain: "BTC", Testnet: true, SignedTx: "0200"}); err != nil {
		t.Fatal(err)
	}
	for _, crash := range []bool{false, true} {
		if crash {
			srv.Kill()
		} else {
			srv.Stop()
		}
		done := make(chan error, 1)
		go func() { done <- j.MarkAttempt(ctx, l, "") }()
		time.Sleep(700 * time.Millisecond)
		select {
		case err := <-done:
			t.Fatalf("an operation with the server down returned at once: %v", err)
		default:
		}
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("after the restart (crash %v): %v", crash, err)
		}
	}
	e, err := j.Get(ctx, "R1")
	if err != nil || e.Broadcasts != 2 || e.SignedTx != "0200" {
		t.Fatalf("after restarts: %+v %v", e, err)
	}
	if got := counter(t, j.Collector(), "gokms_state_retries_total"); got == 0 {
		t.Fatal("no retry counted")
	}
}

func writeOtherCA(t *testing.T, path string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "not the server's CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Options.MinConns opens that many connections in the background at Open
// (at most MaxConns), so the daemon's first burst of claims does not wait
// for handshakes; a DSN's pool_min_conns wins.
func TestOpenMinConns(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := bg(t)
	sep := "?"
	if strings.Contains(db.DSN(), "?") {
		sep = "&"
	}
	for _, c := range []struct {
		name      string
		dsn       string
		min, max  int32
		wantMin   int32
		wantConns int32
	}{
		{"asked", db.DSN(), 3, 0, 3, 3},
		{"at most MaxConns", db.DSN(), 8, 2, 2, 2},
		{"the DSN's", db.DSN() + sep + "pool_min_conns=1", 3, 0, 1, 1},
		{"none", db.DSN(), 0, 0, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			j, err := pgjournal.Open(ctx, c.dsn, pgjournal.Options{Logger: quiet(), MinConns: c.min, MaxConns: c.max})
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if got := j.Pool().Config().MinConns; got != c.wantMin {
				t.Fatalf("pool MinConns %d, want %d", got, c.wantMin)
			}
			for deadline := time.Now().Add(time.Minute); j.Pool().Stat().TotalConns() < c.wantConns; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d connections open a minute after Open, want %d", j.Pool().Stat().TotalConns(), c.wantConns)
				}
			}
		})
	}
}
