package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// stepDef is one step of a side's guided flow.
type stepDef struct{ id, name string }

// stepBar is a flow's breadcrumb: a button a step. The steps reached so far
// can be tapped to go back to them, with everything entered kept; the
// current step is highlighted; the steps ahead are disabled.
type stepBar struct {
	steps   []stepDef
	reached map[string]bool
	current string
	buttons map[string]*widget.Button
	Text    *widget.Label // the same, as one line of text (for screen readers and tests)
	box     fyne.CanvasObject
}

func newStepBar(steps []stepDef, goTo func(id string)) *stepBar {
	b := &stepBar{steps: steps, reached: map[string]bool{}, buttons: map[string]*widget.Button{}, Text: widget.NewLabel("")}
	var objs []fyne.CanvasObject
	for i, s := range steps {
		id := s.id
		btn := widget.NewButton(fmt.Sprintf("%d %s", i+1, s.name), func() { goTo(id) })
		btn.Importance = widget.LowImportance
		b.buttons[id] = btn
		if i > 0 {
			objs = append(objs, widget.NewLabel("›"))
		}
		objs = append(objs, btn)
	}
	b.Text.Hide()
	b.box = container.NewHScroll(container.NewHBox(objs...))
	return b
}

// Object returns the bar's widget tree.
func (b *stepBar) Object() fyne.CanvasObject { return container.NewVBox(b.box, b.Text) }

// Set marks id as the current step, and reached.
func (b *stepBar) Set(id string) {
	b.current = id
	b.reached[id] = true
	b.refresh()
}

// Forget marks the steps after id as not reached: what they showed no
// longer holds (a new token makes the old export moot).
func (b *stepBar) Forget(after string) {
	past := false
	for _, s := range b.steps {
		if past && s.id != b.current {
			delete(b.reached, s.id)
		}
		if s.id == after {
			past = true
		}
	}
	b.refresh()
}

// Reached reports whether step id can be gone back to.
func (b *stepBar) Reached(id string) bool { return b.reached[id] }

// Button returns the button of step id.
func (b *stepBar) Button(id string) *widget.Button { return b.buttons[id] }

func (b *stepBar) refresh() {
	var parts []string
	for i, s := range b.steps {
		btn := b.buttons[s.id]
		n := fmt.Sprintf("%d %s", i+1, s.name)
		switch {
		case s.id == b.current:
			btn.Importance = widget.HighImportance
			btn.Enable()
			n = "[" + n + "]"
		case b.reached[s.id]:
			btn.Importance = widget.MediumImportance
			btn.Enable()
		default:
			btn.Importance = widget.LowImportance
			btn.Disable()
		}
		btn.Refresh()
		parts = append(parts, n)
	}
	b.Text.SetText(strings.Join(parts, "  ›  "))
}
