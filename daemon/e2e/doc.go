// Package e2e holds the daemon's end-to-end tests: a real btcd node in
// regtest, wallets in a real file store, the Tatum stand-in forwarding
// broadcasts to the node, and the daemon run in-process and as the real
// `gokms daemon --runOnce` binary; and the same flows with the wallets in
// HashiCorp Vault (a real dev server), Azure Key Vault and VGS (stand-ins)
// behind the read cache. See e2e_test.go and backends_test.go.
package e2e
