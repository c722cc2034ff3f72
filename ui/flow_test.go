package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/azs-courier/azs-courier/app"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

// newTestUI builds the GUI on Fyne's test app with a private ledger.
func newTestUI(t *testing.T) (*UI, fyne.Window) {
	t.Helper()
	return newTestUIOn(t, test.NewTempApp(t))
}

// newTestUIOn builds the GUI on app a (its preferences carried over);
// each of set adjusts its environment first.
func newTestUIOn(t *testing.T, a fyne.App, set ...func(*app.Env)) (*UI, fyne.Window) {
	t.Helper()
	env := app.SystemEnv(app.BuildInfo{Version: "0.1.0-test"})
	env.ConfigDir = filepath.Join(t.TempDir(), "config")
	for _, f := range set {
		f(env)
	}
	w := test.NewTempWindow(t, nil)
	u := New(a, w, app.NewService(env), app.GUIOptions{})
	hold(t, u)
	u.trainingOpts = app.TrainingOptions{TokenDelay: 100 * time.Millisecond, ActivationDelay: 200 * time.Millisecond}
	w.Resize(fyne.NewSize(960, 720))
	return u, w
}

// hold makes the test goroutine u's UI thread (see waitFor) until the test
// ends, when u is closed.
func hold(t *testing.T, u *UI) {
	u.thread.mu.Lock()
	t.Cleanup(func() {
		u.Close() // cancels the workers still running
		u.thread.mu.Unlock()
		// Their last updates run now; none may outlive the test and touch
		// Fyne while the next test does.
		u.thread.tasks.Wait()
		u.Wait()
	})
}

// waitFor lets the workers run until cond holds, or fails after 20 s.
//
// The test goroutine plays the UI thread: it holds u.thread's lock (taken in
// newTestUI) while it taps, types and reads widgets, and lets go only here,
// so workers' fyne.Do updates (which Fyne's test driver runs on the worker's
// own goroutine) never lay out text at the same time as the test.
func waitFor(t *testing.T, u *UI, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		u.thread.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		u.thread.mu.Lock()
	}
}

func startTraining(t *testing.T) (*UI, fyne.Window) {
	t.Helper()
	u, w := newTestUI(t)
	test.Tap(u.Training)
	if !strings.Contains(textOf(w.Canvas().Content()), TrainingBanner) {
		t.Fatalf("training shows no %q banner", TrainingBanner)
	}
	waitFor(t, u, "the simulators", u.TrainingReady)
	if !strings.Contains(textOf(w.Canvas().Content()), TrainingBanner) {
		t.Fatalf("training screen lost the %q banner", TrainingBanner)
	}
	return u, w
}

