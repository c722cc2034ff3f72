package ui_test

import (
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/azs-courier/azs-courier/app"
	"github.com/azs-courier/azs-courier/ui"
)

func newUI(t *testing.T) (*ui.UI, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	env := app.SystemEnv(app.BuildInfo{Version: "0.1.0-test"})
	env.ConfigDir = filepath.Join(t.TempDir(), "config")
	w := test.NewTempWindow(t, nil)
	u := ui.New(a, w, app.NewService(env), app.GUIOptions{})
	w.Resize(fyne.NewSize(900, 640))
	return u, w
}

func TestStartScreenOffersBothSidesAndTraining(t *testing.T) {
	u, w := newUI(t)
	for _, b := range []*widget.Button{u.Disconnected, u.Connected, u.Training} {
		if b == nil || !b.Visible() {
			t.Fatal("a start button is missing")
		}
	}
	if got := u.Status.Text; !strings.Contains(got, "0.1.0-test") || !strings.Contains(got, "0 entries, intact") {
		t.Errorf("status line: %q", got)
	}
	test.Tap(u.Connected)
	if !hasText(w.Canvas().Content(), "Connected side") {
		t.Error("tapping Connected did not open the connected side")
	}
}

func hasText(o fyne.CanvasObject, s string) bool {
	switch v := o.(type) {
	case *widget.Label:
		return strings.Contains(v.Text, s)
	case *fyne.Container:
		for _, c := range v.Objects {
			if hasText(c, s) {
				return true
			}
		}
	case *container.Scroll:
		return hasText(v.Content, s)
	}
	return false
}
