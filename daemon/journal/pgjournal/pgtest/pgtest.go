// Package pgtest runs a real PostgreSQL server (Debian's `postgresql`
// package, installed by scripts/postgres.sh) for tests: one server per test
// package on a free loopback port, with TLS, from an initdb template cached
// in ${GOKMS_CACHE:-~/.cache/gokms}/postgres-<major>/; it hands out fresh
// databases, each with its own role and random password, and stops, kills
// and restarts the server on demand.
//
// initdb and postgres refuse to run as root. When the tests run as root the
// server runs as the `postgres` account (or `nobody`), set through the
// process credentials, not through su/runuser: no PAM, no shell, no argv.
// The superuser connects only through a Unix socket inside the 0700 data
// directory (trust), so nothing but root and the server account can use it;
// TCP connections need a password (scram-sha-256). Passwords travel in SQL
// over that socket or in the tests' DSNs, never in a command line, and
// Output masks them.
package pgtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartTimeout bounds how long Start waits for the server to accept connections.
const StartTimeout = 2 * time.Minute

// superuser is the bootstrap role initdb creates (no password: socket only).
const superuser = "gokms_super"

// Find returns the directory of the server binaries: $GOKMS_PG_BINDIR, or
// the newest /usr/lib/postgresql/<major>/bin. Without one, under CI (ci
// true) it runs scripts/postgres.sh (found by walking up from the working
// directory), which installs Debian's package; otherwise it returns an
// error saying how to install it.
func Find(ci bool) (string, error) {
	if d := binDir(); d != "" {
		return d, nil
	}
	if !ci {
		return "", errors.New("no PostgreSQL server (initdb, postgres) under /usr/lib/postgresql/*/bin or $GOKMS_PG_BINDIR: run scripts/postgres.sh (as root: apt-get install postgresql), or set CI=true to install it here")
	}
	script, err := findScript()
	if err != nil {
		return "", fmt.Errorf("no PostgreSQL server and %w", err)
	}
	fmt.Fprintf(os.Stderr, "pgtest: no PostgreSQL server; running %s\n", script)
	cmd := exec.Command(script)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	if d := binDir(); d != "" {
		return d, nil
	}
	return "", fmt.Errorf("%s ran but no PostgreSQL server binaries appeared", script)
}

func binDir() string {
	ok := func(d string) bool {
		for _, b := range []string{"postgres", "initdb"} {
			if st, err := os.Stat(filepath.Join(d, b)); err != nil || st.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	if d := os.Getenv("GOKMS_PG_BINDIR"); d != "" {
		if ok(d) {
			return d
		}
		return ""
	}
	ds, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major first (numeric, so 16 beats 9.6).
	sort.Slice(ds, func(i, j int) bool { return major(ds[i]) > major(ds[j]) })
	for _, d := range ds {
		if ok(d) {
			return d
		}
	}
	return ""
}

func major(bindir string) float64 {
	f, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(bindir)), 64)
	return f
}

func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "postgres.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no scripts/postgres.sh above the working directory")
		}
		dir = parent
	}
}

// Main is a TestMain for packages that need a server: it finds the
// binaries, starts one server into *srv, runs the tests and stops it.
// Without a server the tests run with *srv nil (Need skips them), except
// with CI=true, where a missing server fails the package.
func Main(m *testing.M, srv **Server) int {
	ci := os.Getenv("CI") == "true"
	UnsetEnv()
	bin, err := Find(ci)
	if err != nil {
		if ci {
			fmt.Fprintf(os.Stderr, "FAIL: PostgreSQL needed (CI=true makes a missing server a failure): %v\n", err)
			return 1
		}
		skipWhy = err.Error()
		return m.Run()
	}
	s, err := Start(bin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: start PostgreSQL: %v\n", err)
		return 1
	}
	defer s.Close()
	*srv = s
	return m.Run()
}

var skipWhy string

// Need skips t when Main found no server (never under CI=true: Main fails
// the package instead).
func Need(t testing.TB, s *Server) {
	t.Helper()
	if s == nil {
		if skipWhy == "" {
			skipWhy = "no PostgreSQL server started (pgtest.Main not used?)"
		}
		t.Skip(skipWhy)
	}
}

