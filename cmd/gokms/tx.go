package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/tatum"
)

// envAPIURL overrides the Tatum API base URL, as in tatum-kms.
const envAPIURL = "TATUM_API_URL"

// Operator commands on the pending transactions of the Tatum API. tatum-kms
// 8.0.1 has no such commands (it reaches these endpoints only through the
// SDK); the names follow the issue, the output is the API's JSON as
// tatum-kms prints JSON (2-space indent), and void operations print nothing.
func txCommands() []*cli.Command {
	return []*cli.Command{
		&cli.Command{
			Name:      "gettransaction",
			Usage:     "print a pending transaction of the Tatum API (GET /v3/kms/{id}); once broadcast it shows its txId",
			ArgsUsage: "<id>",
			Action:    cmdGetTransaction,
		},
		&cli.Command{
			Name:      "deletetransaction",
			Usage:     "delete a pending transaction from the Tatum API (DELETE /v3/kms/{id}); an off-chain withdrawal is cancelled",
			ArgsUsage: "<id>",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "revert", Value: true,
					Usage: "return amount and fee of an off-chain withdrawal to the account (use --revert=false for an ERC-20 withdrawal already broadcast)"},
			},
			Action: cmdDeleteTransaction,
		},
		&cli.Command{
			Name:      "completetransaction",
			Usage:     "mark a pending transaction of the Tatum API as broadcast with its blockchain txId (PUT /v3/kms/{id}/{txId})",
			ArgsUsage: "<id> <txId>",
			Action:    cmdCompleteTransaction,
		},
	}
}

// tatumClient returns a Tatum API client configured as tatum-kms: the API
// key from --apiKey or TATUM_API_KEY, the base URL from TATUM_API_URL.
func tatumClient(c *cli.Context) (*tatum.Client, error) {
	key := strings.TrimSpace(c.String(flagAPIKey))
	if key == "" {
		key = strings.TrimSpace(os.Getenv(envAPIKey))
	}
	if key == "" {
		// tatum-kms's message, word for word.
		return nil, errors.New("Required TATUM_API_KEY is not set. Please set it as env variable or pass it as argument.")
	}
	base := strings.TrimSpace(os.Getenv(envAPIURL))
	if base == "" {
		base = tatum.DefaultBaseURL
	}
	if err := tatum.ValidateBaseURL(base); err != nil {
		return nil, fmt.Errorf("%s: %w", envAPIURL, err)
	}
	return tatum.New(tatum.Options{
		BaseURL:   base,
		APIKey:    key,
		Logger:    logger(c),
		UserAgent: gokmsBuild().UserAgent(),
	}), nil
}

func cmdGetTransaction(c *cli.Context) error {
	args, err := needArgs(c, "id")
	if err != nil {
		return err
	}
	tc, err := tatumClient(c)
	if err != nil {
		return err
	}
	raw, err := tc.GetJSON(c.Context, args[0])
	if err != nil {
		return err
	}
	return printJSON(c, raw) // every field as the API sent it, nulls included
}

func cmdDeleteTransaction(c *cli.Context) error {
	args, err := needArgs(c, "id")
	if err != nil {
		return err
	}
	tc, err := tatumClient(c)
	if err != nil {
		return err
	}
	return tc.DeleteRevert(c.Context, args[0], c.Bool("revert"))
}

func cmdCompleteTransaction(c *cli.Context) error {
	args, err := needArgs(c, "id", "txId")
	if err != nil {
		return err
	}
	tc, err := tatumClient(c)
	if err != nil {
		return err
	}
	return tc.Complete(c.Context, args[0], args[1])
}
