package main

import (
	"strings"
	"testing"
)

// --nonce-window out of range is refused before anything opens.
func TestDaemonNonceWindowFlag(t *testing.T) {
	for _, v := range []string{"0", "-3", "1025"} {
		code, _, errOut := runTx(t, nil, "daemon", "--testnet", "--runOnce", "--nonce-window", v)
		if code == 0 || !strings.Contains(errOut, "--nonce-window "+v+": want 1 to 1024") {
			t.Errorf("--nonce-window %s: exit %d, %q", v, code, errOut)
		}
	}
}
