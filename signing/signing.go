// Package signing turns a pending transaction into a signed raw transaction:
// it resolves signatureIds to keys through a KeySource (backed by the
// configured SecretBackend) and dispatches to the Signer of the transaction's
// chain in a Set. It knows nothing of HTTP; the daemon joins it to the
// Tatum API client.
package signing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

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
	// Parsed, if set, is a parse of SerializedTransaction made for this
	// request by the chain's own package (utxo.ParsePending, for the
	// policy's view), which its Signer may use instead of parsing again.
	// A Signer ignores one that is not its own type, or not a parse of
	// this very transaction.
	Parsed any
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

// ErrUnsupportedChain is returned for a chain no Signer of the Set signs.
var ErrUnsupportedChain = errors.New("unsupported chain")

// Family is what one signer family contributes to a Set: its Signer for
// each chain code it signs.
type Family map[string]Signer

// Set is the signers of one configuration, by chain code. It is a value
// built once from the configured families (signing/utxo's, signing/evm's
// with its nodes) and handed to whoever signs: there is no process-wide
// registry, so two daemons with different nodes can live in one process.
// A Set is read-only once built and safe for concurrent use.
type Set struct {
	signers map[string]Signer
}

// NewSet joins families; a chain claimed by two of them is an error.
func NewSet(fams ...Family) (*Set, error) {
	s := &Set{signers: map[string]Signer{}}
	for _, f := range fams {
		for chain, sg := range f {
			chain = strings.ToUpper(strings.TrimSpace(chain))
			if _, dup := s.signers[chain]; dup {
				return nil, fmt.Errorf("signing: two signers for chain %s", chain)
			}
			if sg == nil {
				return nil, fmt.Errorf("signing: nil signer for chain %s", chain)
			}
			s.signers[chain] = sg
		}
	}
	return s, nil
}

// For returns the Signer for chain.
func (s *Set) For(chain string) (Signer, error) {
	var sg Signer
	if s != nil {
		sg = s.signers[strings.ToUpper(strings.TrimSpace(chain))]
	}
	if sg == nil {
		return nil, fmt.Errorf("chain %q: %w", chain, ErrUnsupportedChain)
	}
	return sg, nil
}

// Chains lists the chains that have a Signer, sorted.
func (s *Set) Chains() []string {
	if s == nil {
		return nil
	}
	l := make([]string, 0, len(s.signers))
	for c := range s.signers {
		l = append(l, c)
	}
	sort.Strings(l)
	return l
}

// Sign dispatches req to its chain's Signer.
func (s *Set) Sign(ctx context.Context, req Request, keys KeySource) (string, error) {
	sg, err := s.For(req.Chain)
	if err != nil {
		return "", err
	}
	return sg.Sign(ctx, req, keys)
}
