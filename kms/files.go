package kms

// The file transactions of import --in-place and export --out: a crash
// leaves the old state or the new one, never a torn file, and nothing is
// ever written over a file that was not meant to be replaced.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SwapIn puts the verified gokms store staging at the tatum-kms file's path
// src and keeps the original as backup. Each rename is atomic; the directory
// is synced so the swap survives a crash. If the second step fails the
// original stays where it was.
func SwapIn(src, staging, backup string) error {
	if err := os.Link(src, backup); err != nil { // never replaces an existing file
		return fmt.Errorf("import --in-place: keep the original as %s: %w", backup, err)
	}
	if err := os.Rename(staging, src); err != nil {
		_ = os.Remove(backup)
		return fmt.Errorf("import --in-place: put the gokms store at %s: %w (the original is unchanged; the new store is %s)", src, err, staging)
	}
	syncDir(filepath.Dir(src))
	return nil
}

// WriteNewFile writes data to path with mode 0600, atomically: a temporary
// file in the same directory, fsync, then link (refuses to replace an
// existing file, even one created meanwhile) or, with force, rename.
func WriteNewFile(path string, data []byte, force bool) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("export: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	if force {
		err = os.Rename(tmpName, path)
	} else {
		err = os.Link(tmpName, path)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("export: %s exists; not overwriting it (use --force to replace it)", path)
		}
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	syncDir(dir)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
