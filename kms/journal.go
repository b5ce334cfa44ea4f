package kms

// The journal commands' use cases (moved from cmd/gokms/journal.go):
// `gokms journal list | show | forget` over the daemon's journal file.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/daemon/journal"
)

// JournalDefaultName is the journal file's name beside the wallet store.
const JournalDefaultName = journal.DefaultName

// JournalEntry is one journal entry as the commands print it.
type JournalEntry = journal.Entry

// ValidatePendingID refuses what cannot be a pending transaction id of the Tatum API.
func ValidatePendingID(id string) error { return daemon.ValidatePendingID(id) }

// ExpandHome expands a leading ~ to the user's home directory.
func ExpandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// besideStore is name's default path: beside the file store addr names
// (for a remote backend, beside storePath: --path or ~/.tatumrc/wallet.dat).
func besideStore(addr, storePath string, beside func(string) string) string {
	if u, err := backend.ParseAddress(addr); err == nil && u.Scheme == "file" && u.Path != "" {
		return beside(ExpandHome(u.Path))
	}
	return beside(storePath)
}

// JournalPath is flagValue (--journal), else DefaultName beside the store.
func JournalPath(flagValue, addr, storePath string) string {
	if p := strings.TrimSpace(flagValue); p != "" {
		return ExpandHome(p)
	}
	return besideStore(addr, storePath, journal.PathBeside)
}

// JournalList lists the journal's entries: those not yet complete, or all.
func JournalList(ctx context.Context, path string, all bool) ([]JournalEntry, error) {
	j, err := journal.OpenFile(path, journal.FileOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer j.Close()
	es, err := j.List(ctx, !all)
	if err != nil {
		return nil, err
	}
	if es == nil {
		es = []journal.Entry{}
	}
	return es, nil
}

// JournalShow returns the entry of one pending id.
func JournalShow(ctx context.Context, path, id string) (JournalEntry, error) {
	j, err := journal.OpenFile(path, journal.FileOptions{ReadOnly: true})
	if err != nil {
		return journal.Entry{}, err
	}
	defer j.Close()
	e, err := j.Get(ctx, id)
	if err != nil {
		return journal.Entry{}, fmt.Errorf("journal show: %w (journal %s)", err, path)
	}
	return e, nil
}

// JournalForget deletes the entry of one pending id and returns it: the
// daemon may then sign that pending id again.
func JournalForget(ctx context.Context, path, id string) (JournalEntry, error) {
	j, err := journal.OpenFile(path, journal.FileOptions{})
	if err != nil {
		return journal.Entry{}, err
	}
	defer j.Close()
	e, err := j.Get(ctx, id)
	if err != nil {
		return journal.Entry{}, fmt.Errorf("journal forget: %w (journal %s)", err, path)
	}
	if err := j.Forget(ctx, id); err != nil {
		return journal.Entry{}, fmt.Errorf("journal forget: %w", err)
	}
	return e, nil
}
