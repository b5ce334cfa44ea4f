package utxo

import (
	"testing"

	"github.com/btcsuite/btcd/chaincfg"

	"github.com/gokms/gokms/signing"
)

// The UTXO chains by code, from the chain table.
var (
	btcInfo  = mustInfo("BTC")
	ltcInfo  = mustInfo("LTC")
	bchInfo  = mustInfo("BCH")
	dogeInfo = mustInfo("DOGE")
)

// signers is the Set the tests sign through, as the application builds it.
var signers = func() *signing.Set {
	s, err := signing.NewSet(Family())
	if err != nil {
		panic(err)
	}
	return s
}()

func mustInfo(code string) *chainInfo {
	for _, c := range chains {
		if c.code == code {
			return c
		}
	}
	panic("no UTXO chain " + code + " in the chain table")
}

// BTC's address parameters in the chain table are btcd's (signing used
// chaincfg.MainNetParams and TestNet3Params before the table).
func TestBTCAddressParamsAreBtcds(t *testing.T) {
	for _, c := range []struct {
		got, want *chaincfg.Params
	}{{btcInfo.main, &chaincfg.MainNetParams}, {btcInfo.test, &chaincfg.TestNet3Params}} {
		if c.got.PubKeyHashAddrID != c.want.PubKeyHashAddrID || c.got.ScriptHashAddrID != c.want.ScriptHashAddrID ||
			c.got.Bech32HRPSegwit != c.want.Bech32HRPSegwit {
			t.Errorf("%s: table gives %#x/%#x/%q, btcd %#x/%#x/%q", c.want.Name, c.got.PubKeyHashAddrID, c.got.ScriptHashAddrID,
				c.got.Bech32HRPSegwit, c.want.PubKeyHashAddrID, c.want.ScriptHashAddrID, c.want.Bech32HRPSegwit)
		}
	}
	// One P2WPKH owner named on both networks, as the explorers spell it.
	h := make([]byte, 20)
	s := &Signer{c: btcInfo}
	want := "to bc1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq9e75rs (testnet tb1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq0l98cr)"
	if got := s.describe(append([]byte{0x00, 0x14}, h...)); got != want {
		t.Errorf("describe: %s, want %s", got, want)
	}
	if len(chains) != 4 || ltcInfo.main.PubKeyHashAddrID != 0x30 || dogeInfo.segwit || !bchInfo.forkID {
		t.Errorf("UTXO chains from the table: %d chains, LTC %#x", len(chains), ltcInfo.main.PubKeyHashAddrID)
	}
}
