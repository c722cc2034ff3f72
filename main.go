// Command azs-courier carries Azure Stack Hub registration across an air gap.
// Without arguments it opens the GUI; with a command it is a CLI (see
// `azs-courier --help`).
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/software"

	"github.com/azs-courier/azs-courier/app"
	"github.com/azs-courier/azs-courier/assets"
	"github.com/azs-courier/azs-courier/cli"
	"github.com/azs-courier/azs-courier/ui"
)

// Set by the linker in release builds (see the Makefile).
var (
	version = "dev"
	commit  = ""
)

// appID identifies the app to Fyne (preferences, storage).
const appID = "io.github.azscourier"

// secretVars are the environment variables that carry secrets. main reads
// them once and removes them from the process's environment, so that no
// child process (a browser, the Azure CLI, a PDF viewer) inherits them.
var secretVars = []string{"AZS_PEP_PASSWORD", "AZS_TRANSCRIPTS_PASSWORD", "AZURE_CLIENT_SECRET",
	"AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD"}

func main() {
	started := time.Now()
	getenv := takeEnv(secretVars)
	appEnv := app.SystemEnv(app.BuildInfo{Version: version, Commit: commit})
	appEnv.Getenv = getenv
	env := cli.SystemEnv(appEnv)
	env.Getenv = getenv
	env.RunGUI = func(ctx context.Context, opts app.GUIOptions) error {
		return runGUI(ctx, appEnv, env.IO.ErrOut, opts, started)
	}
	args := os.Args[1:]
	if len(args) == 0 {
		detachConsole()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, args, env)
	stop()
	os.Exit(code)
}

func runGUI(ctx context.Context, env *app.Env, log io.Writer, opts app.GUIOptions, started time.Time) error {
	if err := displayProblem(); err != nil {
		return err
	}
	a := fyneapp.NewWithID(appID)
	a.SetIcon(assets.Icon)
	w := a.NewWindow("AzS Courier")
	u := ui.New(a, w, app.NewService(env), opts)
	w.Resize(u.WindowSize())
	w.SetMaster()
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	// AZS_COURIER_SCREENSHOT=DIR is the screenshot smoke test and GUI
	// benchmark: tour the training round trip, save PNGs of the window in
	// DIR, print the figures on stderr and quit. AZS_COURIER_SCREENSHOT=-
	// tours without saving pictures (the benchmark's memory figure).
	// AZS_COURIER_SCREENSHOT_SIZE=WxH and AZS_COURIER_SCREENSHOT_THEME=light
	// or dark set the window's size and theme for the tour;
	// AZS_COURIER_SCREENSHOT_X11=1 also grabs each screen from the X server
	// (ImageMagick's import).
	var tourErr error
	if dir := env.Getenv("AZS_COURIER_SCREENSHOT"); dir != "" {
		if look := env.Getenv("AZS_COURIER_SCREENSHOT_THEME"); look != "" {
			u.SetAppearance(look)
		}
		var width, height float32
		if _, err := fmt.Sscanf(env.Getenv("AZS_COURIER_SCREENSHOT_SIZE"), "%fx%f", &width, &height); err == nil {
			w.Resize(fyne.NewSize(width, height))
		}
		a.Lifecycle().SetOnStarted(func() {
			go func() {
				tourErr = screenshotTour(ctx, w, u, dir, env.Getenv("AZS_COURIER_SCREENSHOT_X11") != "", started, log)
				fyne.Do(a.Quit)
			}()
		})
	}
	w.ShowAndRun()
	// Quitting (Ctrl-C, SIGTERM, the tour) does not close the window:
	// close the PEP sessions and stop the training simulators here.
	u.Close()
	u.Wait()
	return tourErr
}

