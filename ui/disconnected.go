package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/azs-courier/azs-courier/app"
)

// Steps of the disconnected side.
const (
	StepConnect  = "connect"
	StepToken    = "token"
	StepReview   = "review"
	StepExport   = "export"
	StepImport   = "import"
	StepActivate = "activate"
	StepDone     = "done"
)

// DisconnectedScreen guides the operator at the disconnected site: connect
// to the PEP → create the registration token → review → export → import the
// activation key → check → activate → done. Widgets are exported for tests.
type DisconnectedScreen struct {
	u        *UI
	svc      *app.Service
	training *app.Training
	session  *app.Disconnected
	token    *app.ArtefactView
	key      *app.ArtefactView
	step     string

	Steps *stepBar      // where in the flow the user is; tap a step to go back
	Stamp *widget.Label // the connected stamp
	body  *fyne.Container

	// connect
	Hosts, User, Password *widget.Entry
	Connect               *widget.Button
	ConnectHint           *widget.Label // what is still missing before Connect
	connectTask           *taskPanel
	// where Close-PrivilegedEndpoint exports the session transcripts
	Share, ShareUser, SharePassword *widget.Entry
	CloseSession                    *widget.Button
	closeTask                       *taskPanel

	// token form
	Billing       *widget.RadioGroup
	BillingHelp   *widget.Label
	Agreement     *widget.Entry
	AssetTag      *widget.Entry
	Usage         *widget.Check
	Marketplace   *widget.Check
	FormProblem   *widget.Label
	CreateToken   *widget.Button
	tokenTask     *taskPanel
	ToImportKey   *widget.Button
	RemoveAct     *widget.Button
	ConfirmRemove *widget.Button
	confirmBox    *fyne.Container // the question, in a dialog over the window
	removeDialog  dialog.Dialog

	// Remembered stamps and the renewal or change of registration.
	Stamps         *widget.Select // fills the addresses and account of a remembered stamp
	ImportStamp    *widget.Button // reads AzureStackStampInformation.json
	StampNote      *widget.Label  // what needs attention on the stamps
	StampInfo      *widget.Label  // the picked stamp's last activation and its expiry
	stamps         []app.StampSummary
	Renew          *widget.Button // "Renew or change registration…" on the token step
	Reason         *widget.Select
	StartRenew     *widget.Button
	renewBox       *fyne.Container
	renewDialog    dialog.Dialog
	renewTask      *taskPanel
	renewal        string // the reason of the token on screen, when it is a renewal's
	deactivateTask *taskPanel

	// review, export
	ToExport *widget.Button
	Export   *exportPanel
	ToImport *widget.Button
	Back     *widget.Button // to the step before the one on screen

	// import, check, activate
	Import       *importPanel
	Receipt      *receiptPanel // records the key's arrival, prints its custody sheet
	KeyCheck     *widget.Label
	Activate     *widget.Button
	activateTask *taskPanel
	Done         *widget.Label
}

