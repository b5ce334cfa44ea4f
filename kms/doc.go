// Package kms is gokms's application: the use cases the CLI and the daemon
// command run, over the packages below it (backend, wallet, signing, tatum,
// daemon). It knows no command-line library: cmd/gokms maps flags to its
// types and prints its results. See docs/design.md.
package kms