// UnsetEnv removes the developer's PG* variables from this process (libpq
// and pgx read PGPASSWORD, PGSSLMODE, PGHOST, ... from the environment), so
// tests choose every setting themselves.
func UnsetEnv() {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "PG") {
			os.Unsetenv(k)
		}
	}
}

// Server is one postgres process and its data directory.
type Server struct {
	BinDir  string
	DataDir string
	Host    string // 127.0.0.1
	Port    int
	// CAFile is the PEM certificate of the CA that signed the server's TLS
	// certificate (for sslrootcert=; valid for 127.0.0.1 and localhost).
	CAFile string

	cred    *syscall.Credential // nil unless the tests run as root
	uid     int
	gid     int
	mu      sync.Mutex
	cmd     *exec.Cmd
	out     *syncBuffer
	exited  chan struct{}
	secrets []string
	dbs     int
}

// Start copies the cached template (running initdb once to make it) into a
// fresh temporary data directory, configures a free loopback port and TLS,
// starts the server and waits until it accepts connections.
func Start(binDir string) (*Server, error) {
	s := &Server{BinDir: binDir, Host: "127.0.0.1", uid: -1, gid: -1}
	if os.Geteuid() == 0 {
		cred, uid, gid, err := serverAccount()
		if err != nil {
			return nil, err
		}
		s.cred, s.uid, s.gid = cred, uid, gid
	}
	tmpl, err := s.template()
	if err != nil {
		return nil, err
	}
	// A short path: the Unix socket lives in it (108-byte limit).
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s.DataDir = filepath.Join(dir, "data")
	if err := copyTree(tmpl, s.DataDir, s.uid, s.gid); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy template %s: %w", tmpl, err)
	}
	if err := os.Chmod(s.DataDir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// The parent is 0700 root: let the server account traverse it.
	if err := s.chown(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.writeTLS(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if s.Port, err = freePort(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if lastErr = s.Start(); lastErr == nil {
			return s, nil
		}
		// Someone took the port between freePort and the bind: try another.
		if !strings.Contains(s.Output(), "could not bind") && !strings.Contains(s.Output(), "could not create any TCP/IP sockets") {
			break
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// serverAccount is the account the server runs as when the tests are root:
// `postgres` (Debian's package creates it), else `nobody`.
func serverAccount() (*syscall.Credential, int, int, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, uid, gid, nil
	}
	return nil, 0, 0, errors.New("running as root, and neither a postgres nor a nobody account exists to run the server as (initdb and postgres refuse root): create one with `useradd -r postgres`")
}

func (s *Server) chown(p string) error {
	if s.cred == nil {
		return nil
	}
	return os.Chown(p, s.uid, s.gid)
}

// template returns the cached initdb output for this server version,
// making it on first use (under a lock: several test packages start at once).
func (s *Server) template() (string, error) {
	cache := os.Getenv("GOKMS_CACHE")
	if cache == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no GOKMS_CACHE and no home directory: %w", err)
		}
		cache = filepath.Join(h, ".cache", "gokms")
	}
	ver, err := exec.Command(filepath.Join(s.BinDir, "postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s/postgres --version: %w", s.BinDir, err)
	}
	// "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> 15.18
	f := strings.Fields(string(ver))
	if len(f) < 3 {
		return "", fmt.Errorf("unexpected postgres --version output %q", ver)
	}
	v := f[2]
	base := filepath.Join(cache, "postgres-"+strings.SplitN(v, ".", 2)[0])
	tmpl := filepath.Join(base, "template-"+v)
	if _, err := os.Stat(filepath.Join(tmpl, "PG_VERSION")); err == nil {
		return tmpl, nil
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(base, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(tmpl, "PG_VERSION")); err == nil {
		return tmpl, nil // made by another package meanwhile
	}
	work, err := os.MkdirTemp("", "pgtest-initdb-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	if err := s.chown(work); err != nil {
		return "", err
	}
	data := filepath.Join(work, "data")
	fmt.Fprintf(os.Stderr, "pgtest: initdb %s (once; cached in %s)\n", v, tmpl)
	// Socket-only trust for the bootstrap superuser; TCP needs a password.
	// --no-sync: a template, copied before use.
	cmd := exec.Command(filepath.Join(s.BinDir, "initdb"), "-D", data, "-U", superuser,
		"--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
	cmd.Env = s.env()
	cmd.Dir = work
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %w\n%s", err, out)
	}
	staging := tmpl + ".tmp"
	os.RemoveAll(staging)
	if err := copyTree(data, staging, -1, -1); err != nil {
		return "", err
	}
	if err := os.Rename(staging, tmpl); err != nil {
		return "", err
	}
	return tmpl, nil
}

// env is the environment of initdb and postgres: no PG* variable, the C locale.
func (s *Server) env() []string {
	env := []string{"LC_ALL=C", "LANG=C"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "TZ" {
			env = append(env, kv)
		}
	}
	return env
}

// writeTLS makes a CA and a server certificate for 127.0.0.1/localhost and
// points the server at them.
func (s *Server) writeTLS(dir string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gokms pgtest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	s.CAFile = filepath.Join(dir, "ca.crt")
	files := []struct {
		path string
		mode os.FileMode
		typ  string
		der  []byte
	}{
		{s.CAFile, 0o644, "CERTIFICATE", caDER},
		{filepath.Join(s.DataDir, "server.crt"), 0o644, "CERTIFICATE", der},
		// postgres refuses a key readable by others.
		{filepath.Join(s.DataDir, "server.key"), 0o600, "EC PRIVATE KEY", keyDER},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), f.mode); err != nil {
			return err
		}
		if err := s.chown(f.path); err != nil {
			return err
		}
	}
	return nil
}

// Start runs the server (again, after Stop or Kill: a restart, same data
// directory and port) and waits until it accepts connections.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.exited != nil {
		select {
		case <-s.exited:
		default:
			return errors.New("pgtest: server already running")
		}
	}
	// Settings on the command line hold no secret (ports, paths, sizes).
	args := []string{"-D", s.DataDir,
		"-c", "listen_addresses=127.0.0.1", "-c", "port=" + strconv.Itoa(s.Port),
		"-c", "unix_socket_directories=" + s.DataDir,
		"-c", "ssl=on", "-c", "ssl_cert_file=server.crt", "-c", "ssl_key_file=server.key",
		// Frugal on a shared machine; enough for 3 daemons' pools and the tests.
		"-c", "shared_buffers=32MB", "-c", "max_connections=200",
		"-c", "log_min_messages=warning", "-c", "log_connections=off",
	}
	s.cmd = exec.Command(filepath.Join(s.BinDir, "postgres"), args...)
	s.cmd.Env = s.env()
	s.cmd.Dir = s.DataDir
	s.out = &syncBuffer{}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	// Its own process group, so Kill reaches the backends too.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: s.cred}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	s.exited = exited
	cmd := s.cmd
	go func() { _ = cmd.Wait(); close(exited) }()
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	for {
		c, err := pgx.Connect(ctx, s.superDSN("postgres"))
		if err == nil {
			c.Close(ctx)
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("postgres exited: %s", s.outputLocked())
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections within %v (%v): %s", StartTimeout, err, s.outputLocked())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) superDSN(db string) string {
	return (&url.URL{Scheme: "postgres", User: url.User(superuser), Path: "/" + db,
		RawQuery: url.Values{"host": {s.DataDir}, "port": {strconv.Itoa(s.Port)}, "sslmode": {"disable"}}.Encode()}).String()
}

// Stop shuts the server down (SIGINT: fast shutdown, open sessions are
// ended) and returns once it has exited; SIGKILL after 30 seconds.
func (s *Server) Stop() { s.signal(syscall.SIGINT) }

// Kill kills the server and every backend at once (SIGKILL to the process
// group): a crash. Start recovers from the WAL.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	if sig == syscall.SIGKILL {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	} else {
		_ = s.cmd.Process.Signal(sig)
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
	if sig == syscall.SIGKILL {
		// Backends notice the postmaster's death within a moment; wait for
		// the group to be gone so the port and shared memory are free.
		for i := 0; i < 100 && syscall.Kill(-s.cmd.Process.Pid, 0) == nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// Running reports whether the server process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Close stops the server and removes its data directory.
func (s *Server) Close() {
	s.Stop()
	if s.DataDir != "" {
		os.RemoveAll(filepath.Dir(s.DataDir))
	}
}

// DB is a fresh database with its own login role.
type DB struct {
	Name     string
	User     string
	Password string
	s        *Server
}

// NewDatabase creates a database owned by a new role with a random password.
func (s *Server) NewDatabase(ctx context.Context) (*DB, error) {
	s.mu.Lock()
	s.dbs++
	n := s.dbs
	s.mu.Unlock()
	suffix := fmt.Sprintf("%d_%s", n, randHex(4))
	db := &DB{Name: "gokms_" + suffix, User: "gokms_u" + suffix, Password: "pw-" + randHex(16), s: s}
	s.mu.Lock()
	s.secrets = append(s.secrets, db.Password)
	s.mu.Unlock()
	c, err := pgx.Connect(ctx, s.superDSN("postgres"))
	if err != nil {
		return nil, fmt.Errorf("connect as superuser: %w", err)
	}
	defer c.Close(ctx)
	// Identifiers and the password are ours (hex), so quoting is exact.
	if _, err := c.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", db.User, db.Password)); err != nil {
		return nil, fmt.Errorf("create role %s: %v", db.User, strings.ReplaceAll(err.Error(), db.Password, "<redacted>"))
	}
	if _, err := c.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s OWNER %s", db.Name, db.User)); err != nil {
		return nil, fmt.Errorf("create database %s: %w", db.Name, err)
	}
	return db, nil
}

