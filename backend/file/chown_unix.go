//go:build unix

package file

import (
	"io/fs"
	"os"
	"syscall"
)

// chownLike gives name the owner of fi, so that a root-run changepassword
// does not take a user's store away from them. Failure is harmless.
func chownLike(name string, fi fs.FileInfo) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		_ = os.Chown(name, int(st.Uid), int(st.Gid))
	}
}
