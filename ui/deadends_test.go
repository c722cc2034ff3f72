package ui

import (
	"context"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/azs-courier/azs-courier/app"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

// trainedToken connects the training disconnected side and makes a token,
// leaving it on the review step.
func trainedToken(t *testing.T, u *UI) *DisconnectedScreen {
	t.Helper()
	d := u.TrainingDisc
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })
	d.Billing.SetSelected("Development")
	test.Tap(d.CreateToken)
	waitFor(t, u, "the token review", func() bool { return d.Step() == StepReview })
	return d
}

// writeQR saves a shared vector's QR codes with the training service and
// returns their PNGs.
func writeQR(t *testing.T, u *UI, vector string) []string {
	t.Helper()
	v, err := u.trainingSvc.ReadArtefact(context.Background(), app.FileSource(testutil.Shared(t, "tokens", vector)), "", "test")
	if err != nil {
		t.Fatal(err)
	}
	res, err := u.trainingSvc.WriteQR(context.Background(), app.QRRequest{Artefact: v, Dir: filepath.Join(t.TempDir(), "qr")})
	if err != nil {
		t.Fatal(err)
	}
	return res.PNGs
}

// TestQRImportSurvivesAWrongImage: an image of the activation key added
// while importing the token is turned away alone, naming the file and what
// it holds; the token's images still complete the import, and Clear starts
// over. (Before, every image after a wrong one was refused until a restart.)
func TestQRImportSurvivesAWrongImage(t *testing.T) {
	u, _ := startTraining(t)
	c := u.TrainingConn
	u.TrainingTabs.SelectIndex(1)
	test.Tap(c.SignIn)
	waitFor(t, u, "the sign-in", func() bool { return c.Subscription.Selected != "" })
	test.Tap(c.ToImport)
	key := writeQR(t, u, "activation-key-4node.txt")
	token := writeQR(t, u, "registration-token-4node.txt")

	c.Import.AddQRFiles([]string{key[0], token[0]})
	waitFor(t, u, "the first images", func() bool { return !c.Import.task.Running() })
	if got := c.Import.QRFiles.Text; !strings.Contains(got, "Turned away") || !strings.Contains(got, filepath.Base(key[0])) ||
		!strings.Contains(got, "activation key") {
		t.Errorf("the wrong image: %q; want it turned away by name, saying what it holds", got)
	}
	if c.Import.task.ErrorText() != "" {
		t.Errorf("a wrong image is an error of the whole import: %q", c.Import.task.ErrorText())
	}
	if got := c.Import.QRState.Text; !strings.Contains(got, "1 of") || !strings.Contains(got, "parts so far") {
		t.Errorf("progress %q; want the one token part counted", got)
	}
	c.Import.AddQRFiles(token[1:])
	waitFor(t, u, "the token read from QR", func() bool { return c.Step() == StepReview })

	// Clear forgets the parts.
	c.Import.AddQRFiles(token[:1])
	waitFor(t, u, "one more image", func() bool { return !c.Import.task.Running() })
	test.Tap(c.Import.ClearQR)
	if c.Import.QRState.Text != "" || c.Import.session.Status().Parts != 0 {
		t.Errorf("after Clear: %q, %d parts", c.Import.QRState.Text, c.Import.session.Status().Parts)
	}
}

