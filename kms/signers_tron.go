package kms

import (
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/tron"
)

// tronFamily signs TRON: secp256k1 keys through the Resolver (mnemonic +
// index, or a 64-hex private key), no node (the pending transaction carries
// its reference block), fee_limit capped at tron.DefaultMaxFeeLimit.
var tronFamily = family{
	chains: []string{"TRON"},
	build: func(SignerConfig) (signing.Family, func(), error) {
		return signing.Family{"TRON": tron.NewSigner(tron.Params{})}, nil, nil
	},
}
