//go:build unix

package file

import (
	"log/slog"
	"sync"

	"golang.org/x/sys/unix"
)

var mlockRefused sync.Once

// newKeyBuf returns a keyLen buffer for an unlocked data key, on a page of
// its own (its capacity is the page) that is locked in memory, kept out of
// swap, where the system allows it. Where it does not, the refusal is
// logged once per process and the key lives unlocked. Release it with
// freeKeyBuf.
func newKeyBuf(log *slog.Logger) []byte {
	ps := unix.Getpagesize()
	page, err := unix.Mmap(-1, 0, ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		mlockRefused.Do(func() { log.Warn("cannot keep the data key out of swap: no page for it", "error", err.Error()) })
		return make([]byte, keyLen)
	}
	if err := unix.Mlock(page); err != nil {
		mlockRefused.Do(func() {
			log.Warn("cannot lock the data key in memory (mlock refused; raise RLIMIT_MEMLOCK); it may be swapped out", "error", err.Error())
		})
	}
	return page[:keyLen]
}

// freeKeyBuf zeroes a key from newKeyBuf and gives its page back.
func freeKeyBuf(b []byte) {
	zero(b)
	if ps := unix.Getpagesize(); cap(b) == ps && ps != keyLen {
		page := b[:ps]
		_ = unix.Munlock(page)
		_ = unix.Munmap(page)
	}
}
