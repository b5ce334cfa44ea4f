package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the real gokms binary: testscript
// puts it on $PATH as "gokms", and exec'ing it runs main.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gokms": func() { os.Exit(run()) },
	})
}

// TestScripts runs testdata/script/*.txtar: every command of the real
// binary, bad input (section 6 of the foundation issue), flags before and
// after arguments, and no secret in any output.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// Cheap key derivation for stores these tests create (the file
			// backend's test setting; real stores use the default parameters).
			env.Setenv("GOKMS_KDF", "test")
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			env.Setenv("USERPROFILE", home)
			return os.MkdirAll(home, 0o700)
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "unwritable":
				return canMakeUnwritable()
			case "root":
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"jsonvar":    cmdJSONVar,
			"nosecret":   cmdNoSecret,
			"unwritable": cmdUnwritable,
			"corrupt":    cmdCorrupt,
			"truncate":   cmdTruncate,
			"jsonlines":  cmdJSONLines,
		},
	})
}

// jsonvar [-line N] FIELD VAR: parse the last command's stdout (or its Nth
// line, from 1) as a JSON object and set $VAR to its FIELD.
func cmdJSONVar(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! jsonvar")
	}
	text := ts.ReadFile("stdout")
	if len(args) == 4 && args[0] == "-line" {
		n, err := strconv.Atoi(args[1])
		lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
		if err != nil || n < 1 || n > len(lines) {
			ts.Fatalf("jsonvar: no line %s in stdout (%d lines)", args[1], len(lines))
		}
		text, args = lines[n-1], args[2:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: jsonvar [-line N] FIELD VAR")
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(text), &obj); err != nil {
		ts.Fatalf("jsonvar: stdout is not a JSON object: %v", err)
	}
	v, ok := obj[args[0]]
	if !ok {
		ts.Fatalf("jsonvar: no field %q in stdout", args[0])
	}
	switch v := v.(type) {
	case string:
		ts.Setenv(args[1], v)
	default:
		b, _ := json.Marshal(v)
		ts.Setenv(args[1], string(b))
	}
}

// jsonlines N: stdout is exactly N lines, each a compact JSON object.
func cmdJSONLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: jsonlines N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	lines := strings.Split(strings.TrimRight(ts.ReadFile("stdout"), "\n"), "\n")
	if len(lines) != want {
		ts.Fatalf("stdout has %d lines, want %d", len(lines), want)
	}
	for i, l := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			ts.Fatalf("line %d is not a JSON object: %v", i+1, err)
		}
		if strings.Contains(l, "\n") || strings.Contains(l, "  ") {
			ts.Fatalf("line %d is not compact JSON", i+1)
		}
	}
}

// nosecret VAR...: the values of the named variables (secrets) appear
// neither in the last command's stdout nor in its stderr. The secret itself
// is never printed.
func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: nosecret VAR...")
	}
	for _, name := range args {
		secret := ts.Getenv(name)
		if secret == "" {
			ts.Fatalf("nosecret: $%s is empty", name)
		}
		for _, stream := range []string{"stdout", "stderr"} {
			if strings.Contains(ts.ReadFile(stream), secret) {
				ts.Fatalf("the secret in $%s appears in %s", name, stream)
			}
		}
		// Also a few words of a mnemonic: catches a partial leak.
		if words := strings.Fields(secret); len(words) >= 12 {
			part := strings.Join(words[3:7], " ")
			for _, stream := range []string{"stdout", "stderr"} {
				if strings.Contains(ts.ReadFile(stream), part) {
					ts.Fatalf("part of the mnemonic in $%s appears in %s", name, stream)
				}
			}
		}
	}
}

// unwritable DIR: make DIR refuse new files for the rest of the script. As
// root, file modes do not stop writes, so the immutable attribute
// (chattr +i: ext2/3/4, xfs, btrfs...) is used instead and removed when the
// script ends. Scripts guard it with the [unwritable] condition.
func cmdUnwritable(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: unwritable DIR")
	}
	dir := ts.MkAbs(args[0])
	if os.Geteuid() != 0 {
		ts.Check(os.Chmod(dir, 0o500))
		ts.Defer(func() { os.Chmod(dir, 0o700) })
		return
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		ts.Fatalf("chattr +i %s: %v: %s", dir, err, bytes.TrimSpace(out))
	}
	ts.Defer(func() { exec.Command("chattr", "-i", dir).Run() })
	// Prove the directory now refuses writes, even to root.
	probe := filepath.Join(dir, ".probe")
	if err := os.WriteFile(probe, nil, 0o600); err == nil {
		os.Remove(probe)
		ts.Fatalf("unwritable: %s still accepts new files", dir)
	}
}

// canMakeUnwritable is the [unwritable] condition: whether cmdUnwritable
// works here. As root it needs chattr and a file system with the immutable
// attribute; with CI=true its absence is an error, not a skip.
func canMakeUnwritable() (bool, error) {
	if os.Geteuid() != 0 {
		return true, nil
	}
	why := ""
	dir, err := os.MkdirTemp("", "gokms-chattr")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		why = fmt.Sprintf("running as root and chattr +i fails here (%v: %s)", err, bytes.TrimSpace(out))
	} else {
		exec.Command("chattr", "-i", dir).Run()
		return true, nil
	}
	if os.Getenv("CI") == "true" {
		return false, fmt.Errorf("cannot make a directory unwritable: %s", why)
	}
	return false, nil
}

// corrupt FILE OFFSET: flip the bits of one byte (OFFSET < 0 counts from the end).
func cmdCorrupt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: corrupt FILE OFFSET")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	off, err := strconv.Atoi(args[1])
	ts.Check(err)
	if off < 0 {
		off += len(data)
	}
	if off < 0 || off >= len(data) {
		ts.Fatalf("corrupt: offset %s outside %d-byte file", args[1], len(data))
	}
	data[off] ^= 0xff
	ts.Check(os.WriteFile(path, data, 0o600))
}

// truncate FILE SIZE: cut FILE to SIZE bytes (SIZE < 0: remove that many from the end).
func cmdTruncate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: truncate FILE SIZE")
	}
	path := ts.MkAbs(args[0])
	fi, err := os.Stat(path)
	ts.Check(err)
	n, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	if n < 0 {
		n += fi.Size()
	}
	ts.Check(os.Truncate(path, n))
}
