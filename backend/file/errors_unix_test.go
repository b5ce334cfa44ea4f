//go:build unix

package file

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNoWritePermission: a store the process may read but not write opens
// and reads, and every write fails with a permission error, changing nothing.
func TestNoWritePermission(t *testing.T) {
	dir := t.TempDir()
	path := storeWith(t, dir, 3)
	if os.Geteuid() != 0 {
		os.Chmod(path, 0o400)
		os.Chmod(dir, 0o500)
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		before, _ := os.ReadFile(path)
		res := accessReport(path)
		checkAccess(t, res)
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Error("file changed")
		}
		return
	}
	// Root writes anything; drop to nobody in a child process. The child
	// needs to reach the binary and the store: make copies it can reach.
	base, err := os.MkdirTemp("", "gokms-nowrite-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	exe, _ := os.Executable()
	bin, _ := os.ReadFile(exe)
	if err := os.WriteFile(filepath.Join(base, "file.test"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	store, _ := os.ReadFile(path)
	sp := filepath.Join(base, "wallet.dat")
	if err := os.WriteFile(sp, store, 0o644); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(helperArgs{Path: sp, Password: string(testPassword), Prefix: "rec-1"})
	cmd := exec.Command(filepath.Join(base, "file.test"), "-test.run=^$", string(b))
	cmd.Env = append(os.Environ(), helperEnv+"=access")
	cmd.Stderr = os.Stderr
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper as nobody: %v", err)
	}
	var res map[string]string
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	t.Log(res)
	checkAccess(t, res)
	if after, _ := os.ReadFile(sp); !bytes.Equal(store, after) {
		t.Error("file changed")
	}
	if names := dirNames(t, base); len(names) != 2 {
		t.Errorf("directory now holds %v", names)
	}
}

func accessReport(path string) map[string]string {
	ctx := context.Background()
	res := map[string]string{}
	s, err := Open(path, testPassword, Options{LockTimeout: 2e9})
	res["open"] = errString(err)
	if err == nil {
		_, err = s.Get(ctx, "rec-1")
		res["get"] = errString(err)
		res["put"] = errString(s.Put(ctx, expectedRecord("rec-1-new-1")))
		res["delete"] = errString(s.Delete(ctx, "rec-1"))
		res["changepassword"] = errString(s.ChangePassword([]byte("x"), nil))
	}
	_, err = Create(path+".new", testPassword, testOptions())
	res["create"] = errString(err)
	return res
}

func checkAccess(t *testing.T, res map[string]string) {
	t.Helper()
	if res["open"] != "" || res["get"] != "" {
		t.Fatalf("a read-only store must open and read: %v", res)
	}
	for _, op := range []string{"put", "delete", "changepassword", "create"} {
		if !strings.Contains(res[op], "permission denied") || !strings.Contains(res[op], "wallet store") {
			t.Errorf("%s on a read-only store: %q, want a clear permission error", op, res[op])
		}
	}
}
