// Package evm signs pending transactions for Ethereum and the EVM chains
// Tatum serves (ETH, BSC, MATIC, CELO, KLAY, ONE, XDC, KCS).
//
// A pending transaction's serializedTransaction is a web3.js transaction
// object as JSON. Missing nonce, gas limit, gas price (or EIP-1559 fee caps)
// and chain id are filled from the chain's JSON-RPC node, as web3's
// signTransaction does; the chain id always comes from the table in
// chains.go and a node or transaction that contradicts it is refused.
// Transactions are signed with go-ethereum's London signer: legacy EIP-155
// when a gas price is given (or none), EIP-1559 when fee caps are given. The
// result is the 0x-prefixed raw transaction Tatum's broadcast endpoints take
// (web3's rawTransaction).
package evm

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/sync/errgroup"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/nodehttp"
)

// Config says where the chains' JSON-RPC nodes are and how careful to be.
type Config struct {
	// RPC maps a chain code ("ETH", case-insensitive) to its JSON-RPC URL.
	// Chains not listed use Tatum's RPC gateway
	// (https://<network>.gateway.tatum.io) with APIKey.
	RPC map[string]string
	// APIKey is the Tatum API key, sent as x-api-key to Tatum's gateway (and
	// to a configured RPC URL only if its host is under tatum.io).
	APIKey string
	// HTTPClient for the RPC calls; nil means a default client.
	HTTPClient *http.Client
	// CallTimeout bounds the node calls made for one transaction (default 30s).
	CallTimeout time.Duration
	// NonceStall is how long the node's pending nonce of an address may stay
	// behind the nonces handed out before those are believed lost and the
	// node's value is used again (default 2 minutes).
	NonceStall time.Duration
	// MaxFeeWei refuses transactions whose fee limit, gas limit times gas
	// price (or maxFeePerGas), exceeds it (default 10^20 wei: 100 coins).
	MaxFeeWei *big.Int
}

const (
	defaultCallTimeout = 30 * time.Second
	defaultNonceStall  = 2 * time.Minute
	minGas             = 21000 // intrinsic gas of the cheapest transaction
)

var defaultMaxFee = new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil)

// Signer signs EVM transactions for every chain in the table. It is safe
// for concurrent use.
type Signer struct {
	mu     sync.RWMutex
	cfg    Config
	rpc    map[string]string // normalized cfg.RPC
	nodes  map[nodeKey]*node
	nonces *nonceAllocator
	now    func() time.Time // for tests
}

type nodeKey struct {
	code    string
	testnet bool
}

// New returns a Signer with cfg (see Configure). Each configuration (each
// daemon) builds its own: there is no process-wide EVM signer.
func New(cfg Config) (*Signer, error) {
	s := &Signer{now: time.Now}
	if err := s.Configure(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// Family returns s as the Signer of every EVM chain of the chain table,
// for signing.NewSet.
func (s *Signer) Family() signing.Family {
	f := signing.Family{}
	for _, c := range chains {
		f[c.Code] = s
	}
	return f
}

// Configure replaces the configuration. Node connections and the nonce
// allocator start afresh.
func (s *Signer) Configure(cfg Config) error {
	norm := map[string]string{}
	for code, u := range cfg.RPC {
		c, ok := Lookup(code)
		if !ok {
			return fmt.Errorf("RPC URL for %q: not an EVM chain gokms signs (%s)", code, strings.Join(Codes(), ", "))
		}
		if err := checkRPCURL(u); err != nil {
			return fmt.Errorf("RPC URL for %s: %w", c.Code, err)
		}
		if _, dup := norm[c.Code]; dup {
			return fmt.Errorf("RPC URL for %s given twice", c.Code)
		}
		norm[c.Code] = u
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = defaultCallTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = nodehttp.Client(0)
	}
	if cfg.NonceStall <= 0 {
		cfg.NonceStall = defaultNonceStall
	}
	if cfg.MaxFeeWei == nil || cfg.MaxFeeWei.Sign() <= 0 {
		cfg.MaxFeeWei = defaultMaxFee
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.nodes {
		n.close()
	}
	s.cfg, s.rpc, s.nodes = cfg, norm, map[nodeKey]*node{}
	s.nonces = newNonceAllocator(cfg.NonceStall, func() time.Time { return s.now() })
	return nil
}

// Close releases the node connections.
func (s *Signer) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.nodes {
		n.close()
	}
	s.nodes = map[nodeKey]*node{}
}

func checkRPCURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("not an absolute URL")
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
		return nil
	}
	return fmt.Errorf("scheme %q: want http, https, ws or wss", u.Scheme)
}

