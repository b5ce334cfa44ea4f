package kms

import (
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/egld"
	"github.com/gokms/gokms/tatum"
)

// egldFamily signs EGLD on a MultiversX gateway: --rpc EGLD=URL, else
// Tatum's gateway proxy with the API key, as tatum-kms's SDK does.
var egldFamily = family{
	chains: []string{"EGLD"},
	nodes:  true,
	build: func(cfg SignerConfig) (signing.Family, func(), error) {
		u := cfg.Nodes["EGLD"]
		if u == "" {
			base := cfg.APIURL
			if base == "" {
				base = tatum.DefaultBaseURL
			}
			u = egld.TatumGateway(base, cfg.APIKey)
		}
		node, err := egld.NewHTTPNode(u, cfg.HTTPClient)
		if err != nil {
			return nil, nil, err
		}
		return egld.Family(node, RecordKeys{Testnet: cfg.Testnet}.Ed25519Key), nil, nil
	},
}
