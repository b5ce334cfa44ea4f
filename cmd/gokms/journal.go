package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/kms"
)

const (
	flagJournal = "journal"
	flagAll     = "all"
	flagYes     = "yes"
)

var journalCmd = &cli.Command{
	Name:      "journal",
	Usage:     "inspect the daemon's journal of signed transactions: journal list | show <id> | forget <id>",
	ArgsUsage: "list | show <pending id> | forget <pending id>",
	Description: "The daemon journals every pending transaction it signs, before broadcasting it, so that it never signs\n" +
		"one twice. `list` prints the entries not yet complete (--all: every entry), `show` one entry, and `forget`\n" +
		"deletes one (with --yes): the daemon may then sign that pending id again. Stop the daemon first: it holds the\n" +
		"journal locked. See docs/daemon.md.",
	Action: cmdJournal,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: flagJournal, Usage: "journal file (default " + kms.JournalDefaultName + " beside the wallet store)"},
		&cli.BoolFlag{Name: flagAll, Usage: "list: include completed entries"},
		&cli.BoolFlag{Name: flagYes, Usage: "forget: confirm that the entry is to be deleted"},
	},
}

func journalCommands() []*cli.Command {
	return []*cli.Command{journalCmd}
}

// journalPath is --journal, else DefaultName beside the file store (for a
// remote backend, beside --path or the default ~/.tatumrc/wallet.dat).
func journalPath(c *cli.Context) string {
	return kms.JournalPath(c.String(flagJournal), backendAddr(c), storePath(c))
}

// journalView is an entry as the CLI prints it.
type journalView struct {
	kms.JournalEntry
}

func cmdJournal(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return errors.New("journal: want a subcommand: journal list | show <pending id> | forget <pending id> --yes")
	}
	sub, rest := args[0], args[1:]
	needID := func() (string, error) {
		if len(rest) != 1 {
			return "", fmt.Errorf("journal %s: want exactly one pending transaction id, e.g. gokms journal %s 61fe7c68cf2fbc595cbb89dd", sub, sub)
		}
		if err := kms.ValidatePendingID(rest[0]); err != nil {
			return "", fmt.Errorf("journal %s: %w", sub, err)
		}
		return rest[0], nil
	}
	path := journalPath(c)
	switch sub {
	case "list":
		if len(rest) != 0 {
			return fmt.Errorf("journal list takes no arguments (got %q)", strings.Join(rest, " "))
		}
		es, err := kms.JournalList(c.Context, path, c.Bool(flagAll))
		if err != nil {
			return err
		}
		return printJSON(c, es)
	case "show":
		id, err := needID()
		if err != nil {
			return err
		}
		e, err := kms.JournalShow(c.Context, path, id)
		if err != nil {
			return err
		}
		return printJSON(c, journalView{e})
	case "forget":
		id, err := needID()
		if err != nil {
			return err
		}
		if !c.Bool(flagYes) {
			return fmt.Errorf("journal forget %s: add --yes to confirm. Once forgotten, the daemon signs this pending id again if Tatum lists it: "+
				"check first (gokms journal show %s, and the chain) that its transaction is not on chain, or it may be paid twice", id, id)
		}
		e, err := kms.JournalForget(c.Context, path, id)
		if err != nil {
			return err
		}
		logger(c).Warn("journal entry forgotten", "id", id, "chain", e.Chain, "state", string(e.State), "txId", e.TxID)
		return printJSON(c, journalView{e})
	}
	return fmt.Errorf("journal %q: want list, show or forget", sub)
}
