package kms

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSettingsComplete reads every non-test Go file of the module (test
// support packages, *test, aside) and fails for a variable name the code
// reads that Settings does not list: the list is the configuration.
func TestSettingsComplete(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{.Dir}} {{join .GoFiles " "}}`, "github.com/gokms/gokms/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	known := map[string]bool{}
	var prefixes []string
	for _, s := range settings {
		if s.Env != "" {
			known[s.Env] = true
			if s.Prefix {
				prefixes = append(prefixes, s.Env)
			}
		}
	}
	name := regexp.MustCompile(`"((?:TATUM|GOKMS|VAULT)_[A-Z0-9_]+)"`)
	files := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || isTestSupport(f[0]) {
			continue
		}
		for _, gofile := range f[2:] {
			src, err := os.ReadFile(filepath.Join(f[1], gofile))
			if err != nil {
				t.Fatal(err)
			}
			files++
			for _, m := range name.FindAllStringSubmatch(string(src), -1) {
				v := m[1]
				if known[v] || hasPrefixIn(v, prefixes) {
					continue
				}
				if strings.HasSuffix(v, "_") && prefixOfKnown(v, known) {
					continue // a family prefix such as GOKMS_VAULT_ used to build names
				}
				t.Errorf("%s/%s reads %s, which kms.Settings does not list (add it, with its reader and whether it is secret)", f[0], gofile, v)
			}
		}
	}
	if files < 50 {
		t.Fatalf("read only %d files", files)
	}
}

func isTestSupport(importPath string) bool {
	for _, seg := range strings.Split(importPath, "/") {
		if strings.HasSuffix(seg, "test") || seg == "internal" && strings.Contains(importPath, "crashtest") {
			return true
		}
	}
	return false
}

func hasPrefixIn(v string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

func prefixOfKnown(p string, known map[string]bool) bool {
	for k := range known {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// checkconfig --all: secrets never shown, sources named, RPC URLs redacted.
func TestWriteSettings(t *testing.T) {
	env := map[string]string{
		"TATUM_KMS_PASSWORD": "hunter2-store", "TATUM_API_URL": "http://127.0.0.1:1", "VAULT_TOKEN": "hvs.secret-token",
		"TATUM_KMS_RPC_ETH": "https://eth.example/v3/provider-key-123", "GOKMS_LOG_LEVEL": "debug",
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	flags := map[string]string{"apiKey": "flag-api-key-456", "testnet": "true", "log-level": "warn"}
	flag := func(n string) (string, bool) { v, ok := flags[n]; return v, ok }
	var b bytes.Buffer
	if err := WriteSettings(&b, environ, flag, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, secret := range []string{"hunter2-store", "hvs.secret-token", "provider-key-123", "flag-api-key-456"} {
		if strings.Contains(out, secret) {
			t.Errorf("output shows %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		"TATUM_API_KEY                    : ******** (set) [flag --apiKey]",
		"TATUM_KMS_PASSWORD               : ******** (set) [env]",
		"TATUM_API_URL                    : http://127.0.0.1:1 [env]",
		"GOKMS_LOG_LEVEL                  : warn [flag --log-level]",
		"TATUM_KMS_RPC_ETH                : https://eth.example/… [env]",
		"--testnet                        : true [flag --testnet]",
		"--path                           : N/A [unset]",
		"VAULT_TOKEN                      : ******** (set) [env]",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
