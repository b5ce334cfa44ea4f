package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/joho/godotenv"
	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/tatum"
)

// version, if set with -ldflags "-X main.version=v1.2.3", overrides the
// version of tatum.ReadBuild (scripts/release.sh sets tatum's variables).
var version = ""

// gokmsBuild is this binary's version, commit and dirty flag.
func gokmsBuild() tatum.Build { return kms.Build(version) }

// Flag names shared by every command (global flags).
const (
	flagPath         = "path"
	flagBackend      = "backend"
	flagTestnet      = "testnet"
	flagEnvFile      = "envFile"
	flagAPIKey       = "apiKey"
	flagPasswordFile = "password-file"
	flagLogFormat    = "log-format"
	flagLogLevel     = "log-level"
)

// Environment variables gokms reads itself (besides those of the backends).
const (
	envPassword = "TATUM_KMS_PASSWORD"
	envAPIKey   = "TATUM_API_KEY"
	envBackend  = "GOKMS_BACKEND"
)

// commandList is every command of the binary; the help lists them in
// tatum-kms's order (helpOrder), the others after them in this order.
func commandList() []*cli.Command {
	var cs []*cli.Command
	for _, group := range [][]*cli.Command{auditCommands(), changePasswordCommands(), configCommands(), daemonCommands(),
		journalCommands(), keyCommands(), migrateCommands(), policyCommands(), stateCommands(), txCommands(), testCommands} {
		cs = append(cs, group...)
	}
	return cs
}

// testCommands are hidden commands of the test binary only (its _test.go
// files set them); empty in gokms itself.
var testCommands []*cli.Command

// run is main without os.Exit, so that tests can run the real binary in-process.
func run() int {
	return runMain(os.Args, os.Stdin, os.Stdout, os.Stderr)
}

// runMain runs the app and turns every failure into `error: <msg>` on stderr
// and exit code 1: no stack traces, no panics reaching the user.
func runMain(args []string, stdin *os.File, stdout, stderr io.Writer) (code int) {
	// The first SIGINT/SIGTERM cancels c.Context (the daemon stops cleanly,
	// a batch stores nothing); a second one kills the process as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "error: internal error: %v\n", r)
			code = 1
		}
	}()
	app := newApp(stdin, stdout, stderr)
	args, err := reorderArgs(app, args)
	if err == nil {
		err = app.RunContext(ctx, args)
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %s\n", err)
		return 1
	}
	return 0
}

// helpOrder lists commands in tatum-kms's help order; others follow in
// registration order.
var helpOrder = []string{
	"daemon", "journal", "generatewallet", "generatemanagedwallet", "storemanagedwallet", "storemanagedprivatekey",
	"generatemanagedprivatekeybatch", "getprivatekey", "getaddress", "getmanagedwallet", "removewallet",
	"export", "import", "migrate", "changepassword", "report", "checkconfig",
}

func orderedCommands(commands []*cli.Command) []*cli.Command {
	rank := func(c *cli.Command) int {
		for i, n := range helpOrder {
			if c.Name == n {
				return i
			}
		}
		return len(helpOrder)
	}
	out := append([]*cli.Command(nil), commands...)
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

func newApp(stdin *os.File, stdout, stderr io.Writer) *cli.App {
	st := &state{stdin: stdin, stderr: stderr}
	commands := commandList()
	app := &cli.App{
		Name:    "gokms",
		Usage:   "key management system for Tatum-powered custodial apps (a tatum-kms successor)",
		Version: gokmsBuild().String(),
		Description: "Flags may be given before or after the command and its arguments.\n" +
			"Passwords are never taken from the command line: use TATUM_KMS_PASSWORD, --password-file,\n" +
			"a password source (--azure, --vgs, --aws) or the terminal prompt.",
		Writer:               stdout,
		ErrWriter:            stderr,
		Reader:               stdin,
		Flags:                appFlags(),
		Commands:             orderedCommands(commands),
		Metadata:             map[string]any{stateKey: st},
		EnableBashCompletion: false,
		HideHelpCommand:      false,
		Before:               before,
		// Every error is printed once by runMain; urfave/cli must not exit.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   usageError,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return fmt.Errorf("unsupported command %q; use gokms --help for details", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
	}
	for _, cmd := range commands {
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = usageError
		}
	}
	return app
}