// TestTrainingRoundTrip plays both sides in one window as a new user would:
// every form is filled and every button tapped, and each screen and file
// is checked.
func TestTrainingRoundTrip(t *testing.T) {
	u, _ := startTraining(t)
	tr := u.training
	d, c := u.TrainingDisc, u.TrainingConn

	// Disconnected side: connect (prefilled with the simulated stamp).
	if d.Step() != StepConnect || d.Hosts.Text == "" || d.Password.Text == "" {
		t.Fatalf("disconnected side: step %q, hosts %q; want connect with the simulator prefilled", d.Step(), d.Hosts.Text)
	}
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })
	if !strings.Contains(d.Stamp.Text, tr.StampCloudID()) {
		t.Errorf("stamp line %q lacks the cloud ID %s", d.Stamp.Text, tr.StampCloudID())
	}

	// The form allows only valid billing combinations.
	d.Billing.SetSelected("Capacity")
	if !d.Usage.Disabled() || d.Usage.Checked {
		t.Error("Capacity: usage reporting is not locked off")
	}
	if !d.CreateToken.Disabled() {
		t.Error("Capacity without an agreement number: Create is enabled")
	}
	test.Type(d.Agreement, "EA-1234567")
	if d.CreateToken.Disabled() {
		t.Errorf("Capacity with an agreement number: Create is disabled (%s)", d.FormProblem.Text)
	}
	d.Billing.SetSelected("Custom")
	if !d.CreateToken.Disabled() || !strings.Contains(d.FormProblem.Text, "asset tag") {
		t.Errorf("Custom without an asset tag: Create enabled or no hint (%q)", d.FormProblem.Text)
	}
	d.Billing.SetSelected("Development")
	test.Tap(d.CreateToken)
	waitFor(t, u, "the token review", func() bool { return d.Step() == StepReview })
	if !strings.Contains(textOf(d.Object()), d.token.SHA256Groups()) {
		t.Error("the review does not show the SHA-256 in groups of four")
	}

	// Export to the training drive (listed first) with QR PNGs and the sheet.
	test.Tap(d.ToExport)
	if d.Step() != StepExport {
		t.Fatalf("step %q after Export, want export", d.Step())
	}
	if got := d.Export.selectedDir(); got != tr.Drive {
		t.Errorf("first place offered: %q, want the training drive %q", got, tr.Drive)
	}
	d.Export.Sheet.SetChecked(true)
	test.Tap(d.Export.Save)
	tokenFile := filepath.Join(tr.Drive, "registration-token.txt")
	waitFor(t, u, "the token file", func() bool { return strings.Contains(d.Export.Result.Text, "Saved and read back") })
	for _, f := range []string{tokenFile, tokenFile + ".courier.json", filepath.Join(tr.Drive, "registration-token-qr.pdf")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("export did not write %s: %v", f, err)
		}
	}
	if !d.Export.OpenSheet.Visible() {
		t.Error("no button to open the saved A4 sheet")
	}
	pngs, _ := filepath.Glob(filepath.Join(tr.Drive, "registration-token-qr", "*.png"))
	if len(pngs) < 2 {
		t.Fatalf("got %d token QR PNGs, want several", len(pngs))
	}

	// The animated QR codes: step and pause.
	test.Tap(d.Export.ShowQR)
	p := d.Export.Player
	if p == nil || !strings.Contains(p.Caption.Text, "part 1 of") {
		t.Fatalf("QR player caption: want part 1 of n")
	}
	test.Tap(p.Next)
	if p.Tick() != 1 || !strings.Contains(p.Caption.Text, "part 2 of") || p.Pause.Text != "Play" {
		t.Errorf("after Next: tick %d, caption %q, pause button %q; want 1, part 2, Play", p.Tick(), p.Caption.Text, p.Pause.Text)
	}
	test.Tap(d.Export.ShowQR) // hide: the animation stops

	// Connected side: sign in, import the token from the QR images.
	u.TrainingTabs.SelectIndex(1)
	test.Tap(c.SignIn)
	waitFor(t, u, "the subscription picker", func() bool { return c.ToImport.Visible() && c.Subscription.Selected != "" })
	if !strings.Contains(c.Subscription.Selected, tr.Subscription) {
		t.Errorf("subscription %q, want %s", c.Subscription.Selected, tr.Subscription)
	}
	test.Tap(c.ToImport)
	if c.Step() != StepImport {
		t.Fatalf("step %q, want import", c.Step())
	}
	c.Import.AddQRFiles(pngs[:1])
	waitFor(t, u, "the first QR part", func() bool { return strings.Contains(c.Import.QRState.Text, "missing") })
	u.Dropped(pngs[1:]) // the rest dropped on the window
	waitFor(t, u, "the token review", func() bool { return c.Step() == StepReview })
	if c.token.SHA256 != d.token.SHA256 {
		t.Fatalf("the connected side read SHA-256 %s, want %s", c.token.SHA256, d.token.SHA256)
	}
	test.Tap(c.ToRegister)
	if want := app.DefaultRegistrationName(tr.StampCloudID()); c.Name.Text != want || c.ResourceGroup.Text != "azurestack" || c.Location.Text == "" {
		t.Errorf("register form: name %q, group %q, location %q; want %q, azurestack, the cloud's", c.Name.Text, c.ResourceGroup.Text, c.Location.Text, want)
	}
	waitFor(t, u, "the checks before registering", func() bool { return !c.Register.Disabled() })
	if txt := textOf(c.Checks); !strings.Contains(txt, "Microsoft.Authorization/locks") || !strings.Contains(c.CheckNote.Text, "Nothing stands in the way") {
		t.Errorf("checks %q, note %q: want the lock permission checked and nothing in the way", txt, c.CheckNote.Text)
	}
	test.Type(c.Name, "x")
	if !c.Register.Disabled() || !strings.Contains(c.CheckNote.Text, "Check again") {
		t.Errorf("after changing the name: Register enabled %v, note %q", !c.Register.Disabled(), c.CheckNote.Text)
	}
	c.Name.SetText(app.DefaultRegistrationName(tr.StampCloudID()))
	test.Tap(c.Check)
	waitFor(t, u, "the checks again", func() bool { return !c.Register.Disabled() })
	test.Tap(c.Register)
	waitFor(t, u, "the registration", func() bool { return c.Step() == StepKey })
	if got := tr.Registrations(); len(got) != 1 {
		t.Fatalf("simulated Azure holds %v, want one registration", got)
	}
	test.Tap(c.GetKey)
	waitFor(t, u, "the key export", func() bool { return c.Step() == StepExport })
	test.Tap(c.Export.Save)
	keyFile := filepath.Join(tr.Drive, "activation-key.txt")
	waitFor(t, u, "the key file", func() bool { return strings.Contains(c.Export.Result.Text, "Saved and read back") })

	// Disconnected side: import the key file, check, activate.
	u.TrainingTabs.SelectIndex(0)
	test.Tap(d.ToImport)
	if d.Step() != StepImport {
		t.Fatalf("step %q, want import", d.Step())
	}
	d.Import.ImportFile(keyFile)
	waitFor(t, u, "the key check", func() bool { return d.Step() == StepActivate })
	if !strings.Contains(d.KeyCheck.Text, "Checks passed") || !strings.Contains(d.KeyCheck.Text, "matches") {
		t.Errorf("key check: %q", d.KeyCheck.Text)
	}
	test.Tap(d.Activate)
	waitFor(t, u, "the activation", func() bool { return d.Step() == StepDone })
	if !tr.StampActivated() {
		t.Fatal("the simulated stamp is not activated after the GUI said done")
	}

	// Remove activation asks first, naming the stamp.
	d.showToken()
	test.Tap(d.RemoveAct)
	if txt := textOf(d.confirmBox); !strings.Contains(txt, tr.StampCloudID()) || !strings.Contains(txt, d.session.Stamp().Name) {
		t.Errorf("confirmation %q does not name the stamp", txt)
	}
	if !tr.StampActivated() {
		t.Fatal("the activation went before it was confirmed")
	}
	test.Tap(d.ConfirmRemove)
	waitFor(t, u, "the deactivation", func() bool { return !tr.StampActivated() })

	// History: the training ledger, verified.
	u.TrainingTabs.SelectIndex(2)
	h := u.TrainingHist
	// The stamp flips before the worker records the step: wait for the entry.
	waitFor(t, u, "the deactivation in the ledger", func() bool {
		h.Refresh()
		for i := range h.Rows() {
			if h.Cell(i, 2) == "deactivate" {
				return true
			}
		}
		return false
	})
	test.Tap(h.Verify)
	if !strings.Contains(h.Result.Text, "Chain verified") {
		t.Errorf("verify: %q", h.Result.Text)
	}
	steps := map[string]bool{}
	for i := range h.Rows() {
		steps[h.Cell(i, 2)] = true
	}
	for _, s := range []string{"token", "write", "register", "activate", "deactivate"} {
		if !steps[s] {
			t.Errorf("ledger lacks a %q entry (has %v)", s, steps)
		}
	}
	dir := t.TempDir()
	h.ExportTo(dir)
	if csvs, _ := filepath.Glob(filepath.Join(dir, "custody-ledger-*.csv")); len(csvs) != 1 {
		t.Errorf("history export wrote %v, want one CSV (%s)", csvs, h.Result.Text)
	}
}