func newDisconnectedScreen(u *UI, svc *app.Service, t *app.Training) *DisconnectedScreen {
	d := &DisconnectedScreen{u: u, svc: svc, training: t, closeTask: newTaskPanel(u.thread),
		Stamp: widget.NewLabel(""), body: container.NewStack(), ConnectHint: widget.NewLabel(""),
		connectTask: newTaskPanel(u.thread), tokenTask: newTaskPanel(u.thread), activateTask: newTaskPanel(u.thread), deactivateTask: newTaskPanel(u.thread),
		KeyCheck: widget.NewLabel(""), Done: widget.NewLabel(""), FormProblem: widget.NewLabel(""), BillingHelp: widget.NewLabel("")}
	d.Stamp.Wrapping = fyne.TextWrapWord
	d.KeyCheck.Wrapping = fyne.TextWrapWord
	d.Done.Wrapping = fyne.TextWrapWord
	d.FormProblem.Wrapping = fyne.TextWrapWord
	d.BillingHelp.Wrapping = fyne.TextWrapWord
	d.FormProblem.Importance = widget.WarningImportance
	d.ConnectHint.Wrapping = fyne.TextWrapWord
	d.Steps = newStepBar(disconnectedSteps, d.goTo)
	d.Back = widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), d.back)
	for _, tp := range []*taskPanel{d.connectTask, d.tokenTask, d.activateTask, d.deactivateTask} {
		tp.After = u.refreshStatus
	}
	d.activateTask.ConfirmCancel = func(proceed func()) { d.confirmStop("activation", proceed) }
	d.deactivateTask.ConfirmCancel = func(proceed func()) { d.confirmStop("removal of the activation", proceed) }
	d.activateTask.Cancelled = func() { d.explainStopped("activation") }
	d.deactivateTask.Cancelled = func() { d.explainStopped("removal of the activation") }

	d.Hosts = widget.NewEntry()
	d.Hosts.SetPlaceHolder("ERCS VM addresses, e.g. 10.20.30.224, 10.20.30.225")
	d.User = widget.NewEntry()
	d.User.SetPlaceHolder(`DOMAIN\CloudAdmin`)
	d.Password = widget.NewPasswordEntry()
	d.Password.OnSubmitted = func(string) {
		if !d.Connect.Disabled() {
			d.onConnect()
		}
	}
	d.Share = widget.NewEntry()
	d.Share.SetPlaceHolder(`\\fileserver\share\folder (optional)`)
	d.ShareUser = widget.NewEntry()
	d.ShareUser.SetPlaceHolder(`DOMAIN\user that may write there`)
	d.SharePassword = widget.NewPasswordEntry()
	d.CloseSession = widget.NewButtonWithIcon("Close the PEP session", theme.LogoutIcon(), d.onCloseSession)
	for _, e := range []*widget.Entry{d.Hosts, d.User, d.Password, d.Share, d.ShareUser, d.SharePassword} {
		e.OnChanged = func(string) { d.validateConnect() }
	}
	d.Connect = widget.NewButtonWithIcon("Connect", theme.LoginIcon(), d.onConnect)
	d.Connect.Importance = widget.HighImportance
	if t != nil {
		d.Hosts.SetText(strings.Join(t.PEP.Hosts, ", "))
		d.User.SetText(t.PEP.User)
		d.Password.SetText(t.PEP.Password)
	} else {
		d.Hosts.SetText(u.prefs().String(prefPEPHosts))
		d.User.SetText(u.prefs().String(prefPEPUser))
	}

	d.Agreement = widget.NewEntry()
	d.Agreement.SetPlaceHolder("Enterprise Agreement number")
	d.AssetTag = widget.NewEntry()
	d.AssetTag.SetPlaceHolder("MS asset tag")
	d.Usage = widget.NewCheck("Usage reporting", func(bool) { d.validate() })
	d.Marketplace = widget.NewCheck("Marketplace syndication", func(bool) { d.validate() })
	d.Agreement.OnChanged = func(string) { d.validate() }
	d.AssetTag.OnChanged = func(string) { d.validate() }
	d.Billing = widget.NewRadioGroup(nil, func(string) { d.onBilling() })
	d.Billing.Horizontal = true
	d.CreateToken = widget.NewButtonWithIcon("Create registration token", theme.ConfirmIcon(), d.onCreateToken)
	d.CreateToken.Importance = widget.HighImportance
	d.ToImportKey = widget.NewButtonWithIcon("I already have the activation key", theme.NavigateNextIcon(), d.showImport)
	d.Stamps = widget.NewSelect(nil, d.onPickStamp)
	d.Stamps.PlaceHolder = "(none remembered yet)"
	d.ImportStamp = widget.NewButtonWithIcon("Import stamp information…", theme.FileIcon(), d.onImportStamp)
	d.StampNote = widget.NewLabel("")
	d.StampNote.Wrapping = fyne.TextWrapWord
	d.StampNote.Importance = widget.WarningImportance
	d.StampInfo = widget.NewLabel("")
	d.StampInfo.Wrapping = fyne.TextWrapWord
	d.StampInfo.Hide()
	d.Renew = widget.NewButtonWithIcon("Renew or change registration…", theme.ViewRefreshIcon(), d.onRenew)
	d.Reason = widget.NewSelect(renewReasons(), func(string) { d.updateRenewPlan() })
	d.StartRenew = widget.NewButtonWithIcon("Remove the activation and make the new token", theme.ConfirmIcon(), d.onStartRenew)
	d.StartRenew.Importance = widget.DangerImportance
	d.renewBox = container.NewVBox()
	d.renewTask = newTaskPanel(u.thread)
	d.renewTask.After = u.refreshStatus
	d.renewTask.ConfirmCancel = func(proceed func()) { d.confirmStop("renewal", proceed) }
	d.RemoveAct = widget.NewButtonWithIcon("Remove activation…", theme.DeleteIcon(), d.onRemoveActivation)
	d.ConfirmRemove = widget.NewButtonWithIcon("Remove activation", theme.DeleteIcon(), d.onConfirmRemove)
	d.ConfirmRemove.Importance = widget.DangerImportance
	d.confirmBox = container.NewVBox()

	d.ToExport = widget.NewButtonWithIcon("Looks right: export it", theme.NavigateNextIcon(), d.showExport)
	d.ToExport.Importance = widget.HighImportance
	d.Export = newExportPanel(u, svc)
	d.Export.Saved = func(res app.ExportResult) {
		if reason, _ := d.token.Renewal(); reason != "" && d.session != nil {
			d.svc.NoteWorkflowFile(d.session.Stamp().CloudID, res.File)
		}
	}
	d.ToImport = widget.NewButtonWithIcon("Next: import the activation key", theme.NavigateNextIcon(), d.showImport)
	d.Import = newImportPanel(u, svc, app.KindKey)
	d.Import.Imported = d.onKeyImported
	d.Receipt = newReceiptPanel(u, svc)
	d.Activate = widget.NewButtonWithIcon("Activate the stamp", theme.ConfirmIcon(), d.onActivate)
	d.Activate.Importance = widget.HighImportance

	d.showConnect()
	return d
}

