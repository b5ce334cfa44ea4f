package utxo

import (
	"fmt"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
)

// chainInfo is what differs between the UTXO chains for signing. Signing
// works on scripts, so the address parameters serve only to name an input's
// owner in error messages the way the operator's explorer shows it.
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
func addressParams(name string, pkh, sh byte, hrp string) *chaincfg.Params {
	return &chaincfg.Params{Name: name, PubKeyHashAddrID: pkh, ScriptHashAddrID: sh, Bech32HRPSegwit: hrp}
}

var (
	btcInfo = &chainInfo{code: "BTC", segwit: true, maxMoney: 21e6 * btcutil.SatoshiPerBitcoin,
		main: &chaincfg.MainNetParams, test: &chaincfg.TestNet3Params}
	// Litecoin: L/M addresses (0x30/0x32), ltc1; testnet m/n and Q (0x6f/0x3a), tltc1.
	ltcInfo = &chainInfo{code: "LTC", segwit: true, maxMoney: 84e6 * btcutil.SatoshiPerBitcoin,
		main: addressParams("litecoin", 0x30, 0x32, "ltc"), test: addressParams("litecoin-testnet", 0x6f, 0x3a, "tltc")}
	// Dogecoin has no segwit; MAX_MONEY in dogecoin's amount.h is 10 billion coins.
	dogeInfo = &chainInfo{code: "DOGE", maxMoney: 10e9 * btcutil.SatoshiPerBitcoin,
		main: addressParams("dogecoin", 0x1e, 0x16, ""), test: addressParams("dogecoin-testnet", 0x71, 0xc4, "")}
	// Bitcoin Cash: legacy address bytes as bitcoin's (cashaddr is an encoding of the same hash).
	bchInfo = &chainInfo{code: "BCH", forkID: true, maxMoney: 21e6 * btcutil.SatoshiPerBitcoin,
		main: addressParams("bitcoincash", 0x00, 0x05, ""), test: addressParams("bitcoincash-testnet", 0x6f, 0xc4, "")}
)
