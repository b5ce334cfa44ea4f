package main

// Moving in and moving around: `import tatum-kms`, `export` and `migrate`.
// The copying itself is backend/migrate (backend interface only); this file
// is flags, passwords, progress and output. See docs/migrate.md.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/backend/file/tatumkms"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/backend/migrate"
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
	if f := c.String(fileFlag); f != "" {
		pw, err := readPasswordFile(c, expandHome(f))
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", fileFlag, err)
		}
		return pw, nil
	}
	if v := os.Getenv(env); v != "" {
		return []byte(v), nil
	}
	return nil, nil
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
	inPlace := c.Bool("in-place")
	dstAddr := backendAddr(c)
	var backup, staging string
	if inPlace {
		// The new store is built beside the old file and swapped in only
		// once every record has been written and read back.
		backup, staging = src+".tatum-kms", src+".gokms-import"
		if _, err := os.Lstat(backup); err == nil {
			return fmt.Errorf("import --in-place: %s already exists; move it away first (it may be the original of an earlier conversion)", backup)
		}
		// The staging store is written into and then renamed over src;
		// neither it nor the kept original may be the live store.
		for _, p := range []string{staging, backup} {
			if err := refuseOntoStore("import --in-place", p, backendAddr(c)); err != nil {
				return err
			}
		}
		dstAddr = fileAddr(staging)
	} else if err := checkNotSameFile(src, dstAddr); err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("import %s: %w", src, err)
	}
	pw, err := secretFrom(c, "import-password-file", envImportPassword)
	if err != nil {
		return err
	}
	if pw == nil && inPlace && !isBlank(data) {
		// The converted store keeps the wallet's password: the operator's
		// TATUM_KMS_PASSWORD (or password file) opens both.
		if pw, _, err = passwordFromSources(c); err != nil {
			return err
		}
	}
	if pw == nil && !isBlank(data) {
		pw, err = promptSecret(c, fmt.Sprintf("Enter the password of the tatum-kms wallet %s (or set env var %s): ", src, envImportPassword))
		if errors.Is(err, errNoTerminal) {
			return fmt.Errorf("import %s: no password: set %s, use --import-password-file, or run on a terminal", src, envImportPassword)
		}
		if err != nil {
			return err
		}
	}
	entries, err := tatumkms.Decode(data, pw)
	zero(pw)
	if err != nil {
		return fmt.Errorf("import %s: %w", src, err)
	}
	defer func() {
		for i := range entries {
			entries[i].Zero()
		}
	}()
	recs := make(migrate.Records, 0, len(entries))
	var bad []string
	// tatum-kms keeps its file newest first; creation times a microsecond
	// apart keep that order, so `gokms export` prints what `tatum-kms
	// export` printed.
	base := time.Now().UTC()
	for i, e := range entries {
		r, err := e.Record()
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		r.Created = base.Add(-time.Duration(i) * time.Microsecond)
		if len(e.Unknown) > 0 {
			logger(c).Warn("import: entry has fields gokms does not keep", "signatureId", e.ID, "fields", strings.Join(e.Unknown, ","))
		}
		recs = append(recs, r)
	}
	if len(bad) > 0 {
		return fmt.Errorf("import %s: %d entr%s cannot be imported, nothing was written:\n  %s", src, len(bad), pluralY(len(bad)), strings.Join(bad, "\n  "))
	}

	// Open (or create) the destination only once the file has decrypted:
	// a wrong password must not leave a new empty store behind.
	var dst backend.SecretBackend
	if c.Bool("dry-run") {
		dst, err = openForDryRun(c, dstAddr, nil)
	} else {
		dst, err = openBackend(c, dstAddr, true)
	}
	if err != nil {
		return err
	}
	defer dst.Close()

	pr := newProgress(c, "import", c.Int("batch-size"))
	rep, err := migrate.Copy(c.Context, recs, dst, migrate.Options{DryRun: c.Bool("dry-run"), BatchSize: c.Int("batch-size"), Progress: pr.update})
	pr.finish()
	if err != nil {
		return fmt.Errorf("import %s into %s: %w", src, displayAddr(dstAddr), err)
	}
	where := map[string]any{"file": src, "to": displayAddr(dstAddr)}
	if inPlace && !c.Bool("dry-run") {
		if err := dst.Close(); err != nil {
			return fmt.Errorf("import --in-place: close %s: %w", staging, err)
		}
		if err := swapIn(src, staging, backup); err != nil {
			return err
		}
		where["to"], where["original"] = displayAddr(fileAddr(src)), backup
	}
	return printSummary(c, summary(rep, "imported", "wouldImport", c.Bool("dry-run"), where))
}

