// Command azs-courier carries Azure Stack Hub registration across an air gap.
// Without arguments it opens the GUI; with a command it is a CLI (see
// `azs-courier --help`).
package main

import (
	"context"
	"os"
	"os/signal"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/azs-courier/azs-courier/app"
	"github.com/azs-courier/azs-courier/assets"
	"github.com/azs-courier/azs-courier/ui"
)

// Set by the linker in release builds (see the Makefile).
var (
	version = "dev"
	commit  = ""
)

// appID identifies the app to Fyne (preferences, storage).
const appID = "io.github.azscourier"

func main() {
	env := app.SystemEnv(app.BuildInfo{Version: version, Commit: commit})
	env.RunGUI = func(ctx context.Context, opts app.GUIOptions) error {
		return runGUI(ctx, env, opts)
	}
	args := os.Args[1:]
	if len(args) == 0 {
		detachConsole()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := app.Main(ctx, args, env)
	stop()
	os.Exit(code)
}

func runGUI(ctx context.Context, env *app.Env, opts app.GUIOptions) error {
	a := fyneapp.NewWithID(appID)
	a.SetIcon(assets.Icon)
	w := a.NewWindow("AzS Courier")
	u := ui.New(a, w, app.NewService(env), opts)
	w.SetContent(u.Content())
	w.Resize(fyne.NewSize(900, 640))
	w.SetMaster()
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	return nil
}
