package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/kms"
)

const (
	flagNewPasswordFile = "new-password-file"
	envNewPassword      = "TATUM_KMS_NEW_PASSWORD"
)

func changePasswordCommands() []*cli.Command {
	return []*cli.Command{&cli.Command{
		Name:  "changepassword",
		Usage: "re-encrypt the file store under a new password (atomically; the old password stops working)",
		Description: "The current password comes from the usual sources (TATUM_KMS_PASSWORD, --password-file,\n" +
			"--azure/--vgs/--aws or the prompt); the new one from --new-password-file, " + envNewPassword + ",\n" +
			"or is typed twice on the terminal. GOKMS_KDF=t=N,m=KiB,p=N also changes the Argon2id costs\n" +
			"(not below the default t=3,m=65536,p=4, not above t=10,m=1048576,p=16).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flagNewPasswordFile, Usage: "read the new password from the first line of this file"},
		},
		Action: cmdChangePassword,
	}}
}

func cmdChangePassword(c *cli.Context) error {
	if c.NArg() != 0 {
		return fmt.Errorf("usage: gokms changepassword (takes no arguments)")
	}
	if err := checkStoreFlags(c); err != nil {
		return err
	}
	return kms.ChangePassword(c.Context, kms.ChangePasswordOptions{
		StoreAddr: backendAddr(c), Testnet: isTestnet(c), Getenv: config(c).Getenv,
		Open:        func(context.Context) (backend.SecretBackend, error) { return openBackend(c, "", false) },
		NewPassword: func(_ context.Context, path string) ([]byte, error) { return readChangedPassword(c, path) },
		Logger:      logger(c),
	})
}

// readChangedPassword returns the new password: the password chain over
// --new-password-file and TATUM_KMS_NEW_PASSWORD, else typed twice on the
// terminal.
func readChangedPassword(c *cli.Context, path string) ([]byte, error) {
	pw, _, err := passwordChain(c, flagNewPasswordFile, envNewPassword, nil).Find(c.Context)
	if err != nil {
		return nil, fmt.Errorf("new password: %w", err)
	}
	if pw == nil {
		p, err := promptSecret(c, fmt.Sprintf("Enter the new password for wallet store %s: ", path))
		if errors.Is(err, errNoTerminal) {
			return nil, fmt.Errorf("no new password: set %s, use --%s, or run on a terminal", envNewPassword, flagNewPasswordFile)
		}
		if err != nil {
			return nil, err
		}
		again, err := promptSecret(c, "Repeat the new password: ")
		if err != nil {
			zero(p)
			return nil, err
		}
		same := bytes.Equal(p, again)
		zero(again)
		if !same {
			zero(p)
			return nil, errors.New("the new passwords do not match")
		}
		pw = p
	}
	if len(pw) == 0 {
		return nil, errors.New("the new password is empty")
	}
	return pw, nil
}
