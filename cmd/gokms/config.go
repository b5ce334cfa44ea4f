package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/kms"
	"github.com/gokms/gokms/wallet"
)

func configCommands() []*cli.Command {
	return []*cli.Command{
		&cli.Command{
			Name:   "checkconfig",
			Usage:  "show the configuration gokms would use (secret values are masked)",
			Flags:  []cli.Flag{&cli.BoolFlag{Name: "all", Usage: "then list every setting gokms reads, with its source (flag, env or unset)"}},
			Action: cmdCheckConfig,
		},
		&cli.Command{
			Name:      "report",
			Usage:     "JSON report of the system and of the given wallets, with warnings",
			ArgsUsage: "<signatureId>[,<signatureId>...] ...",
			Action:    cmdReport,
		},
	}
}

// configEnvs is what checkconfig shows by default: the legacy settings of
// kms.Settings (tatum-kms's variables first, in its order, then gokms's
// early ones). tatum-kms prints the first six characters of passwords and
// most of the API key; gokms prints none. --all shows every setting.
func configEnvs() []kms.Setting {
	var l []kms.Setting
	for _, s := range kms.Settings() {
		if s.Legacy && s.Env != "" {
			l = append(l, s)
		}
	}
	return l
}

// storeType is tatum-kms's "Wallet store type": where the password comes from.
func storeType(c *cli.Context) string {
	switch src := passwordSourceName(c); src {
	case "aws", "azure", "vgs":
		return strings.ToUpper(src)
	}
	return "LOCAL"
}

func envFilePath(c *cli.Context) string {
	if p := c.String(flagEnvFile); p != "" {
		return expandHome(p)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "N/A"
	}
	return home + "/.tatumrc/.env"
}

// storeExists reports whether the file store exists ("N/A" for other backends).
func storeExists(addr string) (string, bool) {
	path, ok, err := file.AddressPath(addr)
	if err != nil || !ok {
		return "N/A", true
	}
	_, err = os.Stat(path)
	return fmt.Sprint(err == nil), err == nil
}

func cmdCheckConfig(c *cli.Context) error {
	if c.NArg() != 0 {
		return fmt.Errorf("usage: gokms checkconfig (takes no arguments)")
	}
	if err := checkStoreFlags(c); err != nil {
		return err
	}
	addr := backendAddr(c)
	exists, _ := storeExists(addr)
	path := "N/A" // not a file store
	if p, ok, err := file.AddressPath(addr); err != nil {
		return err
	} else if ok {
		path = p
	}
	w := c.App.Writer
	line := func(k, v string) { fmt.Fprintf(w, "%-33s: %s\n", k, v) }
	line("Version", gokmsBuild().String())
	line("Wallet file path", path)
	line("Wallet exists", exists)
	line("Wallet store type", storeType(c))
	line("Environment vars file", envFilePath(c))
	for _, e := range configEnvs() {
		v, _ := e.Value(nil, os.Getenv)
		line(e.Env, v)
	}
	line("Backend", displayAddr(addr))
	line("Password source", passwordSourceName(c))
	line("Testnet", fmt.Sprint(isTestnet(c)))
	line("Wallets gokms cannot sign", unsignableLine(c, addr))
	if !c.Bool("all") {
		return nil
	}
	fmt.Fprintln(w)
	flag := func(name string) (string, bool) {
		if !c.IsSet(name) {
			return "", false
		}
		return fmt.Sprint(c.Value(name)), true
	}
	return kms.WriteSettings(w, os.Environ(), flag, os.Getenv)
}

// The report's JSON shape is tatum-kms's, except nodeVersion -> goVersion.
type (
	reportJSON struct {
		System  reportSystem   `json:"system"`
		Wallets orderedWallets `json:"wallets"`
		APIKey  string         `json:"apiKey"`
		// Unsignable counts stored wallets of chains gokms cannot sign (gokms only).
		Unsignable []unsignableJSON `json:"unsignableWallets,omitempty"`
		Warnings   []string         `json:"warnings,omitempty"`
	}
	reportSystem struct {
		KMSVersion string      `json:"kmsVersion"`
		KMSCommit  string      `json:"kmsCommit,omitempty"` // gokms only
		KMSDirty   bool        `json:"kmsDirty,omitempty"`  // gokms only
		GoVersion  string      `json:"goVersion"`
		Store      reportStore `json:"store"`
	}
	reportStore struct {
		Type   string `json:"type"`
		Exists bool   `json:"exists"`
	}
	reportWallet struct {
		Type     string   `json:"type"`
		Chain    string   `json:"chain"`
		Testnet  bool     `json:"testnet"`
		Warnings []string `json:"warnings,omitempty"`
	}
)

