package deploy_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gokms/gokms/tatum/tatumtest"
)

const unitPath = "deploy/systemd/gokms-daemon.service"

// maxExposure is the highest `systemd-analyze security` exposure the unit
// may have (0 = fully locked down, 10 = unprotected; "OK" is below 2.0).
const maxExposure = 2.0

// unit is a parsed unit file: section -> key -> values in order (systemd
// keys may repeat), with backslash continuations joined.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, text string) unit {
	t.Helper()
	u := unit{}
	sec := ""
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(text, "\\\n", " ")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			sec = strings.Trim(line, "[]")
			u[sec] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || sec == "" {
				t.Fatalf("unit line %q: not key=value inside a section", line)
			}
			u[sec][k] = append(u[sec][k], strings.Join(strings.Fields(v), " "))
		}
	}
	return u
}

func (u unit) last(sec, key string) string {
	v := u[sec][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// writeUnit writes the unit with gokms's install path replaced by the test
// binary (systemd-analyze verify checks that ExecStart's program exists).
func writeUnit(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "gokms-daemon.service")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "/usr/local/bin/gokms", gokmsBin)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// verifyUnit runs systemd-analyze verify; any output is a finding (unknown
// keys are only warned about, with exit code 0).
func verifyUnit(t *testing.T, path string) (string, bool) {
	out, err := run(t, filepath.Dir(path), []string{"SYSTEMD_LOG_COLOR=0"}, "systemd-analyze", "verify", path)
	return out, err == nil && strings.TrimSpace(out) == ""
}

var exposureRE = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

func exposure(t *testing.T, path string) float64 {
	t.Helper()
	out, err := run(t, filepath.Dir(path), []string{"SYSTEMD_COLORS=0"}, "systemd-analyze", "security", "--offline=yes", "--no-pager", path)
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := exposureRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const systemdInstall = "apt-get install -y systemd (scripts/deploy-tools.sh does)"

func TestSystemdUnitVerifies(t *testing.T) {
	needTool(t, "systemd-analyze", systemdInstall)
	text := readFile(t, unitPath)
	if out, ok := verifyUnit(t, writeUnit(t, text)); !ok {
		t.Fatalf("systemd-analyze verify %s:\n%s", unitPath, out)
	}
	// The check bites: a misspelt hardening key is reported, not ignored.
	typo := strings.Replace(text, "NoNewPrivileges=yes", "NoNewPrivilege=yes", 1)
	if out, ok := verifyUnit(t, writeUnit(t, typo)); ok {
		t.Fatalf("verify accepted a unit with a misspelt key:\n%s", out)
	}
}

func TestSystemdUnitSecurity(t *testing.T) {
	needTool(t, "systemd-analyze", systemdInstall)
	text := readFile(t, unitPath)
	score := exposure(t, writeUnit(t, text))
	t.Logf("systemd-analyze security: overall exposure %.1f (0 safest, 10 unprotected)", score)
	if score > maxExposure {
		t.Fatalf("exposure %.1f > %.1f: the unit lost hardening", score, maxExposure)
	}
	// The threshold bites: the unit without its hardening block scores worse.
	bare := text[:strings.Index(text, "# --- hardening")] + "\n[Install]\nWantedBy=multi-user.target\n"
	if s := exposure(t, writeUnit(t, bare)); s <= maxExposure {
		t.Fatalf("an unhardened unit scored %.1f, within the %.1f threshold", s, maxExposure)
	}

	u := parseUnit(t, text)
	for k, want := range map[string]string{
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"MemoryDenyWriteExecute": "yes", "LockPersonality": "yes", "CapabilityBoundingSet": "",
		"ReadWritePaths": "/var/lib/gokms", "User": "gokms", "UMask": "0077", "LimitCORE": "0",
		"StateDirectoryMode": "0700",
	} {
		vals, ok := u["Service"][k]
		if !ok || u.last("Service", k) != want {
			t.Errorf("[Service] %s = %q (set: %v), want %q", k, vals, ok, want)
		}
	}
	creds := strings.Join(u["Service"]["LoadCredential"], " ")
	if !strings.Contains(creds, "password:/etc/gokms/password") || !strings.Contains(creds, "gokms.env:/etc/gokms/gokms.env") {
		t.Errorf("LoadCredential = %q: want the password and the env file as credentials", creds)
	}
	// No secret in the unit: no password or key in Environment= or argv.
	for _, k := range []string{"Environment", "ExecStart"} {
		for _, v := range u["Service"][k] {
			if strings.Contains(v, "TATUM_KMS_PASSWORD") || strings.Contains(v, "TATUM_API_KEY") || strings.Contains(v, "--apiKey") {
				t.Errorf("[Service] %s carries a secret: %q", k, v)
			}
		}
	}
}

// TestSystemdExecStartRuns runs the unit's ExecStart as systemd would
// (%d = the credentials directory, $GOKMS_DAEMON_ARGS from daemon.conf,
// the state directory) for one testnet cycle against the Tatum stand-in:
// the flags exist, the password is read from the credential file and the
// API key from the env credential, and the User-Agent carries the build.
func TestSystemdExecStartRuns(t *testing.T) {
	u := parseUnit(t, readFile(t, unitPath))
	state := t.TempDir()
	creds := t.TempDir()
	const password = "correct horse battery staple 19"
	srv := tatumtest.New(tatumtest.Options{APIKey: "key-from-credential"})
	defer srv.Close()
	write := func(dir, name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(creds, "password", password+"\n")
	write(creds, "gokms.env", "TATUM_API_KEY=key-from-credential\nTATUM_API_URL="+srv.URL+"\n")
	home := []string{"HOME=" + t.TempDir(), "TATUM_KMS_PASSWORD=", "TATUM_API_KEY="}

	// A wallet in the store, so the cycle polls (an empty store polls nothing).
	store := filepath.Join(state, "wallet.dat")
	if out, err := run(t, state, home, gokmsBin, "generatemanagedwallet", "BTC", "--testnet", "--path", store, "--password-file", filepath.Join(creds, "password")); err != nil {
		t.Fatalf("generatemanagedwallet: %v\n%s", err, out)
	}

	exec := u.last("Service", "ExecStart")
	exec = strings.ReplaceAll(exec, "%d", creds)
	exec = strings.ReplaceAll(exec, "/var/lib/gokms", state)
	exec = strings.ReplaceAll(exec, "127.0.0.1:9464", "127.0.0.1:0")
	exec = strings.ReplaceAll(exec, "$GOKMS_DAEMON_ARGS", "--testnet --runOnce --chain BTC")
	argv := strings.Fields(exec)
	if argv[0] != "/usr/local/bin/gokms" {
		t.Fatalf("ExecStart runs %q, want /usr/local/bin/gokms", argv[0])
	}
	if u.last("Service", "WorkingDirectory") != "/var/lib/gokms" || u.last("Service", "StateDirectory") != "gokms" {
		t.Fatalf("the store must live in the state directory /var/lib/gokms")
	}
	out, err := run(t, state, home, gokmsBin, argv[1:]...)
	if err != nil {
		t.Fatalf("ExecStart %q: %v\n%s", exec, err, out)
	}
	if strings.Contains(out, password) {
		t.Fatalf("the daemon's output holds the password:\n%s", out)
	}
	var polled bool
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/v3/kms/pending/BTC") && r.Status == 200 {
			polled = true
			if ua, want := r.Header.Get("User-Agent"), "gokms/"+testBuild+" ("+testRev[:12]+"; dirty; "; !strings.HasPrefix(ua, want) {
				t.Errorf("User-Agent %q, want prefix %q", ua, want)
			}
		}
	}
	if !polled {
		t.Fatalf("the daemon never polled BTC with the credential's API key; requests: %+v\noutput:\n%s", srv.Requests(), out)
	}
}
