package hashivault

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"

	"github.com/gokms/gokms/backend"
)

// Environment variables read by Open besides Vault's own (see the package doc).
const (
	EnvAuth            = "GOKMS_VAULT_AUTH"
	EnvAuthMount       = "GOKMS_VAULT_AUTH_MOUNT"
	EnvRoleID          = "GOKMS_VAULT_ROLE_ID"
	EnvSecretIDFile    = "GOKMS_VAULT_SECRET_ID_FILE"
	EnvSecretID        = "GOKMS_VAULT_SECRET_ID"
	EnvSecretIDWrapped = "GOKMS_VAULT_SECRET_ID_WRAPPED"
	EnvK8sRole         = "GOKMS_VAULT_K8S_ROLE"
	EnvK8sTokenFile    = "GOKMS_VAULT_K8S_TOKEN_FILE"
	EnvAllowInsecure   = "GOKMS_VAULT_ALLOW_INSECURE"
)

// DefaultK8sTokenFile is where Kubernetes mounts a pod's service-account JWT.
const DefaultK8sTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// Driver is Vault for a backend.Registry.
func Driver() backend.Driver {
	return backend.Driver{Schemes: []string{"vault", "vault+http"}, Open: Open,
		About: "vault:// (HTTPS) and vault+http://: HashiCorp Vault KV v2"}
}

// Open is the backend.Opener for vault:// (HTTPS) and vault+http:// addresses.
func Open(ctx context.Context, u *url.URL, oc backend.OpenConfig) (backend.SecretBackend, error) {
	cfg, err := ConfigFromAddress(u, oc)
	if err != nil {
		return nil, err
	}
	b, err := New(ctx, cfg)
	if err != nil {
		return nil, err // not a nil *Backend inside a non-nil interface
	}
	return b, nil
}

// ConfigFromAddress builds a Config from a backend address and the
// environment: the Vault client as the Vault CLI builds it, the host of the
// address (if any) in place of VAULT_ADDR, and the auth method from GOKMS_VAULT_*.
func ConfigFromAddress(u *url.URL, oc backend.OpenConfig) (Config, error) {
	getenv := oc.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	scheme := ""
	switch u.Scheme {
	case "vault":
		scheme = "https"
	case "vault+http":
		scheme = "http"
	default:
		return Config{}, fmt.Errorf("vault backend: unsupported scheme %q (use vault:// for HTTPS or vault+http://)", u.Scheme)
	}
	if len(u.Query()) > 0 || u.Fragment != "" || u.Opaque != "" {
		var keys []string
		for k := range u.Query() {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return Config{}, fmt.Errorf("vault backend: address %s://%s%s: query parameters %v are not supported; configure Vault through its environment (see docs/vault.md)",
			u.Scheme, u.Host, u.Path, keys)
	}
	conf := api.DefaultConfig() // reads VAULT_ADDR, VAULT_CACERT, VAULT_SKIP_VERIFY, ... like the CLI
	if conf.Error != nil {
		return Config{}, fmt.Errorf("vault backend: read Vault environment: %w", conf.Error)
	}
	switch {
	case u.Host != "":
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "8200")
		}
		conf.Address = scheme + "://" + host
	case os.Getenv(api.EnvVaultAddress) == "":
		conf.Address = scheme + "://127.0.0.1:8200"
	}
	c, err := api.NewClient(conf) // reads VAULT_TOKEN, VAULT_NAMESPACE
	if err != nil {
		return Config{}, fmt.Errorf("vault backend: %w", err)
	}
	allow, err := envBool(getenv, EnvAllowInsecure)
	if err != nil {
		return Config{}, err
	}
	login, err := loginFromEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	return Config{
		Client: c, Path: u.Path, Login: login,
		Testnet: oc.Testnet, AllowInsecure: allow, Logger: oc.Logger,
	}, nil
}

func envBool(getenv func(string) string, key string) (bool, error) {
	v := strings.TrimSpace(getenv(key))
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("vault backend: %s=%q is not true or false", key, v)
	}
	return b, nil
}

// loginFromEnv returns the auth method GOKMS_VAULT_AUTH names; nil for token.
func loginFromEnv(getenv func(string) string) (api.AuthMethod, error) {
	mount := strings.Trim(getenv(EnvAuthMount), "/")
	switch method := strings.ToLower(strings.TrimSpace(getenv(EnvAuth))); method {
	case "", "token":
		return nil, nil
	case "approle":
		roleID := strings.TrimSpace(getenv(EnvRoleID))
		if roleID == "" {
			return nil, fmt.Errorf("vault backend: %s=approle needs %s", EnvAuth, EnvRoleID)
		}
		var sid approle.SecretID
		switch file, val := getenv(EnvSecretIDFile), getenv(EnvSecretID); {
		case file != "" && val != "":
			return nil, fmt.Errorf("vault backend: set %s or %s, not both", EnvSecretIDFile, EnvSecretID)
		case file != "":
			sid.FromFile = file // read at every login, so a rotated secret id is picked up
		case val != "":
			sid.FromString = val
		default:
			return nil, fmt.Errorf("vault backend: %s=approle needs %s (a file holding the secret id) or %s", EnvAuth, EnvSecretIDFile, EnvSecretID)
		}
		opts := []approle.LoginOption{}
		if mount != "" {
			opts = append(opts, approle.WithMountPath(mount))
		}
		wrapped, err := envBool(getenv, EnvSecretIDWrapped)
		if err != nil {
			return nil, err
		}
		if wrapped {
			opts = append(opts, approle.WithWrappingToken())
		}
		a, err := approle.NewAppRoleAuth(roleID, &sid, opts...)
		if err != nil {
			return nil, fmt.Errorf("vault backend: approle: %w", err)
		}
		return a, nil
	case "kubernetes", "k8s":
		role := strings.TrimSpace(getenv(EnvK8sRole))
		if role == "" {
			return nil, fmt.Errorf("vault backend: %s=kubernetes needs %s", EnvAuth, EnvK8sRole)
		}
		file := getenv(EnvK8sTokenFile)
		if file == "" {
			file = DefaultK8sTokenFile
		}
		if mount == "" {
			mount = "kubernetes"
		}
		return &kubernetesLogin{role: role, tokenFile: file, mount: mount}, nil
	default:
		return nil, fmt.Errorf("vault backend: %s=%q: use token, approle or kubernetes", EnvAuth, method)
	}
}

// kubernetesLogin reads the service-account JWT at every login: Kubernetes
// rotates projected tokens, while kubernetes.NewKubernetesAuth reads the file
// only once.
type kubernetesLogin struct {
	role, tokenFile, mount string
}

func (k *kubernetesLogin) Login(ctx context.Context, c *api.Client) (*api.Secret, error) {
	jwt, err := os.ReadFile(k.tokenFile)
	if err != nil {
		return nil, fmt.Errorf("read the Kubernetes service-account token: %w", err)
	}
	a, err := kubernetes.NewKubernetesAuth(k.role,
		kubernetes.WithServiceAccountToken(strings.TrimSpace(string(jwt))), kubernetes.WithMountPath(k.mount))
	if err != nil {
		return nil, err
	}
	return a.Login(ctx, c)
}