// NewDatabaseT is NewDatabase for a test: it fails t on error.
func (s *Server) NewDatabaseT(t testing.TB) *DB {
	t.Helper()
	Need(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := s.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// DSN is the URL a client uses: TCP to 127.0.0.1, password authentication,
// and TLS verified against CAFile (sslmode=verify-full).
func (d *DB) DSN() string { return d.DSNWith("verify-full", d.s.CAFile) }

// DSNWith is the URL with the given sslmode and sslrootcert ("" for none).
func (d *DB) DSNWith(sslmode, rootCert string) string {
	q := url.Values{"sslmode": {sslmode}}
	if rootCert != "" {
		q.Set("sslrootcert", rootCert)
	}
	return (&url.URL{Scheme: "postgres", User: url.UserPassword(d.User, d.Password),
		Host: net.JoinHostPort(d.s.Host, strconv.Itoa(d.s.Port)), Path: "/" + d.Name, RawQuery: q.Encode()}).String()
}

// SuperConn connects to the database as the superuser, through the socket
// (for tests that look behind the role's back: terminate its sessions, read
// catalog tables).
func (s *Server) SuperConn(ctx context.Context, db string) (*pgx.Conn, error) {
	return pgx.Connect(ctx, s.superDSN(db))
}

// TerminateSessions ends every session of db's role (as a network cut or
// an administrator would), returning how many were ended.
func (s *Server) TerminateSessions(ctx context.Context, db *DB) (int, error) {
	c, err := s.SuperConn(ctx, "postgres")
	if err != nil {
		return 0, err
	}
	defer c.Close(ctx)
	var n int
	err = c.QueryRow(ctx, "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1) t", db.User).Scan(&n)
	return n, err
}

// Output is the server's log so far with the known passwords masked.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outputLocked()
}

func (s *Server) outputLocked() string {
	if s.out == nil {
		return ""
	}
	o := s.out.String()
	for _, secret := range s.secrets {
		o = strings.ReplaceAll(o, secret, "<redacted>")
	}
	return o
}

// copyTree copies the directory src to dst (which must not exist), files
// with their modes; with uid >= 0 every copy is chowned to uid:gid.
func copyTree(src, dst string, uid, gid int) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()|0o700); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := copyFile(p, target, info.Mode().Perm()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: not a regular file or directory", p)
		}
		if uid >= 0 {
			return os.Lchown(target, uid, gid)
		}
		return nil
	})
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