// TestExportAgainToTheSamePlace: a second export to the same folder offers
// a file name and a Replace that asks first, naming the old file's kind,
// date and hash. (Before, "already exists … or replace it" had neither.)
func TestExportAgainToTheSamePlace(t *testing.T) {
	u, w := startTraining(t)
	d := trainedToken(t, u)
	test.Tap(d.ToExport)
	test.Tap(d.Export.Save)
	waitFor(t, u, "the first save", func() bool {
		return strings.Contains(d.Export.Result.Text, "Saved and read back") && !d.Export.task.Running()
	})
	first := d.token

	// A new token: the export screen forgets the last save.
	d.showToken()
	test.Tap(d.CreateToken)
	waitFor(t, u, "the second token", func() bool { return d.Step() == StepReview && d.token != first })
	test.Tap(d.ToExport)
	if msg := d.Export.task.Message.Text; msg != "" {
		t.Errorf("the export screen of the new token shows %q from the last one", msg)
	}
	if d.Export.Result.Text != "" {
		t.Errorf("the export screen of the new token shows the last result %q", d.Export.Result.Text)
	}
	if !d.Export.Save.Disabled() || !d.Export.Replace.Visible() || !strings.Contains(d.Export.Exists.Text, "already exists") {
		t.Fatalf("same place again: Save disabled %v, Replace shown %v, %q", d.Export.Save.Disabled(), d.Export.Replace.Visible(), d.Export.Exists.Text)
	}
	test.Tap(d.Export.Replace)
	msg := overlayText(w)
	for _, want := range []string{"registration token", first.SHA256Groups(), "Replace it"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the replace question %q lacks %q", msg, want)
		}
	}
	tapOverlayButton(t, w, "Yes")
	waitFor(t, u, "the replacement", func() bool {
		return strings.Contains(d.Export.Result.Text, "Saved and read back") && !d.Export.task.Running()
	})
	got, err := u.trainingSvc.ImportFile(context.Background(), filepath.Join(u.training.Drive, "registration-token.txt"), app.KindToken)
	if err != nil || got.SHA256 != d.token.SHA256 {
		t.Errorf("after Replace the file holds %v (%v), want the new token", got, err)
	}

	// Or another name, beside it.
	d.Export.FileName.SetText("token-copy.txt")
	if d.Export.Save.Disabled() || d.Export.Replace.Visible() {
		t.Error("a new file name does not enable Save")
	}
	test.Tap(d.Export.Save)
	waitFor(t, u, "the copy", func() bool {
		_, err := os.Stat(filepath.Join(u.training.Drive, "token-copy.txt"))
		return err == nil
	})
}

// TestGoBackKeepsWhatWasEntered: the step bar's reached steps and the Back
// button go back without losing the form. (Before, there was no way back.)
func TestGoBackKeepsWhatWasEntered(t *testing.T) {
	u, _ := startTraining(t)
	d := u.TrainingDisc
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })
	d.Billing.SetSelected("Capacity")
	test.Type(d.Agreement, "12345678")
	test.Tap(d.CreateToken)
	waitFor(t, u, "the token review", func() bool { return d.Step() == StepReview })
	if b := d.Steps.Button(StepExport); !b.Disabled() {
		t.Error("a step not reached yet can be tapped")
	}
	test.Tap(d.Steps.Button(StepToken))
	if d.Step() != StepToken || d.Agreement.Text != "12345678" || d.Billing.Selected != "Capacity" {
		t.Fatalf("back on the token step: %q, agreement %q, billing %q", d.Step(), d.Agreement.Text, d.Billing.Selected)
	}
	test.Tap(d.Steps.Button(StepReview))
	test.Tap(d.ToExport)
	test.Tap(d.Back)
	if d.Step() != StepReview {
		t.Errorf("Back from export: %q, want review", d.Step())
	}
	test.Tap(d.Steps.Button(StepConnect))
	if d.Step() != StepConnect || d.Hosts.Text == "" {
		t.Errorf("back to connect: %q, hosts %q", d.Step(), d.Hosts.Text)
	}
}

