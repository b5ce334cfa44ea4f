package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/kms"
)

// unsignableJSON is one entry of report's "unsignableWallets" (gokms only):
// stored wallets of a chain gokms cannot sign.
type unsignableJSON struct {
	Chain   string `json:"chain"`
	Testnet bool   `json:"testnet"`
	Wallets int    `json:"wallets"`
}

// unsignableNote is what report and checkconfig say about such wallets.
const unsignableNote = "their pending transactions are never signed; the daemon reports each to Tatum as \"gokms cannot sign CHAIN\""

// countUnsignable lists b's records (metadata only, no secret) and counts
// those of chains gokms cannot sign.
func countUnsignable(c *cli.Context, b backend.SecretBackend) ([]daemon.ChainCount, error) {
	metas, err := b.List(c.Context)
	if err != nil {
		return nil, fmt.Errorf("list wallets: %w", err)
	}
	set, closeSet, err := kms.Signers(kms.SignerConfig{}) // which chains are signed does not depend on the nodes
	if err != nil {
		return nil, err
	}
	defer closeSet()
	return daemon.UnsignableWallets(set, metas), nil
}

// quietStore opens the store only if that needs neither a prompt nor a
// network password source: an existing file store with TATUM_KMS_PASSWORD
// or --password-file (checkconfig must not hang on a terminal or a cloud
// service). ok false says why not.
func quietStore(c *cli.Context, addr string) (b backend.SecretBackend, why string, err error) {
	if _, isFile, err := file.AddressPath(addr); err != nil || !isFile {
		return nil, "not counted for this backend here: run gokms report with a signatureId, or see the daemon's gokms_daemon_unsigned_wallets metric", nil
	}
	if _, exists := storeExists(addr); !exists {
		return nil, "no wallet store", nil
	}
	switch passwordSourceName(c) {
	case "env", flagPasswordFile:
	default:
		return nil, "wallet store not opened: set TATUM_KMS_PASSWORD or --password-file to count", nil
	}
	b, err = openBackend(c, addr, false)
	return b, "", err
}

// unsignableLine is checkconfig's "Wallets gokms cannot sign" value.
func unsignableLine(c *cli.Context, addr string) string {
	b, why, err := quietStore(c, addr)
	if err != nil {
		return "N/A (" + err.Error() + ")"
	}
	if b == nil {
		return "N/A (" + why + ")"
	}
	defer b.Close()
	cs, err := countUnsignable(c, b)
	if err != nil {
		return "N/A (" + err.Error() + ")"
	}
	if len(cs) == 0 {
		return "none"
	}
	return daemon.FormatChainCounts(cs) + " (" + unsignableNote + ")"
}

// addUnsignable fills report's unsignableWallets and warning from b.
func addUnsignable(c *cli.Context, b backend.SecretBackend, rep *reportJSON) error {
	cs, err := countUnsignable(c, b)
	if err != nil {
		return err
	}
	for _, x := range cs {
		rep.Unsignable = append(rep.Unsignable, unsignableJSON{Chain: x.Chain, Testnet: x.Testnet, Wallets: x.Wallets})
	}
	if len(cs) > 0 {
		rep.Warnings = append(rep.Warnings, "Stored wallets of chains gokms cannot sign: "+daemon.FormatChainCounts(cs)+"; "+unsignableNote)
	}
	return nil
}

// quietUnsignable is addUnsignable for report without signatureIds: only
// where quietStore opens the store.
func quietUnsignable(c *cli.Context, addr string, rep *reportJSON) error {
	b, _, err := quietStore(c, addr)
	if err != nil || b == nil {
		return err
	}
	defer b.Close()
	return addUnsignable(c, b, rep)
}
