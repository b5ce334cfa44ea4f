package deploy_test

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// instr is one Dockerfile instruction as deploycheck prints it.
type instr struct {
	cmd   string
	args  []string
	flags string
}

func lintDockerfile(t *testing.T, deploycheck, text string) ([]instr, string, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, filepath.Dir(p), nil, deploycheck, "dockerfile", p)
	var ins []instr
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, "\t")
		if len(f) >= 2 && regexp.MustCompile(`^[A-Z]+$`).MatchString(f[0]) {
			ins = append(ins, instr{cmd: f[0], args: f[1 : len(f)-1], flags: f[len(f)-1]})
		}
	}
	return ins, out, err
}

// TestDockerfile lints the Dockerfile with BuildKit's own rules (those of
// docker build --check) and checks what the image must be: static and
// trimmed, a distroless final stage run by a non-root user, the store on a
// volume, an exec-form ENTRYPOINT, and no secret copied or baked in.
func TestDockerfile(t *testing.T) {
	_, deploycheck := deployTools(t)
	text := readFile(t, "Dockerfile")
	ins, out, err := lintDockerfile(t, deploycheck, text)
	if err != nil {
		t.Fatalf("Dockerfile lint: %v\n%s", err, out)
	}
	last := 0
	for i, in := range ins {
		if in.cmd == "FROM" {
			last = i
		}
	}
	final := ins[last:]
	if base := final[0].args[0]; !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("final stage FROM %s: want distroless/static or scratch", base)
	}
	var user, entry, volume, build string
	for _, in := range ins {
		switch in.cmd {
		case "ADD":
			t.Errorf("ADD %v: use COPY (ADD fetches URLs and unpacks archives)", in.args)
		case "RUN":
			if strings.Contains(strings.Join(in.args, " "), "go build") {
				build = strings.Join(in.args, " ")
			}
		case "ENV", "ARG":
			for _, a := range in.args {
				if regexp.MustCompile(`(?i)password|api_?key|token|secret|mnemonic`).MatchString(a) {
					t.Errorf("%s %v: a secret name in the image", in.cmd, in.args)
				}
			}
		}
	}
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args[0]
		case "ENTRYPOINT":
			entry = strings.Join(in.args, " ")
		case "VOLUME":
			volume = strings.Join(in.args, " ")
		case "COPY":
			if !strings.Contains(in.flags, "--from=build") {
				t.Errorf("final stage COPY %v from the build context: only the built binary goes in", in.args)
			}
		}
	}
	if u := strings.Split(user, ":")[0]; u == "" || u == "root" || u == "0" {
		t.Errorf("final stage USER %q: want a non-root user", user)
	}
	if entry != "/usr/local/bin/gokms" || !regexp.MustCompile(`(?m)^ENTRYPOINT \[`).MatchString(text) {
		t.Errorf("ENTRYPOINT %q: want exec form [\"/usr/local/bin/gokms\"]", entry)
	}
	if volume != "/data" {
		t.Errorf("VOLUME %q: want the store directory /data", volume)
	}
	for _, w := range []string{"CGO_ENABLED=0", "-trimpath", "tatum.buildVersion=${VERSION}", "tatum.buildCommit=${COMMIT}", "tatum.buildDirty=${DIRTY}", "./cmd/gokms"} {
		if !strings.Contains(build, w) {
			t.Errorf("go build %q lacks %s", build, w)
		}
	}

	// The linter bites: a shell-form CMD, a secret in ENV and a lower-case
	// "as" are all reported.
	bad := strings.Replace(text, "AS build", "as build", 1)
	bad = strings.Replace(bad, "USER 65532:65532", "USER 65532:65532\nENV TATUM_KMS_PASSWORD=hunter2", 1)
	bad = regexp.MustCompile(`(?m)^CMD \[.*$`).ReplaceAllString(bad, "CMD gokms daemon")
	_, out, err = lintDockerfile(t, deploycheck, bad)
	if err == nil {
		t.Fatalf("the linter accepted a bad Dockerfile:\n%s", out)
	}
	for _, rule := range []string{"FromAsCasing", "SecretsUsedInArgOrEnv", "JSONArgsRecommended"} {
		if !strings.Contains(out, rule) {
			t.Errorf("the linter did not report %s:\n%s", rule, out)
		}
	}
}

// dockerignored reports whether .dockerignore's patterns exclude rel (a
// slash path), with Docker's rules: last match wins, "!" re-includes, a
// matched directory excludes what is under it, "**" spans directories.
func dockerignored(patterns []string, rel string) bool {
	ignored := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(strings.TrimPrefix(p, "!"), "/")
		parts := strings.Split(rel, "/")
		for i := 1; i <= len(parts); i++ {
			if globMatch(p, strings.Join(parts[:i], "/")) {
				ignored = !neg
				break
			}
		}
	}
	return ignored
}

