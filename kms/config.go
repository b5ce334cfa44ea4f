package kms

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gokms/gokms/pwsource"
)

// Names of settings the use cases' messages name (cmd defines the flags).
const (
	FlagPasswordFile = "password-file"
	FlagJournal      = "journal"
	FlagState        = "state"
	EnvState         = "GOKMS_STATE"
	EnvAPIKey        = "TATUM_API_KEY"
	EnvAPIURL        = "TATUM_API_URL"
)

// Setting is one input of gokms's configuration: an environment variable, a
// global flag, or both (the flag wins). The list below is the one place that
// names them all; a test holds it complete against every variable name the
// code reads.
type Setting struct {
	Env  string // environment variable, "" if flag only
	Flag string // global flag without dashes, "" if environment only
	// Secret values are never shown, only whether they are set.
	Secret bool
	// Prefix: Env is a prefix followed by a chain code (TATUM_KMS_RPC_ETH).
	Prefix bool
	// Legacy settings are the ones checkconfig has always shown (tatum-kms's
	// first, in its order, then gokms's early ones), in this order.
	Legacy bool
	Reader string // the package that reads it
	About  string
}

// Value is the setting's value as checkconfig shows it (a secret only as
// set) and where it came from: "flag --x", "env" or "unset". flag reports a
// global flag's value and whether it was given.
func (s Setting) Value(flag func(name string) (string, bool), getenv func(string) string) (value, source string) {
	mask := func(v string) string {
		switch {
		case v == "":
			return "N/A"
		case s.Secret:
			return "******** (set)"
		}
		return v
	}
	if s.Flag != "" && flag != nil {
		if v, ok := flag(s.Flag); ok {
			return mask(v), "flag --" + s.Flag
		}
	}
	if s.Env != "" && !s.Prefix {
		if v := getenv(s.Env); v != "" {
			return mask(v), "env"
		}
	}
	return "N/A", "unset"
}

// Settings returns every setting, the legacy ones first in checkconfig's order.
func Settings() []Setting { return append([]Setting(nil), settings...) }

