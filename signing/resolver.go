package signing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/wallet"
)

// ErrUnknownSignatureID is wrapped by Resolver errors for a signatureId the
// backend does not hold.
var ErrUnknownSignatureID = errors.New("no such wallet")

// ErrIndexMismatch is wrapped by Resolver errors for a private-key wallet
// used with an index or a mnemonic wallet used without one.
var ErrIndexMismatch = errors.New("wallet kind and index do not agree")

// ErrWalletNotAllowed is wrapped for a signatureId outside --wallets.
var ErrWalletNotAllowed = errors.New("wallet not in the daemon's --wallets list")

// ErrChainMismatch is wrapped for a wallet stored for another chain than
// the transaction's.
var ErrChainMismatch = errors.New("wallet chain and transaction chain differ")

// ErrNetworkMismatch is wrapped for a wallet stored for the other network.
var ErrNetworkMismatch = errors.New("wallet network and daemon network differ")

// FamilyEVM names the EVM chains for ResolverOptions.Families.
const FamilyEVM = "EVM"

// ResolverOptions bound which keys a Resolver hands out.
type ResolverOptions struct {
	Testnet bool
	// Wallets, if set, are the only signatureIds that sign (tatum-kms
	// --wallets bounds only what is polled; here it bounds the keys too).
	Wallets []string
	// Families lets a wallet stored for one chain of a named family sign
	// for another chain of it ("EVM": one key for ETH, BSC, MATIC...), as
	// tatum-kms allowed silently. Without it a wallet signs only for the
	// chain it was stored for.
	Families []string
}

// Resolver is the KeySource the daemon signs with: it reads records from a
// backend, decodes private keys and derives mnemonic keys with the wallet
// package, and caches what it fetched and derived until Reset, so that one
// daemon cycle reads each record once and runs BIP39's PBKDF2 once per
// mnemonic however many of its indexes are signed with.
//
// Keys returned by Key belong to the Resolver: callers must not keep them
// past Reset, which zeroes them. Resolver is safe for concurrent use; Reset
// must not run while a Key call or a signature with one of its keys is in
// progress.
type Resolver struct {
	b        backend.SecretBackend
	testnet  bool
	allow    map[string]bool // nil: every wallet
	families map[string]bool

	mu      sync.Mutex
	entries map[string]*entry
	gets    int // backend Get calls since creation, for tests and metrics

	// The public keys of the keys handed out since the last Reset: a
	// wallet that signs many transactions in a cycle derived its public
	// key (a scalar multiplication, 50-70 µs) for every one.
	pubMu sync.Mutex
	pubs  map[*btcec.PrivateKey]*btcec.PublicKey
}

// PublicKeyOf returns priv's public key, from ks's cache when it keeps one
// (a Resolver, until its Reset), else derived.
func PublicKeyOf(ks KeySource, priv *btcec.PrivateKey) *btcec.PublicKey {
	if c, ok := ks.(publicKeyCache); ok {
		return c.publicKey(priv)
	}
	return priv.PubKey()
}

// publicKeyCache is a KeySource that keeps the public keys of the keys it
// hands out: the Resolver and its chain views (the daemon signs through
// ForChain's view, never the Resolver itself).
type publicKeyCache interface {
	publicKey(priv *btcec.PrivateKey) *btcec.PublicKey
}

func (r *Resolver) publicKey(priv *btcec.PrivateKey) *btcec.PublicKey {
	r.pubMu.Lock()
	pub, ok := r.pubs[priv]
	r.pubMu.Unlock()
	if ok {
		return pub
	}
	pub = priv.PubKey()
	r.pubMu.Lock()
	if r.pubs == nil {
		r.pubs = map[*btcec.PrivateKey]*btcec.PublicKey{}
	}
	r.pubs[priv] = pub
	r.pubMu.Unlock()
	return pub
}

// entry is one signatureId's cached state; ready closes when the fetch is done.
type entry struct {
	ready chan struct{}
	err   error

	kind  backend.Kind
	chain wallet.Chain

	priv *btcec.PrivateKey // private-key wallets
	der  *wallet.Deriver   // mnemonic wallets

	mu      sync.Mutex
	derived map[uint32]*btcec.PrivateKey
}

