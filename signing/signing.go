// Package signing turns a pending transaction into a signed raw transaction:
// it resolves signatureIds to keys through a KeySource (backed by the
// configured SecretBackend) and dispatches to the Signer registered for the
// transaction's chain. It knows nothing of HTTP; the daemon joins it to the
// Tatum API client.
package signing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
)

// Request is one pending transaction to sign, as the Tatum API describes it.
type Request struct {
	ID                    string          // the pending transaction id
	Chain                 string          // chain code, e.g. "BTC", "ETH"
	Testnet               bool            // network the daemon runs on
	SerializedTransaction string          // chain-specific unsigned transaction (JSON)
	Hashes                []string        // private-key signatureIds (or the mnemonic id for off-chain withdrawals)
	Index                 *uint32         // derivation index when Hashes name a mnemonic wallet
	Signatures            []SignatureRef  // mnemonic wallets plus indexes
	WithdrawalID          string          // set for off-chain (Tatum ledger) withdrawals
	WithdrawalResponses   json.RawMessage // off-chain withdrawal inputs, chain-specific
	// Nonces, if set, allocates account-chain nonces (the daemon's journal);
	// nil means the signer's own in-memory allocator.
	Nonces NonceSource
}

// SignatureRef names a mnemonic wallet and the index of the key to use.
type SignatureRef struct {
	ID    string
	Index *uint32
}

// KeySource resolves a signatureId (and, for mnemonic wallets, an index) to a
// private key. A nil index on a mnemonic wallet, or an index on a private-key
// wallet, is an error. The KeySource owns the keys it returns (the Resolver
// zeroes them at the end of a cycle): a Signer must not keep or zero them.
type KeySource interface {
	Key(ctx context.Context, signatureID string, index *uint32) (*btcec.PrivateKey, error)
}

// Signer signs requests for one chain family.
type Signer interface {
	// Sign returns the raw signed transaction as the chain's broadcast
	// endpoint expects it (hex for UTXO and EVM chains). It never returns a
	// partially signed transaction.
	Sign(ctx context.Context, req Request, keys KeySource) (string, error)
}

// ErrUnsupportedChain is returned for a chain no Signer is registered for.
var ErrUnsupportedChain = errors.New("unsupported chain")

var (
	regMu   sync.RWMutex
	signers = map[string]Signer{}
)

// Register installs the Signer for a chain code. Chain families register
// from init.
func Register(chain string, s Signer) {
	regMu.Lock()
	defer regMu.Unlock()
	chain = strings.ToUpper(chain)
	if _, dup := signers[chain]; dup {
		panic("signing: Register called twice for chain " + chain)
	}
	signers[chain] = s
}

// For returns the Signer registered for chain.
func For(chain string) (Signer, error) {
	regMu.RLock()
	defer regMu.RUnlock()
	s, ok := signers[strings.ToUpper(chain)]
	if !ok {
		return nil, fmt.Errorf("chain %q: %w", chain, ErrUnsupportedChain)
	}
	return s, nil
}

// Chains lists the chains that have a Signer, sorted.
func Chains() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var l []string
	for c := range signers {
		l = append(l, c)
	}
	sort.Strings(l)
	return l
}

// Sign dispatches req to its chain's Signer.
func Sign(ctx context.Context, req Request, keys KeySource) (string, error) {
	s, err := For(req.Chain)
	if err != nil {
		return "", err
	}
	return s.Sign(ctx, req, keys)
}
