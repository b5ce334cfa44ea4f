package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend"
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

func parseChain(s string) (wallet.Chain, error) {
	ch, err := wallet.ParseChain(s)
	if err != nil {
		return ch, fmt.Errorf("%w (chain %q)", err, s)
	}
	return ch, nil
}

func parseIndex(s string) (uint32, error) {
	// wallet's errors already name the value and the allowed range.
	return wallet.ParseIndex(s)
}

// newSignatureID returns a random (version 4) UUID, as tatum-kms.
func newSignatureID() (string, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("generate signatureId: %w", err)
	}
	return id.String(), nil
}

// noSuchWallet is tatum-kms's message for an unknown signatureId.
func noSuchWallet(id string, err error) error {
	if errors.Is(err, backend.ErrNotFound) {
		return fmt.Errorf("No such wallet for signatureId '%s'.", id)
	}
	return err
}

// The JSON shapes tatum-kms prints. Field order is part of the shape.
type (
	// The SDKs behind UTXO chains and TRON return {mnemonic, xpub}, the
	// EVM ones {xpub, mnemonic} (wallet.XpubFirst); tatum-kms stores and
	// prints them in that order.
	storedWalletJSON struct {
		Mnemonic string `json:"mnemonic"`
		Xpub     string `json:"xpub"`
		Chain    string `json:"chain"`
		Testnet  bool   `json:"testnet"`
	}
	evmStoredWalletJSON struct {
		Xpub     string `json:"xpub"`
		Mnemonic string `json:"mnemonic"`
		Chain    string `json:"chain"`
		Testnet  bool   `json:"testnet"`
	}
	storedKeyJSON struct {
		PrivateKey string `json:"privateKey"`
		Chain      string `json:"chain"`
		Testnet    bool   `json:"testnet"`
	}
	signatureIDJSON struct {
		SignatureID string `json:"signatureId"`
	}
	signatureIDXpubJSON struct {
		SignatureID string `json:"signatureId"`
		Xpub        string `json:"xpub"`
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
	w, err := wallet.GenerateWallet(ch, isTestnet(c))
	if err != nil {
		return fmt.Errorf("generate wallet: %w", err)
	}
	out, err := wallet.MarshalWallet(ch, w, "  ")
	if err != nil {
		return fmt.Errorf("generate wallet: %w", err)
	}
	_, err = c.App.Writer.Write(append(out, '\n'))
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
	b, err := openBackend(c, "", true)
	if err != nil {
		return err
	}
	defer b.Close()
	w, err := wallet.GenerateWallet(ch, isTestnet(c))
	if err != nil {
		return fmt.Errorf("generate wallet: %w", err)
	}
	return putWallet(c, b, ch, w)
}

// putWallet stores a mnemonic wallet and prints {signatureId, xpub}.
func putWallet(c *cli.Context, b backend.SecretBackend, ch wallet.Chain, w wallet.Wallet) error {
	id, err := newSignatureID()
	if err != nil {
		return err
	}
	rec := backend.Record{
		ID: id, Kind: backend.Mnemonic, Chain: string(ch), Testnet: isTestnet(c),
		Secret: []byte(w.Mnemonic), Xpub: w.Xpub,
	}
	defer rec.Zero()
	if err := b.Put(c.Context, rec); err != nil {
		return fmt.Errorf("store wallet: %w", err)
	}
	return printJSON(c, signatureIDXpubJSON{SignatureID: id, Xpub: w.Xpub})
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
	if err := wallet.ValidateMnemonic(mnemonic); err != nil {
		return fmt.Errorf("mnemonic: %w", err)
	}
	w, err := wallet.WalletFromMnemonic(ch, mnemonic, isTestnet(c))
	if err != nil {
		return fmt.Errorf("mnemonic: %w", err)
	}
	b, err := openBackend(c, "", true)
	if err != nil {
		return err
	}
	defer b.Close()
	return putWallet(c, b, ch, w)
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
	pk := string(raw)
	if _, err := wallet.DecodePrivateKey(ch, pk, isTestnet(c)); err != nil {
		return fmt.Errorf("private key: %w", err)
	}
	addr, err := wallet.AddressFromPrivateKey(ch, pk, isTestnet(c))
	if err != nil {
		return fmt.Errorf("private key: %w", err)
	}
	id, err := newSignatureID()
	if err != nil {
		return err
	}
	b, err := openBackend(c, "", true)
	if err != nil {
		return err
	}
	defer b.Close()
	rec := backend.Record{
		ID: id, Kind: backend.PrivateKey, Chain: string(ch), Testnet: isTestnet(c),
		Secret: raw, Address: addr,
	}
	if err := b.Put(c.Context, rec); err != nil {
		return fmt.Errorf("store private key: %w", err)
	}
	return printJSON(c, signatureIDJSON{SignatureID: id})
}

// maxBatch bounds generatemanagedprivatekeybatch: the whole batch is held
// in memory and written once.
const maxBatch = 1_000_000

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
	if err != nil || n < 1 || n > maxBatch {
		return fmt.Errorf("count %q: want a whole number from 1 to %d", args[1], maxBatch)
	}
	b, err := openBackend(c, "", true)
	if err != nil {
		return err
	}
	defer b.Close()

	testnet := isTestnet(c)
	st := getState(c)
	recs := make([]backend.Record, 0, n)
	defer func() {
		for i := range recs {
			recs[i].Zero()
		}
	}()
	step := max(n/10, 1)
	for i := 0; i < n; i++ {
		if err := c.Context.Err(); err != nil {
			return fmt.Errorf("interrupted after generating %d of %d keys; nothing was stored", i, n)
		}
		pk, addr, err := batchKey(ch, testnet)
		if err != nil {
			return fmt.Errorf("generate key %d of %d: %w", i+1, n, err)
		}
		id, err := newSignatureID()
		if err != nil {
			return err
		}
		recs = append(recs, backend.Record{
			ID: id, Kind: backend.PrivateKey, Chain: string(ch), Testnet: testnet,
			Secret: []byte(pk), Address: addr,
		})
		if (i+1)%step == 0 || i+1 == n {
			fmt.Fprintf(st.stderr, "generated %d/%d keys\n", i+1, n)
		}
	}
	fmt.Fprintf(st.stderr, "storing %d keys in one write\n", n)
	if err := backend.PutAll(c.Context, b, recs); err != nil {
		return fmt.Errorf("store %d keys: %w", n, err)
	}
	// Printed only once every key is durable, so a printed id is a stored id.
	for _, r := range recs {
		if err := printJSONLine(c, signatureIDAddressJSON{SignatureID: r.ID, Address: r.Address}); err != nil {
			return err
		}
	}
	return nil
}

