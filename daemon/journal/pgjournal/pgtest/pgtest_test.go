package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var srv *Server

func TestMain(m *testing.M) { os.Exit(Main(m, &srv)) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// The handed-out DSN reaches the server over TCP with a password, TLS
// verified against the test CA, and the role owns its fresh database.
func TestDatabaseOverVerifiedTLS(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := ctxT(t)
	c, err := pgx.Connect(ctx, db.DSN())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	var ssl bool
	var user, name string
	if err := c.QueryRow(ctx, "SELECT ssl, current_user, current_database() FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl, &user, &name); err != nil {
		t.Fatal(err)
	}
	if !ssl || user != db.User || name != db.Name {
		t.Fatalf("ssl=%v user=%s db=%s, want TLS as %s on %s", ssl, user, name, db.User, db.Name)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatalf("the role cannot create tables in its database: %v", err)
	}
	// Databases are fresh: a second one does not see the first's table.
	db2 := srv.NewDatabaseT(t)
	c2, err := pgx.Connect(ctx, db2.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	if _, err := c2.Exec(ctx, "SELECT * FROM t"); err == nil {
		t.Fatal("a new database sees another database's table")
	}
}

// verify-full with a CA that did not sign the server's certificate, or a
// wrong password, must not connect.
func TestRefusals(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := ctxT(t)
	otherCA := filepath.Join(t.TempDir(), "other.crt")
	s2 := &Server{DataDir: t.TempDir()}
	if err := s2.writeTLS(filepath.Dir(otherCA)); err != nil {
		t.Fatal(err)
	}
	if c, err := pgx.Connect(ctx, db.DSNWith("verify-full", s2.CAFile)); err == nil {
		c.Close(ctx)
		t.Fatal("verify-full accepted a server certificate from another CA")
	}
	bad := *db
	bad.Password = "wrong"
	if c, err := pgx.Connect(ctx, bad.DSN()); err == nil {
		c.Close(ctx)
		t.Fatal("a wrong password connected")
	} else if strings.Contains(err.Error(), db.Password) {
		t.Fatal("the error shows the real password")
	}
	// The superuser has no password: over TCP it cannot log in at all.
	sup := *db
	sup.User, sup.Password = superuser, ""
	if c, err := pgx.Connect(ctx, sup.DSN()); err == nil {
		c.Close(ctx)
		t.Fatal("the bootstrap superuser logged in over TCP")
	}
}

// Stop/Start and Kill/Start keep the data (same directory and port), and
// no process of the server carries a password in its command line.
func TestRestartAndKill(t *testing.T) {
	db := srv.NewDatabaseT(t)
	ctx := ctxT(t)
	exec := func(sql string) {
		t.Helper()
		c, err := pgx.Connect(ctx, db.DSN())
		if err != nil {
			t.Fatalf("connect: %v\n%s", err, srv.Output())
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("CREATE TABLE kept (x int); INSERT INTO kept VALUES (1)")
	checkArgv(t, db.Password)
	srv.Stop()
	if srv.Running() {
		t.Fatal("running after Stop")
	}
	if c, err := pgx.Connect(ctx, db.DSN()); err == nil {
		c.Close(ctx)
		t.Fatal("connected to a stopped server")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exec("INSERT INTO kept VALUES (2)")
	srv.Kill()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM kept").Scan(&n); err != nil || n != 2 {
		t.Fatalf("after a stop and a crash: %d rows (%v), want 2 committed rows", n, err)
	}
	if strings.Contains(srv.Output(), db.Password) {
		t.Fatal("server output shows a password")
	}
}

// checkArgv reads every process's command line and fails if one holds secret.
func checkArgv(t *testing.T, secret string) {
	t.Helper()
	ps, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	seen := 0
	for _, p := range ps {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		seen++
		if strings.Contains(string(b), secret) {
			t.Fatalf("%s holds the database password", p)
		}
	}
	if seen == 0 {
		t.Fatal("no /proc/*/cmdline readable: cannot check argv")
	}
}
