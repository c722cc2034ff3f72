package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// TourStats are what a Tour measured.
type TourStats struct {
	RoundTrip  time.Duration // from tapping Training to the stamp activated
	QRFrames   int           // QR frames timed while the animation played
	QRFrameAvg time.Duration // mean time to put the next code on screen
	QRFrameMax time.Duration
}

// Tour drives the GUI through the whole training round trip as a user
// would, tapping the same buttons, and calls shot with a name at the start
// screen and at screens of each side so the caller can capture the window.
// It also times how long the animated QR view takes to put the next code
// on screen (make the image, refresh the widget; the driver paints it on
// its next frame). The screenshot smoke test and the GUI benchmark run it;
// it must be called from a goroutine, not the UI thread.
// roundTripDone, when set, is called once the stamp is activated, before
// the last screenshots.
func (u *UI) Tour(ctx context.Context, shot func(name string) error, roundTripDone func()) (TourStats, error) {
	var st TourStats
	do := func(f func()) { fyne.DoAndWait(f) }
	tap := func(b *widget.Button) { do(b.OnTapped) }
	wait := func(what string, cond func() bool) error {
		deadline := time.Now().Add(60 * time.Second)
		for {
			var ok bool
			do(func() { ok = cond() })
			if ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("tour: timed out waiting for %s", what)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	settle := func() { time.Sleep(300 * time.Millisecond) }

	do(u.showStart)
	time.Sleep(time.Second) // the start screen as it first appears
	if err := shot("start"); err != nil {
		return st, err
	}
	begin := time.Now()
	tap(u.Training)
	if err := wait("the simulators", u.TrainingReady); err != nil {
		return st, err
	}
	d, c := u.TrainingDisc, u.TrainingConn
	settle()
	if err := shot("disconnected-connect"); err != nil {
		return st, err
	}
	// A mistake first, as people make them: the error and its fix wrap.
	pw := ""
	do(func() { pw = d.Password.Text; d.Password.SetText("not the password") })
	tap(d.Connect)
	if err := wait("the connect error", func() bool { return !d.connectTask.Running() && d.connectTask.ErrorText() != "" }); err != nil {
		return st, err
	}
	settle()
	if err := shot("disconnected-connect-error"); err != nil {
		return st, err
	}
	do(func() { d.Password.SetText(pw) })

	tap(d.Connect)
	if err := wait("the token form", func() bool { return d.Step() == StepToken }); err != nil {
		return st, fmt.Errorf("%w (%s)", err, d.connectTask.ErrorText())
	}
	do(func() { d.Billing.SetSelected("Capacity") })
	settle()
	if err := shot("disconnected-token"); err != nil {
		return st, err
	}
	do(func() { d.Billing.SetSelected("Development") })
	tap(d.CreateToken)
	if err := wait("the token review", func() bool { return d.Step() == StepReview }); err != nil {
		return st, fmt.Errorf("%w (%s)", err, d.tokenTask.ErrorText())
	}
	settle()
	if err := shot("disconnected-review"); err != nil {
		return st, err
	}
	tap(d.ToExport)
	settle()
	if err := shot("disconnected-export"); err != nil {
		return st, err
	}
	// The release review, at the end of the step's scrolling part.
	do(func() {
		d.Export.Reviewers.SetText("A. Officer\nB. Lead")
		d.Export.Ticket.SetText("CHG-4711")
		scrollToBottom(d.Object())
	})
	settle()
	if err := shot("disconnected-export-review"); err != nil {
		return st, err
	}
	do(func() { d.Export.Sheet.SetChecked(true) })
	tap(d.Export.Save)
	if err := wait("the token saved", func() bool { return strings.Contains(d.Export.Result.Text, "Saved and read back") }); err != nil {
		return st, fmt.Errorf("%w (%s)", err, d.Export.task.ErrorText())
	}
	settle()
	if err := shot("disconnected-export-saved"); err != nil {
		return st, err
	}
	tap(d.Export.ShowQR)
	// Let the animation run, then time frames: show the next code and draw
	// the window, as each tick of the animation does.
	time.Sleep(1200 * time.Millisecond)
	if err := shot("disconnected-qr"); err != nil {
		return st, err
	}
	p := d.Export.Player
	do(p.pause)
	time.Sleep(100 * time.Millisecond)
	for i := range 30 {
		t0 := time.Now()
		do(func() { p.ShowTick(i) })
		dt := time.Since(t0)
		st.QRFrames++
		st.QRFrameAvg += dt
		st.QRFrameMax = max(st.QRFrameMax, dt)
	}
	st.QRFrameAvg /= time.Duration(st.QRFrames)
	tap(d.Export.ShowQR)

	do(func() { u.TrainingTabs.SelectIndex(1) })
	settle()
	if err := shot("connected-signin"); err != nil {
		return st, err
	}
	tap(c.SignIn)
	if err := wait("the sign-in", func() bool { return c.Subscription.Selected != "" }); err != nil {
		return st, fmt.Errorf("%w (%s)", err, c.signInTask.ErrorText())
	}
	settle()
	if err := shot("connected-subscription"); err != nil {
		return st, err
	}
	tap(c.ShowRegs)
	if err := wait("the registrations", func() bool { return !c.regsTask.Running() }); err != nil {
		return st, err
	}
	settle()
	if err := shot("connected-registrations"); err != nil {
		return st, err
	}
	do(c.showSubscription)
	tap(c.ToImport)
	pngs, _ := filepath.Glob(filepath.Join(u.training.Drive, "registration-token-qr", "*.png"))
	if len(pngs) > 1 {
		// Part of the set first: the import says how far it has come.
		do(func() { c.Import.AddQRFiles(pngs[:1]) })
		if err := wait("the first QR image", func() bool { return !c.Import.task.Running() }); err != nil {
			return st, err
		}
		settle()
		if err := shot("connected-import-partial"); err != nil {
			return st, err
		}
		pngs = pngs[1:]
	}
	do(func() { c.Import.AddQRFiles(pngs) })
	if err := wait("the token read from QR", func() bool { return c.Step() == StepReview }); err != nil {
		return st, fmt.Errorf("%w (%s)", err, c.Import.task.ErrorText())
	}
	settle()
	if err := shot("connected-review"); err != nil {
		return st, err
	}
	tap(c.ToRegister)
	if err := wait("the checks before registering", func() bool { return !c.Register.Disabled() }); err != nil {
		return st, fmt.Errorf("%w (%s)", err, c.checkTask.ErrorText())
	}
	settle()
	if err := shot("connected-register"); err != nil {
		return st, err
	}
	tap(c.Register)
	if err := wait("the registration", func() bool { return c.Step() == StepKey }); err != nil {
		return st, fmt.Errorf("%w (%s)", err, c.registerTask.ErrorText())
	}
	settle()
	if err := shot("connected-key"); err != nil {
		return st, err
	}
	tap(c.GetKey)
	if err := wait("the activation key", func() bool { return c.Step() == StepExport }); err != nil {
		return st, fmt.Errorf("%w (%s)", err, c.keyTask.ErrorText())
	}
	tap(c.Export.Save)
	if err := wait("the key saved", func() bool { return strings.Contains(c.Export.Result.Text, "Saved and read back") }); err != nil {
		return st, fmt.Errorf("%w (%s)", err, c.Export.task.ErrorText())
	}
	settle()
	if err := shot("connected-export"); err != nil {
		return st, err
	}

	do(func() { u.TrainingTabs.SelectIndex(0) })
	tap(d.ToImport)
	settle()
	if err := shot("disconnected-import"); err != nil {
		return st, err
	}
	do(func() { d.Import.ImportFile(filepath.Join(u.training.Drive, "activation-key.txt")) })
	if err := wait("the key check", func() bool { return d.Step() == StepActivate }); err != nil {
		return st, fmt.Errorf("%w (%s)", err, d.Import.task.ErrorText())
	}
	settle()
	if err := shot("disconnected-activate"); err != nil {
		return st, err
	}
	tap(d.Activate)
	if err := wait("the activation", func() bool { return d.Step() == StepDone }); err != nil {
		return st, fmt.Errorf("%w (%s)", err, d.activateTask.ErrorText())
	}
	if !u.training.StampActivated() {
		return st, fmt.Errorf("tour: the GUI says done but the simulated stamp is not activated")
	}
	st.RoundTrip = time.Since(begin)
	if roundTripDone != nil {
		roundTripDone()
	}
	settle()
	if err := shot("disconnected-done"); err != nil {
		return st, err
	}
	do(d.showToken)
	tap(d.RemoveAct)
	settle()
	if err := shot("disconnected-remove-activation"); err != nil {
		return st, err
	}
	do(d.closeRemoveDialog)
	do(func() { d.Billing.SetSelected("Development") })
	tap(d.Renew)
	settle()
	if err := shot("disconnected-renew"); err != nil {
		return st, err
	}
	do(d.closeRenewDialog)
	do(d.showConnect)
	settle()
	if err := shot("disconnected-connect-remembered"); err != nil {
		return st, err
	}
	do(func() { u.TrainingTabs.SelectIndex(2) })
	settle()
	if err := shot("history"); err != nil {
		return st, err
	}
	return st, nil
}

// scrollToBottom scrolls the first scrolling container in o to its end.
func scrollToBottom(o fyne.CanvasObject) bool {
	switch v := o.(type) {
	case *container.Scroll:
		v.ScrollToBottom()
		return true
	case *fyne.Container:
		for _, c := range v.Objects {
			if scrollToBottom(c) {
				return true
			}
		}
	}
	return false
}
