package kms

// The audit commands' use cases (moved from cmd/gokms/audit.go):
// `gokms audit verify` and `gokms audit list`.

import (
	"strings"

	"github.com/gokms/gokms/daemon/audit"
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
