package policy

import (
	"fmt"
	"strings"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/ada"
	"github.com/gokms/gokms/signing/algo"
	"github.com/gokms/gokms/signing/egld"
	"github.com/gokms/gokms/signing/evm"
	"github.com/gokms/gokms/signing/flow"
	"github.com/gokms/gokms/signing/sol"
	"github.com/gokms/gokms/signing/tron"
	"github.com/gokms/gokms/signing/utxo"
	"github.com/gokms/gokms/signing/vet"
	"github.com/gokms/gokms/signing/xlm"
	"github.com/gokms/gokms/signing/xrp"
)

// decodeFunc is a chain family's decoder (utxo.Decode, evm.Decode).
type decodeFunc func(chain string, testnet bool, serialized, signedHex string) (*signing.View, error)

// decoders maps every chain gokms can decode to its decoder. Chains
// without one (none yet) can only be signed under a policy that allows
// undecoded transactions.
func decoders() map[string]decodeFunc {
	m := map[string]decodeFunc{}
	for _, c := range []string{"BTC", "LTC", "DOGE", "BCH"} {
		m[c] = utxo.Decode
	}
	for _, c := range evm.Codes() {
		m[c] = evm.Decode
	}
	// The other account chains: after signing from what each signer
	// returns as Signed.Raw (signed JSON, blob, envelope, or the journal
	// form of SOL and FLOW), before signing from the pending transaction.
	// Their token transfers are limited by tokens: (tokens.go); XRP
	// issued currencies and ADA multi-asset outputs stay Unknown.
	m["TRON"] = tron.DecodeView
	m["SOL"] = sol.DecodeView
	m["XRP"] = xrp.DecodeView
	m["XLM"] = xlm.DecodeView
	m["ALGO"] = algo.DecodeView
	m["EGLD"] = egld.DecodeView
	m["VET"] = vet.DecodeView
	m["ADA"] = ada.DecodeView
	m["FLOW"] = flow.DecodeView
	return m
}

var decoderOf = decoders()

func knownChain(c string) bool { _, ok := decoderOf[strings.ToUpper(c)]; return ok }

func isEVM(c string) bool { _, ok := evm.Lookup(c); return ok }

// Decode builds the view of a pending transaction: from signedHex, the
// signed bytes, when given; else from the unsigned serializedTransaction.
func Decode(chain string, testnet bool, serialized, signedHex string) (*signing.View, error) {
	d, ok := decoderOf[strings.ToUpper(chain)]
	if !ok {
		return nil, fmt.Errorf("gokms has no decoder for chain %s", chain)
	}
	return d(chain, testnet, serialized, signedHex)
}