// batchKey makes one key for generatemanagedprivatekeybatch and the address
// tatum-kms prints beside it: the xpub-style address (BTC: bech32 P2WPKH).
// tatum-kms derives each key from a fresh mnemonic; a random key from
// crypto/rand has the same distribution without 2048 PBKDF2 rounds per key.
func batchKey(ch wallet.Chain, testnet bool) (pk, addr string, err error) {
	return wallet.GenerateManagedPrivateKey(ch, testnet)
}

// getRecord opens the store and fetches one record; the caller zeroes it.
func getRecord(c *cli.Context, id string) (backend.Record, error) {
	b, err := openBackend(c, "", false)
	if err != nil {
		return backend.Record{}, err
	}
	defer b.Close()
	rec, err := b.Get(c.Context, id)
	if err != nil {
		return backend.Record{}, noSuchWallet(id, err)
	}
	return rec, nil
}

// recordChain parses the chain a record was stored for.
func recordChain(rec backend.Record) (wallet.Chain, error) {
	ch, err := wallet.ParseChain(rec.Chain)
	if err != nil {
		return ch, fmt.Errorf("wallet %s: stored chain %q: %w", rec.ID, rec.Chain, err)
	}
	return ch, nil
}

func cmdGetManagedWallet(c *cli.Context) error {
	args, err := needArgs(c, "signatureId")
	if err != nil {
		return err
	}
	rec, err := getRecord(c, args[0])
	if err != nil {
		return err
	}
	defer rec.Zero()
	switch rec.Kind {
	case backend.Mnemonic:
		if ch, err := wallet.ParseChain(rec.Chain); err == nil && wallet.XpubFirst(ch) {
			return printJSON(c, evmStoredWalletJSON{Xpub: rec.Xpub, Mnemonic: string(rec.Secret), Chain: rec.Chain, Testnet: rec.Testnet})
		}
		return printJSON(c, storedWalletJSON{Mnemonic: string(rec.Secret), Xpub: rec.Xpub, Chain: rec.Chain, Testnet: rec.Testnet})
	case backend.PrivateKey:
		return printJSON(c, storedKeyJSON{PrivateKey: string(rec.Secret), Chain: rec.Chain, Testnet: rec.Testnet})
	}
	return fmt.Errorf("wallet %s: unknown kind %q", rec.ID, rec.Kind)
}

