package gokms_test

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const mod = "github.com/gokms/gokms"

// TestImportArrows keeps the data flow of docs/design.md one-way: it reads
// every package's (non-test) imports and checks the rules below.
func TestImportArrows(t *testing.T) {
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,Deps", "./...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Imports    []string
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 3 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	rel := func(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, mod), "/") }
	under := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	// A backend implementation is any package under backend/ except the
	// interface itself and the shared test suite.
	isImpl := func(p string) bool {
		return under(p, "backend") && p != "backend" && p != "backend/backendtest" && p != "backend/all"
	}
	implRoot := func(p string) string { // backend/azure/azuretest -> backend/azure
		parts := strings.Split(p, "/")
		if len(parts) >= 2 {
			return parts[0] + "/" + parts[1]
		}
		return p
	}
	for _, p := range pkgs {
		from := rel(p.ImportPath)
		var own []string
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, mod) {
				own = append(own, rel(imp))
			}
			if (from == "kms" || under(from, "kms/")) && strings.HasPrefix(imp, "github.com/urfave/cli") {
				t.Errorf("%s imports %s: the application knows no command-line library; map flags in cmd", from, imp)
			}
		}
		if under(from, "cmd") {
			for _, to := range own {
				if !cmdMay[to] {
					t.Errorf("%s imports %s: cmd maps flags to the application (kms) and prints results; "+
						"put the use case in kms, or add %s to cmdMay in arch_test.go if cmd must name it", from, to, to)
				}
			}
		}
		for _, to := range own {
			bad := ""
			switch {
			case under(to, "cmd"):
				bad = "nothing imports cmd"
			case isImpl(from) && isImpl(to) && implRoot(from) != implRoot(to) && to != "backend/memory":
				bad = "a backend does not import another backend"
			case isImpl(from) && (under(to, "signing") || under(to, "tatum") || under(to, "daemon")):
				bad = "backends know records, not signing, tatum or the daemon"
			case under(from, "tatum") && (under(to, "signing") || under(to, "wallet") || under(to, "backend") || under(to, "daemon")):
				bad = "tatum knows HTTP and JSON, never keys"
			case under(from, "signing") && (under(to, "tatum") || under(to, "daemon")):
				bad = "signing does not know the API client or the daemon"
			case under(from, "chain"):
				bad = "the chain table is data only and imports nothing of gokms"
			case under(from, "wallet") && !under(to, "wallet") && to != "chain":
				bad = "wallet is pure key material functions"
			case isImpl(from) && (under(to, "pwsource") || under(to, "kms")):
				bad = "backends know records, not password sources (pwsource) or the application"
			case to == "backend/all" && !under(from, "cmd") && !under(from, "kms"):
				bad = "only the binary and the application choose the list of backends"
			case from == "backend" && to != "backend":
				bad = "the backend interface imports no implementation"
			}
			if bad != "" {
				t.Errorf("%s imports %s: %s", from, to, bad)
			}
		}
	}
}

// cmdMay lists what cmd/gokms may import besides the application: the
// types it names to map flags and print results. Shrink it as use cases
// move into kms; growing it is a decision, not an accident.
var cmdMay = map[string]bool{
	"kms":             true,
	"backend":         true, // the store type of the openers cmd hands kms (openBackend prompts)
	"backend/all":     true, // the binary's one list of backends (backends.go)
	"backend/migrate": true, // migrate's progress stages, printed by cmd (migrate.go)
	"pwsource":        true, // one boolean flag per password source (secrets.go)
	"signing":         true, // evm.go's daemonSigners returns a *signing.Set; keys.go's ShutDown check
	"tatum":           true, // tatum.Build (version) and evm.go's default API URL
	"wallet":          true, // keys.go prints wallets in tatum-kms's shapes
}

// cmdNever are packages whose use cases moved into kms: cmd reaches them
// only through kms (journal, policy, audit, state and the daemon's wiring:
// kms.NewDaemon; the backends' files and cache: kms.Stores), so cmdMay
// must not grow them back.
var cmdNever = []string{"daemon", "backend/file", "backend/cache", "backend/hashivault", "backend/azure", "backend/vgs", "backend/memory"}

// TestCmdThin: cmd/gokms imports none of cmdNever (and cmdMay lists none
// of them), so the daemon, its journal, policy and audit trail are wired in
// kms only.
func TestCmdThin(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{join .Imports \"\\n\"}}", "./cmd/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := strings.Fields(string(out))
	if len(imports) < 5 {
		t.Fatalf("go list found only %d imports of cmd", len(imports))
	}
	under := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	for _, never := range cmdNever {
		for may := range cmdMay {
			if under(may, never) {
				t.Errorf("cmdMay lists %s: its use cases live in kms; call them there", may)
			}
		}
		for _, imp := range imports {
			if rel := strings.TrimPrefix(imp, mod+"/"); rel != imp && under(rel, never) {
				t.Errorf("cmd imports %s: wire it in kms (the daemon: kms.NewDaemon; stores: kms.Stores) and print the result in cmd", rel)
			}
		}
	}
}

// TestNoInitRegistration: registries are values (backend/all, signing.Set,
// password.Sources, the command list in cmd/gokms/app.go), so no init()
// runs in the packages that used to register from one (cmd, backend,
// signing) or that hold the tables (chain, wallet, kms, password); a table
// computed once is a package variable's initializer.
func TestNoInitRegistration(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}} {{join .GoFiles \" \"}}", "./cmd/...", "./backend/...", "./signing/...", "./wallet/...", "./chain/...", "./kms/...", "./pwsource/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, name := range f[1:] {
			src, err := os.ReadFile(filepath.Join(f[0], name))
			if err != nil {
				t.Fatal(err)
			}
			n++
			for _, l := range strings.Split(string(src), "\n") {
				if strings.HasPrefix(l, "func init()") {
					t.Errorf("%s: func init(): build the registry as a value where it is used", filepath.Join(f[0], name))
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("read only %d files", n)
	}
}
