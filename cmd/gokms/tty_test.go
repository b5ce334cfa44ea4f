//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pty is a pseudo-terminal whose slave end is a gokms process's stdin and
// stderr, as when a person runs it in a terminal.
type pty struct {
	t             *testing.T
	master, slave *os.File
	mu            sync.Mutex
	seen          bytes.Buffer // everything the terminal showed
}

func openPTY(t *testing.T) *pty {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := &pty{t: t, master: m, slave: s}
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := m.Read(buf)
			p.mu.Lock()
			p.seen.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { s.Close(); m.Close() })
	return p
}

// waitFor blocks until the terminal has shown text. The limit only stops a
// broken run from hanging; the test does not depend on timing.
func (p *pty) waitFor(text string) {
	p.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		p.mu.Lock()
		ok := strings.Contains(p.seen.String(), text)
		p.mu.Unlock()
		if ok {
			return
		}
	}
	p.t.Fatalf("the terminal never showed %q; it showed %q", text, p.shown())
}

// typeSecret types a line once the terminal's echo is off (the program is
// then reading a secret), so an echo would be a real leak, not a race.
func (p *pty) typeSecret(line string) {
	p.t.Helper()
	p.waitEchoOff()
	if _, err := p.master.Write([]byte(line + "\n")); err != nil {
		p.t.Fatal(err)
	}
}

// waitEchoOff blocks until the program has turned the terminal's echo off.
func (p *pty) waitEchoOff() {
	p.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		tio, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
		if err != nil {
			p.t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			p.t.Fatal("the terminal's echo was never turned off")
		}
	}
}

func (p *pty) shown() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen.String()
}

// start runs gokms with the terminal as stdin and stderr; stdout is kept apart.
func (p *pty) start(home string, env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	exe, err := os.Executable()
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: exe, Args: append([]string{"gokms"}, args...), Dir: home,
		Env: append([]string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GOKMS_KDF=test", "GOKMS_LOG_LEVEL=error"}, env...)}
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.slave, &out, p.slave
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	return cmd, &out
}

// TestTerminalPrompts: on a terminal the password is asked without echo
// (twice for a new store), a mnemonic is asked without echo, and nothing
// typed appears on the screen or in the output.
func TestTerminalPrompts(t *testing.T) {
	home := t.TempDir()
	store := filepath.Join(home, "w.dat")
	const pw = "typed-password-123"
	const mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"

	// A new store: the password twice.
	p := openPTY(t)
	cmd, out := p.start(home, nil, "generatemanagedwallet", "BTC", "--testnet", "--path", store)
	p.waitFor("Enter a password for the new wallet store " + store + " (or set env var TATUM_KMS_PASSWORD): ")
	p.typeSecret(pw)
	p.waitFor("Repeat the password: ")
	p.typeSecret(pw)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("generatemanagedwallet: %v; terminal: %q", err, p.shown())
	}
	var res struct{ SignatureID, Xpub string }
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.SignatureID == "" {
		t.Fatalf("output %q: %v", out, err)
	}

	// An existing store: asked once; the mnemonic is asked first, without echo.
	p = openPTY(t)
	cmd, out = p.start(home, nil, "storemanagedwallet", "BTC", "--testnet", "--path", store)
	p.waitFor("Enter mnemonic to store: ")
	p.typeSecret(mnemonic)
	p.waitFor("Enter password to access wallet store " + store + " (or set env var TATUM_KMS_PASSWORD): ")
	p.typeSecret(pw)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("storemanagedwallet: %v; terminal: %q", err, p.shown())
	}
	if !strings.Contains(out.String(), "tpubDDzZJQ61k3M4VA7HSqhsDr3ESF9UGwJGngfFsuYJExpLRsc8cnnAQ6T8RHbXZA99aYadZC9ctfvCdkSZEJDXQ8DBbvZh21kG1bmFvZAfJyr") {
		t.Fatalf("stored the wrong mnemonic: %s", out)
	}
	for _, secret := range []string{pw, "abandon"} {
		if strings.Contains(p.shown(), secret) || strings.Contains(out.String(), secret) {
			t.Fatalf("%q was echoed or printed", secret)
		}
	}

	// A wrong password typed at the prompt.
	p = openPTY(t)
	cmd, out = p.start(home, nil, "getaddress", res.SignatureID, "0", "--path", store)
	p.waitFor("Enter password to access wallet store")
	p.typeSecret("not-it")
	if err := cmd.Wait(); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	// The process has exited, but the terminal may not have shown its last
	// line yet: wait for it rather than race the reader.
	p.waitFor("error: open wallet store " + store + ": wrong password")
	if out.Len() != 0 {
		t.Fatalf("terminal %q, stdout %q", p.shown(), out)
	}

	// The two entries of a new password differ: nothing is created.
	p = openPTY(t)
	other := filepath.Join(home, "other.dat")
	cmd, _ = p.start(home, nil, "generatemanagedwallet", "ETH", "--path", other)
	p.waitFor("Enter a password for the new wallet store")
	p.typeSecret(pw)
	p.waitFor("Repeat the password: ")
	p.typeSecret(pw + "x")
	if err := cmd.Wait(); err == nil {
		t.Fatal("mismatched passwords were accepted")
	}
	p.waitFor(": the passwords do not match")
	if _, err := os.Stat(other); err == nil {
		t.Fatal("a store was created with mismatched passwords")
	}

	// Ctrl-C at a prompt: the process ends with an error and the terminal
	// gets its echo back (term.ReadPassword alone would leave it off).
	p = openPTY(t)
	cmd, out = p.start(home, nil, "getaddress", res.SignatureID, "0", "--path", store)
	p.waitFor("Enter password to access wallet store")
	p.waitEchoOff()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("an interrupted prompt succeeded")
	} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("interrupted prompt: %v, want exit status 1", err)
	}
	p.waitFor("error: interrupted")
	tio, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 {
		t.Fatal("the terminal was left without echo")
	}
	if out.Len() != 0 {
		t.Fatalf("stdout %q", out)
	}

	// Piped secret, password on the terminal (stdin is not a terminal, stderr is):
	// `echo $MNEMONIC | gokms storemanagedwallet BTC` asks the password on /dev/tty,
	// which needs a controlling terminal; that is left to manual use.
}
