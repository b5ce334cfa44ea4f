package chain

import "testing"

// Every entry is complete for its family, so a new chain cannot be half
// written: the layers that read the table would refuse it or misencode.
func TestTableEntries(t *testing.T) {
	for _, c := range All() {
		if c.Code == "" || c.Name == "" || c.Broadcast == "" {
			t.Errorf("%+v: code, name and broadcast path are required", c)
		}
		for _, n := range []Network{c.Mainnet, c.Testnet} {
			if c.Family.HD() && (n.XpubVersion == [4]byte{} || n.XpubAddress == NoAddress || n.KeyAddress == NoAddress) {
				t.Errorf("%s: an HD chain needs xpub versions and address kinds on both networks", c.Code)
			}
			if c.Family == UTXO && (n.WIF == 0 || c.MaxMoney <= 0) {
				t.Errorf("%s: a UTXO chain needs WIF versions and a money cap", c.Code)
			}
			if c.Family == UTXO && c.Segwit != (n.Bech32HRP != "") {
				t.Errorf("%s: segwit %v but bech32 prefix %q", c.Code, c.Segwit, n.Bech32HRP)
			}
			if c.Family == EVM && (n.ChainID == 0 || n.Gateway == "" || c.MaxGas == 0) {
				t.Errorf("%s: an EVM chain needs chain ids, gateways and a gas bound", c.Code)
			}
		}
		if c.Family == EVM && c.Testnet.Name == "" {
			t.Errorf("%s: name the EVM testnet", c.Code)
		}
		if got, ok := Lookup(" " + c.Code + " "); !ok || got.Code != c.Code {
			t.Errorf("Lookup(%s) = %v, %v", c.Code, got.Code, ok)
		}
	}
	if _, ok := Lookup("btc"); !ok {
		t.Error("Lookup is case-insensitive")
	}
	if _, ok := Lookup("NOPE"); ok {
		t.Error("Lookup(NOPE) found a chain")
	}
	if n := len(Of(UTXO)); n != 4 {
		t.Errorf("%d UTXO chains, want BTC, LTC, DOGE, BCH", n)
	}
}
