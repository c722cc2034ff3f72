//go:build unix

package e2e

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/azs-courier/azs-courier/internal/testutil"
)

// BenchmarkInspectPeakMemory runs the binary's inspect on the largest valid
// token (16 nodes) and on a 1 MiB hostile one (a quarter of a million empty
// hardwareInfo entries), and reports the process's peak resident memory.
// Target: under 64 MB for both.
func BenchmarkInspectPeakMemory(b *testing.B) {
	hostile := filepath.Join(b.TempDir(), "hostile-token.txt")
	var s strings.Builder
	s.WriteString(`{"cloudId":"cd613e30-d8f1-4adf-91b7-584a2265b1f5","hardwareInfo":[`)
	for s.Len() < 760<<10 {
		s.WriteString("{},")
	}
	s.WriteString(`{}]}`)
	if err := os.WriteFile(hostile, []byte(base64.StdEncoding.EncodeToString([]byte(s.String()))), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, path string }{
		{"valid-16-node", testutil.Shared(b, "tokens", "registration-token-16node.txt")},
		{"hostile-1MiB", hostile},
	} {
		b.Run(c.name, func(b *testing.B) {
			var peak int64
			for b.Loop() {
				cmd := exec.Command(binPath, "inspect", c.path)
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "AZS_COURIER_CONFIG_DIR=" + b.TempDir()}
				_ = cmd.Run() // the hostile one is refused: exit 1
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && int64(ru.Maxrss) > peak {
					peak = int64(ru.Maxrss) // KiB on Linux
				}
			}
			b.ReportMetric(float64(peak)/1024, "peak-MB")
		})
	}
}