// Object returns the screen's widget tree.
func (d *DisconnectedScreen) Object() fyne.CanvasObject {
	return container.NewBorder(container.NewVBox(d.Steps.Object(), d.Stamp), nil, nil, nil, d.body)
}

// goTo shows a step reached before, as the step bar's buttons do.
func (d *DisconnectedScreen) goTo(id string) {
	if !d.Steps.Reached(id) || id == d.step {
		return
	}
	switch id {
	case StepConnect:
		d.showConnect()
	case StepToken:
		if d.session != nil {
			d.showToken()
		}
	case StepReview:
		if d.token != nil {
			d.showReview()
		}
	case StepExport:
		if d.token != nil {
			d.showExport()
		}
	case StepImport:
		if d.session != nil {
			d.showImport()
		}
	case StepActivate:
		if d.key != nil {
			d.showActivate()
		}
	case StepDone:
		d.showDone()
	}
}

// back goes to the step before the one on screen.
func (d *DisconnectedScreen) back() {
	prev := map[string]string{StepToken: StepConnect, StepReview: StepToken, StepExport: StepReview,
		StepImport: StepToken, StepActivate: StepImport, StepDone: StepToken}
	if p, ok := prev[d.step]; ok {
		d.goTo(p)
	}
}

// Step returns the step on screen.
func (d *DisconnectedScreen) Step() string { return d.step }

var disconnectedSteps = []stepDef{
	{StepConnect, "Connect"}, {StepToken, "Token"}, {StepReview, "Review"}, {StepExport, "Export"},
	{StepImport, "Import key"}, {StepActivate, "Activate"}, {StepDone, "Done"},
}

func (d *DisconnectedScreen) show(step string, objs ...fyne.CanvasObject) {
	d.step = step
	d.Steps.Set(step)
	if step != StepExport {
		d.Export.stopPlayer()
	}
	d.body.Objects = []fyne.CanvasObject{stepBody(objs)}
	d.body.Refresh()
	d.u.refreshStatus()
}

// footer marks what a step keeps below its scrolling part: the button that
// moves on, and the progress of a long operation.
type footer struct{ fyne.CanvasObject }

// stepBody lays out a step: its objects scroll, its footers stay in view.
func stepBody(objs []fyne.CanvasObject) fyne.CanvasObject {
	var main, foot []fyne.CanvasObject
	for _, o := range objs {
		if f, ok := o.(footer); ok {
			foot = append(foot, f.CanvasObject)
			continue
		}
		main = append(main, o)
	}
	scroll := container.NewVScroll(container.NewPadded(container.NewVBox(main...)))
	if len(foot) == 0 {
		return scroll
	}
	return container.NewBorder(nil, container.NewPadded(container.NewVBox(append([]fyne.CanvasObject{widget.NewSeparator()}, foot...)...)), nil, nil, scroll)
}

