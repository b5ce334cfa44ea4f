package kms

import (
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/vet"
)

// vetFamily signs VET on a Thor REST node: --rpc VET=URL, else the public
// node tatum-kms's thorify uses (not Tatum's gateway).
var vetFamily = family{
	chains: []string{"VET"},
	nodes:  true,
	build: func(cfg SignerConfig) (signing.Family, func(), error) {
		u := cfg.Nodes["VET"]
		if u == "" {
			u = vet.MainnetURL
			if cfg.Testnet {
				u = vet.TestnetURL
			}
		}
		node, err := vet.NewHTTPNode(u, cfg.HTTPClient)
		if err != nil {
			return nil, nil, err
		}
		return vet.Family(node, RecordKeys{Testnet: cfg.Testnet}.Secp256k1Key), nil, nil
	},
}
