package main

import (
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// hardenProcess keeps keys out of crash dumps: no core file (RLIMIT_CORE 0,
// soft and hard, so a child cannot raise it) and not dumpable (no core even
// through a core_pattern pipe, no ptrace attach by the same user).
func hardenProcess(stderr io.Writer) {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		fmt.Fprintf(stderr, "warning: cannot disable core dumps (RLIMIT_CORE): %v\n", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		fmt.Fprintf(stderr, "warning: cannot mark the process non-dumpable: %v\n", err)
	}
}
