package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/wallet"
)

// The key commands, with tatum-kms's names, arguments and JSON output shapes.
func keyCommands() []*cli.Command {
	return []*cli.Command{
		&cli.Command{
			Name:      "generatewallet",
			Usage:     "generate a wallet (mnemonic and xpub) for a blockchain and print it; nothing is stored",
			ArgsUsage: "<chain>",
			Action:    cmdGenerateWallet,
		},
		&cli.Command{
			Name:      "generatemanagedwallet",
			Usage:     "generate a wallet for a blockchain, keep it in the store and print its signatureId and xpub",
			ArgsUsage: "<chain>",
			Action:    cmdGenerateManagedWallet,
		},
		&cli.Command{
			Name:      "storemanagedwallet",
			Usage:     "store an existing mnemonic (asked for, or one line of stdin) and print its signatureId and xpub",
			ArgsUsage: "<chain>",
			Action:    cmdStoreManagedWallet,
		},
		&cli.Command{
			Name:      "storemanagedprivatekey",
			Usage:     "store an existing private key (asked for, or one line of stdin) and print its signatureId",
			ArgsUsage: "<chain>",
			Action:    cmdStoreManagedPrivateKey,
		},
		&cli.Command{
			Name:      "generatemanagedprivatekeybatch",
			Usage:     "generate <count> private keys, store them in one write, print one {signatureId, address} line per key",
			ArgsUsage: "<chain> <count>",
			Action:    cmdGenerateManagedPrivateKeyBatch,
		},
		&cli.Command{
			Name:      "getmanagedwallet",
			Usage:     "print a stored wallet or private key (with its secret)",
			ArgsUsage: "<signatureId>",
			Action:    cmdGetManagedWallet,
		},
		&cli.Command{
			Name:      "getprivatekey",
			Usage:     "print the private key of a managed wallet at a derivation index (a private-key entry: the stored key)",
			ArgsUsage: "<signatureId> <index>",
			Action:    cmdGetPrivateKey,
		},
		&cli.Command{
			Name:      "getaddress",
			Usage:     "print the address of a managed wallet at a derivation index (a private-key entry: its address)",
			ArgsUsage: "<signatureId> <index>",
			Action:    cmdGetAddress,
		},
		&cli.Command{
			Name:      "removewallet",
			Usage:     "remove a wallet or private key from the store",
			ArgsUsage: "<signatureId>",
			Action:    cmdRemoveWallet,
		},
	}
}