// TestDisconnectedErrors checks that failures show the one-line reason and
// the fix, with details, and leave the user on the step.
func TestDisconnectedErrors(t *testing.T) {
	u, _ := startTraining(t)
	d := u.TrainingDisc
	tr := u.training

	d.Password.SetText("wrong password")
	test.Tap(d.Connect)
	waitFor(t, u, "the connect error", func() bool { return !d.connectTask.Running() && d.connectTask.ErrorText() != "" })
	if d.Step() != StepConnect || d.Connect.Disabled() {
		t.Errorf("after a failed connect: step %q, connect disabled %v", d.Step(), d.Connect.Disabled())
	}
	if d.connectTask.ErrDetails.Text == "" {
		t.Error("no details behind the error")
	}

	d.Password.SetText(tr.PEP.Password)
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })

	// A registration token where the key is expected: refused, integrity.
	test.Tap(d.ToImportKey)
	tok := writeToken(t)
	d.Import.ImportFile(tok)
	waitFor(t, u, "the import error", func() bool { return d.Import.task.ErrorText() != "" })
	if got := d.Import.task.ErrorText(); !strings.Contains(got, "activation key") || !strings.Contains(got, "registration token") {
		t.Errorf("wrong kind: %q, want both kinds named", got)
	}
	if d.Step() != StepImport {
		t.Errorf("step %q, want import", d.Step())
	}

	// Pasted garbage.
	test.Type(d.Import.Paste, "not a key")
	test.Tap(d.Import.Read)
	waitFor(t, u, "the paste error", func() bool { return strings.Contains(d.Import.task.ErrorText(), "pasted") })
}