// TestLongOperationsAskBeforeClosing: closing the window during an
// activation asks first; the running bar is indeterminate until the stamp
// reports a fraction, and the time elapsed shows.
func TestLongOperationsAskBeforeClosing(t *testing.T) {
	u, w := newTestUI(t)
	u.trainingOpts.ActivationDelay = 30 * time.Second
	test.Tap(u.Training)
	waitFor(t, u, "the simulators", u.TrainingReady)
	d := trainedToken(t, u)
	ctx := context.Background()
	conn, err := u.trainingSvc.SignIn(ctx, u.training.Azure, nil)
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
	test.Tap(d.Activate)
	waitFor(t, u, "the activation to run", func() bool { return d.activateTask.Running() })
	if !d.activateTask.Spin.Visible() || d.activateTask.Bar.Visible() {
		t.Error("before any fraction: want the indeterminate bar, not a 0 % bar")
	}
	waitFor(t, u, "the time elapsed", func() bool { return strings.Contains(d.activateTask.Elapsed.Text, "elapsed") })

	u.onCloseRequest()
	if msg := overlayText(w); !strings.Contains(msg, "may finish it on its own") || !strings.Contains(msg, "administrator portal") {
		t.Fatalf("closing during an activation: %q; want a question that explains", msg)
	}
	tapOverlayButton(t, w, "No")
	if !d.activateTask.Running() {
		t.Error("answering No stopped the activation")
	}
	d.activateTask.stop()
	waitFor(t, u, "the cancellation", func() bool { return !d.activateTask.Running() })
}

// TestCancelledConnectSaysCancelled: cancelling a connection that keeps
// failing says "cancelled", not the transport's error.
func TestCancelledConnectSaysCancelled(t *testing.T) {
	u, _ := startTraining(t)
	d := u.TrainingDisc
	d.Hosts.SetText("127.0.0.1:1") // nothing listens: the module's retries
	d.training.PEP.RetryDelay = 5 * time.Second
	test.Tap(d.Connect)
	waitFor(t, u, "the connect to retry", func() bool { return d.connectTask.Running() && strings.Contains(d.connectTask.Log.Text, "Attempt 1") })
	test.Tap(d.connectTask.Cancel)
	waitFor(t, u, "the cancellation", func() bool { return !d.connectTask.Running() })
	if msg := d.connectTask.Message.Text; !strings.Contains(msg, "cancelled") || d.connectTask.ErrorText() != "" {
		t.Errorf("after Cancel: %q, error %q; want cancelled and no error", msg, d.connectTask.ErrorText())
	}
}

// TestErrorsAreReadable: a long error wraps within the window, and its
// details say the causes in words, without Go type names.
func TestErrorsAreReadable(t *testing.T) {
	u, _ := newTestUI(t)
	p := newTaskPanel(u.thread)
	long := strings.Repeat("the activation key's cloud ID differs from the stamp's ", 12)
	p.showError(&wrapErr{msg: "check the key: " + long + "; get the key for this stamp", err: context.DeadlineExceeded})
	if w := p.Object().MinSize().Width; w > 500 {
		t.Errorf("the error needs %v wide: it does not wrap", w)
	}
	if d := p.ErrDetails.Text; strings.Contains(d, "*fmt.") || strings.Contains(d, "(*") || !strings.Contains(d, "because:") {
		t.Errorf("details %q: want causes in words", d)
	}
	if !strings.Contains(p.ErrFix.Text, "get the key for this stamp") {
		t.Errorf("the fix %q is not shown", p.ErrFix.Text)
	}
}

type wrapErr struct {
	msg string
	err error
}

func (e *wrapErr) Error() string { return e.msg + ": " + e.err.Error() }
func (e *wrapErr) Unwrap() error { return e.err }

