package ui

import (
	"context"
	"fmt"
	"image/color"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/azs-courier/azs-courier/app"
)

// Side names a mode of the GUI.
type Side string

// The GUI's modes.
const (
	SideDisconnected Side = "disconnected"
	SideConnected    Side = "connected"
	SideTraining     Side = "training"
)

// TrainingBanner is the text shown across the window in training mode.
const TrainingBanner = "Training — simulated stamp and Azure; switch tabs to play both sides"

// UI is the GUI's root: it swaps screens inside one window.
type UI struct {
	fyneApp fyne.App
	win     fyne.Window
	svc     *app.Service
	opts    app.GUIOptions

	thread *uiThread       // applies goroutines' changes
	ending sync.WaitGroup  // PEP sessions being closed (Close-PrivilegedEndpoint)
	ctx    context.Context // ends when the window closes
	cancel context.CancelFunc

	root   *fyne.Container
	Status *widget.Label // version and ledger state

	// Start screen widgets, exported for tests.
	Disconnected, Connected, Training *widget.Button
	// Attention lists, on the start screen, the stamps that need it: an
	// activation about to expire, a renewal waiting for its key.
	Attention            *widget.Label
	Appearance, TextSize *widget.Select

	// Screens, built on first use and kept while the window is open.
	Disc    *DisconnectedScreen
	Conn    *ConnectedScreen
	History *HistoryScreen

	// Training mode: the simulators, the service wired to them, and the
	// screens of both sides on it.
	training      *app.Training
	trainingSvc   *app.Service
	TrainingDisc  *DisconnectedScreen
	TrainingConn  *ConnectedScreen
	TrainingHist  *HistoryScreen
	TrainingTabs  *container.AppTabs
	TrainingState *widget.Label // "Starting…" or the problem
	trainingView  fyne.CanvasObject

	side Side // the side on screen, "" on the start screen

	// trainingOpts tune the simulators training mode starts (tests shorten
	// the delays).
	trainingOpts app.TrainingOptions

	content fyne.CanvasObject // the window's content: u.root above the status line
}

// New builds the GUI in win (its content) and returns it.
// With opts.Training it opens in training mode.
func New(a fyne.App, win fyne.Window, svc *app.Service, opts app.GUIOptions) *UI {
	u := &UI{fyneApp: a, win: win, svc: svc, opts: opts, thread: &uiThread{}}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	u.Status = widget.NewLabel("")
	u.root = container.NewStack()
	u.content = container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), u.Status), nil, nil, u.root)
	win.SetContent(u.content)
	applyAppearance(a, u.prefs().StringWithFallback(prefAppearance, "system"), u.prefs().StringWithFallback(prefTextSize, textScales[0]))
	win.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) {
		var paths []string
		for _, x := range uris {
			if x.Scheme() == "file" {
				paths = append(paths, x.Path())
			}
		}
		u.Dropped(paths)
	})
	win.SetOnClosed(u.Close)
	win.SetCloseIntercept(u.onCloseRequest)
	u.addShortcuts()
	if opts.Training {
		u.showSide(SideTraining)
	} else {
		u.showStart()
	}
	return u
}

// Content returns the window's content, which New has set.
func (u *UI) Content() fyne.CanvasObject { return u.content }

// focus gives f the keyboard focus when the GUI is in the window: Fyne
// refuses (and logs) focusing an object that is not on its canvas.
func (u *UI) focus(f fyne.Focusable) {
	if u.win.Canvas().Content() == u.content {
		u.win.Canvas().Focus(f)
	}
}

// WindowSize returns the window size remembered from the last run.
func (u *UI) WindowSize() fyne.Size {
	p := u.prefs()
	return fyne.NewSize(float32(p.FloatWithFallback(prefWindowWidth, 960)), float32(p.FloatWithFallback(prefWindowHeight, 720)))
}

// Close stops running work and the training simulators and remembers the
// window size. The window's OnClosed calls it; it is safe to call twice.
func (u *UI) Close() {
	if s := u.win.Canvas().Size(); s.Width > 100 && s.Height > 100 {
		u.prefs().SetFloat(prefWindowWidth, float64(s.Width))
		u.prefs().SetFloat(prefWindowHeight, float64(s.Height))
	}
	u.cancel()
	for _, d := range []*DisconnectedScreen{u.Disc, u.TrainingDisc} {
		if d != nil {
			d.close()
		}
	}
	if u.training != nil {
		u.training.Close()
	}
}