// writeToken copies a registration token from the shared vectors into a file.
func writeToken(t *testing.T) string {
	t.Helper()
	data := testutil.ReadShared(t, "tokens", "registration-token-4node.txt")
	p := filepath.Join(t.TempDir(), "token.txt")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStartRemembersSideAndAppearance(t *testing.T) {
	u, w := newTestUI(t)
	test.Tap(u.Connected)
	if u.Side() != SideConnected || !strings.Contains(textOf(w.Canvas().Content()), "Sign in to Azure") {
		t.Fatalf("tapping Connected: side %q", u.Side())
	}
	if got := u.prefs().String(prefSide); got != string(SideConnected) {
		t.Errorf("side preference %q, want connected", got)
	}
	u.showStart()
	if u.Connected.Importance != widget.HighImportance || u.Disconnected.Importance == widget.HighImportance {
		t.Error("the start screen does not highlight the side used last")
	}
	u.Appearance.SetSelected("dark")
	if got := u.prefs().String(prefAppearance); got != "dark" {
		t.Errorf("appearance preference %q, want dark", got)
	}
	if th, ok := u.fyneApp.Settings().Theme().(appTheme); !ok || th.variant == nil || *th.variant != theme.VariantDark {
		t.Error("choosing dark did not apply the dark variant")
	}
	u.TextSize.SetSelected("150 %")
	if got := u.prefs().String(prefTextSize); got != "150 %" {
		t.Errorf("text size preference %q, want 150 %%", got)
	}
	th := u.fyneApp.Settings().Theme()
	if got, want := th.Size(theme.SizeNameText), theme.DefaultTheme().Size(theme.SizeNameText)*1.5; got != want {
		t.Errorf("text size at 150 %%: %v, want %v", got, want)
	}
	// A new window (the next start) keeps both.
	u2, _ := newTestUIOn(t, u.fyneApp)
	_ = u2
	if th, ok := u.fyneApp.Settings().Theme().(appTheme); !ok || th.scale != 1.5 || th.variant == nil || *th.variant != theme.VariantDark {
		t.Errorf("the next start does not apply the remembered appearance and text size: %+v", th)
	}
}

// textOf returns the text of every label, entry and button under o.
func textOf(o fyne.CanvasObject) string {
	var b strings.Builder
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Label:
			b.WriteString(v.Text + "\n")
		case *widget.Button:
			b.WriteString(v.Text + "\n")
		case *widget.Entry:
			b.WriteString(v.Text + "\n")
		case *canvas.Text:
			b.WriteString(v.Text + "\n")
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range v.CreateRenderer().Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return b.String()
}

// TestActivationCancel starts a long activation and cancels it: the UI
// says so, the stamp stays unactivated and Activate can be tapped again.
func TestActivationCancel(t *testing.T) {
	u, w := newTestUI(t)
	u.trainingOpts.ActivationDelay = 30 * time.Second
	test.Tap(u.Training)
	waitFor(t, u, "the simulators", u.TrainingReady)
	d, tr := u.TrainingDisc, u.training
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })
	d.Billing.SetSelected("Development")
	test.Tap(d.CreateToken)
	waitFor(t, u, "the token review", func() bool { return d.Step() == StepReview })

	// The connected side's part, through the same use cases.
	ctx := context.Background()
	conn, err := u.trainingSvc.SignIn(ctx, tr.Azure, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := conn.Register(ctx, app.RegisterRequest{Token: d.token, Name: "hub"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := conn.ActivationKey(ctx, app.KeyRequest{Name: reg.Name, ResourceGroup: reg.ResourceGroup}, nil)
	if err != nil {
		t.Fatal(err)
	}

	test.Tap(d.ToImport)
	d.onKeyImported(key)
	if d.Step() != StepActivate {
		t.Fatalf("step %q, want activate", d.Step())
	}
	test.Tap(d.Activate)
	waitFor(t, u, "the activation to start", func() bool {
		return d.activateTask.Cancel.Visible() && strings.Contains(d.activateTask.Log.Text, "Validating")
	})
	test.Tap(d.activateTask.Cancel)
	// Cancel asks first, saying that the stamp may finish on its own.
	if msg := overlayText(w); !strings.Contains(msg, "may finish it even if you cancel") {
		t.Fatalf("Cancel did not ask first; overlay %q", msg)
	}
	if !d.activateTask.Running() {
		t.Fatal("the activation stopped before the question was answered")
	}
	tapOverlayButton(t, w, "Yes")
	waitFor(t, u, "the cancellation", func() bool { return !d.activateTask.Running() })
	if !strings.Contains(d.activateTask.Message.Text, "cancelled") {
		t.Errorf("message %q, want cancelled", d.activateTask.Message.Text)
	}
	// Afterwards it says how to find out the stamp's state, and the ledger
	// has the step as cancelled by the user.
	if msg := overlayText(w); !strings.Contains(msg, "administrator portal") || !strings.Contains(msg, "cancelled by the user") {
		t.Errorf("after the cancellation the window says %q; want how to find out the stamp's state", msg)
	}
	rows, _ := u.trainingSvc.LedgerRows()
	if last := rows[len(rows)-1]; last.Step != "activate" || last.Outcome != "cancelled by the user" {
		t.Errorf("the ledger's last entry: %s %q, want activate cancelled by the user", last.Step, last.Outcome)
	}
	if tr.StampActivated() {
		t.Error("the stamp is activated after Cancel")
	}
	if d.Step() != StepActivate || d.Activate.Disabled() {
		t.Errorf("after Cancel: step %q, Activate disabled %v; want to be able to try again", d.Step(), d.Activate.Disabled())
	}
}

func TestGUITrainingFlagOpensTraining(t *testing.T) {
	a := test.NewTempApp(t)
	env := app.SystemEnv(app.BuildInfo{Version: "0.1.0-test"})
	env.ConfigDir = filepath.Join(t.TempDir(), "config")
	w := test.NewTempWindow(t, nil)
	u := New(a, w, app.NewService(env), app.GUIOptions{Training: true})
	hold(t, u)
	if u.Side() != SideTraining || !strings.Contains(textOf(w.Canvas().Content()), TrainingBanner) {
		t.Fatalf("gui --training: side %q, want training with the %q banner", u.Side(), TrainingBanner)
	}
	waitFor(t, u, "the simulators", u.TrainingReady)
	if u.TrainingDisc.Hosts.Text == "" || u.TrainingConn.ARMEndpoint.Text == "" {
		t.Error("training did not wire both sides to the simulators")
	}
}

// overlayText returns the text of the window's topmost overlay (a dialog),
// or "".
func overlayText(w fyne.Window) string {
	top := w.Canvas().Overlays().Top()
	if top == nil {
		return ""
	}
	return textOf(top)
}

// tapOverlayButton taps the button labelled label in the topmost overlay.
func tapOverlayButton(t *testing.T, w fyne.Window, label string) {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog to tap %q in", label)
	}
	if b := findButton(top, label); b != nil {
		test.Tap(b)
		return
	}
	t.Fatalf("no %q button in the dialog %q", label, textOf(top))
}

func findButton(o fyne.CanvasObject, label string) *widget.Button {
	switch v := o.(type) {
	case *widget.Button:
		if v.Text == label {
			return v
		}
	case *fyne.Container:
		for _, c := range v.Objects {
			if b := findButton(c, label); b != nil {
				return b
			}
		}
	case fyne.Widget:
		for _, c := range v.CreateRenderer().Objects() {
			if b := findButton(c, label); b != nil {
				return b
			}
		}
	}
	return nil
}