var settings = []Setting{
	// tatum-kms's variables, in its checkconfig order.
	{Env: "TATUM_API_KEY", Flag: "apiKey", Secret: true, Legacy: true, Reader: "kms (Config)", About: "Tatum API key (daemon and transaction commands)"},
	{Env: "TATUM_KMS_PASSWORD", Secret: true, Legacy: true, Reader: "kms (Config, PasswordChain)", About: "file store password (tatum-kms compatibility; prefer --password-file)"},
	{Env: "TATUM_KMS_VGS_ALIAS", Secret: true, Legacy: true, Reader: "pwsource", About: "--vgs: alias holding the store password"},
	{Env: "TATUM_KMS_VGS_USERNAME", Legacy: true, Reader: "backend/vgs", About: "VGS vault access credentials: username"},
	{Env: "TATUM_KMS_VGS_PASSWORD", Secret: true, Legacy: true, Reader: "backend/vgs", About: "VGS vault access credentials: password"},
	{Env: "TATUM_KMS_AZURE_SECRETVERSION", Legacy: true, Reader: "pwsource", About: "--azure: secret version (default latest)"},
	{Env: "TATUM_KMS_AZURE_SECRETNAME", Legacy: true, Reader: "pwsource", About: "--azure: secret holding the store password"},
	{Env: "TATUM_KMS_AZURE_VAULTURL", Legacy: true, Reader: "pwsource, backend/azure", About: "--azure and azure:// without a host: the Key Vault"},
	{Env: "TATUM_KMS_AWS_REGION", Legacy: true, Reader: "pwsource/awssm", About: "--aws: region"},
	{Env: "TATUM_KMS_AWS_ACCESS_KEY_ID", Legacy: true, Reader: "pwsource/awssm", About: "--aws: access key id (else the SDK's credential chain)"},
	{Env: "TATUM_KMS_AWS_SECRET_ACCESS_KEY", Secret: true, Legacy: true, Reader: "pwsource/awssm", About: "--aws: secret access key"},
	{Env: "TATUM_KMS_AWS_SECRET_NAME", Legacy: true, Reader: "pwsource/awssm", About: "--aws: secret holding the password"},
	{Env: "TATUM_KMS_AWS_SECRET_KEY", Legacy: true, Reader: "pwsource/awssm", About: "--aws: key of the password in the secret's JSON"},
	{Env: "TATUM_KMS_DEBUG_MODE", Legacy: true, Reader: "(none)", About: "tatum-kms's debug switch; shown for compatibility, gokms uses --log-level"},
	{Env: "TATUM_API_URL", Legacy: true, Reader: "kms (Config)", About: "Tatum API base URL"},
	// gokms's own, shown by checkconfig from the start.
	{Env: "GOKMS_BACKEND", Flag: "backend", Legacy: true, Reader: "kms (Config)", About: "secret backend address (an explicit --path wins over the variable)"},
	{Env: "GOKMS_LOG_FORMAT", Flag: "log-format", Legacy: true, Reader: "cmd/gokms", About: "log format: text or json"},
	{Env: "GOKMS_LOG_LEVEL", Flag: "log-level", Legacy: true, Reader: "cmd/gokms", About: "log level: debug, info, warn, error"},

	// Global flags without a variable.
	{Flag: "path", Reader: "kms (Config)", About: "wallet store file (default ~/.tatumrc/wallet.dat)"},
	{Flag: "testnet", Reader: "kms (Config)", About: "testnet wallets and chains"},
	{Flag: "envFile", Reader: "cmd/gokms (dotenv), kms (Config)", About: "dotenv file (default ~/.tatumrc/.env; ./.env may set only TATUM_* variables)"},
	{Flag: "password-file", Reader: "kms (Config, PasswordChain)", About: "store password from the first line of this file"},
	{Flag: "aws", Reader: "pwsource", About: "store password from AWS Secrets Manager"},
	{Flag: "azure", Reader: "pwsource", About: "store password from Azure Key Vault"},
	{Flag: "vgs", Reader: "pwsource", About: "store password from a VGS alias"},

	// Command passwords.
	{Env: "TATUM_KMS_NEW_PASSWORD", Secret: true, Reader: "cmd/gokms", About: "changepassword: the new password"},
	{Env: "TATUM_KMS_IMPORT_PASSWORD", Secret: true, Reader: "cmd/gokms", About: "import: the tatum-kms wallet.dat password"},
	{Env: "TATUM_KMS_EXPORT_PASSWORD", Secret: true, Reader: "cmd/gokms", About: "export --format tatum-kms: the new wallet.dat password"},
	{Env: "GOKMS_FROM_PASSWORD", Secret: true, Reader: "cmd/gokms", About: "migrate: the source store's password"},
	{Env: "GOKMS_TO_PASSWORD", Secret: true, Reader: "cmd/gokms", About: "migrate: the destination store's password"},

	// Stores.
	{Env: "GOKMS_KDF", Reader: "backend/file", About: "Argon2id costs of a new store or changepassword (t=N,m=KiB,p=N)"},
	{Env: "GOKMS_VGS_CACERT", Reader: "backend/vgs", About: "CA certificate trusted for the VGS vault"},
	{Env: "TATUM_KMS_VGS_URL", Reader: "pwsource", About: "--vgs: vault URL (default the live vault)"},
	{Env: "GOKMS_VAULT_AUTH", Reader: "backend/hashivault", About: "Vault auth method: token, approle, kubernetes"},
	{Env: "GOKMS_VAULT_AUTH_MOUNT", Reader: "backend/hashivault", About: "Vault auth mount path"},
	{Env: "GOKMS_VAULT_ROLE_ID", Reader: "backend/hashivault", About: "AppRole role id"},
	{Env: "GOKMS_VAULT_SECRET_ID", Secret: true, Reader: "backend/hashivault", About: "AppRole secret id"},
	{Env: "GOKMS_VAULT_SECRET_ID_FILE", Reader: "backend/hashivault", About: "AppRole secret id from a file"},
	{Env: "GOKMS_VAULT_SECRET_ID_WRAPPED", Reader: "backend/hashivault", About: "the secret id is a response-wrapping token"},
	{Env: "GOKMS_VAULT_K8S_ROLE", Reader: "backend/hashivault", About: "Kubernetes auth role"},
	{Env: "GOKMS_VAULT_K8S_TOKEN_FILE", Reader: "backend/hashivault", About: "Kubernetes service-account token file"},
	{Env: "GOKMS_VAULT_ALLOW_INSECURE", Reader: "backend/hashivault", About: "allow plain HTTP or VAULT_SKIP_VERIFY beyond loopback"},
	{Env: "VAULT_ADDR", Reader: "backend/hashivault (Vault API)", About: "Vault address when vault:// names no host"},
	{Env: "VAULT_TOKEN", Secret: true, Reader: "backend/hashivault (Vault API)", About: "Vault token (else the token helper)"},
	{Env: "VAULT_SKIP_VERIFY", Reader: "backend/hashivault (Vault API)", About: "skip TLS verification (refused beyond loopback)"},
	{Env: "VAULT_MAX_RETRIES", Reader: "backend/hashivault (Vault API)", About: "Vault client retries"},
	{Env: "AZURE_TENANT_ID", Reader: "backend/azure (auth=client-secret)", About: "Azure AD tenant of the service principal"},
	{Env: "AZURE_CLIENT_ID", Reader: "backend/azure (auth=client-secret, managed-identity)", About: "service principal, or the user-assigned managed identity"},
	{Env: "AZURE_CLIENT_SECRET", Secret: true, Reader: "backend/azure (auth=client-secret)", About: "service principal secret"},

	// Daemon.
	{Env: "GOKMS_STATE", Secret: true, Reader: "kms (Config)", About: "daemon --state: state shared in PostgreSQL (postgres://...; may hold the password)"},
	{Env: EnvRPCPrefix, Prefix: true, Reader: "kms", About: "TATUM_KMS_RPC_<CHAIN>: a chain's node (EVM JSON-RPC, Solana, XRP, ...; --rpc CHAIN=URL wins)"},
	{Env: "GOMAXPROCS", Reader: "Go runtime, cmd/gokms (daemon)", About: "Go processors; unset, gokms daemon runs with the CPUs + 2 (docs/daemon.md)"},
}

