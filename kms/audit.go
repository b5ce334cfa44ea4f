package kms

// The audit commands' use cases (moved from cmd/gokms/audit.go):
// `gokms audit verify` and `gokms audit list`.

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gokms/gokms/daemon/audit"
	"github.com/gokms/gokms/daemon/journal/pgjournal"
)

// AuditDefaultName is the audit log's file name beside the wallet store.
const AuditDefaultName = audit.DefaultName

// AuditFilter selects audit entries (`audit list --since --chain --wallet --id`).
type AuditFilter = audit.Filter

// AuditEntry is one entry of the audit log.
type AuditEntry = audit.Entry

// AuditBeside is the default audit log: DefaultName beside the file store
// (for a remote backend, beside storePath: --path or ~/.tatumrc/wallet.dat).
func AuditBeside(addr, storePath string) string {
	return besideStore(addr, storePath, audit.PathBeside)
}

// AuditPath is flagValue (--audit), else AuditBeside.
func AuditPath(flagValue, addr, storePath string) string {
	if p := strings.TrimSpace(flagValue); p != "" {
		return ExpandHome(p)
	}
	return AuditBeside(addr, storePath)
}

// AuditVerify checks the log's hash chain and names any edited, removed or
// reordered entry.
func AuditVerify(path string) (*audit.Report, error) { return audit.Verify(path) }

// AuditList returns the entries f selects, oldest first (never nil).
func AuditList(path string, f AuditFilter) ([]AuditEntry, error) {
	es, err := audit.List(path, f)
	if err != nil {
		return nil, err
	}
	if es == nil {
		es = []audit.Entry{}
	}
	return es, nil
}

// AuditSource is where `audit verify|list` read: with a PostgreSQL state
// (StateDSN, from --state or GOKMS_STATE) and no --audit file, the state's
// table, one chain for every daemon sharing it; else the File.
type AuditSource struct {
	File     string // AuditPath's answer
	StateDSN string // "" for none
	FileSet  bool   // --audit was given: the file, even with a state
	Logger   *slog.Logger
}

func (s AuditSource) state() bool { return s.StateDSN != "" && !s.FileSet }

func (s AuditSource) open(ctx context.Context) (*pgjournal.Journal, error) {
	return pgjournal.Open(ctx, s.StateDSN, pgjournal.Options{NoMigrate: true, Logger: s.Logger, RetryFor: 10 * time.Second})
}

// AuditVerifyFrom checks the trail of src; where names it for messages.
func AuditVerifyFrom(ctx context.Context, src AuditSource) (r *audit.Report, where string, err error) {
	if !src.state() {
		r, err := audit.Verify(src.File)
		return r, src.File, err
	}
	j, err := src.open(ctx)
	if err != nil {
		return nil, "", err
	}
	defer j.Close()
	r, err = j.VerifyAudit(ctx)
	return r, "audit trail in " + j.DSN(), err
}

// AuditListFrom returns the entries of src that f selects, oldest first
// (never nil).
func AuditListFrom(ctx context.Context, src AuditSource, f AuditFilter) ([]AuditEntry, error) {
	if !src.state() {
		return AuditList(src.File, f)
	}
	j, err := src.open(ctx)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	es, err := j.ListAudit(ctx, f)
	if err != nil {
		return nil, err
	}
	if es == nil {
		es = []audit.Entry{}
	}
	return es, nil
}