// NewResolver returns a Resolver over b for a daemon on testnet or mainnet;
// it refuses wallets stored for the other network.
func NewResolver(b backend.SecretBackend, testnet bool) *Resolver {
	return NewResolverWith(b, ResolverOptions{Testnet: testnet})
}

// NewResolverWith returns a Resolver over b bounded by o. Unknown family
// names are an error.
func NewResolverWith(b backend.SecretBackend, o ResolverOptions) *Resolver {
	r := &Resolver{b: b, testnet: o.Testnet, entries: map[string]*entry{}, families: map[string]bool{}}
	if len(o.Wallets) > 0 {
		r.allow = map[string]bool{}
		for _, w := range o.Wallets {
			r.allow[w] = true
		}
	}
	for _, f := range o.Families {
		r.families[strings.ToUpper(strings.TrimSpace(f))] = true
	}
	return r
}

// CheckFamilies refuses family names the Resolver does not know.
func CheckFamilies(fams []string) error {
	for _, f := range fams {
		if strings.ToUpper(strings.TrimSpace(f)) != FamilyEVM {
			return fmt.Errorf("chain family %q: gokms knows only %s (one key for every EVM chain)", f, FamilyEVM)
		}
	}
	return nil
}

// ForChain returns a KeySource that hands out only keys of wallets stored
// for chain (or, with a Families opt-in, for a chain of the same family),
// on the Resolver's network and, with Wallets, in that list. The daemon
// signs every transaction through the view of the transaction's chain.
func (r *Resolver) ForChain(chain string) KeySource {
	return chainView{r: r, chain: strings.ToUpper(strings.TrimSpace(chain))}
}

type chainView struct {
	r     *Resolver
	chain string
}

func (v chainView) publicKey(priv *btcec.PrivateKey) *btcec.PublicKey { return v.r.publicKey(priv) }

func (v chainView) Key(ctx context.Context, signatureID string, index *uint32) (*btcec.PrivateKey, error) {
	want, err := wallet.ParseChain(v.chain)
	if err != nil {
		return nil, fmt.Errorf("transaction chain %q: %w", v.chain, err)
	}
	if err := v.r.allowed(signatureID); err != nil {
		return nil, err
	}
	e, err := v.r.entry(ctx, signatureID)
	if err != nil {
		return nil, err
	}
	if e.chain != want && !(v.r.families[FamilyEVM] && e.chain.IsEVM() && want.IsEVM()) {
		hint := ""
		if e.chain.IsEVM() && want.IsEVM() {
			hint = "; to let one key sign for every EVM chain, start the daemon with --chain-family EVM"
		}
		return nil, fmt.Errorf("signatureId %s is a %s wallet, but the transaction is for %s: %w; refusing to sign%s",
			signatureID, e.chain, want, ErrChainMismatch, hint)
	}
	return v.r.key(signatureID, e, index)
}

func (r *Resolver) allowed(id string) error {
	if r.allow != nil && !r.allow[id] {
		return fmt.Errorf("signatureId %s: %w; refusing to sign (add it to --wallets to let it sign)", id, ErrWalletNotAllowed)
	}
	return nil
}

// Key implements KeySource without a chain binding (the chain is left to
// the signer); the daemon uses ForChain.
func (r *Resolver) Key(ctx context.Context, signatureID string, index *uint32) (*btcec.PrivateKey, error) {
	if err := r.allowed(signatureID); err != nil {
		return nil, err
	}
	e, err := r.entry(ctx, signatureID)
	if err != nil {
		return nil, err
	}
	return r.key(signatureID, e, index)
}

