package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend/file"
)

// A hidden command, in the test binary only, that panics: the app must turn
// it into `error: ...` and exit 1, without a stack trace.
func init() {
	testCommands = append(testCommands, &cli.Command{Name: "test-panic", Hidden: true, Action: func(*cli.Context) error {
		var m map[string]int
		m["boom"]++ // nil map: a runtime panic
		return nil
	}})
}

// TestMain lets the test binary act as the real gokms binary: testscript
// puts it on $PATH as "gokms", and exec'ing it runs main.
func TestMain(m *testing.M) {
	// In-process runs (runApp) store mainnet wallets with GOKMS_KDF=test too.
	file.AllowTestKDFOnMainnet = true
	testscript.Main(m, map[string]func(){
		"gokms": func() {
			// Suites store mainnet wallets with GOKMS_KDF=test to stay
			// fast; GOKMS_TEST_STRICT_KDF=1 shows the gokms binary's refusal.
			file.AllowTestKDFOnMainnet = os.Getenv("GOKMS_TEST_STRICT_KDF") != "1"
			main()
		},
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
			env.Setenv("GOVERSION", runtime.Version())
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
			"envfile":    cmdEnvFile,
			"inflatekdf": cmdInflateKDF,
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

// envfile VAR FILE: write $VAR and a newline to FILE (to pipe a secret
// taken from one command's output into another's stdin).
func cmdEnvFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envfile VAR FILE")
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(ts.Getenv(args[0])+"\n"), 0o600))
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

// unwritable PATH: make a directory refuse new files, or a file refuse
// writes, for the rest of the script. As root, file modes do not stop
// writes, so the immutable attribute (chattr +i: ext2/3/4, xfs, btrfs...) is
// used instead and removed when the script ends. Scripts guard it with the
// [unwritable] condition.
func cmdUnwritable(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: unwritable PATH")
	}
	path := ts.MkAbs(args[0])
	fi, err := os.Stat(path)
	ts.Check(err)
	if os.Geteuid() != 0 {
		mode := fi.Mode().Perm()
		ts.Check(os.Chmod(path, mode&^0o222))
		ts.Defer(func() { os.Chmod(path, mode) })
	} else {
		if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
			ts.Fatalf("chattr +i %s: %v: %s", path, err, bytes.TrimSpace(out))
		}
		ts.Defer(func() { exec.Command("chattr", "-i", path).Run() })
	}
	// Prove that writing is now refused, even to root.
	if fi.IsDir() {
		probe := filepath.Join(path, ".probe")
		if err := os.WriteFile(probe, nil, 0o600); err == nil {
			os.Remove(probe)
			ts.Fatalf("unwritable: %s still accepts new files", path)
		}
	} else if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		f.Close()
		ts.Fatalf("unwritable: %s can still be opened for writing", path)
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

// corrupt FILE OFFSET: flip the bits of one byte. OFFSET < 0 counts from
// the end; after:TEXT:N is N bytes after every occurrence of TEXT (e.g.
// inside the sealed record stored under a signatureId); page:TEXT damages
// the header of every (bbolt) page that holds TEXT.
func cmdCorrupt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: corrupt FILE OFFSET|after:TEXT:N|page:TEXT")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	var off int
	if rest, ok := strings.CutPrefix(args[1], "after:"); ok {
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			ts.Fatalf("corrupt: want after:TEXT:N")
		}
		n, err := strconv.Atoi(rest[i+1:])
		ts.Check(err)
		// Every copy: a copy-on-write store keeps stale pages too.
		text, found := []byte(rest[:i]), 0
		for at := 0; ; found++ {
			j := bytes.Index(data[at:], text)
			if j < 0 {
				break
			}
			at += j + len(text)
			if at+n >= len(data) {
				ts.Fatalf("corrupt: offset past the end of %s", args[0])
			}
			data[at+n] ^= 0xff
		}
		if found == 0 {
			ts.Fatalf("corrupt: %q not found in %s", text, args[0])
		}
		ts.Check(os.WriteFile(path, data, 0o600))
		return
	} else if text, ok := strings.CutPrefix(args[1], "page:"); ok {
		// bbolt: the page size is in the meta page (page header 16 bytes,
		// then magic, version, page size); flip the header's page id of every
		// page holding TEXT, so the page graph no longer adds up.
		if len(data) < 28 {
			ts.Fatalf("corrupt: %s is too short for a bbolt file", args[0])
		}
		psize := int(binary.LittleEndian.Uint32(data[24:28]))
		if psize < 512 || psize > 1<<16 {
			ts.Fatalf("corrupt: %s: implausible page size %d", args[0], psize)
		}
		found := 0
		for p := 0; p+psize <= len(data); p += psize {
			if bytes.Contains(data[p:p+psize], []byte(text)) {
				data[p] ^= 0xff
				found++
			}
		}
		if found == 0 {
			ts.Fatalf("corrupt: %q not found in %s", text, args[0])
		}
		ts.Check(os.WriteFile(path, data, 0o600))
		return
	} else {
		off, err = strconv.Atoi(args[1])
		ts.Check(err)
		if off < 0 {
			off += len(data)
		}
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
