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
