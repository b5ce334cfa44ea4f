package deploy_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReleaseScript runs scripts/release.sh for one target and checks what
// an operator downloads: a static, trimmed binary that knows its version and
// commit, an SBOM of the modules linked into it, and checksums that match.
func TestReleaseScript(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds gokms and the SBOM tool")
	}
	out := t.TempDir()
	const version = "v0.0.0-releasetest"
	log, err := run(t, repoRoot, []string{"VERSION=" + version}, "scripts/release.sh", "-o", out, "linux/amd64")
	if err != nil {
		t.Fatalf("release.sh: %v\n%s", err, log)
	}
	bin := "gokms-" + version + "-linux-amd64"
	sbom := bin + ".cdx.json"

	// SHA256SUMS covers exactly the binary and its SBOM, and matches them.
	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		h, name, ok := strings.Cut(l, "  ")
		if !ok || len(h) != 64 {
			t.Fatalf("SHA256SUMS line %q is not sha256sum format", l)
		}
		listed[name] = h
	}
	if len(listed) != 2 || listed[bin] == "" || listed[sbom] == "" {
		t.Fatalf("SHA256SUMS lists %v, want %s and %s", listed, bin, sbom)
	}
	for name, want := range listed {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: sha256 %x, SHA256SUMS says %s", name, got, want)
		}
	}
	if sha, err := exec.LookPath("sha256sum"); err == nil {
		if o, err := run(t, out, nil, sha, "-c", "SHA256SUMS"); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, o)
		}
	}

	// The binary: static, -trimpath, for the target, with the release's
	// version and this checkout's commit.
	meta, err := run(t, out, nil, "go", "version", "-m", filepath.Join(out, bin))
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, meta)
	}
	for _, w := range []string{"build\tCGO_ENABLED=0", "build\t-trimpath=true", "build\tGOOS=linux", "build\tGOARCH=amd64"} {
		if !strings.Contains(meta, w) {
			t.Errorf("binary's build info lacks %q:\n%s", w, meta)
		}
	}
	if strings.Contains(meta, repoRoot) {
		t.Errorf("binary's build info holds the build path %s (no -trimpath?)", repoRoot)
	}
	commit, err := run(t, repoRoot, nil, "git", "rev-parse", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	ver, err := run(t, out, nil, filepath.Join(out, bin), "--version")
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, ver)
	}
	if want := "gokms version " + version + " (commit " + strings.TrimSpace(commit)[:12]; !strings.HasPrefix(ver, want) {
		t.Errorf("--version = %q, want prefix %q", ver, want)
	}

	// The SBOM: CycloneDX, the main component at the release version, and
	// the linked modules at the versions go.mod requires, with hashes.
	var bom struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Metadata    struct {
			Component struct{ Name, Version string } `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Name, Version, Purl string
			Hashes              []struct{ Alg, Content string }
		} `json:"components"`
	}
	b, err := os.ReadFile(filepath.Join(out, sbom))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &bom); err != nil {
		t.Fatalf("SBOM is not JSON: %v", err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion == "" {
		t.Fatalf("SBOM format %q %q, want CycloneDX", bom.BOMFormat, bom.SpecVersion)
	}
	if bom.Metadata.Component.Name != "github.com/gokms/gokms" || bom.Metadata.Component.Version != version {
		t.Errorf("SBOM main component %+v, want github.com/gokms/gokms %s", bom.Metadata.Component, version)
	}
	required := map[string]string{}
	gomod := readFile(t, "go.mod")
	for _, m := range []string{"github.com/urfave/cli/v2", "github.com/btcsuite/btcd/btcec/v2", "golang.org/x/crypto", "github.com/hashicorp/vault/api"} {
		for _, l := range strings.Split(gomod, "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == m {
				required[m] = f[1]
			}
		}
		if required[m] == "" {
			t.Fatalf("go.mod does not require %s", m)
		}
	}
	for _, c := range bom.Components {
		if want, ok := required[c.Name]; ok {
			if c.Version != want || len(c.Hashes) == 0 || !strings.HasPrefix(c.Purl, "pkg:golang/") {
				t.Errorf("SBOM %s: version %s (go.mod %s), %d hashes, purl %q", c.Name, c.Version, want, len(c.Hashes), c.Purl)
			}
			delete(required, c.Name)
		}
	}
	if len(required) > 0 {
		t.Errorf("SBOM lacks linked modules %v", required)
	}
}

func TestReleaseScriptRefusesUnknownTarget(t *testing.T) {
	out := t.TempDir()
	log, err := run(t, repoRoot, nil, "scripts/release.sh", "-o", out, "plan9/mips")
	if err == nil || !strings.Contains(log, "unknown target plan9/mips") {
		t.Fatalf("release.sh plan9/mips: err %v, output %q; want a refusal naming the target", err, log)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Fatalf("a refused release wrote %d files", len(entries))
	}
	log, err = run(t, repoRoot, []string{"VERSION=1.2"}, "scripts/release.sh", "-o", out, "linux/amd64")
	if err == nil || !strings.Contains(log, "want a semantic version") {
		t.Fatalf("VERSION=1.2: err %v, output %q; want a refusal", err, log)
	}
}
