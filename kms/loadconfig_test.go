package kms

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeFlags are global flags as the command line gave them.
type fakeFlags map[string]any

func (f fakeFlags) String(n string) string { s, _ := f[n].(string); return s }
func (f fakeFlags) Bool(n string) bool     { b, _ := f[n].(bool); return b }
func (f fakeFlags) IsSet(n string) bool    { _, ok := f[n]; return ok }
func (f fakeFlags) Value(n string) any     { return f[n] }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigPrecedence(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatalf("no home directory: %v", err)
	}
	def := filepath.Join(home, ".tatumrc", "wallet.dat")
	cases := []struct {
		name        string
		flags       fakeFlags
		env         map[string]string
		addr, store string
		pw, apiKey  string
	}{
		{"defaults", fakeFlags{}, nil, FileAddr(def), def, "prompt", ""},
		{"env backend", fakeFlags{}, map[string]string{"GOKMS_BACKEND": "vault://v:8200/secret/x"}, "vault://v:8200/secret/x", def, "prompt", ""},
		// An explicit --path beats GOKMS_BACKEND (a script naming its file
		// must not land on a store the environment names).
		{"path beats env", fakeFlags{"path": "/srv/w.dat"}, map[string]string{"GOKMS_BACKEND": "vault://v:8200/secret/x"}, FileAddr("/srv/w.dat"), "/srv/w.dat", "prompt", ""},
		{"backend flag beats env", fakeFlags{"backend": "azure://kv"}, map[string]string{"GOKMS_BACKEND": "vault://v:8200/secret/x"}, "azure://kv", def, "prompt", ""},
		{"env password", fakeFlags{}, map[string]string{"TATUM_KMS_PASSWORD": "x"}, FileAddr(def), def, "env", ""},
		{"file beats env password", fakeFlags{"password-file": "/p"}, map[string]string{"TATUM_KMS_PASSWORD": "x"}, FileAddr(def), def, "password-file", ""},
		{"source beats env password", fakeFlags{"vgs": true}, map[string]string{"TATUM_KMS_PASSWORD": "x"}, FileAddr(def), def, "vgs", ""},
		{"api key flag beats env", fakeFlags{"apiKey": " k1 "}, map[string]string{"TATUM_API_KEY": "k2"}, FileAddr(def), def, "prompt", "k1"},
		{"api key env", fakeFlags{}, map[string]string{"TATUM_API_KEY": " k2"}, FileAddr(def), def, "prompt", "k2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := LoadConfig(tc.flags, env(tc.env), nil)
			if c.BackendAddr != tc.addr || c.StorePath != tc.store || c.PasswordSource != tc.pw || c.APIKey != tc.apiKey {
				t.Fatalf("got addr %q store %q password %q key %q; want %q %q %q %q",
					c.BackendAddr, c.StorePath, c.PasswordSource, c.APIKey, tc.addr, tc.store, tc.pw, tc.apiKey)
			}
		})
	}
}

// TestLoadConfigNamesListedSettings: every name LoadConfig reads is in the
// one list checkconfig prints.
func TestLoadConfigNamesListedSettings(t *testing.T) {
	flags, envs := map[string]bool{}, map[string]bool{}
	for _, s := range settings {
		flags[s.Flag], envs[s.Env] = true, true
	}
	for _, f := range []string{settingPath, settingBackend, settingTestnet, settingEnvFile, settingAPIKey, FlagPasswordFile, "aws", "azure", "vgs"} {
		if !flags[f] {
			t.Errorf("LoadConfig reads --%s, which Settings does not list", f)
		}
	}
	for _, e := range []string{envBackend, envPassword, EnvAPIKey, EnvAPIURL, EnvState} {
		if !envs[e] {
			t.Errorf("LoadConfig reads %s, which Settings does not list", e)
		}
	}
}

// TestConfigWriteAllMasks: checkconfig --all from a Config shows secret
// settings as set, never their values, and names the source.
func TestConfigWriteAllMasks(t *testing.T) {
	secret := "s3cret-api-key-value"
	e := map[string]string{"TATUM_API_KEY": secret, "TATUM_KMS_PASSWORD": secret, "GOKMS_STATE": "postgres://u:" + secret + "@h/db",
		"TATUM_KMS_RPC_ETH": "https://node.example/" + secret}
	c := LoadConfig(fakeFlags{"testnet": true}, env(e), []string{"TATUM_KMS_RPC_ETH=https://node.example/" + secret})
	var b bytes.Buffer
	if err := c.WriteAll(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, secret) {
		t.Fatalf("a secret is printed:\n%s", out)
	}
	for _, want := range []string{"TATUM_API_KEY                    : ******** (set) [env]", "--testnet                        : true [flag --testnet]", "TATUM_KMS_RPC_ETH"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// TestStateMigrateResultShape: `state migrate` prints the keys in the
// order the map it replaced printed them (sorted).
func TestStateMigrateResultShape(t *testing.T) {
	r := StateMigrateResult{Applied: []int{1, 2}, From: 0, State: "postgres://h/db", To: 2}
	got, _ := json.Marshal(r)
	want, _ := json.Marshal(map[string]any{"state": r.State, "from": r.From, "to": r.To, "applied": r.Applied})
	if !bytes.Equal(got, want) {
		t.Fatalf("got %s, want %s", got, want)
	}
}
