//go:build unix

package courier

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// syncDir makes a rename in dir durable. File systems that cannot sync a
// folder (some FAT drivers answer EINVAL) are accepted: the rename itself was
// done and there is nothing more to do.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}

// tryLockFile takes an exclusive advisory lock on f if no one holds one; it
// reports false when another holds it.
func tryLockFile(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// unlockFile releases the lock taken by tryLockFile.
func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// openNoBlock opens path for reading without blocking on a FIFO that has no
// writer; the caller then refuses anything that is not a regular file.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

func isLinkLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }

func isReadOnlyVolume(err error) bool { return errors.Is(err, syscall.EROFS) }

func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// volumeRoot returns the mount point that holds dir: the highest folder
// above it on the same device.
func volumeRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	dev := func(p string) (uint64, bool) {
		var st syscall.Stat_t
		if syscall.Stat(p, &st) != nil {
			return 0, false
		}
		return uint64(st.Dev), true
	}
	d, ok := dev(abs)
	if !ok {
		return dir
	}
	for {
		parent := filepath.Dir(abs)
		if parent == abs {
			return abs
		}
		if pd, ok := dev(parent); !ok || pd != d {
			return abs
		}
		abs = parent
	}
}
