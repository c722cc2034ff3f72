package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
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

// UI is the GUI's root: it swaps screens inside one window.
type UI struct {
	fyneApp fyne.App
	win     fyne.Window
	svc     *app.Service
	opts    app.GUIOptions

	root   *fyne.Container
	Status *widget.Label // version and ledger state

	// Start screen buttons, exported for tests.
	Disconnected, Connected, Training *widget.Button
}

// New builds the GUI for win and returns it; Content gives its root object.
func New(a fyne.App, win fyne.Window, svc *app.Service, opts app.GUIOptions) *UI {
	u := &UI{fyneApp: a, win: win, svc: svc, opts: opts}
	u.Status = widget.NewLabel("")
	u.root = container.NewStack()
	u.showStart()
	return u
}

// Content returns the object to set as the window's content.
func (u *UI) Content() fyne.CanvasObject {
	return container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), u.Status), nil, nil, u.root)
}

func (u *UI) refreshStatus() {
	ls := u.svc.LedgerStatus()
	ledger := fmt.Sprintf("custody ledger: %d entries, intact", ls.Entries)
	if !ls.Intact {
		ledger = "custody ledger BROKEN: " + ls.Problem
	}
	u.Status.SetText(fmt.Sprintf("AzS Courier %s · %s", u.svc.Version(), ledger))
}

func (u *UI) setScreen(obj fyne.CanvasObject) {
	u.root.Objects = []fyne.CanvasObject{obj}
	u.root.Refresh()
	u.refreshStatus()
}

func (u *UI) showStart() {
	title := widget.NewLabelWithStyle("AzS Courier", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	intro := widget.NewLabelWithStyle("Register and activate a disconnected Azure Stack Hub.\nWhich side of the air gap are you on?",
		fyne.TextAlignCenter, fyne.TextStyle{})
	u.Disconnected = widget.NewButtonWithIcon("Disconnected site (PEP)", theme.ComputerIcon(), func() { u.showSide(SideDisconnected) })
	u.Disconnected.Importance = widget.HighImportance
	u.Connected = widget.NewButtonWithIcon("Connected (Azure)", theme.UploadIcon(), func() { u.showSide(SideConnected) })
	u.Connected.Importance = widget.HighImportance
	u.Training = widget.NewButtonWithIcon("Training (simulated stamp and Azure)", theme.HelpIcon(), func() { u.showSide(SideTraining) })

	card := func(b *widget.Button, text string) fyne.CanvasObject {
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		return container.NewVBox(b, l)
	}
	choices := container.NewVBox(
		card(u.Disconnected, "On a workstation that reaches the stamp's privileged endpoint: make the registration token, later activate with the key."),
		card(u.Connected, "On a machine with internet access: register the token in Azure and get the activation key."),
		card(u.Training, "Rehearse the whole round trip on a built-in simulated stamp and Azure. Nothing leaves this computer."),
	)
	u.setScreen(container.NewBorder(container.NewVBox(title, intro), nil, nil, nil,
		container.NewCenter(container.NewGridWrap(fyne.NewSize(520, 300), choices))))
}

// showSide shows the first screen of a side. The guided flows are built on
// the use cases in app; until a flow is there, the screen says which commands
// do the same.
func (u *UI) showSide(side Side) {
	var heading, body string
	switch side {
	case SideDisconnected:
		heading = "Disconnected site"
		body = "1. Connect to the privileged endpoint and read the stamp.\n2. Create the registration token and carry it out (file or QR codes).\n3. Import the activation key and activate the stamp.\n\nCommand line: azs-courier stamp · token · activate"
	case SideConnected:
		heading = "Connected side"
		body = "1. Sign in to Azure.\n2. Import the registration token and register it.\n3. Get the activation key and carry it in (file or QR codes).\n\nCommand line: azs-courier register · activation-key"
	case SideTraining:
		heading = "Training"
		body = "Runs both sides against a simulated stamp and Azure on this computer.\n\nCommand line: azs-courier demo"
	}
	back := widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), u.showStart)
	text := widget.NewLabel(body)
	text.Wrapping = fyne.TextWrapWord
	u.setScreen(container.NewBorder(
		container.NewHBox(back, widget.NewLabelWithStyle(heading, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})),
		nil, nil, nil, container.NewVScroll(text)))
}