func heading(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

func note(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func (d *DisconnectedScreen) showConnect() {
	form := widget.NewForm(
		widget.NewFormItem("PEP addresses", d.Hosts),
		widget.NewFormItem("User", d.User),
		widget.NewFormItem("Password", d.Password),
	)
	share := widget.NewAccordion(widget.NewAccordionItem("When the session closes, export its transcripts to a share",
		container.NewVBox(note("The PEP records every command and its output; Close-PrivilegedEndpoint copies the transcripts to a share and removes them from the PEP, as the documentation asks."),
			widget.NewForm(widget.NewFormItem("Share", d.Share), widget.NewFormItem("Share user", d.ShareUser),
				widget.NewFormItem("Share password", d.SharePassword)))))
	d.refreshStamps()
	objs := []fyne.CanvasObject{
		heading("Connect to the privileged endpoint"),
		note("Enter the ERCS VM addresses (tried in order), the CloudAdmin account and its password, or pick a stamp this computer remembers. The passwords stay in memory only."),
		widget.NewForm(widget.NewFormItem("Remembered stamp", container.NewBorder(nil, nil, nil, d.ImportStamp, d.Stamps))), d.StampInfo, d.StampNote,
		form, share, d.ConnectHint, d.connectTask.More(),
		footer{container.NewHBox(d.Connect)}, footer{d.connectTask.Status()},
	}
	if d.session != nil {
		st := d.session.Stamp()
		objs = append(objs, note(fmt.Sprintf("Connected to stamp %s via %s. Connect again to open a new session (this one is closed first), or go on to the token.", st.Name, st.Host)),
			footer{widget.NewButtonWithIcon("Next: the token", theme.NavigateNextIcon(), d.showToken)})
	}
	d.show(StepConnect, objs...)
	d.validateConnect()
}

// validateConnect enables Connect once the addresses, a DOMAIN\user and a
// password are there, and says what is missing: nothing goes to the network
// before.
func (d *DisconnectedScreen) validateConnect() {
	var missing string
	user := strings.TrimSpace(d.User.Text)
	dom, name, ok := strings.Cut(user, `\`)
	switch {
	case len(app.ParseHosts(d.Hosts.Text)) == 0:
		missing = "Enter at least one ERCS VM address."
	case user == "":
		missing = `Enter the PEP account as DOMAIN\CloudAdmin.`
	case !ok || dom == "" || name == "":
		missing = `The account must be DOMAIN\name, e.g. AZS\CloudAdmin.`
	case d.Password.Text == "":
		missing = "Enter the CloudAdmin password."
	case d.Share.Text != "" && !strings.HasPrefix(strings.TrimSpace(d.Share.Text), `\\`):
		missing = `The share must be \\server\share\folder.`
	case d.Share.Text != "" && (!strings.Contains(d.ShareUser.Text, `\`) || d.SharePassword.Text == ""):
		missing = `Enter the share's account (DOMAIN\user) and password, or leave the share empty.`
	}
	d.ConnectHint.SetText(missing)
	if missing != "" || d.connectTask.Running() {
		d.Connect.Disable()
		return
	}
	d.Connect.Enable()
}

func (d *DisconnectedScreen) onConnect() {
	conn := app.PEPConnection{Hosts: app.ParseHosts(d.Hosts.Text), User: strings.TrimSpace(d.User.Text), Password: d.Password.Text}
	if d.training != nil {
		conn.RetryDelay = d.training.PEP.RetryDelay
	}
	if share := strings.TrimSpace(d.Share.Text); share != "" {
		conn.Transcripts = &app.TranscriptExport{Path: share, User: strings.TrimSpace(d.ShareUser.Text), Password: d.SharePassword.Text}
	}
	d.Connect.Disable()
	var s *app.Disconnected
	d.connectTask.run(d.u.ctx, "Connecting to the privileged endpoint", true, func(ctx context.Context, progress func(app.Event)) error {
		var err error
		s, err = d.svc.ConnectPEP(ctx, conn, progress)
		return err
	}, func(err error) {
		d.validateConnect()
		if err != nil {
			return
		}
		d.close()
		d.session = s
		st := s.Stamp()
		if d.training == nil {
			d.u.prefs().SetString(prefPEPHosts, st.Host+", "+strings.Join(removeHost(conn.Hosts, st.Host), ", "))
			d.u.prefs().SetString(prefPEPUser, conn.User)
		}
		if d.training == nil {
			d.Password.SetText("")
		}
		line := fmt.Sprintf("Stamp %s · cloud ID %s · version %s · %d nodes · via %s", st.Name, st.CloudID, st.Version, st.Nodes, st.Host)
		if skew := st.ClockSkew; skew.Abs() > app.MaxClockSkew {
			line += fmt.Sprintf(" · Warning: the stamp's clock differs from this machine's by %s; the UTC times in manifests and the ledger will not match the stamp's", skew.Abs().Round(time.Second))
		}
		d.Stamp.SetText(line)
		d.token, d.key = nil, nil
		d.Steps.Forget(StepConnect)
		d.setBillingModels()
		d.showToken()
	})
}

func removeHost(hosts []string, h string) []string {
	var out []string
	for _, x := range hosts {
		if x != h {
			out = append(out, x)
		}
	}
	return out
}

// close ends the PEP session, if any, without blocking the UI.
func (d *DisconnectedScreen) close() {
	if s := d.session; s != nil {
		d.session = nil
		d.u.ending.Add(1)
		go func() {
			defer d.u.ending.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.Close(ctx)
		}()
	}
	d.connectTask.stop()
	d.tokenTask.stop()
	d.activateTask.stop()
	d.deactivateTask.stop()
}

// onCloseSession closes the PEP session now, exporting its transcripts
// when a share was given, and says how that went.
func (d *DisconnectedScreen) onCloseSession() {
	s := d.session
	if s == nil {
		return
	}
	d.session = nil
	d.CloseSession.Disable()
	d.closeTask.run(d.u.ctx, "Closing the PEP session", false, func(ctx context.Context, progress func(app.Event)) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		return s.Close(ctx)
	}, func(err error) {
		d.CloseSession.Enable()
		d.Stamp.SetText("Not connected. The last session is closed.")
		if err == nil {
			d.token, d.key = nil, nil
			d.Steps.Forget(StepConnect)
			d.showConnect()
		}
	})
}

func (d *DisconnectedScreen) setBillingModels() {
	var names []string
	for _, m := range d.session.BillingModels() {
		if m.Unavailable == "" {
			names = append(names, m.Name)
		}
	}
	d.Billing.Options = names
	d.Billing.Refresh()
	if d.Billing.Selected == "" && len(names) > 0 {
		d.Billing.SetSelected(names[0])
	}
	d.onBilling()
}

// onBilling applies the chosen billing model's rules to the form: which
// fields it needs, and usage reporting locked off for Capacity.
func (d *DisconnectedScreen) onBilling() {
	if d.session == nil {
		return
	}
	for _, m := range d.session.BillingModels() {
		if m.Name != d.Billing.Selected {
			continue
		}
		d.BillingHelp.SetText(m.Help)
		if m.NeedsAgreement {
			d.Agreement.Enable()
		} else {
			d.Agreement.SetText("")
			d.Agreement.Disable()
		}
		if m.NeedsAssetTag {
			d.AssetTag.Enable()
		} else {
			d.AssetTag.SetText("")
			d.AssetTag.Disable()
		}
		if m.UsageReportingOff {
			d.Usage.SetChecked(false)
			d.Usage.Disable()
			d.Usage.Text = "Usage reporting (off for " + m.Name + ")"
		} else {
			d.Usage.Enable()
			d.Usage.Text = "Usage reporting"
		}
		d.Usage.Refresh()
	}
	d.validate()
}

func (d *DisconnectedScreen) request() app.TokenRequest {
	return app.TokenRequest{BillingModel: d.Billing.Selected, AgreementNumber: d.Agreement.Text, MsAssetTag: d.AssetTag.Text,
		UsageReportingEnabled: d.Usage.Checked, MarketplaceSyndicationEnabled: d.Marketplace.Checked}
}

// validate enables Create only for a valid combination and says what is
// missing.
func (d *DisconnectedScreen) validate() {
	if d.session == nil {
		return
	}
	if err := d.request().Validate(d.session.Stamp().Version); err != nil {
		d.FormProblem.SetText(app.Explain(err).Sentence())
		d.FormProblem.Show()
		d.CreateToken.Disable()
		return
	}
	d.FormProblem.SetText("")
	d.FormProblem.Hide()
	if !d.tokenTask.Running() {
		d.CreateToken.Enable()
	}
}

func (d *DisconnectedScreen) showToken() {
	form := widget.NewForm(
		widget.NewFormItem("Billing model", d.Billing),
		widget.NewFormItem("", d.BillingHelp),
		widget.NewFormItem("Agreement number", d.Agreement),
		widget.NewFormItem("MS asset tag", d.AssetTag),
		widget.NewFormItem("", d.Usage),
		widget.NewFormItem("", d.Marketplace),
	)
	d.show(StepToken,
		heading("Create the registration token"),
		note("Only combinations the stamp accepts can be chosen."),
		form, d.tokenTask.More(),
		widget.NewSeparator(),
		container.NewHBox(d.ToImportKey, d.RemoveAct, d.Renew), d.deactivateTask.More(),
		container.NewHBox(d.CloseSession), d.closeTask.Object(),
		footer{d.FormProblem}, footer{container.NewHBox(d.Back, d.CreateToken)}, footer{d.tokenTask.Status()}, footer{d.deactivateTask.Status()})
	d.validate()
}

func (d *DisconnectedScreen) onCreateToken() {
	req := d.request()
	s := d.session
	d.CreateToken.Disable()
	var tok *app.ArtefactView
	d.tokenTask.run(d.u.ctx, "Creating the registration token", true, func(ctx context.Context, progress func(app.Event)) error {
		var err error
		tok, err = s.CreateToken(ctx, req, progress)
		return err
	}, func(err error) {
		d.validate()
		if err == nil {
			d.token, d.renewal = tok, ""
			d.Steps.Forget(StepToken)
			d.Export.SetArtefact(tok)
			d.showReview()
		}
	})
}

func (d *DisconnectedScreen) onRemoveActivation() {
	st := d.session.Stamp()
	keep := widget.NewButton("Keep the activation", d.closeRemoveDialog)
	d.confirmBox.Objects = []fyne.CanvasObject{
		note(fmt.Sprintf("Remove the activation of stamp %s (cloud ID %s)? The stamp stops reporting to Azure until it is activated again.", st.Name, st.CloudID)),
		container.NewHBox(d.ConfirmRemove, keep),
	}
	d.confirmBox.Refresh()
	d.removeDialog = dialog.NewCustomWithoutButtons("Remove the activation?", d.confirmBox, d.u.win)
	d.removeDialog.Resize(fyne.NewSize(min(560, d.u.win.Canvas().Size().Width*0.9), 0))
	d.removeDialog.Show()
	d.u.focus(keep)
}

func (d *DisconnectedScreen) closeRemoveDialog() {
	if d.removeDialog != nil {
		d.removeDialog.Hide()
		d.removeDialog = nil
	}
}

func (d *DisconnectedScreen) onConfirmRemove() {
	d.closeRemoveDialog()
	s := d.session
	d.RemoveAct.Disable()
	d.deactivateTask.run(d.u.ctx, "Removing the activation", true, func(ctx context.Context, progress func(app.Event)) error {
		return s.Deactivate(ctx, progress)
	}, func(error) { d.RemoveAct.Enable(); d.u.refreshStatus() })
}

func (d *DisconnectedScreen) showReview() {
	what := "Check the fields. Read the SHA-256 to whoever receives the file: their copy must show the same."
	if reason, rep := d.token.Renewal(); reason != "" {
		old := "the stamp's registration"
		if rep != nil {
			old = "the registration " + rep.Name
		}
		what = fmt.Sprintf("This token is for the %s: its manifest says so, and registering it on the connected side first removes %s. The activation is removed; the stamp waits for the new key. ", reason, old) + what
	}
	d.show(StepReview,
		heading("Review the registration token"),
		note(what),
		reviewCard(d.token), footer{container.NewHBox(d.Back, d.ToExport)})
}

func (d *DisconnectedScreen) showExport() {
	if d.Export.artefact != d.token {
		d.Export.SetArtefact(d.token)
	}
	d.show(StepExport,
		heading("Carry the token to the connected side"),
		note("Save it to a removable drive or folder (with its manifest), show the QR codes for a phone or scanner, or print the A4 sheet."),
		d.Export.Object(), footer{d.Export.Actions()}, footer{container.NewHBox(d.Back, d.ToImport)})
}

func (d *DisconnectedScreen) showImport() {
	d.KeyCheck.SetText("")
	d.show(StepImport,
		heading("Import the activation key"),
		d.Import.Object(), footer{d.Import.Status()}, footer{container.NewHBox(d.Back)})
}

// Dropped handles files dropped on the window while this screen shows.
func (d *DisconnectedScreen) Dropped(paths []string) {
	if d.step == StepImport || d.step == StepActivate {
		d.showImport()
		d.Import.Dropped(paths)
	}
}

func (d *DisconnectedScreen) onKeyImported(v *app.ArtefactView) {
	d.key = v
	err := d.session.CheckKey(v)
	if err != nil {
		d.Import.task.showError(err)
		return
	}
	d.KeyCheck.SetText(fmt.Sprintf("Checks passed: it is an activation key; its cloud ID %s is this stamp's; manifest: %s.",
		v.CloudID, orNone(v.Manifest)))
	d.Steps.Forget(StepImport)
	d.Receipt.SetArtefact(v)
	d.activateTask.Reset()
	d.Activate.Enable()
	d.showActivate()
}

func (d *DisconnectedScreen) showActivate() {
	d.show(StepActivate,
		heading("Check and activate"),
		reviewCard(d.key), d.KeyCheck, d.Receipt.Object(),
		footer{note("Activation can take up to 30 minutes. If you cancel it, the stamp may still finish it on its own.")},
		d.activateTask.More(),
		footer{container.NewHBox(d.Back, d.Activate)}, footer{d.activateTask.Status()})
}

// confirmStop asks before cancelling an activation or a removal: the stamp
// runs it as an action plan and may finish it whatever this program does.
func (d *DisconnectedScreen) confirmStop(what string, proceed func()) {
	dialog.ShowConfirm("Cancel the "+what+"?",
		"The stamp runs the "+what+" by itself once it has started, and may finish it even if you cancel here.\n\n"+
			"Cancel only if you must leave now. Afterwards, connect again and check the stamp's activation in the administrator portal (Region management) before you try again.",
		func(yes bool) {
			if yes {
				proceed()
			}
		}, d.u.win)
}

// explainStopped says what became of a cancelled activation or removal, and
// how to find out.
func (d *DisconnectedScreen) explainStopped(what string) {
	d.Done.SetText(fmt.Sprintf("The %s was cancelled here. The stamp may still finish it on its own: wait a few minutes, connect again, and check the stamp's activation in the administrator portal (Region management) before you try again. The custody ledger records the step as cancelled by the user (History).", what))
	dialog.ShowInformation("The "+what+" was cancelled", d.Done.Text, d.u.win)
}

func orNone(s string) string {
	if s == "" {
		return "none (not read from a file)"
	}
	return s
}

func (d *DisconnectedScreen) onActivate() {
	s, key := d.session, d.key
	d.Activate.Disable()
	d.activateTask.run(d.u.ctx, "Activating the stamp", true, func(ctx context.Context, progress func(app.Event)) error {
		return s.Activate(ctx, key, progress)
	}, func(err error) {
		if err != nil {
			d.Activate.Enable()
			return
		}
		st := s.Stamp()
		d.Done.SetText(fmt.Sprintf("Stamp %s (cloud ID %s) is activated. The custody ledger records every step (History).", st.Name, st.CloudID))
		d.showDone()
	})
}

func (d *DisconnectedScreen) showDone() {
	back := widget.NewButtonWithIcon("Back to the stamp", theme.NavigateBackIcon(), func() {
		d.tokenTask.Reset() // the token made earlier is not news now
		d.showToken()
	})
	d.show(StepDone, heading("Done"), d.Done,
		note("Close the PEP session when you have finished with the stamp (its transcripts are exported then, when a share was given); History shows every step recorded."),
		d.closeTask.Object(),
		footer{container.NewHBox(back, d.CloseSession, widget.NewButtonWithIcon("History", theme.HistoryIcon(), d.u.showHistory))})
}

// longRunning reports whether an activation or a removal is under way,
// which closing the window should not cut off without asking.
func (d *DisconnectedScreen) longRunning() bool {
	return d.activateTask.Running() || d.deactivateTask.Running()
}

// refreshStamps lists the remembered stamps and what needs attention on
// them (an expiry near, a renewal waiting for its key).
func (d *DisconnectedScreen) refreshStamps() {
	list, err := d.svc.Stamps()
	if err != nil {
		setShown(d.StampNote, app.Explain(err).Sentence())
		return
	}
	d.stamps = list
	names := make([]string, len(list))
	var warnings []string
	for i, s := range list {
		names[i] = stampLabel(s)
		if s.Warning != "" {
			warnings = append(warnings, s.Name+": "+s.Warning+".")
		}
	}
	d.Stamps.Options = names
	d.Stamps.PlaceHolder = "(none remembered yet)"
	if len(names) > 0 {
		d.Stamps.PlaceHolder = fmt.Sprintf("Choose (%d remembered)", len(names))
	}
	d.Stamps.Refresh()
	setShown(d.StampNote, strings.Join(warnings, "\n"))
}

func stampLabel(s app.StampSummary) string {
	first, _, _ := strings.Cut(s.CloudID, "-")
	return fmt.Sprintf("%s · %s…", s.Name, first)
}

// onPickStamp fills the addresses and the account of a remembered stamp.
func (d *DisconnectedScreen) onPickStamp(label string) {
	for _, s := range d.stamps {
		if stampLabel(s) == label {
			d.Hosts.SetText(strings.Join(s.Hosts, ", "))
			d.User.SetText(s.User)
			info := fmt.Sprintf("Version %s, %d nodes. Activation: %s", s.Version, s.Nodes, s.Activation)
			switch {
			case s.DaysLeft != nil:
				info += fmt.Sprintf("; expires %s (in %d days)", s.Expires.UTC().Format("2006-01-02"), *s.DaysLeft)
			case strings.HasPrefix(s.Activation, "activated"):
				info += "; it does not expire"
			}
			setShown(d.StampInfo, info+".")
			d.u.focus(d.Password)
		}
	}
}

// onImportStamp reads an AzureStackStampInformation.json and picks the stamp.
func (d *DisconnectedScreen) onImportStamp() {
	dlg := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		d.ImportStampFile(path)
	}, d.u.win)
	dlg.SetFilter(storage.NewExtensionFileFilter([]string{".json"}))
	dlg.Show()
}

