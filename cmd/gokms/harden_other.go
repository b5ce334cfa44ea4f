//go:build !linux

package main

import "io"

// hardenProcess: core dumps are disabled on Linux only (see harden_linux.go).
func hardenProcess(io.Writer) {}
