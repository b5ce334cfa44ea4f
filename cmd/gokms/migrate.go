package main

// Moving in and moving around: `import tatum-kms`, `export` and `migrate`.
// The use cases and their file transactions are kms (Import, Export,
// Migrate); this file is flags, passwords, progress and output. See
// docs/migrate.md.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/migrate"
	"github.com/gokms/gokms/kms"
)

// Password variables of these commands. Like TATUM_KMS_PASSWORD they exist
// for scripts; a file (the --*-password-file flags) or the prompt keeps the
// password out of the environment.
const (
	envImportPassword = "TATUM_KMS_IMPORT_PASSWORD" // the tatum-kms wallet.dat being imported
	envExportPassword = "TATUM_KMS_EXPORT_PASSWORD" // the wallet.dat being exported
	envFromPassword   = "GOKMS_FROM_PASSWORD"       // migrate: the source store
	envToPassword     = "GOKMS_TO_PASSWORD"         // migrate: the destination store
)

func migrateCommands() []*cli.Command {
	dryRun := &cli.BoolFlag{Name: "dry-run", Usage: "list what would be copied; write nothing"}
	batch := &cli.IntFlag{Name: "batch-size", Value: migrate.DefaultBatchSize, Usage: "records per write (each write is one durable commit)"}
	return []*cli.Command{
		&cli.Command{
			Name:      "import",
			Usage:     "import a tatum-kms wallet.dat into the store, keeping every signatureId",
			ArgsUsage: "tatum-kms <wallet.dat>",
			Description: "Decrypts the tatum-kms wallet file (password from --import-password-file, " + envImportPassword + "\n" +
				"or a prompt) and stores every entry in the configured store (--path / --backend) under the same\n" +
				"signatureId, chain and testnet. Entries already stored with identical content are skipped, so the\n" +
				"import can be re-run; an entry stored with different content stops the import before anything\n" +
				"is written. Prints a JSON summary; progress goes to stderr.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "import-password-file", Usage: "read the tatum-kms wallet password from the first line of this file (else " + envImportPassword + ", else a prompt)"},
				&cli.BoolFlag{Name: "in-place", Usage: "convert the file where it is: import into a new gokms store beside it, keep the original as <wallet.dat>.tatum-kms, " +
					"then put the gokms store at <wallet.dat>, so scripts using tatum-kms's path keep working (the tatum-kms password is the default for both)"},
				dryRun, batch,
			},
			Action: cmdImport,
		},
		&cli.Command{
			Name:  "export",
			Usage: "export all managed wallets: print them as tatum-kms does, or write a tatum-kms wallet.dat",
			Description: "--format json (default) prints every wallet with its secret, exactly like `tatum-kms export`.\n" +
				"--format tatum-kms --out <file> writes a wallet.dat that tatum-kms 8 reads (for a rollback),\n" +
				"mode 0600, encrypted with the password from --export-password-file, " + envExportPassword + " or a\n" +
				"prompt (asked twice). An existing file is never overwritten unless --force is given.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "format", Value: "json", Usage: "json (print like tatum-kms export) or tatum-kms (an encrypted wallet.dat)"},
				&cli.StringFlag{Name: "out", Usage: "write to this file (mode 0600) instead of standard output; required for --format tatum-kms"},
				&cli.BoolFlag{Name: "force", Usage: "replace --out if it exists"},
				&cli.StringFlag{Name: "export-password-file", Usage: "read the password of the exported wallet.dat from the first line of this file (else " + envExportPassword + ", else a prompt)"},
			},
			Action: cmdExport,
		},
		&cli.Command{
			Name:  "migrate",
			Usage: "copy every record from one backend to another (file://, vault://, azure://, vgs://)",
			Description: "Copies every record of --from (default: the configured store) into --to, creating a missing\n" +
				"file store. Each record is read back from the destination and compared before it counts.\n" +
				"Re-running is safe: identical records are skipped, so an interrupted migration resumes; a\n" +
				"different record under the same signatureId is a conflict, reported before anything is written\n" +
				"and never overwritten. Nothing is ever deleted from the source.\n\n" +
				"Passwords of file stores: the source's from --from-password-file or " + envFromPassword + ", the\n" +
				"destination's from --to-password-file or " + envToPassword + "; either falls back to the common\n" +
				"sources (--password-file, TATUM_KMS_PASSWORD, --azure/--vgs/--aws) and then a prompt.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "from", Usage: "source backend address (default: --backend / --path / GOKMS_BACKEND)"},
				&cli.StringFlag{Name: "to", Usage: "destination backend address, e.g. file:///srv/kms/new.dat or vault://host:8200/secret/gokms"},
				&cli.StringFlag{Name: "from-password-file", Usage: "password of a file-store source, first line of this file (else " + envFromPassword + ")"},
				&cli.StringFlag{Name: "to-password-file", Usage: "password of a file-store destination, first line of this file (else " + envToPassword + ")"},
				dryRun, batch,
			},
			Action: cmdMigrate,
		},
	}
}

