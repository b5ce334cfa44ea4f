package kms

import (
	"errors"
	"net/url"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/flow"
	"github.com/gokms/gokms/tatum"
)

// flowFamily signs FLOW with Tatum as proposer and payer (/v3/flow/proposal,
// /v3/flow/sign on the Tatum API) and sends to a Flow access node: --rpc
// FLOW=URL, else the REST access node tatum-kms's SDK points fcl at.
// CUSTOM_TX (arbitrary Cadence) is refused.
var flowFamily = family{
	chains: []string{"FLOW"},
	nodes:  true,
	build: func(cfg SignerConfig) (signing.Family, func(), error) {
		base := cfg.APIURL
		if base == "" {
			base = tatum.DefaultBaseURL
		}
		access := cfg.Nodes["FLOW"]
		if access == "" {
			access = flow.MainnetAccessNode
			if cfg.Testnet {
				access = flow.TestnetAccessNode
			}
		}
		if u, err := url.Parse(access); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, nil, errors.New("FLOW access node URL: want an absolute http:// or https:// URL")
		}
		return flow.Family(&flow.Signer{
			Tatum:     &flow.TatumClient{BaseURL: base, APIKey: cfg.APIKey, HTTP: cfg.HTTPClient},
			Node:      &flow.AccessClient{BaseURL: access, HTTP: cfg.HTTPClient},
			DecodeKey: RecordKeys{Testnet: cfg.Testnet}.Secp256k1Key,
		}), nil, nil
	},
}
