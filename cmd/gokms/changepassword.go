package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/gokms/gokms/backend/file"
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
	addr := backendAddr(c)
	if _, ok, err := file.AddressPath(addr); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("changepassword works on the file store only; %s keeps its secrets under its own access control", displayAddr(addr))
	}
	// The new KDF costs, if asked for, are checked before anything is opened.
	var params *file.KDFParams
	if v := os.Getenv(file.KDFEnv); v != "" {
		p, err := file.NewStoreKDF(v, isTestnet(c))
		if err != nil {
			return fmt.Errorf("%s: %w", file.KDFEnv, err)
		}
		params = &p
	}
	b, err := openBackend(c, addr, false)
	if err != nil {
		return err
	}
	defer b.Close()
	st, ok := b.(*file.Store)
	if !ok {
		return fmt.Errorf("changepassword: %s is not a gokms file store", displayAddr(addr))
	}
	pw, err := readChangedPassword(c, st.Path())
	if err != nil {
		return err
	}
	defer zero(pw)
	if err := st.ChangePassword(pw, params); err != nil {
		return err
	}
	logger(c).Info("changed the wallet store password", "path", st.Path(), "kdf", st.KDF().String())
	return nil
}

// readChangedPassword returns the new password: --new-password-file,
// TATUM_KMS_NEW_PASSWORD, or typed twice on the terminal.
func readChangedPassword(c *cli.Context, path string) ([]byte, error) {
	var pw []byte
	switch f := c.String(flagNewPasswordFile); {
	case f != "":
		p, err := readPasswordFile(c, expandHome(f))
		if err != nil {
			return nil, fmt.Errorf("new password: %w", err)
		}
		pw = p
	case os.Getenv(envNewPassword) != "":
		pw = []byte(os.Getenv(envNewPassword))
	default:
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