// swapIn puts the verified gokms store at the tatum-kms file's path and
// keeps the original beside it. Each rename is atomic; the directory is
// synced so the swap survives a crash. If the second rename fails the
// original goes back.
func swapIn(src, staging, backup string) error {
	if err := os.Link(src, backup); err != nil { // never replaces an existing file
		return fmt.Errorf("import --in-place: keep the original as %s: %w", backup, err)
	}
	if err := os.Rename(staging, src); err != nil {
		_ = os.Remove(backup)
		return fmt.Errorf("import --in-place: put the gokms store at %s: %w (the original is unchanged; the new store is %s)", src, err, staging)
	}
	if d, err := os.Open(filepath.Dir(src)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func pluralY(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

func isBlank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// checkNotSameFile refuses to import a tatum-kms file into itself (gokms's
// default store path is tatum-kms's, ~/.tatumrc/wallet.dat).
func checkNotSameFile(src, dstAddr string) error {
	p, ok, err := file.AddressPath(dstAddr)
	if err != nil || !ok {
		return err
	}
	same, err := file.SameFile(src, p)
	if err != nil {
		return fmt.Errorf("import: cannot tell whether %s is the gokms store %s (%v); nothing written", src, p, err)
	}
	if same {
		return fmt.Errorf("import: %s is both the tatum-kms wallet and the gokms store; convert it with --in-place, or choose another store with --path (e.g. --path ~/.tatumrc/gokms.dat) or --backend", src)
	}
	return nil
}

// ---- export ----

func cmdExport(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("usage: gokms export [--format json|tatum-kms] [--out file] (unexpected argument %q)", c.Args().First())
	}
	format, out := c.String("format"), c.String("out")
	switch format {
	case "json":
	case "tatum-kms":
		if out == "" {
			return errors.New("export --format tatum-kms needs --out <file> (the wallet.dat to write)")
		}
	default:
		return fmt.Errorf("export: unknown --format %q; want json or tatum-kms", format)
	}
	if out != "" {
		out = expandHome(out)
		if _, err := os.Lstat(out); err == nil && !c.Bool("force") {
			return fmt.Errorf("export: %s exists; not overwriting it (use --force to replace it)", out)
		}
		if err := refuseOntoStore("export --out", out, backendAddr(c)); err != nil {
			return err
		}
	}
	src, err := openBackend(c, "", false)
	if err != nil {
		return err
	}
	defer src.Close()
	entries, err := readAll(c.Context, src)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() {
		for i := range entries {
			entries[i].Zero()
		}
	}()

	if format == "json" {
		text := tatumkms.MarshalEntries(entries, "  ")
		text = append(text, '\n')
		defer zero(text)
		if out == "" {
			_, err := c.App.Writer.Write(text)
			return err
		}
		return writeNewFile(out, text, c.Bool("force"))
	}

	pw, err := secretFrom(c, "export-password-file", envExportPassword)
	if err != nil {
		return err
	}
	if pw == nil {
		pw, err = promptNewPassword(c, out, "Enter a password for the exported tatum-kms wallet %s (or set env var "+envExportPassword+"): ")
		if err != nil {
			return fmt.Errorf("export: %w (or use --export-password-file / %s)", err, envExportPassword)
		}
	}
	defer zero(pw)
	data, err := tatumkms.Encode(entries, pw, nil)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	// Prove the file reads back before handing it over for a rollback.
	back, err := tatumkms.Decode(data, pw)
	if err != nil || len(back) != len(entries) {
		return fmt.Errorf("export: the encoded wallet does not read back (%v); nothing written", err)
	}
	for i := range back {
		back[i].Zero()
	}
	if err := writeNewFile(out, data, c.Bool("force")); err != nil {
		return err
	}
	fmt.Fprintf(getState(c).stderr, "exported %d wallet%s to %s (tatum-kms format)\n", len(entries), plural(len(entries)), out)
	return nil
}

// readAll reads every record as tatum-kms entries, newest first (the order
// tatum-kms keeps its file in), ties by signatureId.
func readAll(ctx context.Context, b backend.SecretBackend) ([]tatumkms.Entry, error) {
	list, err := b.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list records: %w", err)
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].Created.Equal(list[j].Created) {
			return list[i].Created.After(list[j].Created)
		}
		return list[i].ID < list[j].ID
	})
	entries := make([]tatumkms.Entry, 0, len(list))
	for _, m := range list {
		r, err := b.Get(ctx, m.ID)
		if err != nil {
			return entries, fmt.Errorf("read %s: %w", m.ID, err)
		}
		e, err := tatumkms.FromRecord(r)
		if err != nil {
			r.Zero()
			return entries, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// writeNewFile writes data to path with mode 0600, atomically: a temporary
// file in the same directory, fsync, then link (refuses to replace an
// existing file, even one created meanwhile) or, with force, rename.
func writeNewFile(path string, data []byte, force bool) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("export: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	if force {
		err = os.Rename(tmpName, path)
	} else {
		err = os.Link(tmpName, path)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("export: %s exists; not overwriting it (use --force to replace it)", path)
		}
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
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
	if to == "" {
		return errors.New("migrate needs --to <address> (e.g. --to file:///srv/kms/wallet.dat or --to vault://host:8200/secret/gokms)")
	}
	if same, err := sameAddress(from, to); err != nil {
		return fmt.Errorf("migrate: %w", err)
	} else if same {
		return fmt.Errorf("migrate: --from and --to name the same store (%s); nothing written", displayAddr(to))
	}
	dry := c.Bool("dry-run")
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
	src, err := backends.Open(c.Context, from, openConfig(c, srcPw, nil, false))
	if err != nil {
		return fmt.Errorf("migrate: open source %s: %w", displayAddr(from), err)
	}
	defer src.Close()
	var dst backend.SecretBackend
	if dry {
		dst, err = openForDryRun(c, to, dstPw)
	} else {
		dst, err = backends.Open(c.Context, to, openConfig(c, dstPw, dstNewPw, true))
		if err != nil {
			err = fmt.Errorf("migrate: open destination %s: %w", displayAddr(to), err)
		}
	}
	if err != nil {
		return err
	}
	defer dst.Close()

	pr := newProgress(c, "migrate", c.Int("batch-size"))
	rep, err := migrate.Copy(c.Context, src, dst, migrate.Options{DryRun: dry, BatchSize: c.Int("batch-size"), Progress: pr.update})
	pr.finish()
	if err != nil {
		return fmt.Errorf("migrate %s -> %s: %w", displayAddr(from), displayAddr(to), err)
	}
	return printSummary(c, summary(rep, "copied", "wouldCopy", dry, map[string]any{"from": displayAddr(from), "to": displayAddr(to)}))
}

func openConfig(c *cli.Context, pw, newPw func(context.Context, string) ([]byte, error), create bool) backend.OpenConfig {
	return backend.OpenConfig{
		Password:    pw,
		NewPassword: newPw,
		Create:      create,
		Testnet:     isTestnet(c),
		Getenv:      os.Getenv,
		Logger:      logger(c),
	}
}

// openForDryRun opens an existing destination without creating it; a file
// store that does not exist yet stands in as an empty one.
func openForDryRun(c *cli.Context, addr string, pw func(context.Context, string) ([]byte, error)) (backend.SecretBackend, error) {
	if p, ok, err := file.AddressPath(addr); err != nil {
		return nil, err
	} else if ok {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return memory.New(), nil
		}
	}
	if pw == nil {
		return openBackend(c, addr, false)
	}
	b, err := backends.Open(c.Context, addr, openConfig(c, pw, nil, false))
	if err != nil {
		return nil, fmt.Errorf("open destination %s: %w", displayAddr(addr), err)
	}
	return b, nil
}