// onCloseRequest closes the window, asking first while an activation or a
// removal runs: the stamp may finish it on its own, and the user should
// know how to find out.
func (u *UI) onCloseRequest() {
	var running *DisconnectedScreen
	for _, d := range []*DisconnectedScreen{u.Disc, u.TrainingDisc} {
		if d != nil && d.longRunning() {
			running = d
		}
	}
	if running == nil {
		u.win.Close()
		return
	}
	dialog.ShowConfirm("Close while the stamp is working?",
		"An activation or a removal of the activation is running on the stamp. If you close now, it is cancelled here, but the stamp may finish it on its own.\n\n"+
			"Afterwards, start AzS Courier again, connect to the stamp, and check its activation in the administrator portal (Region management) before you try again. The custody ledger records the step as cancelled by the user.",
		func(yes bool) {
			if yes {
				u.win.Close()
			}
		}, u.win)
}

// Wait waits until the PEP sessions Close began closing are closed, so that
// the program can exit without leaving a session open on the stamp.
func (u *UI) Wait() { u.ending.Wait() }

func (u *UI) prefs() fyne.Preferences { return u.fyneApp.Preferences() }

func (u *UI) addShortcuts() {
	c := u.win.Canvas()
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyH, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { u.showHistory() })
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyHome, Modifier: fyne.KeyModifierAlt}, func(fyne.Shortcut) { u.showStart() })
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.Key1, Modifier: fyne.KeyModifierAlt}, func(fyne.Shortcut) { u.AltSide(1) })
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.Key2, Modifier: fyne.KeyModifierAlt}, func(fyne.Shortcut) { u.AltSide(2) })
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.Key3, Modifier: fyne.KeyModifierAlt}, func(fyne.Shortcut) { u.AltSide(3) })
}

// AltSide is Alt+1, Alt+2 and Alt+3: the disconnected side, the connected
// side, training. In training they pick its tabs instead (its two sides
// and its history), so that a rehearsal never moves to the real PEP or
// Azure by a slip of the keys.
func (u *UI) AltSide(n int) {
	if u.side == SideTraining {
		if u.TrainingTabs != nil && n >= 1 && n <= 3 {
			u.TrainingTabs.SelectIndex(n - 1)
		}
		return
	}
	switch n {
	case 1:
		u.showSide(SideDisconnected)
	case 2:
		u.showSide(SideConnected)
	case 3:
		u.showSide(SideTraining)
	}
}

func (u *UI) refreshStatus() {
	svc := u.svc
	prefix := ""
	if u.side == SideTraining && u.trainingSvc != nil {
		svc, prefix = u.trainingSvc, "training "
	}
	ls := svc.LedgerStatus()
	entries := "entries"
	if ls.Entries == 1 {
		entries = "entry"
	}
	ledger := fmt.Sprintf("%scustody ledger: %d %s, intact", prefix, ls.Entries, entries)
	if !ls.Intact {
		ledger = prefix + "custody ledger BROKEN: " + ls.Problem
	}
	u.Status.SetText(fmt.Sprintf("AzS Courier %s · %s", u.svc.Version(), ledger))
}

func (u *UI) setScreen(obj fyne.CanvasObject) {
	u.root.Objects = []fyne.CanvasObject{obj}
	u.root.Refresh()
	u.refreshStatus()
}

// Side returns the side on screen, or "" on the start screen.
func (u *UI) Side() Side { return u.side }

// Dropped routes files dropped on the window to the import step on screen.
func (u *UI) Dropped(paths []string) {
	if len(paths) == 0 {
		return
	}
	switch u.side {
	case SideDisconnected:
		if u.Disc != nil {
			u.Disc.Dropped(paths)
		}
	case SideConnected:
		if u.Conn != nil {
			u.Conn.Dropped(paths)
		}
	case SideTraining:
		if u.TrainingTabs == nil {
			return
		}
		switch u.TrainingTabs.SelectedIndex() {
		case 0:
			u.TrainingDisc.Dropped(paths)
		case 1:
			u.TrainingConn.Dropped(paths)
		}
	}
}

// showSide opens a side (building its screen on first use).
func (u *UI) showSide(side Side) {
	u.prefs().SetString(prefSide, string(side))
	switch side {
	case SideDisconnected:
		if u.Disc == nil {
			u.Disc = newDisconnectedScreen(u, u.svc, nil)
		}
		u.side = side
		u.setScreen(u.sideFrame("Disconnected site (PEP)", u.Disc.Object()))
	case SideConnected:
		if u.Conn == nil {
			u.Conn = newConnectedScreen(u, u.svc, nil)
		}
		u.side = side
		u.setScreen(u.sideFrame("Connected side (Azure)", u.Conn.Object()))
	case SideTraining:
		u.side = side
		u.showTraining()
	}
}

