package kms

import (
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/ada"
	"github.com/gokms/gokms/tatum"
)

// adaFamily signs ADA through the Rosetta construction API of Tatum's node
// gateway ({TATUM_API_URL}/v3/blockchain/node/cardano-{mainnet,preprod}),
// as tatum-kms does. It takes no --rpc node: the gateway paths and the API
// key are Tatum's, and the key is not sent to another host.
var adaFamily = family{
	chains: []string{"ADA"},
	build: func(cfg SignerConfig) (signing.Family, func(), error) {
		u := cfg.APIURL
		if u == "" {
			u = tatum.DefaultBaseURL
		}
		node := &ada.RosettaClient{BaseURL: u, APIKey: cfg.APIKey, Testnet: cfg.Testnet, HTTP: cfg.HTTPClient}
		return ada.Family(node, 0, RecordKeys{Testnet: cfg.Testnet}.CardanoKey), nil, nil
	},
}
