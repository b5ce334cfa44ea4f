package signing

import (
	"errors"
	"strings"
)

// ErrChainShutDown is matched (errors.Is) by the errors of chains whose
// network no longer runs: nothing can be broadcast there, so gokms neither
// creates, derives nor signs for them (stored entries are still imported and
// exported unchanged).
var ErrChainShutDown = errors.New("chain shut down")

// shutDown maps a chain code to why it is refused.
var shutDown = map[string]string{
	"BNB": "the BNB Beacon Chain (BNB) was shut down in December 2024: gokms does not create, derive from or sign for BNB wallets " +
		"(stored BNB entries are kept, and exported unchanged; for BNB Smart Chain use BSC)",
}

type shutDownError string

func (e shutDownError) Error() string        { return string(e) }
func (e shutDownError) Is(target error) bool { return target == ErrChainShutDown }

// ShutDown returns an error matching ErrChainShutDown if chain's network
// was shut down, else nil. The chain code is case-insensitive.
func ShutDown(chain string) error {
	if why, ok := shutDown[strings.ToUpper(strings.TrimSpace(chain))]; ok {
		return shutDownError(why)
	}
	return nil
}
