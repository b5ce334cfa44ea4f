package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/urfave/cli/v2"
	bolt "go.etcd.io/bbolt"
)

// A hidden command, in the test binary only: says "ready" and waits for
// standard input to close, so a test can look at the running process.
func init() {
	testCommands = append(testCommands, &cli.Command{Name: "test-wait", Hidden: true, Action: func(c *cli.Context) error {
		fmt.Fprintln(c.App.Writer, "ready")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		return nil
	}})
}

// TestNoCoreDumps runs the real binary (main, as `gokms`) and reads its
// limits from /proc/<pid>/limits while it runs: core files are off, soft
// and hard. When the test runs as another user than root it also sees the
// process is not dumpable: the kernel then hands its /proc entries to root.
func TestNoCoreDumps(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("core dumps are disabled on Linux only")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: exe, Args: []string{"gokms", "test-wait"}, Env: []string{"HOME=" + t.TempDir()}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("gokms test-wait: %q, %v", line, err)
	}
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	var core []string
	for _, l := range strings.Split(string(limits), "\n") {
		if strings.HasPrefix(l, "Max core file size") {
			core = strings.Fields(strings.TrimPrefix(l, "Max core file size"))
		}
	}
	if len(core) < 2 || core[0] != "0" || core[1] != "0" {
		t.Fatalf("gokms runs with core file size %v (soft, hard); want 0 0\n%s", core, limits)
	}
	st, err := os.Stat(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if uid := fileUID(st); uid != 0 {
			t.Fatalf("/proc/<pid>/status belongs to uid %d; a non-dumpable process's belongs to root", uid)
		}
	}
	if err := stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gokms test-wait: %v", err)
	}
}

// cmdInflateKDF: inflatekdf FILE T M P rewrites the Argon2id costs in a
// store's header (docs/file-format.md: magic, u16 version, u8 KDF id, then
// u32 t, u32 m, u8 p), as someone who can write the file could.
func cmdInflateKDF(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: inflatekdf file t m p")
	}
	n := func(s string) uint32 {
		v, err := strconv.ParseUint(s, 10, 32)
		ts.Check(err)
		return uint32(v)
	}
	db, err := bolt.Open(ts.MkAbs(args[0]), 0o600, nil)
	ts.Check(err)
	defer db.Close()
	ts.Check(db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("gokms"))
		h := bytes.Clone(b.Get([]byte("header")))
		off := len("gokms/file-store") + 2 + 1
		binary.BigEndian.PutUint32(h[off:], n(args[1]))
		binary.BigEndian.PutUint32(h[off+4:], n(args[2]))
		h[off+8] = byte(n(args[3]))
		return b.Put([]byte("header"), h)
	}))
}
