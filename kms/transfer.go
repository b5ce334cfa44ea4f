package kms

// Moving in and moving around: import of a tatum-kms wallet.dat (also in
// place), export (tatum-kms's JSON or a wallet.dat for a rollback), migrate
// between stores, and changepassword. The copying itself is backend/migrate
// (backend interface only); the caller supplies how stores are opened and
// where passwords come from, and prints the summary.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/backend/file/tatumkms"
	"github.com/gokms/gokms/backend/migrate"
)

// Summary is the JSON a copy prints at the end.
type Summary map[string]any

// ImportOptions configure Import.
type ImportOptions struct {
	Src       string // the tatum-kms wallet.dat
	StoreAddr string // the configured store
	InPlace   bool   // convert Src where it is
	DryRun    bool
	BatchSize int
	// Password returns the wallet.dat password once the file is read: a
	// blank file needs none (nil), inPlace says the converted store keeps it.
	Password func(ctx context.Context, inPlace, blank bool) ([]byte, error)
	// Open opens (dry: without creating) the store at addr.
	Open     func(ctx context.Context, addr string, dry bool) (backend.SecretBackend, error)
	Progress func(migrate.Progress)
	Logger   *slog.Logger
}

// Import stores every entry of a tatum-kms wallet.dat under the same
// signatureId. With InPlace the new store is built beside the file and
// swapped in only once every record has been written and read back.
func Import(ctx context.Context, o ImportOptions) (Summary, error) {
	src, dstAddr := o.Src, o.StoreAddr
	var backup, staging string
	if o.InPlace {
		backup, staging = src+".tatum-kms", src+".gokms-import"
		if _, err := os.Lstat(backup); err == nil {
			return nil, fmt.Errorf("import --in-place: %s already exists; move it away first (it may be the original of an earlier conversion)", backup)
		}
		// The staging store is written into and then renamed over src;
		// neither it nor the kept original may be the live store.
		for _, p := range []string{staging, backup} {
			if err := RefuseOntoStore("import --in-place", p, o.StoreAddr); err != nil {
				return nil, err
			}
		}
		dstAddr = FileAddr(staging)
	} else if err := checkNotSameFile(src, dstAddr); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", src, err)
	}
	pw, err := o.Password(ctx, o.InPlace, len(bytes.TrimSpace(data)) == 0)
	if err != nil {
		return nil, err
	}
	entries, err := tatumkms.Decode(data, pw)
	zero(pw)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", src, err)
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
		if len(e.Unknown) > 0 && o.Logger != nil {
			o.Logger.Warn("import: entry has fields gokms does not keep", "signatureId", e.ID, "fields", strings.Join(e.Unknown, ","))
		}
		recs = append(recs, r)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("import %s: %d entr%s cannot be imported, nothing was written:\n  %s", src, len(bad), pluralY(len(bad)), strings.Join(bad, "\n  "))
	}

	// Open (or create) the destination only once the file has decrypted:
	// a wrong password must not leave a new empty store behind.
	dst, err := o.Open(ctx, dstAddr, o.DryRun)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	rep, err := migrate.Copy(ctx, recs, dst, migrate.Options{DryRun: o.DryRun, BatchSize: o.BatchSize, Progress: o.Progress})
	if err != nil {
		return nil, fmt.Errorf("import %s into %s: %w", src, DisplayAddr(dstAddr), err)
	}
	where := map[string]any{"file": src, "to": DisplayAddr(dstAddr)}
	if o.InPlace && !o.DryRun {
		if err := dst.Close(); err != nil {
			return nil, fmt.Errorf("import --in-place: close %s: %w", staging, err)
		}
		if err := SwapIn(src, staging, backup); err != nil {
			return nil, err
		}
		where["to"], where["original"] = DisplayAddr(FileAddr(src)), backup
	}
	return summary(rep, "imported", "wouldImport", o.DryRun, where), nil
}

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

// ExportOptions configure Export.
type ExportOptions struct {
	Format    string // "json" or "tatum-kms"
	Out       string // file to write; "" prints (json only)
	Force     bool   // replace Out
	StoreAddr string
	Open      func(ctx context.Context) (backend.SecretBackend, error)
	// Password returns the new wallet.dat's password (tatum-kms format).
	Password func(ctx context.Context) ([]byte, error)
	Stdout   io.Writer
	Stderr   io.Writer
}

