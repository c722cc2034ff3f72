package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/internal/testutil"
)

// TestWriteToReadOnlyDrive writes an artefact to a read-only file system,
// as a write-protected USB stick is: one line that names the drive and the
// fix, not the temporary file, and nothing left behind.
func TestWriteToReadOnlyDrive(t *testing.T) {
	mnt := readOnlyFolder(t, "USBSTICK")
	tok := testutil.Shared(t, "tokens", "registration-token-1node.txt")
	out := filepath.Join(mnt, "registration-token.txt")
	r := runCLI(t, runOpts{}, "inspect", tok, "--write-canonical", out)
	if r.Code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", r.Code, r.Stderr)
	}
	assertOneLineError(t, r, mnt+" is write-protected or read-only; choose another folder or remove the write protection")
	if strings.Contains(r.Stderr, "azs-tmp") || strings.Contains(r.Stderr, ".tmp") {
		t.Errorf("the error names the temporary file: %q", r.Stderr)
	}
	if ents, _ := os.ReadDir(mnt); len(ents) != 0 {
		t.Errorf("left %d file(s) on the drive", len(ents))
	}
}

// readOnlyFolder mounts a read-only tmpfs at a new folder named name, as a
// write-protected USB stick is, and unmounts it when the test ends.
func readOnlyFolder(t *testing.T, name string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("mounts a read-only tmpfs (Linux)")
	}
	mnt := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a read-only tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	return mnt
}
