package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	toolsOnce sync.Once
	toolsDir  string
	toolsErr  string
)

// deployTools returns the directory with helm and deploycheck, built (or
// reused) by scripts/deploy-tools.sh. Missing tools skip the test, except
// under CI=true, where they fail it.
func deployTools(t *testing.T) (helm, deploycheck string) {
	t.Helper()
	toolsOnce.Do(func() {
		out, err := run(t, repoRoot, nil, filepath.Join(repoRoot, "scripts", "deploy-tools.sh"))
		lines := strings.Split(strings.TrimSpace(out), "\n")
		dir := lines[len(lines)-1]
		if err != nil {
			toolsErr = "scripts/deploy-tools.sh: " + err.Error() + "\n" + out
			return
		}
		if _, err := os.Stat(filepath.Join(dir, "deploycheck")); err != nil {
			toolsErr = "scripts/deploy-tools.sh printed no tools directory:\n" + out
			return
		}
		toolsDir = dir
	})
	if toolsDir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("deploy tools unavailable with CI=true: %s", toolsErr)
		}
		t.Skipf("deploy tools unavailable: %s", toolsErr)
	}
	return filepath.Join(toolsDir, "helm"), filepath.Join(toolsDir, "deploycheck")
}
