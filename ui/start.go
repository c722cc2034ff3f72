package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/azs-courier/azs-courier/app"
)

// showStart shows the start screen: the choice of side (the last one is
// highlighted and focused), the appearance, and the history.
func (u *UI) showStart() {
	u.side = ""
	title := widget.NewLabelWithStyle("AzS Courier", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	intro := widget.NewLabelWithStyle("Register and activate a disconnected Azure Stack Hub.\nWhich side of the air gap are you on?",
		fyne.TextAlignCenter, fyne.TextStyle{})
	u.Disconnected = widget.NewButtonWithIcon("Disconnected site (PEP)", theme.ComputerIcon(), func() { u.showSide(SideDisconnected) })
	u.Connected = widget.NewButtonWithIcon("Connected (Azure)", theme.UploadIcon(), func() { u.showSide(SideConnected) })
	u.Training = widget.NewButtonWithIcon("Training (simulated stamp and Azure)", theme.HelpIcon(), func() { u.showSide(SideTraining) })
	last := Side(u.prefs().StringWithFallback(prefSide, string(SideDisconnected)))
	var focus *widget.Button
	for side, b := range map[Side]*widget.Button{SideDisconnected: u.Disconnected, SideConnected: u.Connected, SideTraining: u.Training} {
		if side == last {
			b.Importance = widget.HighImportance
			focus = b
		}
	}

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
	u.Appearance = widget.NewSelect([]string{"system", "light", "dark"}, func(s string) {
		u.prefs().SetString(prefAppearance, s)
		applyAppearance(u.fyneApp, s, u.prefs().StringWithFallback(prefTextSize, textScales[0]))
	})
	u.Appearance.Selected = u.prefs().StringWithFallback(prefAppearance, "system")
	u.TextSize = widget.NewSelect(textScales, func(s string) {
		u.prefs().SetString(prefTextSize, s)
		applyAppearance(u.fyneApp, u.prefs().StringWithFallback(prefAppearance, "system"), s)
	})
	u.TextSize.Selected = u.prefs().StringWithFallback(prefTextSize, textScales[0])
	hist := widget.NewButtonWithIcon("History", theme.HistoryIcon(), u.showHistory)
	settings := container.NewHBox(widget.NewLabel("Appearance:"), u.Appearance, widget.NewLabel("Text size:"), u.TextSize, hist)
	keys := note("Keys: Tab moves, Space/Enter press, Alt+1/2/3 sides (in training: its tabs), Ctrl+H history")
	keys.Alignment = fyne.TextAlignCenter
	u.Attention = widget.NewLabel("")
	u.Attention.Wrapping = fyne.TextWrapWord
	u.Attention.Importance = widget.WarningImportance
	u.Attention.Hide()
	if list, err := u.svc.Stamps(); err != nil {
		setShown(u.Attention, app.Explain(err).Sentence())
	} else {
		var lines []string
		for _, s := range list {
			if s.Warning != "" {
				lines = append(lines, s.Name+": "+s.Warning+".")
			}
		}
		setShown(u.Attention, strings.Join(lines, "\n"))
	}
	body := container.NewVBox(title, intro, u.Attention, choices, container.NewCenter(settings), keys)
	u.setScreen(container.NewVScroll(container.NewPadded(column(640, body))))
	if focus != nil {
		u.focus(focus)
	}
}

// SetAppearance holds the theme to "light" or "dark" ("system" follows the
// system), as the start screen's choice does, and remembers it.
func (u *UI) SetAppearance(look string) {
	u.prefs().SetString(prefAppearance, look)
	applyAppearance(u.fyneApp, look, u.prefs().StringWithFallback(prefTextSize, textScales[0]))
}