// needArgs checks the number of arguments and returns them.
func needArgs(c *cli.Context, names ...string) ([]string, error) {
	if c.NArg() != len(names) {
		want := "<" + strings.Join(names, "> <") + ">"
		return nil, fmt.Errorf("usage: gokms %s %s (got %d argument%s)", c.Command.Name, want, c.NArg(), plural(c.NArg()))
	}
	return c.Args().Slice(), nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// parseChain checks a chain argument against the key table.
func parseChain(s string) (string, error) { return kms.ParseChain(s) }

func parseIndex(s string) (uint32, error) {
	// wallet's errors already name the value and the allowed range.
	return wallet.ParseIndex(s)
}

// keys runs the key use cases on the configured store.
func keys(c *cli.Context) kms.Keys {
	return kms.Keys{
		Testnet:       isTestnet(c),
		NetworkStated: c.IsSet(flagTestnet),
		Open:          func(_ context.Context, create bool) (backend.SecretBackend, error) { return openBackend(c, "", create) },
		Progress:      getState(c).stderr,
	}
}

// The JSON shapes tatum-kms prints. Field order is part of the shape.
type (
	signatureIDJSON struct {
		SignatureID string `json:"signatureId"`
	}
	// storedJSON is storeWallet's {signatureId, address?, xpub?}.
	storedJSON struct {
		SignatureID string `json:"signatureId"`
		Address     string `json:"address,omitempty"`
		Xpub        string `json:"xpub,omitempty"`
	}
	signatureIDAddressJSON struct {
		SignatureID string `json:"signatureId"`
		Address     string `json:"address"`
	}
	privateKeyJSON struct {
		PrivateKey string `json:"privateKey"`
	}
	addressJSON struct {
		Address string `json:"address"`
	}
)

func cmdGenerateWallet(c *cli.Context) error {
	args, err := needArgs(c, "chain")
	if err != nil {
		return err
	}
	ch, err := parseChain(args[0])
	if err != nil {
		return err
	}
	out, err := keys(c).GenerateWallet(ch)
	if err != nil {
		return err
	}
	defer zero(out)
	text := append(out, '\n')
	defer zero(text)
	_, err = c.App.Writer.Write(text)
	return err
}

func cmdGenerateManagedWallet(c *cli.Context) error {
	args, err := needArgs(c, "chain")
	if err != nil {
		return err
	}
	ch, err := parseChain(args[0])
	if err != nil {
		return err
	}
	st, err := keys(c).GenerateManagedWallet(c.Context, ch)
	if err != nil {
		return err
	}
	return printJSON(c, storedJSON(st))
}

func cmdStoreManagedWallet(c *cli.Context) error {
	args, err := needArgs(c, "chain")
	if err != nil {
		return err
	}
	ch, err := parseChain(args[0])
	if err != nil {
		return err
	}
	// A chain whose wallets have no mnemonic is refused before one is asked for.
	if err := kms.TakesMnemonic(ch); err != nil {
		return err
	}
	raw, err := readSecretInput(c, "Enter mnemonic to store: ")
	if err != nil {
		return fmt.Errorf("read mnemonic: %w", err)
	}
	// Canonical form (lower case, single spaces): a stray double space from
	// a paste must not become a different seed (BIP39 hashes the sentence).
	mnemonic := wallet.NormalizeMnemonic(string(raw))
	changed := mnemonic != string(raw)
	zero(raw)
	if changed {
		// Never the words themselves: only that they changed, and why it matters.
		fmt.Fprintln(getState(c).stderr, "notice: the mnemonic was normalised (lower case, single spaces between words) before use; "+
			"tatum-kms derives keys from the words exactly as typed, so for this input its xpub and addresses differ from gokms's")
	}
	st, err := keys(c).StoreManagedWallet(c.Context, ch, mnemonic)
	if err != nil {
		return err
	}
	return printJSON(c, storedJSON(st))
}

func cmdStoreManagedPrivateKey(c *cli.Context) error {
	args, err := needArgs(c, "chain")
	if err != nil {
		return err
	}
	ch, err := parseChain(args[0])
	if err != nil {
		return err
	}
	raw, err := readSecretInput(c, "Enter private key to store: ")
	if err != nil {
		return fmt.Errorf("read private key: %w", err)
	}
	defer zero(raw)
	id, err := keys(c).StoreManagedPrivateKey(c.Context, ch, raw)
	if err != nil {
		return err
	}
	return printJSON(c, signatureIDJSON{SignatureID: id})
}

func cmdGenerateManagedPrivateKeyBatch(c *cli.Context) error {
	args, err := needArgs(c, "chain", "count")
	if err != nil {
		return err
	}
	ch, err := parseChain(args[0])
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 || n > kms.MaxBatch {
		return fmt.Errorf("count %q: want a whole number from 1 to %d", args[1], kms.MaxBatch)
	}
	stored, err := keys(c).GenerateManagedPrivateKeyBatch(c.Context, ch, n)
	if err != nil {
		return err
	}
	for _, r := range stored {
		if err := printJSONLine(c, signatureIDAddressJSON{SignatureID: r.SignatureID, Address: r.Address}); err != nil {
			return err
		}
	}
	return nil
}

func cmdGetManagedWallet(c *cli.Context) error {
	args, err := needArgs(c, "signatureId")
	if err != nil {
		return err
	}
	obj, err := keys(c).StoredEntry(c.Context, args[0])
	if err != nil {
		return err
	}
	defer zero(obj)
	text := append(obj, '\n')
	defer zero(text) // a new array if append grew it
	if _, err := c.App.Writer.Write(text); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// idAndIndex reads the <signatureId> <index> arguments: the index is
// checked before the store is opened, so a bad one costs no password.
func idAndIndex(c *cli.Context) (string, uint32, error) {
	args, err := needArgs(c, "signatureId", "index")
	if err != nil {
		return "", 0, err
	}
	idx, err := parseIndex(args[1])
	return args[0], idx, err
}

func cmdGetPrivateKey(c *cli.Context) error {
	id, idx, err := idAndIndex(c)
	if err != nil {
		return err
	}
	pk, err := keys(c).PrivateKey(c.Context, id, idx)
	if err != nil {
		return err
	}
	return printJSON(c, privateKeyJSON{PrivateKey: pk})
}

func cmdGetAddress(c *cli.Context) error {
	id, idx, err := idAndIndex(c)
	if err != nil {
		return err
	}
	addr, err := keys(c).Address(c.Context, id, idx)
	if err != nil {
		return err
	}
	return printJSON(c, addressJSON{Address: addr})
}

func cmdRemoveWallet(c *cli.Context) error {
	args, err := needArgs(c, "signatureId")
	if err != nil {
		return err
	}
	return keys(c).Remove(c.Context, args[0])
}