func (r *Resolver) key(signatureID string, e *entry, index *uint32) (*btcec.PrivateKey, error) {
	switch e.kind {
	case backend.PrivateKey:
		if index != nil {
			return nil, fmt.Errorf("signatureId %s is a private-key wallet, but the transaction asks for index %d: %w; use a mnemonic wallet's signatureId with an index, or this one without",
				signatureID, *index, ErrIndexMismatch)
		}
		return e.priv, nil
	default:
		if index == nil {
			return nil, fmt.Errorf("signatureId %s is a mnemonic wallet, but the transaction gives no index: %w; request the transaction with the index of the key to use, or use a private-key wallet",
				signatureID, ErrIndexMismatch)
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if k, ok := e.derived[*index]; ok {
			return k, nil
		}
		k, err := e.der.Key(*index)
		if err != nil {
			return nil, fmt.Errorf("signatureId %s: derive %s key at index %d: %w", signatureID, e.chain, *index, err)
		}
		e.derived[*index] = k
		return k, nil
	}
}

// entry returns the cached entry for id, fetching and decoding the record
// on first use. Concurrent callers for the same id wait for one fetch.
func (r *Resolver) entry(ctx context.Context, id string) (*entry, error) {
	r.mu.Lock()
	e, ok := r.entries[id]
	if !ok {
		e = &entry{ready: make(chan struct{})}
		r.entries[id] = e
		r.gets++
		r.mu.Unlock()
		e.err = r.load(ctx, id, e)
		if e.err != nil && ctx.Err() != nil {
			// This caller gave up; do not pin its cancellation on others.
			r.mu.Lock()
			if r.entries[id] == e {
				delete(r.entries, id)
			}
			r.mu.Unlock()
		}
		close(e.ready)
	} else {
		r.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	return e, nil
}

func (r *Resolver) load(ctx context.Context, id string, e *entry) error {
	rec, err := r.b.Get(ctx, id)
	if err != nil {
		if errors.Is(err, backend.ErrNotFound) {
			return fmt.Errorf("signatureId %s: %w in the store (%w)", id, ErrUnknownSignatureID, err)
		}
		return fmt.Errorf("signatureId %s: read wallet: %w", id, err)
	}
	defer rec.Zero()
	if rec.Testnet != r.testnet {
		return fmt.Errorf("signatureId %s is a %s wallet, but the daemon runs on %s: %w; refusing to sign", id, network(rec.Testnet), network(r.testnet), ErrNetworkMismatch)
	}
	c, err := wallet.ParseChain(rec.Chain)
	if err != nil {
		return fmt.Errorf("signatureId %s: wallet chain %q: %w", id, rec.Chain, err)
	}
	e.kind, e.chain = rec.Kind, c
	switch rec.Kind {
	case backend.PrivateKey:
		e.priv, err = wallet.DecodePrivateKey(c, string(rec.Secret), rec.Testnet)
		if err != nil {
			return fmt.Errorf("signatureId %s: stored %s private key: %w", id, c, err)
		}
	case backend.Mnemonic:
		e.der, err = wallet.NewDeriver(c, string(rec.Secret), rec.Testnet)
		if err != nil {
			return fmt.Errorf("signatureId %s: stored %s mnemonic: %w", id, c, err)
		}
		e.derived = map[uint32]*btcec.PrivateKey{}
	default:
		return fmt.Errorf("signatureId %s: unknown wallet kind %q", id, rec.Kind)
	}
	return nil
}

func network(testnet bool) string {
	if testnet {
		return "testnet"
	}
	return "mainnet"
}

// Reset zeroes every cached key and forgets every record, so the next Key
// reads the backend again. The daemon calls it after each cycle.
func (r *Resolver) Reset() {
	r.mu.Lock()
	entries := r.entries
	r.entries = map[string]*entry{}
	r.mu.Unlock()
	r.pubMu.Lock()
	r.pubs = nil // keyed by keys about to be zeroed
	r.pubMu.Unlock()
	for _, e := range entries {
		<-e.ready
		if e.priv != nil {
			e.priv.Zero()
		}
		if e.der != nil {
			e.der.Zero()
		}
		e.mu.Lock()
		for _, k := range e.derived {
			k.Zero()
		}
		e.derived = nil
		e.mu.Unlock()
	}
}

// Gets returns how many records the Resolver has read from the backend.
func (r *Resolver) Gets() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gets
}