// ImportStampFile remembers the stamp in an AzureStackStampInformation.json
// and fills the form with it (the open dialog's answer; tests call it).
func (d *DisconnectedScreen) ImportStampFile(path string) {
	p, err := d.svc.ImportStampInformation(path)
	if err != nil {
		d.connectTask.showError(err)
		return
	}
	d.refreshStamps()
	for _, s := range d.stamps {
		if s.CloudID == p.CloudID {
			d.Stamps.SetSelected(stampLabel(s))
		}
	}
}

// renewReasons are the reasons offered, in words, in the order of
// app.Reasons.
func renewReasons() []string {
	return []string{"Renewal of the capacity term", "Billing model changes", "Nodes added or removed", "Another Azure subscription", "Usage reporting changes"}
}

// reason returns the app.Reasons value of the reason chosen.
func (d *DisconnectedScreen) reason() string {
	for i, r := range renewReasons() {
		if r == d.Reason.Selected {
			return app.Reasons[i]
		}
	}
	return ""
}

// onRenew asks for the reason and shows what the renewal or change will
// do, in the documented order, before anything happens.
func (d *DisconnectedScreen) onRenew() {
	if d.Reason.Selected == "" {
		d.Reason.SetSelected(renewReasons()[0])
	}
	d.updateRenewPlan()
	d.renewTask.Reset()
	content := container.NewVBox(widget.NewForm(widget.NewFormItem("Why", d.Reason)), d.renewBox, d.renewTask.Object(),
		container.NewHBox(d.StartRenew, widget.NewButton("Not now", d.closeRenewDialog)))
	d.renewDialog = dialog.NewCustomWithoutButtons("Renew or change the registration", container.NewVScroll(content), d.u.win)
	size := d.u.win.Canvas().Size()
	d.renewDialog.Resize(fyne.NewSize(min(720, size.Width*0.95), min(560, size.Height*0.95)))
	d.renewDialog.Show()
}