func globMatch(pattern, name string) bool {
	if strings.HasPrefix(pattern, "**/") {
		rest := strings.TrimPrefix(pattern, "**/")
		parts := strings.Split(name, "/")
		for i := range parts {
			if ok, _ := path.Match(rest, strings.Join(parts[i:], "/")); ok {
				return true
			}
		}
		return false
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// TestDockerignore: the build context never carries a store, an env file, a
// password or the git history, and keeps every source file gokms needs.
func TestDockerignore(t *testing.T) {
	var patterns []string
	for _, l := range strings.Split(readFile(t, ".dockerignore"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	for _, secret := range []string{".git/config", ".env", "cmd/gokms/.env", "wallet.dat", "x/.tatumrc/wallet.dat", "prod.env", "secrets/password", "password", "wallet.dat.tatum-kms", "tls/server.key"} {
		if !dockerignored(patterns, secret) {
			t.Errorf(".dockerignore lets %s into the build context", secret)
		}
	}
	out, err := run(t, repoRoot, nil, "go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}{{end}}", "./cmd/gokms")
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		dir, err := filepath.Rel(repoRoot, f[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range f[1:] {
			rel := filepath.ToSlash(filepath.Join(dir, name))
			n++
			if dockerignored(patterns, rel) {
				t.Errorf(".dockerignore drops %s, which the gokms build needs", rel)
			}
		}
	}
	for _, need := range []string{"go.mod", "go.sum"} {
		if dockerignored(patterns, need) {
			t.Errorf(".dockerignore drops %s", need)
		}
	}
	if n < 20 {
		t.Fatalf("only %d source files listed: the check saw nothing", n)
	}
	// The matcher bites: the pattern once tried here would have dropped the
	// password source files of cmd/gokms.
	if !dockerignored(append(patterns, "**/*password*"), "cmd/gokms/changepassword.go") {
		t.Fatal("dockerignored misses a ** pattern")
	}
}

// TestCompose loads compose.yaml with compose-go (the Compose
// specification's schema and model, as docker compose does) and checks the
// gokms service: secrets as files, non-root, read-only, no capabilities.
func TestCompose(t *testing.T) {
	_, deploycheck := deployTools(t)
	load := func(text string) (map[string]any, string, error) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "secrets"), 0o700)
		os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(text), 0o644)
		os.WriteFile(filepath.Join(dir, "secrets", "gokms.env"), []byte("TATUM_API_KEY=x\n"), 0o600)
		os.WriteFile(filepath.Join(dir, "secrets", "password"), []byte("x\n"), 0o600)
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(readFile(t, "Dockerfile")), 0o644)
		// The variable compose.yaml requires (.env in the header's recipe) comes
		// from the environment here; compose reads both.
		out, err := run(t, dir, []string{"VAULT_DEV_ROOT_TOKEN=dev-root-token"}, deploycheck, "compose", filepath.Join(dir, "compose.yaml"))
		var p map[string]any
		if err == nil {
			if jerr := json.Unmarshal([]byte(out), &p); jerr != nil {
				t.Fatalf("compose project JSON: %v\n%s", jerr, out)
			}
		}
		return p, out, err
	}
	text := readFile(t, "compose.yaml")
	p, out, err := load(text)
	if err != nil {
		t.Fatalf("compose.yaml: %v\n%s", err, out)
	}
	services := p["services"].(map[string]any)
	g, ok := services["gokms"].(map[string]any)
	if !ok || services["vault"] == nil {
		t.Fatalf("compose.yaml needs services gokms and vault; got %v", services)
	}
	if g["read_only"] != true || g["user"] != "65532:65532" {
		t.Errorf("gokms service: read_only %v user %v; want read-only and non-root", g["read_only"], g["user"])
	}
	if caps, _ := g["cap_drop"].([]any); len(caps) != 1 || caps[0] != "ALL" {
		t.Errorf("gokms service cap_drop %v, want [ALL]", g["cap_drop"])
	}
	secrets, _ := g["secrets"].([]any)
	if len(secrets) != 2 {
		t.Errorf("gokms service secrets %v: want the env file and the password as files", g["secrets"])
	}
	if env, _ := g["environment"].(map[string]any); len(env) > 0 {
		t.Errorf("gokms service sets environment %v: secrets go in files", env)
	}
	if !strings.Contains(strings.Join(toStrings(g["command"]), " "), "--envFile /run/secrets/gokms.env") {
		t.Errorf("gokms command %v does not read the env secret", g["command"])
	}
	// The schema bites: a misspelt key and a missing required variable fail.
	if _, out, err := load(strings.Replace(text, "read_only: true", "read_onlyy: true", 1)); err == nil {
		t.Fatalf("compose-go accepted a misspelt key:\n%s", out)
	}
	if _, out, err := load(strings.Replace(text, "${VAULT_DEV_ROOT_TOKEN:?", "${NO_SUCH_VARIABLE_19:?", 1)); err == nil || !strings.Contains(out, "set VAULT_DEV_ROOT_TOKEN") {
		t.Fatalf("compose-go accepted a missing required variable (err %v):\n%s", err, out)
	}
}

func toStrings(v any) []string {
	var out []string
	a, _ := v.([]any)
	for _, x := range a {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