func usageError(c *cli.Context, err error, isSubcommand bool) error {
	if isSubcommand && c.Command != nil && c.Command.Name != "" {
		return fmt.Errorf("%w (see gokms %s --help)", err, c.Command.Name)
	}
	return fmt.Errorf("%w (see gokms --help)", err)
}

func appFlags() []cli.Flag {
	fs := []cli.Flag{
		&cli.StringFlag{Name: flagPath, Usage: "wallet store file (default ~/.tatumrc/wallet.dat)"},
		&cli.StringFlag{Name: flagBackend, Usage: "secret backend address, e.g. file:///srv/kms/wallet.dat, vault://host:8200/secret/gokms (env " + envBackend + "; overrides --path)"},
		&cli.BoolFlag{Name: flagTestnet, Usage: "use the testnet version of the blockchain (mainnet by default)"},
		&cli.StringFlag{Name: flagEnvFile, Aliases: []string{"env-file"}, Usage: "file of environment variables in dotenv format (default ~/.tatumrc/.env)"},
		&cli.StringFlag{Name: flagAPIKey, Aliases: []string{"api-key"}, Usage: "Tatum API key (env " + envAPIKey + "); daemon mode only"},
		&cli.StringFlag{Name: flagPasswordFile, Usage: "read the store password from the first line of this file"},
		&cli.StringFlag{Name: flagLogFormat, Value: "text", EnvVars: []string{"GOKMS_LOG_FORMAT"}, Usage: "log format: text or json (logs go to stderr)"},
		&cli.StringFlag{Name: flagLogLevel, Value: "info", EnvVars: []string{"GOKMS_LOG_LEVEL"}, Usage: "log level: debug, info, warn or error"},
	}
	return append(fs, passwordSourceFlags()...)
}

// state is what one run of the app shares between the helpers below.
type state struct {
	stdin  *os.File
	stderr io.Writer
	line   lineReader
	log    *slog.Logger
	cfg    *kms.Config
}

const stateKey = "gokms.state"

func getState(c *cli.Context) *state {
	if c != nil && c.App != nil {
		if st, ok := c.App.Metadata[stateKey].(*state); ok {
			return st
		}
	}
	// Only reached when a helper is called outside the app (a bug); keep working.
	return &state{stdin: os.Stdin, stderr: os.Stderr}
}

// before runs once per invocation, before the command: environment files,
// logger, API key.
func before(c *cli.Context) error {
	if err := loadEnvFiles(c); err != nil {
		return err
	}
	l, err := newLogger(getState(c).stderr, c.String(flagLogFormat), c.String(flagLogLevel))
	if err != nil {
		return err
	}
	getState(c).log = l
	// As tatum-kms: --apiKey becomes TATUM_API_KEY for everything downstream.
	if k := c.String(flagAPIKey); k != "" {
		l.Warn("--" + flagAPIKey + " on the command line is visible to every user of this machine (ps, /proc); set " + envAPIKey + " in ~/.tatumrc/.env or the environment instead")
		if err := os.Setenv(envAPIKey, k); err != nil {
			return fmt.Errorf("set %s: %w", envAPIKey, err)
		}
	}
	cfg := kms.LoadConfig(c, os.Getenv, os.Environ())
	getState(c).cfg = &cfg
	return nil
}

// config is the run's kms.Config: the global flags and the environment
// (with the dotenv files loaded), resolved once in before.
func config(c *cli.Context) kms.Config {
	st := getState(c)
	if st.cfg == nil { // a helper called outside the app (tests of one function)
		cfg := kms.LoadConfig(c, os.Getenv, os.Environ())
		st.cfg = &cfg
	}
	return *st.cfg
}

// loadEnvFiles loads ./.env (as tatum-kms's bare dotenv.config() does) and
// then --envFile or ~/.tatumrc/.env. Variables already set (non-empty) win,
// as in dotenv.
func loadEnvFiles(c *cli.Context) error {
	if err := loadWorkdirEnv(getState(c).stderr); err != nil {
		return err
	}
	path, explicit := c.String(flagEnvFile), true
	if path == "" {
		explicit = false
		home, err := os.UserHomeDir()
		if err != nil {
			return nil // no home: no default env file
		}
		path = filepath.Join(home, ".tatumrc", ".env")
	}
	return loadEnvFile(expandHome(path), explicit)
}