// RPCURL returns the JSON-RPC URL used for the chain's network and whether
// the Tatum API key is sent to it. The URL is not for display: it may hold a key.
func (s *Signer) RPCURL(code string, testnet bool) (string, bool, error) {
	c, ok := Lookup(code)
	if !ok {
		return "", false, fmt.Errorf("chain %q: %w", code, signing.ErrUnsupportedChain)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rpcURL(c, testnet)
}

func (s *Signer) rpcURL(c Chain, testnet bool) (string, bool, error) {
	if u, ok := s.rpc[c.Code]; ok {
		pu, _ := url.Parse(u)
		host := strings.ToLower(pu.Hostname())
		underTatum := host == "tatum.io" || strings.HasSuffix(host, ".tatum.io")
		return u, underTatum && s.cfg.APIKey != "", nil
	}
	if s.cfg.APIKey == "" {
		return "", false, fmt.Errorf("%s: %w: give --evm-rpc %s=URL (or TATUM_KMS_RPC_%s), or a Tatum API key for its RPC gateway", c.Network(testnet), errNoRPC, c.Code, c.Code)
	}
	return c.Gateway(testnet), true, nil
}

func (s *Signer) node(ctx context.Context, c Chain, testnet bool) (*node, error) {
	k := nodeKey{c.Code, testnet}
	s.mu.RLock()
	n := s.nodes[k]
	s.mu.RUnlock()
	if n == nil {
		s.mu.Lock()
		if n = s.nodes[k]; n == nil {
			u, withKey, err := s.rpcURL(c, testnet)
			if err != nil {
				s.mu.Unlock()
				return nil, err
			}
			key := ""
			if withKey {
				key = s.cfg.APIKey
			}
			// Dialing HTTP does no I/O; the context only bounds websocket dials.
			n, err = dialNode(ctx, c, testnet, u, key, s.cfg.HTTPClient)
			if err != nil {
				s.mu.Unlock()
				return nil, err
			}
			s.nodes[k] = n
		}
		s.mu.Unlock()
	}
	if err := n.checkChainID(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

// keyRef picks the key that signs an account-based transaction, as
// tatum-kms does: the first of hashes with the transaction's index, else
// the first mnemonic signature with its own index.
func keyRef(req signing.Request) (string, *uint32, error) {
	ids := map[string]bool{}
	for _, h := range req.Hashes {
		ids[h] = true
	}
	if len(ids) > 1 {
		l := make([]string, 0, len(ids))
		for h := range ids {
			l = append(l, h)
		}
		sort.Strings(l)
		return "", nil, fmt.Errorf("an EVM transaction is signed by one key, but hashes names %d signatureIds (%s)", len(l), strings.Join(l, ", "))
	}
	if len(req.Hashes) > 0 {
		return req.Hashes[0], req.Index, nil
	}
	if len(req.Signatures) > 0 {
		idx := req.Index
		if idx == nil {
			idx = req.Signatures[0].Index
		}
		return req.Signatures[0].ID, idx, nil
	}
	return "", nil, errors.New("the pending transaction names no signatureId (hashes and signatures are empty)")
}

// Sign implements signing.Signer.
func (s *Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sg, err := s.SignDetailed(ctx, req, keys)
	return sg.Raw, err
}

// SignDetailed implements signing.DetailedSigner: the signed transaction,
// its hash and what it does, read back from the signed bytes.
func (s *Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	c, ok := Lookup(req.Chain)
	if !ok {
		return signing.Signed{}, fmt.Errorf("chain %q: %w", req.Chain, signing.ErrUnsupportedChain)
	}
	sg, err := s.sign(ctx, c, req, keys)
	if err != nil {
		return signing.Signed{}, fmt.Errorf("%s transaction %s: %w", c.Code, req.ID, err)
	}
	return sg, nil
}

// view describes a signed transaction for approvers.
func view(c Chain, testnet bool, from common.Address, tx *types.Transaction) *signing.TxView {
	n := tx.Nonce()
	v := &signing.TxView{Chain: c.Code, Testnet: testnet, From: strings.ToLower(from.Hex()), Value: tx.Value(),
		Data: tx.Data(), Nonce: &n, Gas: tx.Gas(), ChainID: c.ID(testnet)}
	if to := tx.To(); to != nil {
		v.To = strings.ToLower(to.Hex())
	}
	if tx.Type() == types.DynamicFeeTxType {
		v.MaxFee, v.MaxTip = tx.GasFeeCap(), tx.GasTipCap()
	} else {
		v.GasPrice = tx.GasPrice()
	}
	return v
}

func (s *Signer) sign(ctx context.Context, c Chain, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	t, err := parseTx(c, req.SerializedTransaction)
	if err != nil {
		return signing.Signed{}, err
	}
	chainID := c.ID(req.Testnet)
	if t.chainID != nil && t.chainID.Uint64() != chainID {
		return signing.Signed{}, fmt.Errorf("`chainId` %s contradicts %s; refusing to sign", t.chainID, c.Network(req.Testnet))
	}
	id, idx, err := keyRef(req)
	if err != nil {
		return signing.Signed{}, err
	}
	priv, err := keys.Key(ctx, id, idx)
	if err != nil {
		return signing.Signed{}, fmt.Errorf("key for signatureId %s: %w", id, err)
	}
	// The btcec key belongs to the KeySource (it may cache it); the ECDSA
	// copy is ours and is wiped when done.
	key := priv.ToECDSA()
	defer wipe(key)
	from := crypto.PubkeyToAddress(key.PublicKey)
	if t.from != nil && *t.from != from {
		return signing.Signed{}, fmt.Errorf("`from` %s is not the address of the signing key (%s, signatureId %s); refusing to sign", FormatAddress(c.Code, *t.from), FormatAddress(c.Code, from), id)
	}

	s.mu.RLock()
	cfg := s.cfg
	nonces := s.nonces
	s.mu.RUnlock()
	ctx, cancel := context.WithTimeout(ctx, cfg.CallTimeout)
	defer cancel()

	tx, err := s.complete(ctx, c, req.Testnet, from, t, cfg, nonces, req.Nonces)
	if err != nil {
		return signing.Signed{}, err
	}
	signed, err := types.SignTx(tx, types.NewLondonSigner(new(big.Int).SetUint64(chainID)), key)
	if err != nil {
		return signing.Signed{}, fmt.Errorf("sign: %w", err)
	}
	b, err := signed.MarshalBinary()
	if err != nil {
		return signing.Signed{}, fmt.Errorf("encode signed transaction: %w", err)
	}
	return signing.Signed{Raw: hexutil.Encode(b), TxID: signed.Hash().Hex(), View: view(c, req.Testnet, from, signed)}, nil
}

// complete fills what the transaction lacks from the node, checks the
// limits, and only then allocates the nonce (a nonce handed out for a
// transaction that is then refused would leave a gap).
func (s *Signer) complete(ctx context.Context, c Chain, testnet bool, from common.Address, t *txFields, cfg Config, nonces *nonceAllocator, journal signing.NonceSource) (*types.Transaction, error) {
	dynamic := t.dynamic()
	needPrice := (!dynamic && t.gasPrice == nil) || (dynamic && (t.maxFee == nil || t.maxTip == nil))
	var n *node
	if !t.hasNonce || !t.hasGas || needPrice {
		var err error
		if n, err = s.node(ctx, c, testnet); err != nil {
			return nil, err
		}
	}

	gas, gasPrice, maxFee, maxTip := t.gas, t.gasPrice, t.maxFee, t.maxTip
	g, gctx := errgroup.WithContext(ctx)
	if !t.hasGas {
		g.Go(func() error {
			v, err := n.estimate(gctx, from, t)
			gas = v
			return err
		})
	}
	if needPrice && !dynamic {
		g.Go(func() error {
			v, err := n.gasPrice(gctx)
			gasPrice = v
			return err
		})
	}
	var base, suggestedTip *big.Int
	if needPrice && dynamic {
		if maxTip == nil {
			g.Go(func() error {
				v, err := n.tip(gctx)
				suggestedTip = v
				return err
			})
		}
		if maxFee == nil {
			g.Go(func() error {
				v, err := n.nextBaseFee(gctx)
				base = v
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if dynamic {
		switch {
		case maxTip == nil && maxFee == nil:
			maxTip = suggestedTip
			// web3.js and ethers: room for the base fee to double.
			maxFee = new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), maxTip)
		case maxTip == nil: // fee cap given: the tip cannot exceed it
			maxTip = suggestedTip
			if maxTip.Cmp(maxFee) > 0 {
				maxTip = new(big.Int).Set(maxFee)
			}
		case maxFee == nil:
			maxFee = new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), maxTip)
		}
	}

	price := gasPrice
	if dynamic {
		price = maxFee
	}
	if gas < minGas {
		return nil, fmt.Errorf("gas limit %d is below the %d every transaction needs", gas, minGas)
	}
	if gas > c.MaxGas {
		return nil, fmt.Errorf("gas limit %d is above %d, the most gokms signs for %s; refusing an absurd gas limit", gas, c.MaxGas, c.Code)
	}
	fee := new(big.Int).Mul(new(big.Int).SetUint64(gas), price)
	if fee.Cmp(cfg.MaxFeeWei) > 0 {
		return nil, fmt.Errorf("fee limit %s wei (gas %d × %s wei) is above the %s wei gokms signs; refusing an absurd fee", fee, gas, price, cfg.MaxFeeWei)
	}

	k := nonceKey{c.ID(testnet), from}
	nonce := t.nonce
	switch {
	case t.hasNonce:
		nonces.claim(k, nonce)
	case journal != nil:
		// The daemon's journal remembers every nonce it handed out, across
		// restarts; combined with the node's pending nonce, a restart never
		// reuses one (two payments) or skips one (a stuck queue).
		pending, err := n.pendingNonce(ctx, from)
		if err != nil {
			return nil, err
		}
		// Skip nonces that transactions of this address brought with them
		// (claimed below, not in the journal until they are recorded).
		for tries := 0; ; tries++ {
			if nonce, err = journal.Nonce(ctx, c.Code, testnet, strings.ToLower(from.Hex()), pending); err != nil {
				return nil, fmt.Errorf("reserve nonce: %w", err)
			}
			if tries >= 1024 || !nonces.claimed(k, nonce) {
				break
			}
			pending = nonce + 1
		}
	default:
		pending, err := n.pendingNonce(ctx, from)
		if err != nil {
			return nil, err
		}
		nonce = nonces.next(k, pending)
	}
	if dynamic {
		return types.NewTx(&types.DynamicFeeTx{ChainID: new(big.Int).SetUint64(c.ID(testnet)), Nonce: nonce, GasTipCap: maxTip, GasFeeCap: maxFee,
			Gas: gas, To: t.to, Value: t.value, Data: t.data}), nil
	}
	return types.NewTx(&types.LegacyTx{Nonce: nonce, GasPrice: gasPrice, Gas: gas, To: t.to, Value: t.value, Data: t.data}), nil
}

// wipe overwrites the private scalar of an ECDSA key copy.
func wipe(k *ecdsa.PrivateKey) {
	if k == nil || k.D == nil {
		return
	}
	b := k.D.Bits()
	for i := range b {
		b[i] = 0
	}
	k.D.SetInt64(0)
}