// TestSayWhatTheInputIs: a pasted random text, a manifest picked by
// mistake and a key of another stamp are each named for what they are.
func TestSayWhatTheInputIs(t *testing.T) {
	u, _ := startTraining(t)
	d := u.TrainingDisc
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })
	test.Tap(d.ToImportKey)

	d.Import.Paste.SetText("SGVsbG8sIHdvcmxkOiBubyB0b2tlbiBoZXJl")
	test.Tap(d.Import.Read)
	waitFor(t, u, "the paste error", func() bool { return d.Import.task.ErrorText() != "" })
	if got := d.Import.task.ErrorText(); !strings.Contains(got, "not a registration token or activation key") {
		t.Errorf("random base64: %q", got)
	}

	key := filepath.Join(t.TempDir(), "activation-key.txt")
	other := testutil.ReadShared(t, "tokens", "activation-key-1node.txt")
	v, err := u.trainingSvc.ImportText(context.Background(), string(other), app.KindKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.trainingSvc.WriteArtefact(context.Background(), app.WriteRequest{Artefact: v, Path: key}); err != nil {
		t.Fatal(err)
	}
	d.Import.ImportFile(app.ManifestPath(key))
	waitFor(t, u, "the manifest error", func() bool { return strings.Contains(d.Import.task.ErrorText(), "manifest") })
	if got := d.Import.task.ErrorText(); !strings.Contains(got, "open activation-key.txt beside it") {
		t.Errorf("manifest picked: %q", got)
	}

	d.Import.ImportFile(key)
	waitFor(t, u, "the other stamp's key", func() bool { return strings.Contains(d.Import.task.ErrorText(), "cloud ID") })
	if got := d.Import.task.ErrorText(); !strings.Contains(got, u.training.StampCloudID()) || !strings.Contains(got, "cd613e30-d8f1-4adf-91b7-584a2265b1f5") {
		t.Errorf("key of another stamp: %q; want both cloud IDs", got)
	}
}

// TestKeyNeverExpiresAndLocalTimes: the far-off expiry reads "never
// expires"; times show the local zone with UTC.
func TestKeyNeverExpiresAndLocalTimes(t *testing.T) {
	u, _ := newTestUI(t)
	v, err := u.svc.ImportText(context.Background(), string(testutil.ReadShared(t, "tokens", "activation-key-4node.txt")), app.KindKey)
	if err != nil {
		t.Fatal(err)
	}
	if txt := textOf(reviewCard(v)); !strings.Contains(txt, "never expires") {
		t.Errorf("the review of a key lacks 'never expires':\n%s", txt)
	}
	if got := app.FormatTime(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)); !strings.Contains(got, "UTC") {
		t.Errorf("FormatTime: %q", got)
	}
}

// TestValidatedBeforeTheNetwork: Connect waits for a password and a
// DOMAIN\user; Create waits for an agreement number of the right shape.
func TestValidatedBeforeTheNetwork(t *testing.T) {
	u, _ := startTraining(t)
	d := u.TrainingDisc
	pw := d.Password.Text
	d.Password.SetText("")
	if !d.Connect.Disabled() || !strings.Contains(d.ConnectHint.Text, "password") {
		t.Errorf("no password: Connect disabled %v, hint %q", d.Connect.Disabled(), d.ConnectHint.Text)
	}
	d.Password.SetText(pw)
	d.User.SetText("CloudAdmin")
	if !d.Connect.Disabled() || !strings.Contains(d.ConnectHint.Text, `DOMAIN\name`) {
		t.Errorf("no domain: Connect disabled %v, hint %q", d.Connect.Disabled(), d.ConnectHint.Text)
	}
	d.User.SetText(u.training.PEP.User)
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })
	d.Billing.SetSelected("Capacity")
	d.Agreement.SetText("our EA number is 1234")
	if !d.CreateToken.Disabled() || !strings.Contains(d.FormProblem.Text, "shape") {
		t.Errorf("a sentence for an agreement number: Create disabled %v, %q", d.CreateToken.Disabled(), d.FormProblem.Text)
	}
}

