// Package e2e holds the daemon's end-to-end tests: a real btcd node in
// regtest, wallets in a real file store, the Tatum stand-in forwarding
// broadcasts to the node, and the daemon run in-process and as the real
// `gokms daemon --runOnce` binary. See e2e_test.go.
package e2e