// secretFrom returns a password from a file flag, else an environment
// variable, else nil (the caller falls back to other sources or a prompt).
func secretFrom(c *cli.Context, fileFlag, env string) ([]byte, error) {
	pw, _, err := passwordChain(c, fileFlag, env, nil).Find(c.Context)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", fileFlag, err)
	}
	return pw, nil
}

// ---- import ----

func cmdImport(c *cli.Context) error {
	args, err := needArgs(c, "format", "wallet.dat")
	if err != nil {
		return err
	}
	if args[0] != "tatum-kms" {
		return fmt.Errorf("import: unknown format %q; supported: tatum-kms (usage: gokms import tatum-kms <wallet.dat>)", args[0])
	}
	src := expandHome(args[1])
	pr := newProgress(c, "import", c.Int("batch-size"))
	sum, err := kms.Import(c.Context, kms.ImportOptions{
		Src: src, StoreAddr: backendAddr(c), InPlace: c.Bool("in-place"), DryRun: c.Bool("dry-run"), BatchSize: c.Int("batch-size"),
		Password: func(ctx context.Context, inPlace, blank bool) ([]byte, error) {
			pw, err := secretFrom(c, "import-password-file", envImportPassword)
			if err != nil {
				return nil, err
			}
			if pw == nil && inPlace && !blank {
				// The converted store keeps the wallet's password: the operator's
				// TATUM_KMS_PASSWORD (or password file) opens both.
				if pw, _, err = passwordFromSources(c); err != nil {
					return nil, err
				}
			}
			if pw == nil && !blank {
				pw, err = promptSecret(c, fmt.Sprintf("Enter the password of the tatum-kms wallet %s (or set env var %s): ", src, envImportPassword))
				if errors.Is(err, errNoTerminal) {
					return nil, fmt.Errorf("import %s: no password: set %s, use --import-password-file, or run on a terminal", src, envImportPassword)
				}
			}
			return pw, err
		},
		Open: func(ctx context.Context, addr string, dry bool) (backend.SecretBackend, error) {
			if dry {
				return kms.OpenForDryRun(addr, func() (backend.SecretBackend, error) { return openBackend(c, addr, false) })
			}
			return openBackend(c, addr, true)
		},
		Progress: pr.update,
		Logger:   logger(c),
	})
	pr.finish()
	if err != nil {
		return err
	}
	return printSummary(c, sum)
}

// ---- export ----

func cmdExport(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("usage: gokms export [--format json|tatum-kms] [--out file] (unexpected argument %q)", c.Args().First())
	}
	out := c.String("out")
	if out != "" {
		out = expandHome(out)
	}
	return kms.Export(c.Context, kms.ExportOptions{
		Format: c.String("format"), Out: out, Force: c.Bool("force"), StoreAddr: backendAddr(c),
		Open: func(context.Context) (backend.SecretBackend, error) { return openBackend(c, "", false) },
		Password: func(context.Context) ([]byte, error) {
			pw, err := secretFrom(c, "export-password-file", envExportPassword)
			if err != nil || pw != nil {
				return pw, err
			}
			pw, err = promptNewPassword(c, out, "Enter a password for the exported tatum-kms wallet %s (or set env var "+envExportPassword+"): ")
			if err != nil {
				return nil, fmt.Errorf("export: %w (or use --export-password-file / %s)", err, envExportPassword)
			}
			return pw, nil
		},
		Stdout: c.App.Writer,
		Stderr: getState(c).stderr,
	})
}

// ---- migrate ----

