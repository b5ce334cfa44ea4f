package kms

// The data of `gokms report` and `gokms checkconfig` (moved from
// cmd/gokms/config.go and unsigned.go): computed here, printed by cmd.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/tatum"
	"github.com/gokms/gokms/wallet"
)

// OpenFunc opens the configured store (asking its password as the command would).
type OpenFunc func() (backend.SecretBackend, error)

// StoreType is tatum-kms's "Wallet store type": where the password comes
// from (pwSource as PasswordSourceName returns it).
func StoreType(pwSource string) string {
	switch pwSource {
	case "aws", "azure", "vgs":
		return strings.ToUpper(pwSource)
	}
	return "LOCAL"
}

// StoreExists reports whether the file store exists ("N/A" for other backends).
func StoreExists(addr string) (string, bool) {
	path, ok, err := file.AddressPath(addr)
	if err != nil || !ok {
		return "N/A", true
	}
	_, err = os.Stat(path)
	return fmt.Sprint(err == nil), err == nil
}

// The report's JSON shape is tatum-kms's, except nodeVersion -> goVersion.
type (
	Report struct {
		System  ReportSystem   `json:"system"`
		Wallets OrderedWallets `json:"wallets"`
		APIKey  string         `json:"apiKey"`
		// Unsignable counts stored wallets of chains gokms cannot sign (gokms only).
		Unsignable []UnsignableJSON `json:"unsignableWallets,omitempty"`
		Warnings   []string         `json:"warnings,omitempty"`
	}
	ReportSystem struct {
		KMSVersion string      `json:"kmsVersion"`
		KMSCommit  string      `json:"kmsCommit,omitempty"` // gokms only
		KMSDirty   bool        `json:"kmsDirty,omitempty"`  // gokms only
		GoVersion  string      `json:"goVersion"`
		Store      ReportStore `json:"store"`
	}
	ReportStore struct {
		Type   string `json:"type"`
		Exists bool   `json:"exists"`
	}
	ReportWallet struct {
		Type     string   `json:"type"`
		Chain    string   `json:"chain"`
		Testnet  bool     `json:"testnet"`
		Warnings []string `json:"warnings,omitempty"`
	}
)

// OrderedWallets keeps the ids in the order asked for, as tatum-kms's
// object does (encoding/json would sort a map's keys).
type OrderedWallets struct {
	ids []string
	m   map[string]ReportWallet
}

func (o *OrderedWallets) add(id string, w ReportWallet) {
	if _, dup := o.m[id]; !dup {
		o.ids = append(o.ids, id)
	}
	o.m[id] = w
}

