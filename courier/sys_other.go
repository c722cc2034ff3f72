//go:build !unix && !windows

package courier

import "os"

// syncDir is a no-op where the platform offers no folder sync.
func syncDir(dir string) error { return nil }

// tryLockFile does nothing where the platform has no file locks; the
// ledger is then safe only with one writer at a time.
func tryLockFile(f *os.File) (bool, error) { return true, nil }

// unlockFile does nothing; see tryLockFile.
func unlockFile(f *os.File) error { return nil }

// openNoBlock opens path for reading.
func openNoBlock(path string) (*os.File, error) { return os.Open(path) }

func isLinkLoop(err error) bool       { return false }
func isReadOnlyVolume(err error) bool { return false }
func isDiskFull(err error) bool       { return false }
func volumeRoot(dir string) string    { return dir }
