package policy_test

import (
	"testing"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/evm"
	"github.com/gokms/gokms/signing/utxo"
)

// signers is what the daemons of these tests sign with: the UTXO family and
// an EVM signer without a node, until a test puts its simulated chain in
// (useEVMNode; the tests do not run in parallel).
var signers = mustSigners(evm.Config{})

func mustSigners(cfg evm.Config) *signing.Set {
	e, err := evm.New(cfg)
	if err != nil {
		panic(err)
	}
	s, err := signing.NewSet(utxo.Family(), e.Family())
	if err != nil {
		panic(err)
	}
	return s
}

// useEVMNode signs ETH through the node at url for the rest of the test.
func useEVMNode(t testing.TB, url string) {
	old := signers
	signers = mustSigners(evm.Config{RPC: map[string]string{"ETH": url}})
	t.Cleanup(func() { signers = old })
}
