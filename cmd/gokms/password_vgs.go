package main

import (
	"context"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend/vgs"
)

// --vgs: the store password from a VGS alias, as tatum-kms reads it.
func init() {
	registerPasswordSource("vgs", func(ctx context.Context, _ *cli.Context) ([]byte, error) {
		return vgs.FetchPassword(ctx, os.Getenv)
	})
}
