package main

// What keeps the CLI from harming the store it manages: writes that would
// land on the live store are refused (whatever spelling of its path reached
// them), and a ./.env in the working directory cannot change where secrets
// go or how strongly they are encrypted.

import (
	"fmt"
	"io"
	"strings"

	"github.com/gokms/gokms/backend/file"
)

// refuseOntoStore returns an error if writing target would touch the file
// store storeAddr names (the same file, a link to it, or the path it would
// have once created). Other backends have no file to protect.
func refuseOntoStore(what, target, storeAddr string) error {
	p, ok, err := file.AddressPath(storeAddr)
	if err != nil || !ok {
		return err
	}
	same, err := file.SameFile(p, target)
	if err != nil {
		return fmt.Errorf("%s: cannot tell whether %s is the wallet store %s (%v); nothing written", what, target, p, err)
	}
	if same {
		return fmt.Errorf("%s: %s is the wallet store %s; nothing written (choose another file)", what, target, p)
	}
	return nil
}

// workdirEnvAllowed reports whether ./.env may set name: only the variables
// tatum-kms itself reads (TATUM_*). gokms's own (GOKMS_BACKEND, GOKMS_KDF,
// VAULT_*, ...) would let whoever wrote a shared or cloned directory send
// new keys elsewhere or weaken their encryption.
func workdirEnvAllowed(name string) bool { return strings.HasPrefix(name, "TATUM_") }

// loadWorkdirEnv loads ./.env as tatum-kms's bare dotenv.config() does,
// ignoring (with a warning naming each, never its value) every variable
// tatum-kms would not read there.
func loadWorkdirEnv(stderr io.Writer) error {
	return loadEnvFileFiltered(".env", false, func(name string) bool {
		if workdirEnvAllowed(name) {
			return true
		}
		fmt.Fprintf(stderr, "warning: ./.env: ignoring %q: a .env in the working directory may set only TATUM_* variables; put gokms settings in ~/.tatumrc/.env, --envFile or the environment\n", name)
		return false
	})
}