// recordAndIndex reads the <signatureId> <index> arguments: the index is
// checked before the store is opened, so a bad one costs no password.
func recordAndIndex(c *cli.Context) (backend.Record, uint32, error) {
	args, err := needArgs(c, "signatureId", "index")
	if err != nil {
		return backend.Record{}, 0, err
	}
	idx, err := parseIndex(args[1])
	if err != nil {
		return backend.Record{}, 0, err
	}
	rec, err := getRecord(c, args[0])
	return rec, idx, err
}

func cmdGetPrivateKey(c *cli.Context) error {
	rec, idx, err := recordAndIndex(c)
	if err != nil {
		return err
	}
	defer rec.Zero()
	switch rec.Kind {
	case backend.PrivateKey:
		// tatum-kms derives from an undefined mnemonic here; the stored key is the answer.
		return printJSON(c, privateKeyJSON{PrivateKey: string(rec.Secret)})
	case backend.Mnemonic:
		ch, err := recordChain(rec)
		if err != nil {
			return err
		}
		pk, err := wallet.PrivateKeyFromMnemonic(ch, string(rec.Secret), idx, rec.Testnet)
		if err != nil {
			return fmt.Errorf("wallet %s: derive private key %d: %w", rec.ID, idx, err)
		}
		return printJSON(c, privateKeyJSON{PrivateKey: pk})
	}
	return fmt.Errorf("wallet %s: unknown kind %q", rec.ID, rec.Kind)
}

func cmdGetAddress(c *cli.Context) error {
	rec, idx, err := recordAndIndex(c)
	if err != nil {
		return err
	}
	defer rec.Zero()
	ch, err := recordChain(rec)
	if err != nil {
		return err
	}
	switch rec.Kind {
	case backend.PrivateKey:
		// tatum-kms derives from an undefined xpub here; the key's own address is the answer.
		addr := rec.Address
		if addr == "" {
			if addr, err = wallet.AddressFromPrivateKey(ch, string(rec.Secret), rec.Testnet); err != nil {
				return fmt.Errorf("wallet %s: address of the stored key: %w", rec.ID, err)
			}
		}
		return printJSON(c, addressJSON{Address: addr})
	case backend.Mnemonic:
		addr, err := wallet.AddressFromXpub(ch, rec.Xpub, idx, rec.Testnet)
		if err != nil {
			return fmt.Errorf("wallet %s: address %d: %w", rec.ID, idx, err)
		}
		return printJSON(c, addressJSON{Address: addr})
	}
	return fmt.Errorf("wallet %s: unknown kind %q", rec.ID, rec.Kind)
}

func cmdRemoveWallet(c *cli.Context) error {
	args, err := needArgs(c, "signatureId")
	if err != nil {
		return err
	}
	b, err := openBackend(c, "", false)
	if err != nil {
		return err
	}
	defer b.Close()
	if err := b.Delete(c.Context, args[0]); err != nil {
		return noSuchWallet(args[0], err)
	}
	return nil
}