// sameAddress reports whether two addresses name the same store: for file
// stores the same file (file.SameFile), else the same address.
func sameAddress(a, b string) (bool, error) {
	pa, okA, err := file.AddressPath(a)
	if err != nil {
		return false, err
	}
	pb, okB, err := file.AddressPath(b)
	if err != nil {
		return false, err
	}
	if okA && okB {
		same, err := file.SameFile(pa, pb)
		if err != nil {
			return false, fmt.Errorf("cannot tell whether %s and %s are the same store: %w", pa, pb, err)
		}
		return same, nil
	}
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/"), nil
}

// ---- output ----

// summary is the JSON printed at the end: counts in total and per chain
// ("BTC", "BTC (testnet)"), and with --dry-run the records that would move.
// verb names the count of records written ("imported", "copied"); dryVerb
// replaces it with --dry-run ("wouldImport", "wouldCopy").
func summary(rep *migrate.Report, verb, dryVerb string, dry bool, where map[string]any) map[string]any {
	if dry {
		verb = dryVerb
	}
	chains := map[string]map[string]int{}
	for k, v := range rep.PerChain {
		chains[k] = map[string]int{verb: v.Copied, "skipped": v.Skipped}
	}
	s := map[string]any{
		"dryRun":  dry,
		"total":   rep.Source,
		verb:      rep.Copied,
		"skipped": rep.Skipped,
		"chains":  chains,
	}
	for k, v := range where {
		s[k] = v
	}
	if dry {
		list := make([]map[string]any, 0, len(rep.ToCopy))
		for _, m := range rep.ToCopy {
			list = append(list, map[string]any{"signatureId": m.ID, "chain": m.Chain, "testnet": m.Testnet, "kind": string(m.Kind)})
		}
		s["signatureIds"] = list
	}
	return s
}

func printSummary(c *cli.Context, s map[string]any) error { return printJSON(c, s) }

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
