package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/pwsource"
)

// The password sources other than a file, the environment and the terminal:
// --aws, --azure and --vgs (as tatum-kms, which keeps only the *password*
// there), from package password. Each is a boolean global flag.
var passwordSources = pwsource.Sources()

func passwordSourceFlags() []cli.Flag {
	var fs []cli.Flag
	for _, s := range passwordSources {
		fs = append(fs, &cli.BoolFlag{Name: s.Name, Usage: s.Usage})
	}
	return fs
}

// passwordSourceName names where readPassword would take the password from:
// "password-file", a source flag, "env" or "prompt". Used by checkconfig/report.
func passwordSourceName(c *cli.Context) string { return config(c).PasswordSource }

// passwordFromSources returns the password from a non-interactive source, or
// nil if none is configured (the caller then prompts). The order:
//
//  1. --password-file, or one of --azure / --vgs / --aws (at most one of these);
//  2. TATUM_KMS_PASSWORD;
//  3. nil: prompt on the terminal.
func passwordFromSources(c *cli.Context) ([]byte, string, error) {
	var chosen []pwsource.Source
	for _, s := range passwordSources {
		if c.Bool(s.Name) {
			chosen = append(chosen, s)
		}
	}
	return passwordChain(c, flagPasswordFile, envPassword, chosen).Find(c.Context)
}

// passwordChain is kms.PasswordChain over a file flag, a variable and the
// password sources asked for.
func passwordChain(c *cli.Context, fileFlag, env string, sources []pwsource.Source) kms.PasswordChain {
	f := c.String(fileFlag)
	if f != "" {
		f = expandHome(f)
	}
	return kms.PasswordChain{File: f, FileFlag: fileFlag, Sources: sources, Env: env, Getenv: config(c).Getenv, Logger: logger(c)}
}

// readPassword returns the password of an existing store. purpose names the
// store in the prompt (e.g. "wallet store /root/.tatumrc/wallet.dat").
func readPassword(c *cli.Context, purpose string) ([]byte, error) {
	pw, src, err := passwordFromSources(c)
	if err != nil {
		return nil, err
	}
	if pw == nil {
		pw, err = promptSecret(c, fmt.Sprintf("Enter password to access %s (or set env var %s): ", purpose, envPassword))
		if errors.Is(err, errNoTerminal) {
			return nil, fmt.Errorf("no password for %s: set %s, use --%s, or run on a terminal", purpose, envPassword, flagPasswordFile)
		}
		if err != nil {
			return nil, err
		}
		src = "prompt"
	}
	if len(pw) == 0 {
		return nil, fmt.Errorf("empty password from %s", src)
	}
	return pw, nil
}

// readNewPassword returns the password for a store being created: from the
// same sources as readPassword, or typed twice on the terminal.
func readNewPassword(c *cli.Context, purpose string) ([]byte, error) {
	pw, src, err := passwordFromSources(c)
	if err != nil {
		return nil, err
	}
	if pw != nil {
		if len(pw) == 0 {
			return nil, fmt.Errorf("empty password from %s", src)
		}
		return pw, nil
	}
	return promptNewPassword(c, purpose, "Enter a password for the %s (or set env var "+envPassword+"): ")
}

// promptNewPassword asks twice on the terminal and insists both match.
func promptNewPassword(c *cli.Context, purpose, format string) ([]byte, error) {
	pw, err := promptSecret(c, fmt.Sprintf(format, purpose))
	if errors.Is(err, errNoTerminal) {
		return nil, fmt.Errorf("no password for %s: set %s, use --%s, or run on a terminal", purpose, envPassword, flagPasswordFile)
	}
	if err != nil {
		return nil, err
	}
	if len(pw) == 0 {
		return nil, errors.New("empty password")
	}
	again, err := promptSecret(c, "Repeat the password: ")
	if err != nil {
		zero(pw)
		return nil, err
	}
	defer zero(again)
	if !bytes.Equal(pw, again) {
		zero(pw)
		return nil, errors.New("the passwords do not match")
	}
	return pw, nil
}

