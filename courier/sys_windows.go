//go:build windows

package courier

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// syncDir is a no-op on Windows: NTFS and FAT journal the rename with the
// file's metadata, and folders cannot be opened for FlushFileBuffers.
func syncDir(dir string) error { return nil }

// lockOverlapped places the lock's one byte far past the end of any file:
// Windows byte-range locks are mandatory, and a lock on the data would keep
// readers (ledger verify in another window) from reading it.
func lockOverlapped() *windows.Overlapped {
	return &windows.Overlapped{Offset: 0xfffffffe, OffsetHigh: 0x7fffffff}
}

// tryLockFile takes an exclusive lock on f if no one holds one; it reports
// false when another holds it.
func tryLockFile(f *os.File) (bool, error) {
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, lockOverlapped())
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return false, nil
	}
	return err == nil, err
}

// unlockFile releases the lock taken by tryLockFile.
func unlockFile(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, lockOverlapped())
}

// openNoBlock opens path for reading. Windows has no FIFOs in the file
// system; named pipes live under \\.\pipe\ and are refused as not regular.
func openNoBlock(path string) (*os.File, error) { return os.Open(path) }

// isLinkLoop reports a chain of reparse points that cannot be resolved.
func isLinkLoop(err error) bool {
	return errors.Is(err, windows.ERROR_CANT_RESOLVE_FILENAME) || errors.Is(err, windows.ERROR_CANT_ACCESS_FILE)
}

// isReadOnlyVolume reports a write-protected medium (a USB stick's switch,
// an SD card's lock) or a volume mounted read-only.
func isReadOnlyVolume(err error) bool {
	return errors.Is(err, windows.ERROR_WRITE_PROTECT)
}

func isDiskFull(err error) bool {
	return errors.Is(err, windows.ERROR_DISK_FULL) || errors.Is(err, windows.ERROR_HANDLE_DISK_FULL)
}

// volumeRoot returns the drive of dir, as Explorer names it: E:\.
func volumeRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	if v := filepath.VolumeName(abs); v != "" {
		return v + `\`
	}
	return abs
}
