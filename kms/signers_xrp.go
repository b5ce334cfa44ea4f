package kms

import (
	"fmt"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/xrp"
)

// xrpFamily signs XRP with the stored family seed. tatum-kms asks no node:
// Tatum's pending transactions carry Sequence, Fee and LastLedgerSequence.
// With --rpc XRP=URL, a transaction lacking one is filled from that rippled
// JSON-RPC node (the API key goes only to a host under tatum.io); without
// it such a transaction is refused.
var xrpFamily = family{
	chains: []string{"XRP"},
	nodes:  true,
	build: func(cfg SignerConfig) (signing.Family, func(), error) {
		p := xrp.Params{}
		if u, ok := cfg.Nodes["XRP"]; ok {
			key := ""
			if underTatum(u) {
				key = cfg.APIKey
			}
			n, err := xrp.NewRPC(u, key, cfg.HTTPClient)
			if err != nil {
				return nil, nil, fmt.Errorf("--%s XRP=%s: %w", FlagRPC, RedactRPCArg(u), err)
			}
			p.Node = n
		}
		return signing.Family{"XRP": xrp.NewRecordSigner(p, RecordKeys{Testnet: cfg.Testnet}.XRPKey)}, nil, nil
	},
}
