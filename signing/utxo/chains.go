package utxo

import (
	"fmt"

	"github.com/btcsuite/btcd/chaincfg"

	"github.com/gokms/gokms/chain"
)

// chainInfo is what differs between the UTXO chains for signing, taken from
// the chain table. Signing works on scripts, so the address parameters serve
// only to name an input's owner in messages the way the operator's explorer
// shows it.
type chainInfo struct {
	code     string
	segwit   bool  // P2WPKH and P2SH-P2WPKH inputs exist on this chain
	forkID   bool  // Bitcoin Cash: SIGHASH_FORKID with the BIP143-style digest
	maxMoney int64 // consensus cap on any amount, in satoshis
	main     *chaincfg.Params
	test     *chaincfg.Params
}

func (c *chainInfo) checkAmount(v int64) error {
	if v < 0 {
		return fmt.Errorf("negative amount %d satoshis", v)
	}
	if v > c.maxMoney {
		return fmt.Errorf("amount %d satoshis exceeds the %s maximum %d", v, c.code, c.maxMoney)
	}
	return nil
}

func (c *chainInfo) params(testnet bool) *chaincfg.Params {
	if testnet {
		return c.test
	}
	return c.main
}

// addressParams builds just enough chaincfg.Params to encode addresses. They
// are never registered with chaincfg, so they cannot clash with btcd's own.
func addressParams(name string, n chain.Network) *chaincfg.Params {
	return &chaincfg.Params{Name: name, PubKeyHashAddrID: n.PubKeyHash, ScriptHashAddrID: n.ScriptHash, Bech32HRPSegwit: n.Bech32HRP}
}

// chains are the UTXO chains of the chain table, in its order.
var chains = func() []*chainInfo {
	var out []*chainInfo
	for _, c := range chain.Of(chain.UTXO) {
		out = append(out, &chainInfo{code: c.Code, segwit: c.Segwit, forkID: c.ForkID, maxMoney: c.MaxMoney,
			main: addressParams(c.Name, c.Mainnet), test: addressParams(c.Name+" testnet", c.Testnet)})
	}
	return out
}()