// updateRenewPlan shows the plan for the reason chosen and the token form
// as filled in.
func (d *DisconnectedScreen) updateRenewPlan() {
	plan, err := d.session.PlanRenewal(app.RenewRequest{Reason: d.reason(), Token: d.request()})
	var rows []fyne.CanvasObject
	if err != nil {
		rows = append(rows, note(app.Explain(err).Sentence()+" (Fill in the token form first: the new token uses it.)"))
		d.StartRenew.Disable()
	} else {
		rows = append(rows, note(fmt.Sprintf("The %s of stamp %s, in the order the documentation gives for a disconnected stamp:", plan.Reason, plan.Stamp.Name)))
		for i, s := range plan.Steps {
			rows = append(rows, note(fmt.Sprintf("%d. %s", i+1, s)))
		}
		w := note(plan.Warning)
		w.Importance = widget.WarningImportance
		rows = append(rows, w)
		d.StartRenew.Enable()
	}
	d.renewBox.Objects = rows
	d.renewBox.Refresh()
}

func (d *DisconnectedScreen) closeRenewDialog() {
	if d.renewDialog != nil && !d.renewTask.Running() {
		d.renewDialog.Hide()
		d.renewDialog = nil
	}
}

// onStartRenew runs the disconnected side of the renewal: the activation
// is removed, then the new token made; it goes on to review and export as
// a token does, marked as the renewal's.
func (d *DisconnectedScreen) onStartRenew() {
	req := app.RenewRequest{Reason: d.reason(), Token: d.request()}
	s := d.session
	d.StartRenew.Disable()
	var tok *app.ArtefactView
	d.renewTask.run(d.u.ctx, "Renewing", true, func(ctx context.Context, progress func(app.Event)) error {
		var err error
		tok, err = s.Renew(ctx, req, progress)
		return err
	}, func(err error) {
		d.StartRenew.Enable()
		if err != nil {
			return
		}
		d.closeRenewDialog()
		d.token, d.renewal = tok, req.Reason
		d.Steps.Forget(StepToken)
		d.Export.SetArtefact(tok)
		d.showReview()
	})
}
