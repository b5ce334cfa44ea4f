package kms

import (
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/xlm"
)

// xlmFamily signs XLM envelopes for the daemon's network passphrase; the
// key is the stored "S..." secret. No node: the envelope carries its
// sequence number and fee.
var xlmFamily = family{
	chains: []string{"XLM"},
	build: func(cfg SignerConfig) (signing.Family, func(), error) {
		return signing.Family{"XLM": xlm.NewSigner(RecordKeys{Testnet: cfg.Testnet}.Ed25519Key)}, nil, nil
	},
}
