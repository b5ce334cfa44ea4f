package daemon_test

import (
	"strings"
	"testing"

	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/daemon"
	"github.com/gokms/gokms/tatum"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/evm"
	"github.com/gokms/gokms/signing/utxo"
)

// utxoSigners is the Set the BTC fixtures sign with: the UTXO family, as
// the application builds it.
var utxoSigners = func() *signing.Set {
	s, err := signing.NewSet(utxo.Family())
	if err != nil {
		panic(err)
	}
	return s
}()

// evmSigners is the UTXO and EVM families, the EVM signer on its own node
// for ETH: each test its own, so tests with different nodes never share one.
func evmSigners(t testing.TB, ethRPC string) *signing.Set {
	t.Helper()
	e, err := evm.New(evm.Config{RPC: map[string]string{"ETH": ethRPC}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	s, err := signing.NewSet(utxo.Family(), e.Family())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A daemon without signers is refused at New, not at its first transaction.
func TestNoSigners(t *testing.T) {
	for _, s := range []*signing.Set{nil, func() *signing.Set { s, _ := signing.NewSet(); return s }()} {
		_, err := daemon.New(daemon.Config{Backend: memory.New(), API: tatum.New(tatum.Options{}), Testnet: true, Signers: s})
		if err == nil || !strings.Contains(err.Error(), "no signers") {
			t.Errorf("Signers %v: err = %v", s, err)
		}
	}
}
