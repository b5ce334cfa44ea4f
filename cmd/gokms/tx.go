package main

import (
	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/kms"
)

// envAPIURL overrides the Tatum API base URL, as in tatum-kms.
const envAPIURL = kms.EnvAPIURL

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

// apiConfig is the Tatum API as tatum-kms reaches it: the API key from
// --apiKey or TATUM_API_KEY, the base URL from TATUM_API_URL.
func apiConfig(c *cli.Context) kms.APIConfig {
	return kms.APIConfig{Key: apiKey(c), URL: config(c).APIURL, Logger: logger(c), UserAgent: gokmsBuild().UserAgent()}
}

func cmdGetTransaction(c *cli.Context) error {
	args, err := needArgs(c, "id")
	if err != nil {
		return err
	}
	raw, err := kms.GetTransaction(c.Context, apiConfig(c), args[0])
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
	return kms.DeleteTransaction(c.Context, apiConfig(c), args[0], c.Bool("revert"))
}

func cmdCompleteTransaction(c *cli.Context) error {
	args, err := needArgs(c, "id", "txId")
	if err != nil {
		return err
	}
	return kms.CompleteTransaction(c.Context, apiConfig(c), args[0], args[1])
}