// orderedWallets keeps the ids in the order asked for, as tatum-kms's
// object does (encoding/json would sort a map's keys).
type orderedWallets struct {
	ids []string
	m   map[string]reportWallet
}

func (o *orderedWallets) add(id string, w reportWallet) {
	if _, dup := o.m[id]; !dup {
		o.ids = append(o.ids, id)
	}
	o.m[id] = w
}

func (o orderedWallets) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, id := range o.ids {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(id)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(o.m[id])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// reportIDs accepts tatum-kms's comma-separated list as well as several arguments.
func reportIDs(c *cli.Context) []string {
	var ids []string
	for _, a := range c.Args().Slice() {
		for _, id := range strings.Split(a, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func cmdReport(c *cli.Context) error {
	if err := checkStoreFlags(c); err != nil {
		return err
	}
	ids := reportIDs(c)
	addr := backendAddr(c)
	_, exists := storeExists(addr)
	rep := reportJSON{
		System: reportSystem{
			KMSVersion: gokmsVersion(),
			KMSCommit:  gokmsBuild().Commit,
			KMSDirty:   gokmsBuild().Dirty,
			GoVersion:  runtime.Version(),
			Store:      reportStore{Type: storeType(c), Exists: exists},
		},
		Wallets: orderedWallets{m: map[string]reportWallet{}},
		APIKey:  func() string { v, _ := (kms.Setting{Env: envAPIKey, Secret: true}).Value(nil, os.Getenv); return v }(),
	}
	if len(ids) > 0 && exists {
		b, err := openBackend(c, addr, false)
		if err != nil {
			return err
		}
		defer b.Close()
		for _, id := range ids {
			rec, err := b.Get(c.Context, id)
			if errors.Is(err, backend.ErrNotFound) {
				rep.Warnings = append(rep.Warnings, "No wallet found for signatureId: "+id)
				continue
			}
			if err != nil {
				return fmt.Errorf("report %s: %w", id, err)
			}
			rep.Wallets.add(id, checkRecord(rec))
			rec.Zero()
		}
		if err := addUnsignable(c, b, &rep); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	} else {
		if err := quietUnsignable(c, addr, &rep); err != nil {
			rep.Warnings = append(rep.Warnings, "Wallets of chains gokms cannot sign were not counted: "+err.Error())
		}
		for _, id := range ids {
			rep.Warnings = append(rep.Warnings, "No wallet found for signatureId: "+id)
		}
	}
	if !exists {
		rep.Warnings = append(rep.Warnings, "Wallet store does not exist: "+displayAddr(addr))
	}
	return printJSON(c, rep)
}

// checkRecord validates a stored record as tatum-kms's report does, and more:
// the secret must decode for the stored chain and match the stored xpub/address.
// Warnings never quote the secret.
func checkRecord(rec backend.Record) reportWallet {
	rw := reportWallet{Chain: rec.Chain, Testnet: rec.Testnet}
	warn := func(format string, a ...any) { rw.Warnings = append(rw.Warnings, fmt.Sprintf(format, a...)) }
	ch, chErr := wallet.ParseChain(rec.Chain)
	if chErr != nil {
		warn("Field 'chain' is not a supported blockchain: %q", rec.Chain)
	}
	switch rec.Kind {
	case backend.Mnemonic:
		rw.Type = "MNEMONIC"
		m := string(rec.Secret)
		if err := wallet.ValidateMnemonic(m); err != nil {
			warn("Field 'mnemonic' is not a valid BIP39 mnemonic")
		}
		if rec.Xpub == "" {
			warn("Field 'xpub' is empty")
		} else if chErr == nil {
			if w, err := wallet.WalletFromMnemonic(ch, m, rec.Testnet); err == nil && w.Xpub != rec.Xpub {
				warn("Field 'xpub' does not match the mnemonic")
			}
		}
	case backend.PrivateKey:
		rw.Type = "PRIVATE_KEY"
		if chErr == nil {
			if _, err := wallet.DecodePrivateKey(ch, string(rec.Secret), rec.Testnet); err != nil {
				warn("Field 'privateKey' is not a valid %s private key", rec.Chain)
			}
		}
	default:
		rw.Type = "OTHER"
		warn("Wallet type is not recognized. Mnemonic, privateKey or secret are absent")
	}
	return rw
}
