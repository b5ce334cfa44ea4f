package main

import (
	"context"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend/awssm"
)

// --aws: the store password from AWS Secrets Manager, as tatum-kms reads it
// (TATUM_KMS_AWS_* variables; the SDK's default credential chain when no
// access key is given).
func init() {
	registerPasswordSource("aws", func(ctx context.Context, _ *cli.Context) ([]byte, error) {
		return awssm.FetchPassword(ctx, awssm.ConfigFromEnv(os.Getenv))
	})
}