func (o OrderedWallets) MarshalJSON() ([]byte, error) {
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

// ReportIDs accepts tatum-kms's comma-separated list as well as several arguments.
func ReportIDs(args []string) []string {
	var ids []string
	for _, a := range args {
		for _, id := range strings.Split(a, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// ReportInput is what `gokms report` needs: the store, how to open it
// (with a prompt, and quietly), the ids asked for and the build.
type ReportInput struct {
	Addr      string
	IDs       []string
	Build     tatum.Build
	StoreType string
	APIKey    string // shown masked
	Open      OpenFunc
	// QuietOpen is QuietStore's opener: without a prompt or a network
	// password source (nil store when that is not possible).
	QuietOpen func() (backend.SecretBackend, string, error)
}

// MakeReport builds the report: every id looked up and checked, warnings
// for what is missing, never a secret.
func MakeReport(ctx context.Context, in ReportInput) (Report, error) {
	ids := in.IDs
	addr := in.Addr
	_, exists := StoreExists(addr)
	rep := Report{
		System: ReportSystem{
			KMSVersion: in.Build.Version,
			KMSCommit:  in.Build.Commit,
			KMSDirty:   in.Build.Dirty,
			GoVersion:  runtime.Version(),
			Store:      ReportStore{Type: in.StoreType, Exists: exists},
		},
		Wallets: OrderedWallets{m: map[string]ReportWallet{}},
		APIKey:  maskSecret(in.APIKey),
	}
	if len(ids) > 0 && exists {
		b, err := in.Open()
		if err != nil {
			return Report{}, err
		}
		defer b.Close()
		for _, id := range ids {
			rec, err := b.Get(ctx, id)
			if errors.Is(err, backend.ErrNotFound) {
				rep.Warnings = append(rep.Warnings, "No wallet found for signatureId: "+id)
				continue
			}
			if err != nil {
				return Report{}, fmt.Errorf("report %s: %w", id, err)
			}
			rep.Wallets.add(id, CheckRecord(rec))
			rec.Zero()
		}
		if err := addUnsignable(ctx, b, &rep); err != nil {
			return Report{}, fmt.Errorf("report: %w", err)
		}
	} else {
		if err := quietUnsignable(ctx, in.QuietOpen, &rep); err != nil {
			rep.Warnings = append(rep.Warnings, "Wallets of chains gokms cannot sign were not counted: "+err.Error())
		}
		for _, id := range ids {
			rep.Warnings = append(rep.Warnings, "No wallet found for signatureId: "+id)
		}
	}
	if !exists {
		rep.Warnings = append(rep.Warnings, "Wallet store does not exist: "+DisplayAddr(addr))
	}
	return rep, nil
}

// CheckRecord validates a stored record as tatum-kms's report does, and more:
// the secret must decode for the stored chain and match the stored xpub/address.
// Warnings never quote the secret.
func CheckRecord(rec backend.Record) ReportWallet {
	rw := ReportWallet{Chain: rec.Chain, Testnet: rec.Testnet}
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

// UnsignableJSON is one entry of report's "unsignableWallets" (gokms only):
// stored wallets of a chain gokms cannot sign.
type UnsignableJSON struct {
	Chain   string `json:"chain"`
	Testnet bool   `json:"testnet"`
	Wallets int    `json:"wallets"`
}

// unsignableNote is what report and checkconfig say about such wallets.
const unsignableNote = "their pending transactions are never signed; the daemon reports each to Tatum as \"gokms cannot sign CHAIN\""

// countUnsignable lists b's records (metadata only, no secret) and counts
// those of chains gokms cannot sign.
func countUnsignable(ctx context.Context, b backend.SecretBackend) ([]daemon.ChainCount, error) {
	metas, err := b.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list wallets: %w", err)
	}
	set, closeSet, err := Signers(SignerConfig{}) // which chains are signed does not depend on the nodes
	if err != nil {
		return nil, err
	}
	defer closeSet()
	return daemon.UnsignableWallets(set, metas), nil
}

// QuietStore opens the store only if that needs neither a prompt nor a
// network password source: an existing file store with TATUM_KMS_PASSWORD
// or --password-file (checkconfig must not hang on a terminal or a cloud
// service); pwSource is PasswordSourceName's answer. A nil store says why not.
func QuietStore(addr, pwSource string, open OpenFunc) (b backend.SecretBackend, why string, err error) {
	if _, isFile, err := file.AddressPath(addr); err != nil || !isFile {
		return nil, "not counted for this backend here: run gokms report with a signatureId, or see the daemon's gokms_daemon_unsigned_wallets metric", nil
	}
	if _, exists := StoreExists(addr); !exists {
		return nil, "no wallet store", nil
	}
	switch pwSource {
	case "env", FlagPasswordFile:
	default:
		return nil, "wallet store not opened: set TATUM_KMS_PASSWORD or --password-file to count", nil
	}
	b, err = open()
	return b, "", err
}

// UnsignableLine is checkconfig's "Wallets gokms cannot sign" value.
func UnsignableLine(ctx context.Context, quietOpen func() (backend.SecretBackend, string, error)) string {
	b, why, err := quietOpen()
	if err != nil {
		return "N/A (" + err.Error() + ")"
	}
	if b == nil {
		return "N/A (" + why + ")"
	}
	defer b.Close()
	cs, err := countUnsignable(ctx, b)
	if err != nil {
		return "N/A (" + err.Error() + ")"
	}
	if len(cs) == 0 {
		return "none"
	}
	return daemon.FormatChainCounts(cs) + " (" + unsignableNote + ")"
}

// addUnsignable fills report's unsignableWallets and warning from b.
func addUnsignable(ctx context.Context, b backend.SecretBackend, rep *Report) error {
	cs, err := countUnsignable(ctx, b)
	if err != nil {
		return err
	}
	for _, x := range cs {
		rep.Unsignable = append(rep.Unsignable, UnsignableJSON{Chain: x.Chain, Testnet: x.Testnet, Wallets: x.Wallets})
	}
	if len(cs) > 0 {
		rep.Warnings = append(rep.Warnings, "Stored wallets of chains gokms cannot sign: "+daemon.FormatChainCounts(cs)+"; "+unsignableNote)
	}
	return nil
}

// quietUnsignable is addUnsignable for report without signatureIds: only
// where QuietStore opens the store.
func quietUnsignable(ctx context.Context, quietOpen func() (backend.SecretBackend, string, error), rep *Report) error {
	b, _, err := quietOpen()
	if err != nil || b == nil {
		return err
	}
	defer b.Close()
	return addUnsignable(ctx, b, rep)
}

// ConfigLine is one line of checkconfig's first part.
type ConfigLine struct{ Key, Value string }

// CheckConfigInput is what checkconfig shows besides the settings.
type CheckConfigInput struct {
	Addr        string
	Build       tatum.Build
	PasswordSrc string // PasswordSourceName
	EnvFile     string // the env file's path ("N/A" without a home)
	Testnet     bool
	Getenv      func(string) string
	QuietOpen   func() (backend.SecretBackend, string, error)
}

// CheckConfig returns checkconfig's lines: tatum-kms's first, then gokms's.
// tatum-kms prints the first six characters of passwords and most of the
// API key; gokms prints none.
func CheckConfig(ctx context.Context, in CheckConfigInput) ([]ConfigLine, error) {
	addr := in.Addr
	exists, _ := StoreExists(addr)
	path := "N/A" // not a file store
	if p, ok, err := file.AddressPath(addr); err != nil {
		return nil, err
	} else if ok {
		path = p
	}
	var l []ConfigLine
	line := func(k, v string) { l = append(l, ConfigLine{k, v}) }
	line("Version", in.Build.String())
	line("Wallet file path", path)
	line("Wallet exists", exists)
	line("Wallet store type", StoreType(in.PasswordSrc))
	line("Environment vars file", in.EnvFile)
	for _, e := range legacyEnvSettings() {
		v, _ := e.Value(nil, in.Getenv)
		line(e.Env, v)
	}
	line("Backend", DisplayAddr(addr))
	line("Password source", in.PasswordSrc)
	line("Testnet", fmt.Sprint(in.Testnet))
	line("Wallets gokms cannot sign", UnsignableLine(ctx, in.QuietOpen))
	return l, nil
}

// maskSecret is how a secret setting is shown: whether it is set, never its value.
func maskSecret(v string) string {
	if v == "" {
		return "N/A"
	}
	return "******** (set)"
}

// legacyEnvSettings is what checkconfig shows by default: the legacy
// settings (tatum-kms's variables first, in its order, then gokms's early
// ones). --all shows every setting.
func legacyEnvSettings() []Setting {
	var l []Setting
	for _, s := range settings {
		if s.Legacy && s.Env != "" {
			l = append(l, s)
		}
	}
	return l
}