// errNoTerminal means there is no terminal to prompt on.
var errNoTerminal = errors.New("no terminal to prompt on")

// promptSecret asks on the terminal without echo: on standard input when it
// is a terminal, else on /dev/tty when standard error is a terminal (so that
// `echo $MNEMONIC | gokms storemanagedwallet BTC` can still ask for the
// password). Otherwise it returns errNoTerminal rather than block.
func promptSecret(c *cli.Context, prompt string) ([]byte, error) {
	st := getState(c)
	if st.stdin != nil && term.IsTerminal(int(st.stdin.Fd())) {
		fmt.Fprint(st.stderr, prompt)
		pw, err := readNoEcho(int(st.stdin.Fd()), st.stderr)
		fmt.Fprintln(st.stderr)
		if err != nil {
			return nil, fmt.Errorf("read from terminal: %w", err)
		}
		return pw, nil
	}
	if f, ok := st.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return nil, errNoTerminal
		}
		defer tty.Close()
		fmt.Fprint(tty, prompt)
		pw, err := readNoEcho(int(tty.Fd()), tty)
		fmt.Fprintln(tty)
		if err != nil {
			return nil, fmt.Errorf("read from terminal: %w", err)
		}
		return pw, nil
	}
	return nil, errNoTerminal
}

// readNoEcho is term.ReadPassword that gives the terminal its echo back
// when the user interrupts the prompt (Ctrl-C): the read cannot be
// cancelled, so the process ends there, before anything was written.
func readNoEcho(fd int, stderr io.Writer) ([]byte, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return nil, fmt.Errorf("read from terminal: %w", err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	defer func() {
		signal.Stop(sig)
		close(done)
	}()
	go func() {
		select {
		case <-sig:
			_ = term.Restore(fd, state)
			fmt.Fprintln(stderr, "\nerror: interrupted")
			os.Exit(1)
		case <-done:
		}
	}()
	return term.ReadPassword(fd)
}

// maxSecretLine bounds one line of secret input (a 24-word mnemonic is < 250 bytes).
const maxSecretLine = 4096

// lineReader reads standard input one line at a time, without reading ahead
// past the line it returns (the rest of stdin stays for whoever reads next).
type lineReader struct{ r io.Reader }

func (l *lineReader) readLine() ([]byte, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := l.r.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				return line, nil
			}
			if len(line) >= maxSecretLine {
				zero(line)
				return nil, fmt.Errorf("input line longer than %d bytes", maxSecretLine)
			}
			line = append(line, b[0])
		}
		if err == io.EOF {
			if len(line) == 0 {
				return nil, io.EOF
			}
			return line, nil
		}
		if err != nil {
			zero(line)
			return nil, err
		}
	}
}

// readSecretInput reads a secret (mnemonic, private key): a no-echo prompt
// on a terminal, else one line of standard input, trimmed of surrounding
// white space.
func readSecretInput(c *cli.Context, prompt string) ([]byte, error) {
	st := getState(c)
	var (
		raw []byte
		err error
	)
	if st.stdin != nil && term.IsTerminal(int(st.stdin.Fd())) {
		raw, err = promptSecret(c, prompt)
	} else {
		if st.stdin == nil {
			return nil, errors.New("no standard input to read the secret from")
		}
		if st.line.r == nil {
			st.line.r = st.stdin
		}
		raw, err = st.line.readLine()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("standard input is empty: pipe the secret in (one line) or run on a terminal")
		}
		if err != nil {
			err = fmt.Errorf("read standard input: %w", err)
		}
	}
	if err != nil {
		return nil, err
	}
	s := bytes.TrimSpace(raw)
	out := append([]byte(nil), s...)
	zero(raw)
	if len(out) == 0 {
		return nil, errors.New("empty input")
	}
	return out, nil
}

// zero overwrites b so a secret does not linger in memory.
func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
