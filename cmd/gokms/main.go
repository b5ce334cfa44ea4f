// Command gokms is a key management system for custodial crypto apps: a
// drop-in successor to Tatum's Node.js tatum-kms, with the same commands,
// flags, environment variables and JSON outputs.
//
// Every command group lives in its own file as a function returning its
// commands, listed once in app.go (commandList), which holds what they share
// (flags, the backend, passwords, secret input, output, logging). The use
// cases below the flags live in package kms; see docs/design.md.
package main

import "os"

func main() {
	// First of all: no crash from here on may write keys to a core file.
	hardenProcess(os.Stderr)
	os.Exit(run())
}
