package courier

import (
	"os"
	"testing"
	"time"
)

// SetLockWait sets how long l waits for another process's lock.
func (l *Ledger) SetLockWait(d time.Duration) { l.wait = d }

// HoldLock takes the lock of the ledger file at path through a file of its
// own, as another process would, and returns its release.
func HoldLock(t *testing.T, path string) func() {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := tryLockFile(f); !ok || err != nil {
		t.Fatalf("lock %s: %v %v", path, ok, err)
	}
	return func() { unlockFile(f); f.Close() }
}