// sideFrame puts a side's screen under a bar with Home and History.
func (u *UI) sideFrame(title string, body fyne.CanvasObject) fyne.CanvasObject {
	home := widget.NewButtonWithIcon("Start", theme.HomeIcon(), u.showStart)
	hist := widget.NewButtonWithIcon("History", theme.HistoryIcon(), u.showHistory)
	bar := container.NewBorder(nil, nil, home, hist, widget.NewLabelWithStyle(title, fyne.TextAlignCenter, fyne.TextStyle{Bold: true}))
	return container.NewBorder(container.NewVBox(bar, widget.NewSeparator()), nil, nil, nil, body)
}

// showHistory shows the custody ledger of the side's service.
func (u *UI) showHistory() {
	if u.side == SideTraining {
		if u.TrainingTabs != nil {
			u.TrainingTabs.SelectIndex(2)
		}
		return
	}
	if u.History == nil {
		u.History = newHistoryScreen(u, u.svc)
	}
	u.History.Refresh()
	back := widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), func() {
		if u.side == "" {
			u.showStart()
			return
		}
		u.showSide(u.side)
	})
	bar := container.NewBorder(nil, nil, back, nil, widget.NewLabelWithStyle("History — custody ledger", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}))
	u.setScreen(container.NewBorder(container.NewVBox(bar, widget.NewSeparator()), nil, nil, nil, u.History.Object()))
}

// showTraining starts the simulators on first use (in a goroutine) and
// shows both sides on them in tabs under the training banner.
func (u *UI) showTraining() {
	if u.trainingView != nil {
		u.setScreen(u.trainingView)
		return
	}
	u.TrainingState = widget.NewLabel("Starting the simulated stamp and Azure on this computer…")
	u.TrainingState.Wrapping = fyne.TextWrapWord
	home := widget.NewButtonWithIcon("Start", theme.HomeIcon(), u.showStart)
	u.setScreen(container.NewBorder(container.NewBorder(nil, nil, home, nil, trainingBanner()), nil, nil, nil, u.TrainingState))
	go func() {
		svc, t, err := u.svc.Training(u.trainingOpts)
		u.thread.Do(func() {
			if err != nil {
				v := app.Explain(err)
				u.TrainingState.SetText("The simulators did not start: " + v.Reason + "\n" + v.Fix)
				return
			}
			if u.ctx.Err() != nil {
				t.Close()
				return
			}
			u.training, u.trainingSvc = t, svc
			u.TrainingDisc = newDisconnectedScreen(u, svc, t)
			u.TrainingConn = newConnectedScreen(u, svc, t)
			u.TrainingHist = newHistoryScreen(u, svc)
			u.TrainingTabs = container.NewAppTabs(
				container.NewTabItemWithIcon("Disconnected site (PEP)", theme.ComputerIcon(), u.TrainingDisc.Object()),
				container.NewTabItemWithIcon("Connected (Azure)", theme.UploadIcon(), u.TrainingConn.Object()),
				container.NewTabItemWithIcon("History", theme.HistoryIcon(), u.TrainingHist.Object()),
			)
			u.TrainingTabs.OnSelected = func(*container.TabItem) {
				u.TrainingHist.Refresh()
				u.refreshStatus()
			}
			home := widget.NewButtonWithIcon("Start", theme.HomeIcon(), u.showStart)
			u.trainingView = container.NewBorder(container.NewBorder(nil, nil, home, nil, trainingBanner()), nil, nil, nil, u.TrainingTabs)
			if u.side == SideTraining {
				u.setScreen(u.trainingView)
			}
		})
	}()
}

// TrainingReady reports whether the training simulators are running.
func (u *UI) TrainingReady() bool { return u.trainingView != nil }

// trainingBanner is black on amber in both themes (12:1), so that it cannot
// be mistaken for the real thing and stays readable.
func trainingBanner() fyne.CanvasObject {
	bg := canvas.NewRectangle(color.NRGBA{0xff, 0xc1, 0x07, 0xff})
	txt := canvas.NewText(TrainingBanner, color.Black)
	txt.TextStyle = fyne.TextStyle{Bold: true}
	txt.Alignment = fyne.TextAlignCenter
	txt.TextSize = theme.TextSize() * 1.1
	return container.NewStack(bg, container.NewPadded(txt))
}