// WriteSettings prints every setting with its masked value and source, one
// line each, for `gokms checkconfig --all`. Prefix settings list each
// variable set with the prefix.
func WriteSettings(w io.Writer, environ []string, flag func(name string) (string, bool), getenv func(string) string) error {
	var err error
	line := func(k, v, src string) {
		if err == nil {
			_, err = fmt.Fprintf(w, "%-33s: %s [%s]\n", k, v, src)
		}
	}
	for _, s := range settings {
		name := s.Env
		if name == "" {
			name = "--" + s.Flag
		}
		switch {
		case s.Prefix:
			var set []string
			for _, kv := range environ {
				if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, s.Env) {
					set = append(set, k)
				}
			}
			sort.Strings(set)
			for _, k := range set {
				// RPC URLs may hold a provider key: scheme and host only.
				line(k, RedactRPCArg(getenv(k)), "env")
			}
			if len(set) == 0 {
				line(s.Env+"<CHAIN>", "N/A", "unset")
			}
		default:
			v, src := s.Value(flag, getenv)
			line(name, v, src)
		}
	}
	return err
}

// FlagValues is how the command line's global flags are read (cmd passes
// its urfave/cli context, which has these methods).
type FlagValues interface {
	String(name string) string
	Bool(name string) bool
	IsSet(name string) bool
	Value(name string) any
}