// TestConnectedUnregisterAndAccount: after sign-in every connected-side
// screen names the account, tenant and subscription; the registrations are
// listed, and one is removed after a question naming it and its stamp.
func TestConnectedUnregisterAndAccount(t *testing.T) {
	u, w := startTraining(t)
	u.TrainingTabs.SelectIndex(1)
	c := u.TrainingConn
	test.Tap(c.SignIn)
	waitFor(t, u, "the sign-in", func() bool { return c.Subscription.Selected != "" })
	for _, want := range []string{"application", "tenant " + u.training.Azure.Tenant, "subscription"} {
		if !strings.Contains(c.Account.Text, want) {
			t.Errorf("status line %q lacks %q", c.Account.Text, want)
		}
	}
	tok, err := u.trainingSvc.ImportText(context.Background(), string(testutil.ReadShared(t, "tokens", "registration-token-1node.txt")), app.KindToken)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := u.trainingSvc.SignIn(context.Background(), u.training.Azure, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Register(context.Background(), app.RegisterRequest{Token: tok, Name: "hub-1"}, nil); err != nil {
		t.Fatal(err)
	}
	test.Tap(c.ShowRegs)
	waitFor(t, u, "the list", func() bool { return len(c.regs) == 1 })
	c.Regs.Select(0)
	test.Tap(c.Unregister)
	msg := overlayText(w)
	for _, want := range []string{"hub-1", "cd613e30-d8f1-4adf-91b7-584a2265b1f5", app.RegistrationLockName} {
		if !strings.Contains(msg, want) {
			t.Errorf("the question %q lacks %q", msg, want)
		}
	}
	tapOverlayButton(t, w, "Yes")
	waitFor(t, u, "the unregistration", func() bool { return len(u.training.Registrations()) == 0 })
	waitFor(t, u, "the list to update", func() bool { return len(c.regs) == 0 })
}

// TestHistoryShowsEverything: the table has the whole hash, cloud ID, user
// and machine; a row's details hold every field; the status line's count
// follows new entries.
func TestHistoryShowsEverything(t *testing.T) {
	u, _ := startTraining(t)
	d := trainedToken(t, u)
	_ = d
	h := u.TrainingHist
	h.Refresh()
	if h.Rows() == 0 {
		t.Fatal("no ledger rows")
	}
	var tokenRow = -1
	for i := range h.Rows() {
		if h.Cell(i, 2) == "token" {
			tokenRow = i
		}
	}
	if tokenRow < 0 {
		t.Fatal("no token entry")
	}
	if got := h.Cell(tokenRow, 8); len(got) != 64 {
		t.Errorf("SHA-256 column %q: want the whole hash", got)
	}
	if h.Cell(tokenRow, 5) != u.training.StampCloudID() {
		t.Errorf("cloud ID column %q", h.Cell(tokenRow, 5))
	}
	det := h.Details(tokenRow)
	found := map[string]bool{}
	for _, f := range det {
		found[f[0]] = true
	}
	for _, want := range []string{"Time", "Step", "SHA-256", "Cloud ID", "Outcome", "User", "Machine"} {
		if !found[want] {
			t.Errorf("details lack %q: %v", want, det)
		}
	}
	before := u.Status.Text
	test.Tap(u.TrainingDisc.ToExport)
	test.Tap(u.TrainingDisc.Export.Save)
	waitFor(t, u, "the save", func() bool { return !u.TrainingDisc.Export.task.Running() })
	if u.Status.Text == before {
		t.Errorf("the status line %q did not count the new entries", before)
	}
}

// TestAltKeysStayInTraining: Alt+1/2/3 pick training's tabs in training.
func TestAltKeysStayInTraining(t *testing.T) {
	u, _ := startTraining(t)
	for n, want := range map[int]int{1: 0, 2: 1, 3: 2} {
		u.AltSide(n)
		if u.Side() != SideTraining || u.TrainingTabs.SelectedIndex() != want {
			t.Errorf("Alt+%d: side %q tab %d; want training tab %d", n, u.Side(), u.TrainingTabs.SelectedIndex(), want)
		}
	}
}

// TestOpenDialogsStartInTheTrainingDrive: in training, the open dialogs
// start in the training drive.
func TestOpenDialogsStartInTheTrainingDrive(t *testing.T) {
	u, _ := startTraining(t)
	if got := u.TrainingDisc.Import.StartFolder(); got != u.training.Drive {
		t.Errorf("the open dialogs start in %q, want the training drive %q", got, u.training.Drive)
	}
}

// TestScreensFit800x600: every screen's content fits a window of 800×600
// (its steps scroll).
func TestScreensFit800x600(t *testing.T) {
	u, w := startTraining(t)
	w.Resize(fyne.NewSize(800, 600))
	check := func(name string) {
		t.Helper()
		if s := w.Content().MinSize(); s.Width > 800 || s.Height > 600 {
			t.Errorf("%s needs %v × %v", name, s.Width, s.Height)
		}
	}
	d := u.TrainingDisc
	check("connect")
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })
	check("token")
	d.Billing.SetSelected("Development")
	test.Tap(d.CreateToken)
	waitFor(t, u, "the token review", func() bool { return d.Step() == StepReview })
	check("review")
	test.Tap(d.ToExport)
	check("export")
	test.Tap(d.Export.ShowQR)
	check("export with QR codes")
	test.Tap(d.Export.ShowQR)
	test.Tap(d.ToImport)
	check("import")
	u.TrainingTabs.SelectIndex(1)
	check("sign in")
	u.TrainingTabs.SelectIndex(2)
	check("history")
	u.showStart()
	check("start")
}

