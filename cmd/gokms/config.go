package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/kms"
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

// storeType is tatum-kms's "Wallet store type": where the password comes from.
func storeType(c *cli.Context) string { return kms.StoreType(passwordSourceName(c)) }

// quietOpener opens the store at addr for checkconfig and report only
// where that needs no prompt (kms.QuietStore).
func quietOpener(c *cli.Context, addr string) func() (backend.SecretBackend, string, error) {
	return func() (backend.SecretBackend, string, error) {
		return kms.QuietStore(addr, passwordSourceName(c), func() (backend.SecretBackend, error) { return openBackend(c, addr, false) })
	}
}

func cmdCheckConfig(c *cli.Context) error {
	if c.NArg() != 0 {
		return fmt.Errorf("usage: gokms checkconfig (takes no arguments)")
	}
	if err := checkStoreFlags(c); err != nil {
		return err
	}
	addr := backendAddr(c)
	lines, err := kms.CheckConfig(c.Context, kms.CheckConfigInput{
		Addr:        addr,
		Build:       gokmsBuild(),
		PasswordSrc: passwordSourceName(c),
		EnvFile:     config(c).EnvFile,
		Testnet:     isTestnet(c),
		Getenv:      config(c).Getenv,
		QuietOpen:   quietOpener(c, addr),
	})
	if err != nil {
		return err
	}
	w := c.App.Writer
	for _, l := range lines {
		fmt.Fprintf(w, "%-33s: %s\n", l.Key, l.Value)
	}
	if !c.Bool("all") {
		return nil
	}
	fmt.Fprintln(w)
	return config(c).WriteAll(w)
}

func cmdReport(c *cli.Context) error {
	if err := checkStoreFlags(c); err != nil {
		return err
	}
	addr := backendAddr(c)
	rep, err := kms.MakeReport(c.Context, kms.ReportInput{
		Addr:      addr,
		IDs:       kms.ReportIDs(c.Args().Slice()),
		Build:     gokmsBuild(),
		StoreType: storeType(c),
		APIKey:    config(c).Getenv(envAPIKey), // as set (masked), after --apiKey became the variable
		Open:      func() (backend.SecretBackend, error) { return openBackend(c, addr, false) },
		QuietOpen: quietOpener(c, addr),
	})
	if err != nil {
		return err
	}
	return printJSON(c, rep)
}