func loadEnvFile(path string, mustExist bool) error {
	return loadEnvFileFiltered(path, mustExist, nil)
}

// loadEnvFileFiltered loads path, setting only the variables keep accepts
// (all when keep is nil).
func loadEnvFileFiltered(path string, mustExist bool, keep func(name string) bool) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !mustExist {
			return nil
		}
		return fmt.Errorf("load env file: %w", err)
	}
	defer f.Close()
	vars, err := godotenv.Parse(f)
	if err != nil {
		// godotenv's parse errors quote the file's text, which holds secrets.
		return fmt.Errorf("load env file %s: not in dotenv format (KEY=value lines); the parser's detail is withheld because it would quote the file", path)
	}
	for k, v := range vars {
		if keep != nil && !keep(k) {
			continue
		}
		// As dotenv, the environment wins; an empty variable counts as unset
		// (gokms treats TATUM_KMS_PASSWORD= like no password everywhere).
		if os.Getenv(k) != "" {
			continue
		}
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("load env file %s: set %s: %w", path, k, err)
		}
	}
	return nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--%s %q: want debug, info, warn or error", flagLogLevel, level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--%s %q: want text or json", flagLogFormat, format)
}

// logger returns the app's structured logger (stderr, --log-format, --log-level).
func logger(c *cli.Context) *slog.Logger {
	st := getState(c)
	if st.log == nil {
		st.log = slog.New(slog.NewTextHandler(st.stderr, nil))
	}
	return st.log
}

// isTestnet reports whether --testnet was given.
func isTestnet(c *cli.Context) bool { return config(c).Testnet }

// printJSON writes v as tatum-kms does (JSON.stringify(v, null, 2) + newline).
func printJSON(c *cli.Context, v any) error {
	enc := json.NewEncoder(c.App.Writer)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // JSON.stringify does not escape <, >, &
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// printJSONLine writes v as one compact line (tatum-kms's JSON.stringify(v)).
func printJSONLine(c *cli.Context, v any) error {
	enc := json.NewEncoder(c.App.Writer)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// storePath is --path with ~ expanded and made absolute, or the default
// ~/.tatumrc/wallet.dat.
func storePath(c *cli.Context) string { return config(c).StorePath }

func expandHome(p string) string { return kms.ExpandHome(p) }

// backendAddr is the address of the secret backend: --backend, else --path
// (an explicit --path beats GOKMS_BACKEND), else GOKMS_BACKEND, else the
// default file store.
func backendAddr(c *cli.Context) string { return config(c).BackendAddr }

// checkStoreFlags rejects --backend together with --path: one of them would
// be silently ignored.
func checkStoreFlags(c *cli.Context) error {
	if c.String(flagBackend) != "" && c.IsSet(flagPath) {
		return fmt.Errorf("--%s and --%s both given; use one", flagBackend, flagPath)
	}
	return nil
}

// displayAddr is how a backend address appears in messages (kms.DisplayAddr).
func displayAddr(addr string) string { return kms.DisplayAddr(addr) }

// openBackend opens the secret backend at addr ("" = backendAddr(c)). The
// password is asked only if the backend needs one; create allows a new,
// empty store to be initialised (its password is then asked twice on a TTY).
func openBackend(c *cli.Context, addr string, create bool) (backend.SecretBackend, error) {
	if err := checkStoreFlags(c); err != nil {
		return nil, err
	}
	if addr == "" {
		addr = backendAddr(c)
	}
	b, err := stores(c).Open(c.Context, addr,
		func(_ context.Context, purpose string) ([]byte, error) { return readPassword(c, purpose) },
		func(_ context.Context, purpose string) ([]byte, error) { return readNewPassword(c, purpose) },
		create)
	if err != nil {
		if where := displayAddr(addr); !strings.Contains(err.Error(), where) {
			err = fmt.Errorf("open wallet store %s: %w", where, err)
		}
		return nil, err
	}
	return b, nil
}