// Export prints every wallet as tatum-kms export does, or writes a
// wallet.dat that tatum-kms 8 reads (proved to read back before it is
// written; an existing file is replaced only with Force).
func Export(ctx context.Context, o ExportOptions) error {
	switch o.Format {
	case "json":
	case "tatum-kms":
		if o.Out == "" {
			return errors.New("export --format tatum-kms needs --out <file> (the wallet.dat to write)")
		}
	default:
		return fmt.Errorf("export: unknown --format %q; want json or tatum-kms", o.Format)
	}
	if o.Out != "" {
		if _, err := os.Lstat(o.Out); err == nil && !o.Force {
			return fmt.Errorf("export: %s exists; not overwriting it (use --force to replace it)", o.Out)
		}
		if err := RefuseOntoStore("export --out", o.Out, o.StoreAddr); err != nil {
			return err
		}
	}
	src, err := o.Open(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	entries, err := readAll(ctx, src)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() {
		for i := range entries {
			entries[i].Zero()
		}
	}()

	if o.Format == "json" {
		text := tatumkms.MarshalEntries(entries, "  ")
		text = append(text, '\n')
		defer zero(text)
		if o.Out == "" {
			_, err := o.Stdout.Write(text)
			return err
		}
		return WriteNewFile(o.Out, text, o.Force)
	}

	pw, err := o.Password(ctx)
	if err != nil {
		return err
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
	if err := WriteNewFile(o.Out, data, o.Force); err != nil {
		return err
	}
	fmt.Fprintf(o.Stderr, "exported %d wallet%s to %s (tatum-kms format)\n", len(entries), plural(len(entries)), o.Out)
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

// MigrateOptions configure Migrate.
type MigrateOptions struct {
	From, To  string
	DryRun    bool
	BatchSize int
	// OpenSource opens From; OpenDest opens To (dry: without creating it).
	OpenSource func(ctx context.Context) (backend.SecretBackend, error)
	OpenDest   func(ctx context.Context, dry bool) (backend.SecretBackend, error)
	Progress   func(migrate.Progress)
}

// Migrate copies every record of one store into another, keeping ids.
func Migrate(ctx context.Context, o MigrateOptions) (Summary, error) {
	if o.To == "" {
		return nil, errors.New("migrate needs --to <address> (e.g. --to file:///srv/kms/wallet.dat or --to vault://host:8200/secret/gokms)")
	}
	if same, err := SameAddress(o.From, o.To); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	} else if same {
		return nil, fmt.Errorf("migrate: --from and --to name the same store (%s); nothing written", DisplayAddr(o.To))
	}
	src, err := o.OpenSource(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: open source %s: %w", DisplayAddr(o.From), err)
	}
	defer src.Close()
	dst, err := o.OpenDest(ctx, o.DryRun)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	rep, err := migrate.Copy(ctx, src, dst, migrate.Options{DryRun: o.DryRun, BatchSize: o.BatchSize, Progress: o.Progress})
	if err != nil {
		return nil, fmt.Errorf("migrate %s -> %s: %w", DisplayAddr(o.From), DisplayAddr(o.To), err)
	}
	return summary(rep, "copied", "wouldCopy", o.DryRun, map[string]any{"from": DisplayAddr(o.From), "to": DisplayAddr(o.To)}), nil
}

// ChangePasswordOptions configure ChangePassword.
type ChangePasswordOptions struct {
	StoreAddr string
	Testnet   bool
	Getenv    func(string) string
	Open      func(ctx context.Context) (backend.SecretBackend, error)
	// NewPassword returns the new password for the store at path.
	NewPassword func(ctx context.Context, path string) ([]byte, error)
	Logger      *slog.Logger
}

// ChangePassword re-encrypts the file store under a new password (and, with
// GOKMS_KDF, new Argon2id costs, checked before anything is opened).
func ChangePassword(ctx context.Context, o ChangePasswordOptions) error {
	if _, ok, err := file.AddressPath(o.StoreAddr); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("changepassword works on the file store only; %s keeps its secrets under its own access control", DisplayAddr(o.StoreAddr))
	}
	var params *file.KDFParams
	if v := o.Getenv(file.KDFEnv); v != "" {
		p, err := file.NewStoreKDF(v, o.Testnet)
		if err != nil {
			return fmt.Errorf("%s: %w", file.KDFEnv, err)
		}
		params = &p
	}
	b, err := o.Open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	st, ok := b.(*file.Store)
	if !ok {
		return fmt.Errorf("changepassword: %s is not a gokms file store", DisplayAddr(o.StoreAddr))
	}
	pw, err := o.NewPassword(ctx, st.Path())
	if err != nil {
		return err
	}
	defer zero(pw)
	if err := st.ChangePassword(pw, params); err != nil {
		return err
	}
	if o.Logger != nil {
		o.Logger.Info("changed the wallet store password", "path", st.Path(), "kdf", st.KDF().String())
	}
	return nil
}

// summary is the JSON printed at the end: counts in total and per chain
// ("BTC", "BTC (testnet)"), and with a dry run the records that would move.
// verb names the count of records written ("imported", "copied"); dryVerb
// replaces it in a dry run ("wouldImport", "wouldCopy").
func summary(rep *migrate.Report, verb, dryVerb string, dry bool, where map[string]any) Summary {
	if dry {
		verb = dryVerb
	}
	chains := map[string]map[string]int{}
	for k, v := range rep.PerChain {
		chains[k] = map[string]int{verb: v.Copied, "skipped": v.Skipped}
	}
	s := Summary{
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

func pluralY(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// zero overwrites b so a secret does not linger in memory.
func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