// Config is gokms's configuration, typed: the global settings of the list
// above resolved once (flag, else environment, else default) by LoadConfig.
// The commands read it, not the environment; what only a backend or a
// password source reads it finds through Getenv.
type Config struct {
	// StorePath is the file store: --path (~ expanded, absolute), else
	// ~/.tatumrc/wallet.dat; the journal and the audit log default beside it.
	StorePath string
	PathSet   bool // --path was given (it then beats GOKMS_BACKEND)
	// BackendAddr is the store's address: --backend, else --path, else
	// GOKMS_BACKEND, else the file store.
	BackendAddr string
	// BackendFlag is --backend as given ("" when not given).
	BackendFlag string
	Testnet     bool
	// EnvFile is the dotenv file checkconfig names: --envFile, else
	// ~/.tatumrc/.env ("N/A" without a home directory).
	EnvFile string
	APIKey  string // --apiKey, else TATUM_API_KEY, trimmed
	APIURL  string // TATUM_API_URL as set ("" for the default)
	// PasswordFile is --password-file as given; PasswordSource where the
	// store password comes from: password-file, aws, azure, vgs, env or prompt.
	PasswordFile   string
	PasswordSource string
	State          string // GOKMS_STATE (the daemon's --state is its own flag)
	// Getenv reads the rest of the environment (backends, password
	// sources); environ lists it for the prefix settings.
	Getenv  func(string) string
	environ []string
	flags   FlagValues
}

// LoadConfig resolves the global settings from the flags and the
// environment (after the dotenv files were loaded). environ is the
// environment as KEY=value lines (for TATUM_KMS_RPC_<CHAIN>).
func LoadConfig(flags FlagValues, getenv func(string) string, environ []string) Config {
	home := func() (string, bool) {
		h, err := os.UserHomeDir()
		return h, err == nil
	}
	cfg := Config{Getenv: getenv, environ: environ, flags: flags}
	p := flags.String(settingPath)
	if p == "" {
		h, ok := home()
		if !ok {
			h = "."
		}
		p = filepath.Join(h, ".tatumrc", "wallet.dat")
	}
	p = ExpandHome(p)
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	cfg.StorePath, cfg.PathSet = p, flags.IsSet(settingPath)
	cfg.BackendFlag = flags.String(settingBackend)
	switch {
	case cfg.BackendFlag != "":
		cfg.BackendAddr = cfg.BackendFlag
	case !cfg.PathSet && getenv(envBackend) != "":
		cfg.BackendAddr = getenv(envBackend)
	default:
		cfg.BackendAddr = FileAddr(cfg.StorePath)
	}
	cfg.Testnet = flags.Bool(settingTestnet)
	if e := flags.String(settingEnvFile); e != "" {
		cfg.EnvFile = ExpandHome(e)
	} else if h, ok := home(); ok {
		cfg.EnvFile = h + "/.tatumrc/.env"
	} else {
		cfg.EnvFile = "N/A"
	}
	cfg.APIKey = strings.TrimSpace(flags.String(settingAPIKey))
	if cfg.APIKey == "" {
		cfg.APIKey = strings.TrimSpace(getenv(EnvAPIKey))
	}
	cfg.APIURL = getenv(EnvAPIURL)
	cfg.PasswordFile = flags.String(FlagPasswordFile)
	cfg.PasswordSource = "prompt"
	switch {
	case cfg.PasswordFile != "":
		cfg.PasswordSource = FlagPasswordFile
	case chosenSource(flags) != "":
		cfg.PasswordSource = chosenSource(flags)
	case getenv(envPassword) != "":
		cfg.PasswordSource = "env"
	}
	cfg.State = getenv(EnvState)
	return cfg
}

// chosenSource is the first password source flag given (--aws, --azure, --vgs).
func chosenSource(flags FlagValues) string {
	for _, s := range pwsource.Sources() {
		if flags.Bool(s.Name) {
			return s.Name
		}
	}
	return ""
}

// Names of the global settings LoadConfig reads (the list above names them all).
const (
	settingPath    = "path"
	settingBackend = "backend"
	settingTestnet = "testnet"
	settingEnvFile = "envFile"
	settingAPIKey  = "apiKey"
	envBackend     = "GOKMS_BACKEND"
	envPassword    = "TATUM_KMS_PASSWORD"
)

// flagValue is a global flag's value as checkconfig shows it, and whether it was given.
func (c Config) flagValue(name string) (string, bool) {
	if c.flags == nil || !c.flags.IsSet(name) {
		return "", false
	}
	return fmt.Sprint(c.flags.Value(name)), true
}

// WriteAll prints every setting with its masked value and source
// (`gokms checkconfig --all`).
func (c Config) WriteAll(w io.Writer) error {
	return WriteSettings(w, c.environ, c.flagValue, c.Getenv)
}
