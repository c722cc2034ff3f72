//go:build windows

package courier

import (
	"os"

	"golang.org/x/sys/windows"
)

// syncDir is a no-op on Windows: NTFS and FAT journal the rename with the
// file's metadata, and folders cannot be opened for FlushFileBuffers.
func syncDir(dir string) error { return nil }

// lockFile takes an exclusive lock on the first byte range of f, waiting for it.
func lockFile(f *os.File) error {
	ol := new(windows.Overlapped)
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, ol)
}

// unlockFile releases the lock taken by lockFile.
func unlockFile(f *os.File) error {
	ol := new(windows.Overlapped)
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, ol)
}
