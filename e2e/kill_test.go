package e2e

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/internal/testutil"
)

// TestKilledExportsLeaveWholeResults kills exports at random moments with
// SIGKILL, as a crash or a pulled plug would, and checks what is left
// after each: never an artefact without its manifest, never a QR folder
// with only some of its files, and a rerun (without --force) that
// succeeds, cleaning up whatever the killed run left.
func TestKilledExportsLeaveWholeResults(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	tok := testutil.Shared(t, "tokens", "registration-token-16node.txt")
	runs := 100
	if testing.Short() {
		runs = 20
	}
	rng := rand.New(rand.NewPCG(1, 2))
	argsFor := func(i int, dir string) []string {
		if i%2 == 0 {
			return []string{"inspect", tok, "--write-canonical", filepath.Join(dir, "registration-token.txt")}
		}
		return []string{"qr", "encode", tok, "--out", filepath.Join(dir, "token-qr"), "--sheet", "--max-version", "10"}
	}
	// How long each export takes whole on this machine: the kills fall
	// between half of that and a little more, where the writes are.
	var took [2]time.Duration
	for k := range 2 {
		start := time.Now()
		if r := runCLI(t, runOpts{}, argsFor(k, t.TempDir())...); r.Code != 0 {
			t.Fatalf("%v: exit %d: %s", argsFor(k, "DIR"), r.Code, r.Stderr)
		}
		took[k] = time.Since(start)
	}
	killed := 0
	for i := range runs {
		dir := t.TempDir()
		out := filepath.Join(dir, "registration-token.txt")
		qrDir := filepath.Join(dir, "token-qr")
		args := argsFor(i, dir)
		cmd := exec.Command(binPath, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + testHome(t), "AZS_COURIER_CONFIG_DIR=" + configDir(t)}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		d := took[i%2]
		time.Sleep(d/2 + time.Duration(rng.Int64N(int64(d*6/10))))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killed++
		}

		// What the killed run left is whole or absent.
		if _, err := os.Stat(out); err == nil {
			if _, err := os.Stat(out + ".courier.json"); err != nil {
				t.Fatalf("run %d: %s without its manifest", i, out)
			}
		}
		if ents, err := os.ReadDir(qrDir); err == nil {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			if !hasWholeQRSet(names) {
				t.Fatalf("run %d: a partial QR folder: %v", i, names)
			}
		}
		// A rerun succeeds and leaves no temporary files.
		r := runCLI(t, runOpts{}, args...)
		if r.Code != 0 && !strings.Contains(r.Stderr, "already exists") {
			t.Fatalf("run %d: rerun after the kill: exit %d: %s", i, r.Code, r.Stderr)
		}
		left, _ := filepath.Glob(filepath.Join(dir, "*azs-tmp*"))
		if r.Code == 0 && len(left) > 0 {
			t.Fatalf("run %d: temporary files left after the rerun: %v", i, left)
		}
	}
	t.Logf("%d runs, %d killed before they finished (inspect takes %v whole, qr encode %v)", runs, killed, took[0], took[1])
	if killed < runs/4 {
		t.Errorf("only %d of %d runs were killed before they finished; the delays are too long to test anything", killed, runs)
	}
}

// hasWholeQRSet reports whether a QR folder holds frames.txt, the sheet
// and every part of its set.
func hasWholeQRSet(names []string) bool {
	var parts, total int
	frames, sheet := false, false
	for _, n := range names {
		switch {
		case n == "frames.txt":
			frames = true
		case strings.HasSuffix(n, "-sheet.pdf"):
			sheet = true
		case strings.HasSuffix(n, ".png"):
			parts++
			if i := strings.LastIndex(n, "-of-"); i > 0 {
				var k int
				for _, c := range strings.TrimSuffix(n[i+4:], ".png") {
					k = k*10 + int(c-'0')
				}
				total = k
			}
		default:
			return false
		}
	}
	return frames && sheet && parts == total && total > 0
}
