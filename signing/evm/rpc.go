package evm

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

// node is one chain's JSON-RPC endpoint. Its chain id is checked against
// the table once, before any value it returns is used.
type node struct {
	chain   Chain
	testnet bool
	url     string // never shown: it may carry a key
	apiKey  string // sent as x-api-key; kept only to scrub it from messages
	shown   string // the URL as messages show it: scheme://host only
	client  *ethclient.Client

	mu      sync.Mutex
	checked bool
}

// redactURL keeps scheme and host: paths and queries of RPC URLs often carry
// API keys (https://mainnet.infura.io/v3/<key>).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the configured RPC URL"
	}
	return u.Scheme + "://" + u.Host
}

// rpcErr hides the full URL (which may hold a key) from an RPC error.
type rpcErr struct {
	msg string
	err error
}

func (e *rpcErr) Error() string { return e.msg }
func (e *rpcErr) Unwrap() error { return e.err }

func (n *node) wrap(what string, err error) error {
	msg := err.Error()
	if rawURL := n.url; rawURL != "" {
		msg = strings.ReplaceAll(msg, rawURL, n.shown)
		if u, perr := url.Parse(rawURL); perr == nil && u.Path != "" && u.Path != "/" {
			msg = strings.ReplaceAll(msg, u.Path, "/…")
		}
	}
	if n.apiKey != "" {
		msg = strings.ReplaceAll(msg, n.apiKey, "<api key>")
	}
	return &rpcErr{msg: fmt.Sprintf("%s: %s via %s: %s", n.chain.Network(n.testnet), what, n.shown, msg), err: err}
}

func dialNode(ctx context.Context, chain Chain, testnet bool, rawURL string, apiKey string, hc *http.Client) (*node, error) {
	n := &node{chain: chain, testnet: testnet, url: rawURL, apiKey: apiKey, shown: redactURL(rawURL)}
	opts := []rpc.ClientOption{}
	if hc != nil {
		opts = append(opts, rpc.WithHTTPClient(hc))
	}
	if apiKey != "" {
		opts = append(opts, rpc.WithHeader("x-api-key", apiKey))
	}
	c, err := rpc.DialOptions(ctx, rawURL, opts...)
	if err != nil {
		return nil, n.wrap("connect", err)
	}
	n.client = ethclient.NewClient(c)
	return n, nil
}

// checkChainID refuses a node serving another chain: its nonces, prices and
// estimates would be wrong for this chain, and a mix-up of URLs (a mainnet
// URL on a testnet daemon) must not go unnoticed.
func (n *node) checkChainID(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.checked {
		return nil
	}
	id, err := n.client.ChainID(ctx)
	if err != nil {
		return n.wrap("eth_chainId", err)
	}
	want := n.chain.ID(n.testnet)
	if !id.IsUint64() || id.Uint64() != want {
		return fmt.Errorf("%s: the RPC node at %s serves chain id %s; refusing to sign with values from it", n.chain.Network(n.testnet), n.shown, id)
	}
	n.checked = true
	return nil
}

func (n *node) close() {
	if n.client != nil {
		n.client.Close()
	}
}

// errNoRPC is returned when a transaction needs the node and none is known.
var errNoRPC = errors.New("no JSON-RPC node configured")

// estimate returns eth_estimateGas for the transaction as it will be sent.
func (n *node) estimate(ctx context.Context, from common.Address, t *txFields) (uint64, error) {
	msg := ethereum.CallMsg{From: from, To: t.to, Value: t.value, Data: t.data}
	g, err := n.client.EstimateGas(ctx, msg)
	if err != nil {
		return 0, n.wrap("eth_estimateGas", err)
	}
	return g, nil
}

func (n *node) gasPrice(ctx context.Context) (*big.Int, error) {
	p, err := n.client.SuggestGasPrice(ctx)
	if err != nil {
		return nil, n.wrap("eth_gasPrice", err)
	}
	return p, nil
}

func (n *node) tip(ctx context.Context) (*big.Int, error) {
	p, err := n.client.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, n.wrap("eth_maxPriorityFeePerGas", err)
	}
	return p, nil
}

// nextBaseFee returns the base fee of the next block (the last entry of
// eth_feeHistory's baseFeePerGas).
func (n *node) nextBaseFee(ctx context.Context) (*big.Int, error) {
	// An empty, not nil, percentile list: ethclient sends nil as null, which
	// geth's own server refuses ("missing value for required argument 2").
	h, err := n.client.FeeHistory(ctx, 1, nil, []float64{})
	if err != nil {
		return nil, n.wrap("eth_feeHistory", err)
	}
	if len(h.BaseFee) == 0 || h.BaseFee[len(h.BaseFee)-1] == nil {
		return nil, fmt.Errorf("%s: eth_feeHistory via %s returned no base fee", n.chain.Network(n.testnet), n.shown)
	}
	return h.BaseFee[len(h.BaseFee)-1], nil
}

func (n *node) pendingNonce(ctx context.Context, a common.Address) (uint64, error) {
	v, err := n.client.PendingNonceAt(ctx, a)
	if err != nil {
		return 0, n.wrap("eth_getTransactionCount", err)
	}
	return v, nil
}
