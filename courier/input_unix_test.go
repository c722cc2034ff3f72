//go:build unix

package courier

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadRegularFIFO: a named pipe with no writer is refused at once; it
// used to block the open forever.
func TestReadRegularFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "activation-key.txt")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ReadRegular(fifo, 1<<20)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "a named pipe") {
			t.Errorf("got %v, want a refusal naming the pipe", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ReadRegular blocked on a FIFO")
	}
	if _, _, err := ReadFile(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadFile: got %v, want a refusal", err)
	}
}

// TestVolumeRoot finds the mount point that holds a folder.
func TestVolumeRoot(t *testing.T) {
	if got := volumeRoot("/proc/self"); got != "/proc" {
		t.Errorf("volumeRoot(/proc/self) = %q, want /proc", got)
	}
}
