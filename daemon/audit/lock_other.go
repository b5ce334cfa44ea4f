//go:build !unix

package audit

import "os"

// lockFile: no advisory lock on this platform (documented in docs/audit.md).
func lockFile(*os.File) error { return nil }
