package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gokms/gokms/backend"
)

// AddressPath returns the file path a backend address names, with ok false
// (and no error) for an address of another backend. It is the one place
// that turns an address into a path: the opener and every guard that keeps
// a write off the store use it, so they cannot disagree about which file
// "file://./w.dat" is.
func AddressPath(addr string) (path string, ok bool, err error) {
	u, err := backend.ParseAddress(addr)
	if err != nil {
		return "", false, err
	}
	if u.Scheme != "file" {
		return "", false, nil
	}
	p, err := PathFromURL(u)
	if err != nil {
		return "", true, err
	}
	return p, true, nil
}

// maxLinks bounds the symlinks resolve follows, as the kernel does (ELOOP).
const maxLinks = 40

// resolve returns the absolute path with every symlink followed, also when
// the file (or the last links of a chain) does not exist yet: then its
// directory is resolved and the name joined on, so that a new file's final
// location is known before it is written.
func resolve(p string) (string, error) {
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	for i := 0; i < maxLinks; i++ {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r, nil
		}
		dir, name := filepath.Split(p)
		rdir, err := resolveDir(filepath.Clean(dir))
		if err != nil {
			return "", err
		}
		p = filepath.Join(rdir, name)
		target, err := os.Readlink(p)
		if err != nil {
			// Not a symlink (missing, or unreadable): the path is final.
			return p, nil
		}
		// A dangling link: where it points is where a write would land.
		if !filepath.IsAbs(target) {
			target = filepath.Join(rdir, target)
		}
		p = target
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", p)
}

// resolveDir resolves a directory that may not exist yet (its nearest
// existing ancestor is resolved, the rest joined on).
func resolveDir(dir string) (string, error) {
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		return r, nil
	}
	parent := filepath.Dir(dir)
	if parent == dir {
		return dir, nil
	}
	if _, err := os.Lstat(dir); err == nil {
		// It exists but does not resolve (a link loop, a dangling link to a
		// directory): resolve it as a file path would be.
		return resolve(dir)
	}
	rp, err := resolveDir(parent)
	if err != nil {
		return "", err
	}
	return filepath.Join(rp, filepath.Base(dir)), nil
}

// SameFile reports whether paths a and b name the same file, or would once
// created: the same inode when both exist (hard links included), else the
// same location after every symlink is followed and ".." removed. Guards
// use it to keep a write (an export, a migration target, a staging file)
// off the live store, whatever spelling of the path reached them.
func SameFile(a, b string) (bool, error) {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb), nil
	}
	for _, err := range []error{errA, errB} {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
	}
	ra, err := resolve(a)
	if err != nil {
		return false, err
	}
	rb, err := resolve(b)
	if err != nil {
		return false, err
	}
	return ra == rb, nil
}
