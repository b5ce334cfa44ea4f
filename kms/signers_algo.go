package kms

import (
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/algo"
)

// algoFamily signs ALGO; it asks no node (the pending transaction carries
// fee, rounds and genesis; Tatum broadcasts).
var algoFamily = family{
	chains: []string{"ALGO"},
	build: func(cfg SignerConfig) (signing.Family, func(), error) {
		return algo.Family(RecordKeys{Testnet: cfg.Testnet}.Ed25519Key), nil, nil
	},
}