func cmdMigrate(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("usage: gokms migrate --from <address> --to <address> [--dry-run] (unexpected argument %q)", c.Args().First())
	}
	if err := checkStoreFlags(c); err != nil {
		return err
	}
	from, to := c.String("from"), c.String("to")
	if from == "" {
		from = backendAddr(c)
	}
	srcPw := func(ctx context.Context, purpose string) ([]byte, error) {
		if pw, err := secretFrom(c, "from-password-file", envFromPassword); pw != nil || err != nil {
			return pw, err
		}
		return readPassword(c, "source "+purpose)
	}
	dstPw := func(ctx context.Context, purpose string) ([]byte, error) {
		if pw, err := secretFrom(c, "to-password-file", envToPassword); pw != nil || err != nil {
			return pw, err
		}
		return readPassword(c, "destination "+purpose)
	}
	dstNewPw := func(ctx context.Context, purpose string) ([]byte, error) {
		if pw, err := secretFrom(c, "to-password-file", envToPassword); pw != nil || err != nil {
			return pw, err
		}
		return readNewPassword(c, "destination "+strings.TrimPrefix(purpose, "new "))
	}
	st := stores(c)
	pr := newProgress(c, "migrate", c.Int("batch-size"))
	sum, err := kms.Migrate(c.Context, kms.MigrateOptions{
		From: from, To: to, DryRun: c.Bool("dry-run"), BatchSize: c.Int("batch-size"),
		OpenSource: func(ctx context.Context) (backend.SecretBackend, error) { return st.Open(ctx, from, srcPw, nil, false) },
		OpenDest: func(ctx context.Context, dry bool) (backend.SecretBackend, error) {
			if dry {
				return kms.OpenForDryRun(to, func() (backend.SecretBackend, error) {
					b, err := st.Open(ctx, to, dstPw, nil, false)
					if err != nil {
						return nil, fmt.Errorf("open destination %s: %w", displayAddr(to), err)
					}
					return b, nil
				})
			}
			b, err := st.Open(ctx, to, dstPw, dstNewPw, true)
			if err != nil {
				return nil, fmt.Errorf("migrate: open destination %s: %w", displayAddr(to), err)
			}
			return b, nil
		},
		Progress: pr.update,
	})
	pr.finish()
	if err != nil {
		return err
	}
	return printSummary(c, sum)
}

// stores is how the use cases open stores in this run.
func stores(c *cli.Context) kms.Stores {
	return kms.Stores{Registry: backends, Testnet: isTestnet(c), Getenv: config(c).Getenv, Logger: logger(c)}
}

// ---- output ----

func printSummary(c *cli.Context, s kms.Summary) error { return printJSON(c, s) }

// progress shows how far a copy is: a bar redrawn in place when stderr is a
// terminal, else a log line per batch at most every few seconds (and the
// first and last), so that logs of long runs show movement.
type progress struct {
	c        *cli.Context
	what     string
	batch    int
	tty      *os.File
	last     time.Time
	lastDraw time.Time
	stage    migrate.Stage
	drawn    bool
}

func newProgress(c *cli.Context, what string, batch int) *progress {
	p := &progress{c: c, what: what, batch: batch}
	if f, ok := getState(c).stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = f
	}
	return p
}

const progressEvery = 2 * time.Second

func (p *progress) update(u migrate.Progress) {
	if u.Total == 0 || u.Done == 0 {
		return
	}
	stage := "copying"
	if u.Stage == migrate.Checking {
		stage = "checking existing"
	}
	now := time.Now()
	if p.tty != nil {
		if now.Sub(p.lastDraw) < 100*time.Millisecond && u.Done != u.Total {
			return
		}
		p.lastDraw = now
		const width = 30
		fill := width * u.Done / u.Total
		fmt.Fprintf(p.tty, "\r%s: %-17s [%s%s] %d/%d %3d%%", p.what, stage, strings.Repeat("#", fill), strings.Repeat(".", width-fill), u.Done, u.Total, 100*u.Done/u.Total)
		p.drawn = true
		return
	}
	// In logs: nothing for work that fits in one write; else the first
	// batch, then at most one line every progressEvery, then the last.
	if u.Total <= p.batch || (u.Done != u.Total && u.Stage == p.stage && !p.last.IsZero() && now.Sub(p.last) < progressEvery) {
		return
	}
	p.last, p.stage = now, u.Stage
	logger(p.c).Info(p.what+" progress", "stage", stage, "done", u.Done, "total", u.Total)
}

func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.tty)
	}
}
