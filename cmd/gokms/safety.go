package main

// What keeps the CLI from harming the store it manages: writes that would
// land on the live store are refused (whatever spelling of its path reached
// them: kms.RefuseOntoStore), and a ./.env in the working directory cannot change where secrets
// go or how strongly they are encrypted.

import (
	"fmt"
	"io"
	"strings"
)

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