// TestThemeContrast: text and the colours that carry meaning meet WCAG AA
// (4.5:1) in the light and the dark theme, focused buttons included.
func TestThemeContrast(t *testing.T) {
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		th := appTheme{Theme: theme.DefaultTheme(), variant: &v}
		c := func(n fyne.ThemeColorName) color.Color { return th.Color(n, v) }
		bg := c(theme.ColorNameBackground)
		pairs := []struct {
			what   string
			fg, bg color.Color
		}{
			{"text", c(theme.ColorNameForeground), bg},
			{"text in an entry", c(theme.ColorNameForeground), c(theme.ColorNameInputBackground)},
			{"placeholder", c(theme.ColorNamePlaceHolder), c(theme.ColorNameInputBackground)},
			{"text on a button", c(theme.ColorNameForeground), c(theme.ColorNameButton)},
			{"text on a focused button", c(theme.ColorNameForeground), over(c(theme.ColorNameFocus), c(theme.ColorNameButton))},
			{"warning text", c(theme.ColorNameWarning), bg},
			{"error text", c(theme.ColorNameError), bg},
			{"link", c(theme.ColorNameHyperlink), bg},
			{"text on a primary button", c(theme.ColorNameForegroundOnPrimary), c(theme.ColorNamePrimary)},
			{"text on a warning button", c(theme.ColorNameForegroundOnWarning), c(theme.ColorNameWarning)},
			{"text on a danger button", c(theme.ColorNameForegroundOnError), c(theme.ColorNameError)},
			{"training banner", color.Black, color.NRGBA{0xff, 0xc1, 0x07, 0xff}},
		}
		for _, p := range pairs {
			if r := contrast(p.fg, p.bg); r < 4.5 {
				t.Errorf("variant %s: %s is %.2f:1, want at least 4.5:1", v2s(v), p.what, r)
			}
		}
		// Non-text contrast (WCAG 1.4.11, 3:1): the outline of an unchecked
		// box or radio, and disabled text, which WCAG exempts but a step
		// not yet reached must still be readable.
		for _, p := range []struct {
			what   string
			fg, bg color.Color
		}{
			{"an unchecked box's outline", c(theme.ColorNameInputBorder), bg},
			{"an entry's outline", c(theme.ColorNameInputBorder), bg},
			{"disabled text (a step not reached)", c(theme.ColorNameDisabled), bg},
			{"disabled text on a button", c(theme.ColorNameDisabled), c(theme.ColorNameButton)},
		} {
			if r := contrast(p.fg, p.bg); r < 3 {
				t.Errorf("variant %s: %s is %.2f:1, want at least 3:1", v2s(v), p.what, r)
			}
		}
	}
}

func v2s(v fyne.ThemeVariant) string {
	if v == theme.VariantLight {
		return "light"
	}
	return "dark"
}

