//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package daemon

import "time"

// processCPU is not known here: the slots are never mixed (slotSem).
func processCPU() (time.Duration, bool) { return 0, false }
