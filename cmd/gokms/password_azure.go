package main

import (
	"context"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend/azure"
)

// --azure: the store password from an Azure Key Vault secret, as tatum-kms
// reads it, but authenticated with DefaultAzureCredential.
func init() {
	registerPasswordSource("azure", func(ctx context.Context, _ *cli.Context) ([]byte, error) {
		return azure.FetchPassword(ctx, os.Getenv, azure.PasswordOptions{})
	})
}
