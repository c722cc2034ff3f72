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
	w.SetContent(u.Content())
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
	// or dark set the window's size and theme for the tour.
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
				tourErr = screenshotTour(ctx, w, u, dir, started, log)
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
func screenshotTour(ctx context.Context, w fyne.Window, u *ui.UI, dir string, started time.Time, log io.Writer) error {
	fmt.Fprintf(log, "bench: run-loop-started-ms=%d rss-mb=%.1f\n", time.Since(started).Milliseconds(), residentMB())
	if dir != "-" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("screenshot folder: %w", err)
		}
	}
	capture := func() image.Image {
		var img image.Image
		fyne.DoAndWait(func() {
			content, size := w.Content(), w.Canvas().Size()
			c := software.NewCanvas()
			c.SetContent(content)
			c.Resize(size)
			img = c.Capture()
			w.SetContent(content)
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
