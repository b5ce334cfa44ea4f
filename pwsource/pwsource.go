// Package pwsource holds the store-password sources other than the
// terminal, a file and TATUM_KMS_PASSWORD: AWS Secrets Manager, an Azure
// Key Vault secret and a VGS alias, read as tatum-kms's --aws, --azure and
// --vgs read them. They fetch only the password of a file store; they are
// not backends (backend/azure and backend/vgs hold records, these hold one
// password).
package pwsource

import (
	"context"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/gokms/gokms/backend/azure"
	"github.com/gokms/gokms/backend/vgs"
	"github.com/gokms/gokms/pwsource/awssm"
)

// Source is one password source, named by its flag.
type Source struct {
	Name  string // the flag without dashes: "aws"
	Usage string
	Fetch func(ctx context.Context, getenv func(string) string) ([]byte, error)
}

// Sources returns the sources in tatum-kms's order.
func Sources() []Source {
	return []Source{
		{Name: "aws", Usage: "read the store password from AWS Secrets Manager (TATUM_KMS_AWS_* variables)",
			Fetch: func(ctx context.Context, getenv func(string) string) ([]byte, error) {
				return awssm.FetchPassword(ctx, awssm.ConfigFromEnv(getenv))
			}},
		{Name: "azure", Usage: "read the store password from Azure Key Vault (TATUM_KMS_AZURE_* variables)",
			Fetch: func(ctx context.Context, getenv func(string) string) ([]byte, error) {
				return Azure(ctx, getenv, AzureOptions{})
			}},
		{Name: "vgs", Usage: "read the store password from a VGS alias (TATUM_KMS_VGS_* variables)", Fetch: VGS},
	}
}

// AzureOptions configure Azure.
type AzureOptions struct {
	Credential    azcore.TokenCredential // default: DefaultAzureCredential
	ClientOptions *azsecrets.ClientOptions
}

// Azure reads the password from a Key Vault secret, as tatum-kms's --azure
// does (TATUM_KMS_AZURE_VAULTURL, TATUM_KMS_AZURE_SECRETNAME,
// TATUM_KMS_AZURE_SECRETVERSION), but authenticated through azidentity.
func Azure(ctx context.Context, getenv func(string) string, o AzureOptions) ([]byte, error) {
	vault, name := getenv("TATUM_KMS_AZURE_VAULTURL"), getenv("TATUM_KMS_AZURE_SECRETNAME")
	if vault == "" || name == "" {
		return nil, errors.New("set TATUM_KMS_AZURE_VAULTURL and TATUM_KMS_AZURE_SECRETNAME")
	}
	return azure.ReadSecret(ctx, vault, name, getenv("TATUM_KMS_AZURE_SECRETVERSION"), o.Credential, o.ClientOptions)
}

// VGS reads the password from a VGS alias, as tatum-kms's --vgs does
// (TATUM_KMS_VGS_ALIAS, value at data[0].value). The base URL is the live
// vault unless TATUM_KMS_VGS_URL says otherwise.
func VGS(ctx context.Context, getenv func(string) string) ([]byte, error) {
	alias := getenv("TATUM_KMS_VGS_ALIAS")
	if alias == "" {
		return nil, errors.New("TATUM_KMS_VGS_ALIAS is not set")
	}
	base := getenv("TATUM_KMS_VGS_URL")
	if base == "" {
		base = vgs.LiveURL
	}
	c, err := vgs.NewClientFromEnv(base, getenv)
	if err != nil {
		return nil, err
	}
	v, err := c.Reveal(ctx, alias)
	if errors.Is(err, vgs.ErrAliasNotFound) {
		return nil, fmt.Errorf("VGS Vault alias %s does not exist: %w", alias, vgs.ErrAliasNotFound)
	}
	if err != nil {
		return nil, err
	}
	if v == "" {
		return nil, fmt.Errorf("VGS Vault alias %s holds an empty value", alias)
	}
	return []byte(v), nil
}
