package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBackupAndRotate runs README's "Back up the store" and "Rotate the
// password" commands: a writer waits while the backup holds the store's
// shared lock, the copy opens with the password, and after changepassword
// (new password from a file, as with /dev/stdin in Kubernetes) only the new
// password opens the store while the backup keeps the old one.
func TestBackupAndRotate(t *testing.T) {
	flock := needTool(t, "flock", "apt-get install -y util-linux")
	dir := t.TempDir()
	store := filepath.Join(dir, "wallet.dat")
	pw := filepath.Join(dir, "password")
	os.WriteFile(pw, []byte("old password 19\n"), 0o600)
	env := []string{"HOME=" + dir, "TATUM_KMS_PASSWORD=", "GOKMS_KDF=test"}
	gokms := func(args ...string) (string, error) { return run(t, dir, env, gokmsBin, args...) }
	out, err := gokms("generatemanagedwallet", "BTC", "--testnet", "--path", store, "--password-file", pw)
	if err != nil {
		t.Fatalf("generatemanagedwallet: %v\n%s", err, out)
	}
	id := signatureID(t, out)

	// A writer started while the shared lock is held must wait for it.
	f, err := os.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		t.Fatal(err)
	}
	w := exec.Command(gokmsBin, "generatemanagedwallet", "ETH", "--testnet", "--path", store, "--password-file", pw)
	w.Dir, w.Env = dir, append(os.Environ(), env...)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("a writer finished while the backup held the shared lock (err %v): the copy could catch half a write", err)
	case <-time.After(1500 * time.Millisecond):
	}
	f.Close() // releases the lock
	if err := <-done; err != nil {
		t.Fatalf("the writer failed after the lock was released: %v", err)
	}

	// The README's command, for real.
	backup := filepath.Join(dir, "backup.dat")
	if out, err := run(t, dir, nil, flock, "--shared", store, "cp", store, backup); err != nil {
		t.Fatalf("flock cp: %v\n%s", err, out)
	}
	if out, err := gokms("getmanagedwallet", id, "--path", backup, "--password-file", pw); err != nil {
		t.Fatalf("the backup does not open: %v\n%s", err, out)
	}

	newPw := filepath.Join(dir, "password.new")
	os.WriteFile(newPw, []byte("new password 19\n"), 0o600)
	if out, err := gokms("changepassword", "--testnet", "--path", store, "--password-file", pw, "--new-password-file", newPw); err != nil {
		t.Fatalf("changepassword: %v\n%s", err, out)
	}
	if out, err := gokms("getmanagedwallet", id, "--path", store, "--password-file", pw); err == nil {
		t.Fatalf("the old password still opens the store:\n%s", out)
	}
	if out, err := gokms("getmanagedwallet", id, "--path", store, "--password-file", newPw); err != nil {
		t.Fatalf("the new password does not open the store: %v\n%s", err, out)
	}
	if out, err := gokms("getmanagedwallet", id, "--path", backup, "--password-file", pw); err != nil {
		t.Fatalf("the backup no longer opens with the old password: %v\n%s", err, out)
	}
}

func signatureID(t *testing.T, out string) string {
	t.Helper()
	i := strings.Index(out, `"signatureId": "`)
	if i < 0 {
		t.Fatalf("no signatureId in %q", out)
	}
	rest := out[i+len(`"signatureId": "`):]
	return rest[:strings.IndexByte(rest, '"')]
}
