package kms

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/sol"
)

// solFamily signs SOL and sends the signed transaction to a Solana node
// itself, as tatum-kms does: --rpc SOL=URL, else Tatum's gateway
// {APIURL}/v3/blockchain/node/SOL with the API key in x-api-key (tatum-kms
// puts it in the path). A configured node gets the key only when its host
// is under tatum.io.
var solFamily = family{
	chains: []string{"SOL"},
	nodes:  true,
	build: func(cfg SignerConfig) (signing.Family, func(), error) {
		node, err := solNode(cfg)
		if err != nil {
			return nil, nil, err
		}
		return signing.Family{"SOL": sol.NewSigner(node, RecordKeys{Testnet: cfg.Testnet}.Ed25519Key)}, nil, nil
	},
}

func solNode(cfg SignerConfig) (sol.DaemonNode, error) {
	u, ok := cfg.Nodes["SOL"]
	if !ok {
		if cfg.APIKey == "" {
			return noSOLNode{}, nil
		}
		base := cfg.APIURL
		if base == "" {
			base = defaultAPIURL
		}
		u = strings.TrimRight(base, "/") + "/v3/blockchain/node/SOL"
	}
	var h http.Header
	if cfg.APIKey != "" && (!ok || underTatum(u)) {
		h = http.Header{"X-Api-Key": {cfg.APIKey}}
	}
	n, err := sol.NewRPC(u, h, cfg.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("--%s SOL=%s: %w", FlagRPC, RedactRPCArg(u), err)
	}
	return n, nil
}

// defaultAPIURL is Tatum's API (tatum.DefaultBaseURL), for a SignerConfig
// without APIURL.
const defaultAPIURL = "https://api.tatum.io"

// underTatum reports whether a node URL's host is Tatum's, which may see
// the API key.
func underTatum(u string) bool {
	pu, err := url.Parse(u)
	if err != nil {
		return false
	}
	host := strings.ToLower(pu.Hostname())
	return host == "tatum.io" || strings.HasSuffix(host, ".tatum.io")
}

// noSOLNode is the node of a daemon with neither --rpc SOL=URL nor an API
// key: every SOL transaction fails with what to configure.
type noSOLNode struct{}

var errNoSOLNode = fmt.Errorf("no Solana node: give --%s SOL=URL (or %sSOL), or a Tatum API key for Tatum's gateway", FlagRPC, EnvRPCPrefix)

func (noSOLNode) LatestBlockhash(context.Context) (sol.Blockhash, error) {
	return sol.Blockhash{}, errNoSOLNode
}
func (noSOLNode) SendTransaction(context.Context, []byte) (string, error) { return "", errNoSOLNode }
func (noSOLNode) SignatureStatuses(context.Context, []string) ([]*sol.SignatureStatus, error) {
	return nil, errNoSOLNode
}
func (noSOLNode) BlockHeight(context.Context) (uint64, error) { return 0, errNoSOLNode }
