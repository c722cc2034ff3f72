package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/courier/qr"
)

// startXvfb starts a virtual X server on a free display and returns its
// DISPLAY value. Without Xvfb the test fails under CI=true and is skipped
// elsewhere.
func startXvfb(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("Xvfb is not installed (make deps installs the xvfb package)")
		}
		t.Skip("Xvfb is not installed; skipping the screenshot smoke test")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-displayfd", "3", "-screen", "0", "1920x1200x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
		r.Close()
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatal("Xvfb did not report its display")
		}
		return ":" + n
	case <-time.After(15 * time.Second):
		t.Fatal("Xvfb did not start within 15 s")
	}
	return ""
}

// tourShots are the screens ui.Tour photographs: every step of both sides.
var tourShots = []string{"start", "disconnected-connect", "disconnected-connect-error", "disconnected-token", "disconnected-review",
	"disconnected-export", "disconnected-export-review", "disconnected-export-saved", "disconnected-qr", "connected-signin", "connected-subscription",
	"connected-registrations", "connected-import-partial", "connected-review", "connected-register", "connected-key",
	"connected-export", "disconnected-import", "disconnected-activate", "disconnected-done", "disconnected-remove-activation", "disconnected-renew", "disconnected-connect-remembered", "history"}

// TestGUIScreenshots runs the real binary's window under Xvfb through the
// training round trip (AZS_COURIER_SCREENSHOT) at 800×600 and 1366×768, in
// the light and the dark theme, and checks the PNGs of every screen, left
// in test-output/gui/<theme>-<size> for people to look at.
func TestGUIScreenshots(t *testing.T) {
	display := startXvfb(t)
	root := filepath.Join(moduleRoot, "test-output", "gui")
	os.RemoveAll(root)
	xdg := filepath.Join(t.TempDir(), "xdg")
	if err := os.Mkdir(xdg, 0o700); err != nil {
		t.Fatal(err)
	}
	first := true
	for _, size := range []string{"800x600", "1366x768"} {
		for _, look := range []string{"light", "dark"} {
			out := filepath.Join(root, look+"-"+size)
			t.Run(look+"-"+size, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				grabbed := make(chan string, 1)
				if first {
					// Meanwhile, grab the real X screen once the window is drawn.
					go grabScreen(ctx, display, filepath.Join(root, "x11-first-frame.png"), grabbed)
				}
				env := []string{"DISPLAY=" + display, "XDG_RUNTIME_DIR=" + xdg, "AZS_COURIER_SCREENSHOT=" + out,
					"AZS_COURIER_SCREENSHOT_SIZE=" + size, "AZS_COURIER_SCREENSHOT_THEME=" + look}
				if _, err := exec.LookPath("import"); err == nil {
					env = append(env, "AZS_COURIER_SCREENSHOT_X11=1") // also the X server's own picture, <name>-x11.png
				}
				r := runCLI(t, runOpts{Env: env}, "gui")
				if r.Code != 0 {
					t.Fatalf("gui tour: exit %d\n%s", r.Code, r.Stderr)
				}
				if first {
					for _, want := range []string{"bench: round-trip-s=", "bench: qr-frame-update-ms", "bench: rss-mb-after-round-trip="} {
						if !strings.Contains(r.Stderr, want) {
							t.Errorf("stderr lacks %q", want)
						}
					}
				}
				var w, h int
				fmt.Sscanf(size, "%dx%d", &w, &h)
				for _, name := range tourShots {
					img := readPNG(t, filepath.Join(out, name+".png"))
					if img == nil {
						continue
					}
					if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
						t.Errorf("%s.png is %v, want the whole %s window", name, b, size)
					}
					if colours(img) < 3 {
						t.Errorf("%s.png is blank", name)
					}
				}
				// The QR code on screen must be readable by a scanner.
				if data, err := os.ReadFile(filepath.Join(out, "disconnected-qr.png")); err == nil {
					g, err := qr.ReadImage(data)
					if err != nil {
						t.Fatal(err)
					}
					found, err := qr.Decode(context.Background(), g, nil)
					if err != nil || len(found) == 0 || !strings.HasPrefix(found[0], qr.Magic+":") {
						t.Errorf("the QR code in disconnected-qr.png: got %q, %v; want an AGX1 frame", found, err)
					}
				}
				if first {
					cancel()
					if p := <-grabbed; p != "" {
						t.Logf("X11 screenshot of the first frame: %s", p)
					}
				}
				first = false
			})
		}
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("missing screenshot: %v", err)
		return nil
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return nil
	}
	return img
}

// colours counts distinct colours on a coarse grid, up to 10.
func colours(img image.Image) int {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 5 {
		for x := b.Min.X; x < b.Max.X; x += 5 {
			r, g, bb, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r, g, bb}] = true
			if len(seen) >= 10 {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// grabScreen saves the X screen with ImageMagick's import once it is no
// longer blank, and sends the path ("" when import is missing or nothing
// was drawn).
func grabScreen(ctx context.Context, display, path string, done chan<- string) {
	imp, err := exec.LookPath("import")
	if err != nil {
		done <- ""
		return
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	for ctx.Err() == nil {
		cmd := exec.CommandContext(ctx, imp, "-display", display, "-window", "root", path)
		if cmd.Run() == nil {
			if data, err := os.ReadFile(path); err == nil {
				if img, err := png.Decode(bytes.NewReader(data)); err == nil && colours(img) >= 3 {
					done <- path
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	os.Remove(path)
	done <- ""
}

// TestNoDisplayOneLine: without a display (a session over SSH) the program
// says so in one line, not with a Go panic and its stack.
func TestNoDisplayOneLine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("DISPLAY and WAYLAND_DISPLAY are Unix desktop variables")
	}
	for _, args := range [][]string{nil, {"gui", "--training"}} {
		r := runCLI(t, runOpts{}, args...) // runCLI's environment has no DISPLAY
		if r.Code != 1 {
			t.Errorf("%v: exit %d, want 1 (stderr %q)", args, r.Code, r.Stderr)
		}
		assertOneLineError(t, r, "no display found", "--help")
		if strings.Contains(r.Stderr, "goroutine") || strings.Contains(r.Stderr, "panic") {
			t.Errorf("%v: a panic: %q", args, r.Stderr)
		}
	}
}