// over blends fg (with its alpha) over an opaque bg.
func over(fg, bg color.Color) color.Color {
	fr, fg2, fb, fa := fg.RGBA()
	br, bgg, bb, _ := bg.RGBA()
	a := float64(fa) / 0xffff
	mix := func(f, b uint32) uint8 {
		// RGBA is premultiplied: f already carries a.
		return uint8((float64(f) + float64(b)*(1-a)) / 0xffff * 255)
	}
	return color.NRGBA{mix(fr, br), mix(fg2, bgg), mix(fb, bb), 0xff}
}

// contrast is the WCAG 2 contrast ratio of two opaque colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	ch := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(r) + 0.7152*ch(g) + 0.0722*ch(b)
}

// TestCloseSessionExportsTranscripts: with a share given at connect, Close
// the PEP session exports its transcripts there.
func TestCloseSessionExportsTranscripts(t *testing.T) {
	u, _ := startTraining(t)
	d := u.TrainingDisc
	d.Share.SetText(`\\fileserver\pep-logs`)
	if !d.Connect.Disabled() {
		t.Error("a share without its account: Connect is enabled")
	}
	d.ShareUser.SetText(`AZS\ShareUser`)
	d.SharePassword.SetText("share-pw")
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })
	test.Tap(d.CloseSession)
	waitFor(t, u, "the session closed", func() bool { return d.Step() == StepConnect && !d.closeTask.Running() })
	if got := u.training.TranscriptShares(); len(got) != 1 || got[0] != `\\fileserver\pep-logs` {
		t.Errorf("the stamp exported its transcripts to %v", got)
	}
}

// TestStartScreenFocusesTheLastSide: the first screen, shown before the
// window is on screen, has the last side's button focused (Enter opens it),
// and coming back to the start screen focuses it again.
func TestStartScreenFocusesTheLastSide(t *testing.T) {
	u, w := newTestUI(t)
	if got := w.Canvas().Focused(); got != u.Disconnected {
		t.Fatalf("focused %T %v on the first start screen, want the disconnected button", got, got)
	}
	test.Tap(u.Connected)
	u.showStart()
	if got := w.Canvas().Focused(); got != u.Connected {
		t.Errorf("focused %v after choosing the connected side, want its button", got)
	}
}

// TestRegisterStopsAtAFailedCheck: with a caller who may not write locks,
// the register step lists the failed check with its fix, and Register
// stays disabled, so nothing half-done is left in Azure.
func TestRegisterStopsAtAFailedCheck(t *testing.T) {
	u, _ := newTestUI(t)
	u.trainingOpts.AzureDenied = []string{"Microsoft.Authorization/locks/write"}
	test.Tap(u.Training)
	waitFor(t, u, "the simulators", u.TrainingReady)
	d, c := u.TrainingDisc, u.TrainingConn
	test.Tap(d.Connect)
	waitFor(t, u, "the token form", func() bool { return d.Step() == StepToken })
	d.Billing.SetSelected("Development")
	test.Tap(d.CreateToken)
	waitFor(t, u, "the token", func() bool { return d.Step() == StepReview })
	u.TrainingTabs.SelectIndex(1)
	test.Tap(c.SignIn)
	waitFor(t, u, "the subscription picker", func() bool { return c.ToImport.Visible() && c.Subscription.Selected != "" })
	test.Tap(c.ToImport)
	c.Import.Paste.SetText(d.token.Text())
	test.Tap(c.Import.Read)
	waitFor(t, u, "the token review", func() bool { return c.Step() == StepReview })
	test.Tap(c.ToRegister)
	waitFor(t, u, "the checks", func() bool { return c.checked != nil })
	if !c.Register.Disabled() {
		t.Error("Register is enabled after a failed check")
	}
	txt := textOf(c.Checks)
	if !strings.Contains(c.CheckNote.Text, "1 check(s) failed") || !strings.Contains(txt, "locks/write") || !strings.Contains(txt, "Fix: ") || !strings.Contains(txt, "Owner") {
		t.Errorf("note %q, checks %q: want the failed lock check with its fix", c.CheckNote.Text, txt)
	}
	if n := len(u.training.Registrations()); n != 0 {
		t.Errorf("%d registrations in the simulated Azure after a failed check", n)
	}
}
