//go:build unix

package file

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps size bytes of f read-only, for the layout check: reading
// through the page cache costs no syscall per page.
func mapFile(f *os.File, size int64) ([]byte, func(), error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, os.ErrInvalid
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, func() { unix.Munmap(b) }, nil
}
