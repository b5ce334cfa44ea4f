//go:build !unix

package file

import "log/slog"

// newKeyBuf returns a buffer for an unlocked data key. This platform has no
// mlock here; the key lives in ordinary memory.
func newKeyBuf(*slog.Logger) []byte { return make([]byte, keyLen) }

// freeKeyBuf zeroes a key from newKeyBuf.
func freeKeyBuf(b []byte) { zero(b) }
