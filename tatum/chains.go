package tatum

import (
	"fmt"
	"sort"
	"strings"
)

// broadcastPaths maps a Tatum chain code to the <name> of its broadcast
// endpoint POST /v3/<name>/broadcast, as the SDKs tatum-kms 8.0.1 uses call
// them (@tatumio/tatum 1.37 btcBroadcast, ltcBroadcast, ..., the v2 SDKs for
// SOL, TRON, XRP, XLM, CELO, ADA and @tatumio/tatum-kcs for KCS).
var broadcastPaths = map[string]string{
	"BTC":   "bitcoin",
	"LTC":   "litecoin",
	"DOGE":  "dogecoin",
	"BCH":   "bcash",
	"ETH":   "ethereum",
	"BSC":   "bsc",
	"MATIC": "polygon",
	"CELO":  "celo",
	"KLAY":  "klaytn",
	"ONE":   "one",
	"XDC":   "xdc",
	"KCS":   "kcs",
	"TRON":  "tron",
	"XRP":   "xrp",
	"XLM":   "xlm",
	"ALGO":  "algorand",
	"EGLD":  "egld",
	"VET":   "vet",
	"FLOW":  "flow",
	"ADA":   "ada",
	"SOL":   "solana",
	"BNB":   "bnb",
}

// BroadcastPath returns the URL path of chain's KMS broadcast endpoint, for
// example "/v3/bitcoin/broadcast" for "BTC". The chain code is
// case-insensitive.
func BroadcastPath(chain string) (string, error) {
	name, ok := broadcastPaths[strings.ToUpper(strings.TrimSpace(chain))]
	if !ok {
		return "", fmt.Errorf("no Tatum broadcast endpoint for chain %q (known: %s)", chain, strings.Join(BroadcastChains(), ", "))
	}
	return "/v3/" + name + "/broadcast", nil
}

// BroadcastChains lists the chain codes BroadcastPath knows, sorted.
func BroadcastChains() []string {
	out := make([]string, 0, len(broadcastPaths))
	for c := range broadcastPaths {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// ChainForBroadcastPath is the inverse of BroadcastPath: "bitcoin" -> "BTC".
func ChainForBroadcastPath(name string) (string, bool) {
	for c, n := range broadcastPaths {
		if n == name {
			return c, true
		}
	}
	return "", false
}
