package gokms_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/gokms/gokms"

// TestImportArrows keeps the data flow of DESIGN.md one-way: it reads every
// package's (non-test) imports and checks the rules below.
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
		return under(p, "backend") && p != "backend" && p != "backend/backendtest"
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
			case under(from, "wallet") && !under(to, "wallet"):
				bad = "wallet is pure key material functions"
			case from == "backend" && to != "backend":
				bad = "the backend interface imports no implementation"
			}
			if bad != "" {
				t.Errorf("%s imports %s: %s", from, to, bad)
			}
		}
	}
}