// takeEnv returns a lookup of the environment as it is now, and removes the
// secret variables from the process's environment.
func takeEnv(secrets []string) func(string) string {
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			vars[k] = v
			if runtime.GOOS == "windows" {
				vars[strings.ToUpper(k)] = v // Windows names are not case-sensitive
			}
		}
	}
	for _, k := range secrets {
		os.Unsetenv(k)
	}
	return func(k string) string {
		if v, ok := vars[k]; ok || runtime.GOOS != "windows" {
			return v
		}
		return vars[strings.ToUpper(k)]
	}
}

// screenshotTour runs ui.Tour, saving a PNG of the window at each of its
// stops. Fyne's GL capture reads the front buffer, which Mesa's software
// renderer under Xvfb leaves black, so the window's own widget tree is
// drawn at the window's size by Fyne's software painter instead.
func screenshotTour(ctx context.Context, w fyne.Window, u *ui.UI, dir string, x11 bool, started time.Time, log io.Writer) error {
	if rss := residentMB(); rss > 0 {
		fmt.Fprintf(log, "bench: run-loop-started-ms=%d rss-mb=%.1f\n", time.Since(started).Milliseconds(), rss)
	} else {
		fmt.Fprintf(log, "bench: run-loop-started-ms=%d\n", time.Since(started).Milliseconds())
	}
	if dir != "-" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("screenshot folder: %w", err)
		}
	}
	capture := func() image.Image {
		var img image.Image
		fyne.DoAndWait(func() {
			content, size := w.Content(), w.Canvas().Size()
			top := w.Canvas().Overlays().Top() // a dialog, if one is open
			c := software.NewCanvas()
			c.SetContent(content)
			c.Resize(size)
			if top != nil {
				c.Overlays().Add(top)
			}
			img = c.Capture()
			if top != nil {
				c.Overlays().Remove(top)
			}
			w.SetContent(content)
			if top != nil {
				top.Resize(size)
				top.Refresh()
			}
		})
		return img
	}
	shot := func(name string) error {
		if dir == "-" {
			return nil
		}
		var b bytes.Buffer
		if err := png.Encode(&b, capture()); err != nil {
			return err
		}
		path := filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(log, "screenshot: %s\n", path)
		if x11 {
			// The X server's own picture of the screen, as drawn by OpenGL:
			// it shows clipping and overlays the software painter leaves out.
			time.Sleep(200 * time.Millisecond)
			var size fyne.Size
			fyne.DoAndWait(func() { size = w.Canvas().Size() })
			// Without a window manager the window sits at the top left.
			crop := fmt.Sprintf("%dx%d+0+0", int(size.Width*w.Canvas().Scale()), int(size.Height*w.Canvas().Scale()))
			grab := exec.CommandContext(ctx, "import", "-window", "root", "-crop", crop, "+repage", filepath.Join(dir, name+"-x11.png"))
			if out, err := grab.CombinedOutput(); err != nil {
				return fmt.Errorf("screenshot: X11 grab of %s: %v %s", name, err, out)
			}
		}
		return nil
	}
	var rss float64
	var ms runtime.MemStats
	st, err := u.Tour(ctx, shot, func() { rss = residentMB(); runtime.ReadMemStats(&ms) })
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "bench: round-trip-s=%.1f\n", st.RoundTrip.Seconds())
	fmt.Fprintf(log, "bench: qr-frame-update-ms avg=%.2f max=%.2f frames=%d\n",
		float64(st.QRFrameAvg.Microseconds())/1000, float64(st.QRFrameMax.Microseconds())/1000, st.QRFrames)
	if rss > 0 {
		fmt.Fprintf(log, "bench: rss-mb-after-round-trip=%.1f go-heap-inuse-mb=%.1f go-sys-mb=%.1f\n",
			rss, float64(ms.HeapInuse)/(1<<20), float64(ms.Sys)/(1<<20))
	}
	return nil
}

// residentMB returns the process's resident memory in MiB (Linux), or 0.
func residentMB() float64 {
	if runtime.GOOS != "linux" {
		return 0
	}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
