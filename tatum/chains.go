package tatum

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gokms/gokms/chain"
)

// broadcastPaths maps a Tatum chain code to the <name> of its broadcast
// endpoint POST /v3/<name>/broadcast, from the chain table (package chain:
// the names the SDKs tatum-kms 8.0.1 uses call).
var broadcastPaths = func() map[string]string {
	m := map[string]string{}
	for _, c := range chain.All() {
		if c.Broadcast != "" {
			m[c.Code] = c.Broadcast
		}
	}
	return m
}()

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
