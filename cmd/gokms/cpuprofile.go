//go:build gokms_cpuprofile

package main

// A diagnostic build only (go build -tags gokms_cpuprofile; the pge2e
// benchmark with GOKMS_BENCH_CPUPROFILE=dir): the process writes a CPU
// profile to $GOKMS_CPUPROFILE from its start to its first SIGTERM or
// SIGINT. gokms itself is built without it.

import (
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func init() {
	path := os.Getenv("GOKMS_CPUPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		pprof.StopCPUProfile()
		_ = f.Close()
	}()
}
