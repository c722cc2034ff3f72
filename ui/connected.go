package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/azs-courier/azs-courier/app"
)

// Steps of the connected side.
const (
	StepSignIn   = "sign-in"
	StepRegister = "register"
	StepKey      = "key"
)

// customCloud is the cloud choice that shows the endpoint fields.
const customCloud = "Custom (ARM endpoint)"

// ConnectedScreen guides the Azure admin: sign in → import the token →
// review → register → get the activation key → export.
type ConnectedScreen struct {
	u        *UI
	svc      *app.Service
	training *app.Training
	conn     *app.Connected
	token    *app.ArtefactView
	key      *app.ArtefactView
	reg      app.RegistrationView
	step     string

	Steps   *stepBar
	Account *widget.Label // cloud, account, tenant and subscription once signed in
	body    *fyne.Container
	Back    *widget.Button

	// sign in
	Cloud                  *widget.Select
	ARMEndpoint, Authority *widget.Entry
	CAFile                 *widget.Entry
	Method                 *widget.Select
	Tenant                 *widget.Entry
	DeviceCode             *widget.Label
	SignIn                 *widget.Button
	Subscription           *widget.Select
	ToImport               *widget.Button
	signInTask             *taskPanel
	customBox              *fyne.Container
	subs                   []app.SubscriptionView

	// import, review
	Import     *importPanel
	Receipt    *receiptPanel // records the token's arrival, prints its custody sheet
	ToRegister *widget.Button

	// register
	Name, ResourceGroup, Location *widget.Entry
	Register                      *widget.Button
	registerTask                  *taskPanel
	// The checks before registering (preflight), run when the step opens
	// and again with Check; Register needs a passing one for the values
	// on screen.
	Check     *widget.Button
	Checks    *fyne.Container // one row a check: outcome, finding, fix
	CheckNote *widget.Label
	checked   *app.PreflightReport
	checkedAs app.RegisterRequest // the values it was run for
	checkTask *taskPanel

	// key, export
	GetKey  *widget.Button
	keyTask *taskPanel
	Export  *exportPanel
	Done    *widget.Label

	// registrations in the subscription, and unregister
	ShowRegs    *widget.Button
	Regs        *widget.List
	regs        []app.RegistrationView
	RegsState   *widget.Label
	Unregister  *widget.Button
	selectedReg int
	regsTask    *taskPanel
	// Verify checks the stamp's registration in Azure against the token
	// on the review step; VerifyResult says what it found.
	Verify         *widget.Button
	VerifyResult   *widget.Label
	verifyTask     *taskPanel
	unregisterTask *taskPanel
}

var connectedSteps = []stepDef{
	{StepSignIn, "Sign in"}, {StepImport, "Import token"}, {StepReview, "Review"}, {StepRegister, "Register"},
	{StepKey, "Activation key"}, {StepExport, "Export"},
}

func newConnectedScreen(u *UI, svc *app.Service, t *app.Training) *ConnectedScreen {
	c := &ConnectedScreen{u: u, svc: svc, training: t, Account: widget.NewLabel(""),
		body: container.NewStack(), signInTask: newTaskPanel(u.thread), registerTask: newTaskPanel(u.thread), keyTask: newTaskPanel(u.thread),
		regsTask: newTaskPanel(u.thread), unregisterTask: newTaskPanel(u.thread),
		DeviceCode: widget.NewLabel(""), Done: widget.NewLabel(""), RegsState: widget.NewLabel(""), selectedReg: -1}
	c.Steps = newStepBar(connectedSteps, c.goTo)
	c.Back = widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), c.back)
	c.RegsState.Wrapping = fyne.TextWrapWord
	for _, tp := range []*taskPanel{c.signInTask, c.registerTask, c.keyTask, c.regsTask, c.unregisterTask} {
		tp.After = u.refreshStatus
	}
	c.Account.Wrapping = fyne.TextWrapWord
	c.DeviceCode.Wrapping = fyne.TextWrapWord
	c.Done.Wrapping = fyne.TextWrapWord

	c.ARMEndpoint = widget.NewEntry()
	c.ARMEndpoint.SetPlaceHolder("https://management.example")
	c.Authority = widget.NewEntry()
	c.Authority.SetPlaceHolder("https://login.example/")
	c.CAFile = widget.NewEntry()
	c.CAFile.SetPlaceHolder("optional PEM file of CA certificates")
	c.customBox = container.NewVBox(widget.NewForm(
		widget.NewFormItem("ARM endpoint", c.ARMEndpoint),
		widget.NewFormItem("Authority host", c.Authority),
		widget.NewFormItem("CA file", c.CAFile)))
	c.Cloud = widget.NewSelect(append(app.CloudNames(), customCloud), func(s string) {
		if s == customCloud {
			c.customBox.Show()
		} else {
			c.customBox.Hide()
		}
	})
	methods := app.AuthMethodNames()
	c.Method = widget.NewSelect(methods, nil)
	c.Tenant = widget.NewEntry()
	c.Tenant.SetPlaceHolder("tenant ID or domain (optional)")
	c.SignIn = widget.NewButtonWithIcon("Sign in", theme.LoginIcon(), c.onSignIn)
	c.SignIn.Importance = widget.HighImportance
	c.Subscription = widget.NewSelect(nil, func(string) { c.showAccount() })
	c.ToImport = widget.NewButtonWithIcon("Next: import the registration token", theme.NavigateNextIcon(), c.showImport)
	c.ToImport.Importance = widget.HighImportance
	if t != nil {
		c.Cloud.SetSelected(customCloud)
		c.ARMEndpoint.SetText(t.Azure.ARMEndpoint)
		c.Authority.SetText(t.Azure.AuthorityHost)
		c.CAFile.SetText(t.Azure.CAFile)
		c.Method.Options = append(c.Method.Options, t.Azure.Method)
		c.Method.SetSelected(t.Azure.Method)
		c.Tenant.SetText(t.Azure.Tenant)
	} else {
		c.Cloud.SetSelected(u.prefs().StringWithFallback(prefAzureCloud, app.CloudNames()[0]))
		c.Method.SetSelected(u.prefs().StringWithFallback(prefAzureMethod, methods[0]))
		c.Tenant.SetText(u.prefs().String(prefAzureTenant))
	}

	c.Import = newImportPanel(u, svc, app.KindToken)
	c.Receipt = newReceiptPanel(u, svc)
	c.Import.Imported = func(v *app.ArtefactView) {
		if c.token != v {
			c.token = v
			c.Receipt.SetArtefact(v)
			c.reg, c.key = app.RegistrationView{}, nil
			c.Steps.Forget(StepImport)
			c.Name.SetText("")
		}
		c.showReview()
	}
	c.ToRegister = widget.NewButtonWithIcon("Looks right: register it", theme.NavigateNextIcon(), c.showRegister)
	c.ToRegister.Importance = widget.HighImportance
	c.Verify = widget.NewButtonWithIcon("Check the stamp's registration in Azure", theme.SearchIcon(), c.onVerify)
	c.VerifyResult = widget.NewLabel("")
	c.VerifyResult.Wrapping = fyne.TextWrapWord
	c.verifyTask = newTaskPanel(u.thread)

	c.Name = widget.NewEntry()
	c.ResourceGroup = widget.NewEntry()
	c.Location = widget.NewEntry()
	c.Register = widget.NewButtonWithIcon("Register in Azure", theme.UploadIcon(), c.onRegister)
	c.Register.Importance = widget.HighImportance
	c.Check = widget.NewButtonWithIcon("Check again", theme.SearchIcon(), c.runChecks)
	c.Checks = container.NewVBox()
	c.CheckNote = widget.NewLabel("")
	c.CheckNote.Wrapping = fyne.TextWrapWord
	c.checkTask = newTaskPanel(u.thread)
	for _, e := range []*widget.Entry{c.Name, c.ResourceGroup, c.Location} {
		e.OnChanged = func(string) { c.updateRegister() }
	}

	c.GetKey = widget.NewButtonWithIcon("Get the activation key", theme.DownloadIcon(), c.onGetKey)
	c.GetKey.Importance = widget.HighImportance
	c.Export = newExportPanel(u, svc)

	c.ShowRegs = widget.NewButtonWithIcon("Registrations in this subscription…", theme.ListIcon(), c.showRegistrations)
	c.Regs = widget.NewList(func() int { return len(c.regs) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			r := c.regs[i]
			o.(*widget.Label).SetText(fmt.Sprintf("%s · resource group %s · cloud ID %s · %s", r.Name, r.ResourceGroup, r.CloudID, r.BillingModel))
		})
	c.Regs.OnSelected = func(i widget.ListItemID) { c.selectedReg = i; c.Unregister.Enable() }
	c.Regs.OnUnselected = func(widget.ListItemID) { c.selectedReg = -1; c.Unregister.Disable() }
	c.Unregister = widget.NewButtonWithIcon("Unregister…", theme.DeleteIcon(), c.onUnregister)
	c.Unregister.Importance = widget.DangerImportance
	c.Unregister.Disable()

	c.showSignIn()
	return c
}

// Object returns the screen's widget tree.
func (c *ConnectedScreen) Object() fyne.CanvasObject {
	return container.NewBorder(container.NewVBox(c.Steps.Object(), c.Account), nil, nil, nil, c.body)
}

// goTo shows a step reached before, as the step bar's buttons do.
func (c *ConnectedScreen) goTo(id string) {
	if !c.Steps.Reached(id) || id == c.step {
		return
	}
	switch id {
	case StepSignIn:
		c.showSignIn()
	case StepImport:
		if c.conn != nil {
			c.showImport()
		}
	case StepReview:
		if c.token != nil {
			c.showReview()
		}
	case StepRegister:
		if c.token != nil && c.conn != nil {
			c.showRegister()
		}
	case StepKey:
		if c.reg.Name != "" {
			c.showKey()
		}
	case StepExport:
		if c.key != nil {
			c.showExport()
		}
	}
}

// back goes to the step before the one on screen.
func (c *ConnectedScreen) back() {
	prev := map[string]string{StepImport: StepSignIn, StepReview: StepImport, StepRegister: StepReview,
		StepKey: StepRegister, StepExport: StepKey, stepRegistrations: StepSignIn}
	if p, ok := prev[c.step]; ok {
		if c.step == stepRegistrations {
			c.showSubscription()
			return
		}
		c.goTo(p)
	}
}

// stepRegistrations is the list of registrations, outside the flow.
const stepRegistrations = "registrations"

// showAccount puts who is signed in, where, on the status line of every
// connected-side screen.
func (c *ConnectedScreen) showAccount() {
	if c.conn == nil {
		c.Account.SetText("")
		return
	}
	acct, tenant := c.conn.Account()
	parts := []string{"Signed in to " + c.conn.Cloud()}
	if acct != "" {
		parts = append(parts, "as "+acct)
	}
	if tenant != "" {
		parts = append(parts, "tenant "+tenant)
	}
	if sub := c.Subscription.Selected; sub != "" {
		parts = append(parts, "subscription "+sub)
	}
	c.Account.SetText(strings.Join(parts, " · "))
}

// Step returns the step on screen.
func (c *ConnectedScreen) Step() string { return c.step }

func (c *ConnectedScreen) show(step string, objs ...fyne.CanvasObject) {
	c.step = step
	if step != stepRegistrations {
		c.Steps.Set(step)
	}
	if step != StepExport {
		c.Export.stopPlayer()
	}
	c.body.Objects = []fyne.CanvasObject{stepBody(objs)}
	c.body.Refresh()
	c.u.refreshStatus()
}

func (c *ConnectedScreen) showSignIn() {
	form := widget.NewForm(
		widget.NewFormItem("Cloud", c.Cloud),
		widget.NewFormItem("Sign-in method", c.Method),
		widget.NewFormItem("Tenant", c.Tenant),
	)
	c.show(StepSignIn,
		heading("Sign in to Azure"),
		note("Choose the Azure cloud and how to sign in. The browser method opens the system browser; device code shows a code to enter on any device."),
		form, c.customBox, c.DeviceCode, c.signInTask.More(),
		footer{container.NewHBox(c.SignIn)}, footer{c.signInTask.Status()})
}

func (c *ConnectedScreen) onSignIn() {
	req := app.SignInRequest{Method: c.Method.Selected, Tenant: strings.TrimSpace(c.Tenant.Text)}
	if c.Cloud.Selected == customCloud {
		req.ARMEndpoint, req.AuthorityHost, req.CAFile = strings.TrimSpace(c.ARMEndpoint.Text), strings.TrimSpace(c.Authority.Text), strings.TrimSpace(c.CAFile.Text)
	} else {
		req.Cloud = c.Cloud.Selected
	}
	if t := c.training; t != nil {
		req.ClientID, req.ClientSecret, req.PollInterval = t.Azure.ClientID, t.Azure.ClientSecret, t.Azure.PollInterval
	}
	req.DeviceCode = func(_ context.Context, msg string) error {
		c.u.thread.Do(func() { c.DeviceCode.SetText(msg) })
		return nil
	}
	c.SignIn.Disable()
	var conn *app.Connected
	c.signInTask.run(c.u.ctx, "Signing in", true, func(ctx context.Context, progress func(app.Event)) error {
		var err error
		conn, err = c.svc.SignIn(ctx, req, progress)
		return err
	}, func(err error) {
		c.SignIn.Enable()
		c.DeviceCode.SetText("")
		if err != nil {
			return
		}
		if c.training == nil {
			c.u.prefs().SetString(prefAzureCloud, c.Cloud.Selected)
			c.u.prefs().SetString(prefAzureMethod, c.Method.Selected)
			c.u.prefs().SetString(prefAzureTenant, c.Tenant.Text)
		}
		c.conn = conn
		c.subs = conn.Subscriptions()
		var opts []string
		for _, s := range c.subs {
			opts = append(opts, subLabel(s))
		}
		c.Subscription.Options = opts
		if len(opts) > 0 {
			c.Subscription.SetSelected(opts[0])
		}
		c.Steps.Forget(StepSignIn)
		c.showAccount()
		c.showSubscription()
	})
}

func (c *ConnectedScreen) showSubscription() {
	c.show(StepSignIn,
		heading("Choose the subscription"),
		note("The registration is created in this subscription."),
		widget.NewForm(widget.NewFormItem("Subscription", c.Subscription)),
		widget.NewSeparator(),
		note("To see the stamps registered in the subscription, or to remove a registration (as Unregister-AzsEnvironment does):"),
		container.NewHBox(c.ShowRegs), footer{container.NewHBox(c.ToImport)})
}

// showRegistrations lists the registrations in the chosen subscription.
func (c *ConnectedScreen) showRegistrations() {
	conn, sub := c.conn, c.subscription()
	c.regs, c.selectedReg = nil, -1
	c.Regs.UnselectAll()
	c.Regs.Refresh()
	c.Unregister.Disable()
	c.RegsState.SetText("")
	c.unregisterTask.Reset()
	list := container.NewGridWrap(fyne.NewSize(700, 200), c.Regs)
	c.show(stepRegistrations,
		heading("Registrations in the subscription"),
		note("Select a registration to remove it: its lock is removed, the registration deleted, and checked gone. Remove the stamp's activation on the disconnected side first."),
		c.regsTask.Object(), c.RegsState, list,
		c.unregisterTask.More(),
		footer{container.NewHBox(c.Back, c.Unregister)}, footer{c.unregisterTask.Status()})
	var regs []app.RegistrationView
	c.regsTask.run(c.u.ctx, "Listing the registrations", true, func(ctx context.Context, progress func(app.Event)) error {
		var err error
		regs, err = conn.Registrations(ctx, sub, "")
		return err
	}, func(err error) {
		if err != nil {
			return
		}
		c.regs = regs
		c.Regs.Refresh()
		if len(regs) == 0 {
			c.RegsState.SetText("No Azure Stack Hub registration in this subscription.")
		} else {
			c.RegsState.SetText(fmt.Sprintf("%d registration(s).", len(regs)))
		}
	})
}

// onUnregister asks, naming the registration and its stamp, then removes it.
func (c *ConnectedScreen) onUnregister() {
	if c.selectedReg < 0 || c.selectedReg >= len(c.regs) {
		return
	}
	r := c.regs[c.selectedReg]
	msg := fmt.Sprintf("Remove registration %s in resource group %s (subscription %s)?\n\nIt belongs to the stamp with cloud ID %s. Its lock %s is removed first; the stamp cannot renew its activation with this registration afterwards.",
		r.Name, r.ResourceGroup, r.Subscription, r.CloudID, app.RegistrationLockName)
	dialog.ShowConfirm("Unregister "+r.Name+"?", msg, func(yes bool) {
		if !yes {
			return
		}
		conn := c.conn
		req := app.UnregisterRequest{Subscription: c.subscription(), Name: r.Name, ResourceGroup: r.ResourceGroup, CloudID: r.CloudID}
		c.Unregister.Disable()
		c.unregisterTask.run(c.u.ctx, "Unregistering "+r.Name, true, func(ctx context.Context, progress func(app.Event)) error {
			_, err := conn.Unregister(ctx, req, progress)
			return err
		}, func(err error) {
			if err == nil {
				c.RegsState.SetText(fmt.Sprintf("Registration %s is removed (lock, registration, and checked gone).", r.Name))
				c.regs = append(c.regs[:c.selectedReg:c.selectedReg], c.regs[c.selectedReg+1:]...)
				c.selectedReg = -1
				c.Regs.UnselectAll()
				c.Regs.Refresh()
			}
		})
	}, c.u.win)
}

func subLabel(s app.SubscriptionView) string {
	l := s.Name + " (" + s.ID + ")"
	if !s.Enabled {
		l += " — disabled"
	}
	return l
}

func (c *ConnectedScreen) subscription() string {
	for _, s := range c.subs {
		if subLabel(s) == c.Subscription.Selected {
			return s.ID
		}
	}
	return ""
}

func (c *ConnectedScreen) showImport() {
	c.show(StepImport, heading("Import the registration token"), c.Import.Object(), footer{c.Import.Status()}, footer{container.NewHBox(c.Back)})
}

// Dropped handles files dropped on the window while this screen shows.
func (c *ConnectedScreen) Dropped(paths []string) {
	if c.step == StepImport {
		c.Import.Dropped(paths)
	}
}

func (c *ConnectedScreen) showReview() {
	c.show(StepReview,
		heading("Review the registration token"),
		note("Compare the SHA-256 with the one the disconnected site reads to you."),
		reviewCard(c.token), c.Receipt.Object(),
		widget.NewSeparator(), container.NewHBox(c.Verify), c.VerifyResult, c.verifyTask.Object(),
		footer{container.NewHBox(c.Back, c.ToRegister)})
}

func (c *ConnectedScreen) showRegister() {
	if c.Name.Text == "" {
		c.Name.SetText(app.ProposedRegistrationName(c.token, time.Now()))
		c.ResourceGroup.SetText(app.DefaultResourceGroup)
		c.Location.SetText(c.conn.DefaultLocation())
	}
	c.registerTask.Reset()
	what := "The name is proposed from the cloud ID. The resource group is created in the location if it does not exist; the registration is locked against deletion."
	if reason, rep := c.token.Renewal(); reason != "" {
		old := "the stamp's registration (found by its cloud ID)"
		if rep != nil {
			old = fmt.Sprintf("the registration %s (resource group %s)", rep.Name, rep.ResourceGroup)
		}
		what = fmt.Sprintf("This token is for the %s of the registration. Register first removes %s, its lock included, then registers this token, in the order the documentation gives. ", reason, old) + what
	}
	c.show(StepRegister,
		heading("Register the stamp in Azure"),
		note(what),
		widget.NewForm(
			widget.NewFormItem("Registration name", c.Name),
			widget.NewFormItem("Resource group", c.ResourceGroup),
			widget.NewFormItem("Location", c.Location)),
		widget.NewLabelWithStyle("Checks before registering", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		c.CheckNote, c.Checks, c.checkTask.More(),
		c.registerTask.More(),
		footer{container.NewHBox(c.Back, c.Check, c.Register)}, footer{c.checkTask.Status()}, footer{c.registerTask.Status()})
	c.runChecks()
}

// registerRequest returns the registration the values on screen describe.
func (c *ConnectedScreen) registerRequest() app.RegisterRequest {
	return app.RegisterRequest{Token: c.token, Subscription: c.subscription(), Name: strings.TrimSpace(c.Name.Text),
		ResourceGroup: strings.TrimSpace(c.ResourceGroup.Text), Location: strings.TrimSpace(c.Location.Text)}
}

// runChecks runs the preflight for the values on screen and lists its
// checks; Register is enabled when none failed.
func (c *ConnectedScreen) runChecks() {
	req := c.registerRequest()
	conn := c.conn
	c.checked = nil
	c.Checks.Objects = nil
	c.Checks.Refresh()
	c.CheckNote.SetText("Reading the subscription, permissions and names; nothing is changed.")
	c.updateRegister()
	var rep *app.PreflightReport
	c.checkTask.run(c.u.ctx, "Checking", true, func(ctx context.Context, progress func(app.Event)) error {
		var err error
		rep, err = conn.Preflight(ctx, app.PreflightRequest{Subscription: req.Subscription, Token: req.Token, Name: req.Name,
			ResourceGroup: req.ResourceGroup, Location: req.Location}, progress)
		return err
	}, func(err error) {
		if err != nil {
			c.CheckNote.SetText("The checks could not run; see below, then Check again.")
			return
		}
		c.checked, c.checkedAs = rep, req
		c.showChecks(rep)
		c.updateRegister()
	})
}

// showChecks lists a report's checks, failures first.
func (c *ConnectedScreen) showChecks(rep *app.PreflightReport) {
	var rows []fyne.CanvasObject
	add := func(ch app.PreflightCheck) {
		icon := theme.ConfirmIcon()
		switch ch.Status {
		case app.CheckWarn:
			icon = theme.WarningIcon()
		case app.CheckFail:
			icon = theme.ErrorIcon()
		}
		text := app.Printable(ch.Finding)
		if ch.Fix != "" && ch.Status != app.CheckPass {
			text += "\nFix: " + app.Printable(ch.Fix)
		}
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		if ch.Status == app.CheckFail {
			l.Importance = widget.DangerImportance
		}
		rows = append(rows, container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(icon)), nil, l))
	}
	for _, s := range []app.CheckStatus{app.CheckFail, app.CheckWarn, app.CheckPass} {
		for _, ch := range rep.Checks {
			if ch.Status == s {
				add(ch)
			}
		}
	}
	c.Checks.Objects = rows
	c.Checks.Refresh()
	switch n := len(rep.Failed()); {
	case n > 0:
		c.CheckNote.SetText(fmt.Sprintf("%d check(s) failed: registering would fail. Fix them (or change the values above), then Check again.", n))
	default:
		c.CheckNote.SetText(fmt.Sprintf("Signed in as %s, subscription %s. Nothing stands in the way.", app.Printable(rep.Account), app.Printable(firstOf(rep.SubscriptionName, rep.SubscriptionID))))
	}
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// updateRegister enables Register when a passing check was made for the
// values on screen.
func (c *ConnectedScreen) updateRegister() {
	req := c.registerRequest()
	ok := c.checked != nil && c.checked.OK() && c.checkedAs.Name == req.Name && c.checkedAs.ResourceGroup == req.ResourceGroup &&
		c.checkedAs.Location == req.Location && c.checkedAs.Token == req.Token
	if c.checked != nil && !ok && c.checked.OK() {
		c.CheckNote.SetText("The values changed since the check: Check again.")
	}
	if ok && !c.registerTask.Running() {
		c.Register.Enable()
	} else {
		c.Register.Disable()
	}
}

func (c *ConnectedScreen) onRegister() {
	req := c.registerRequest()
	if c.checked != nil && c.checkedAs.Name == req.Name {
		req.Checked = c.checked
	}
	conn := c.conn
	c.Register.Disable()
	var reg app.RegistrationView
	c.registerTask.run(c.u.ctx, "Registering", true, func(ctx context.Context, progress func(app.Event)) error {
		var err error
		reg, err = conn.Register(ctx, req, progress)
		return err
	}, func(err error) {
		c.updateRegister()
		if err != nil {
			return
		}
		c.reg, c.key = reg, nil
		c.Steps.Forget(StepRegister)
		c.keyTask.Reset()
		c.showKey()
	})
}

func (c *ConnectedScreen) showKey() {
	reg := c.reg
	what := fmt.Sprintf("Registration %s in resource group %s (subscription %s) holds cloud ID %s.", reg.Name, reg.ResourceGroup, reg.Subscription, reg.CloudID)
	if r := reg.Replaced; r != nil {
		what += fmt.Sprintf(" The registration it replaces, %s, was removed first.", r.Name)
	}
	c.show(StepKey,
		heading("Registered"),
		note(what),
		c.keyTask.More(),
		footer{container.NewHBox(c.Back, c.GetKey)}, footer{c.keyTask.Status()})
}

func (c *ConnectedScreen) onGetKey() {
	req := app.KeyRequest{Subscription: c.subscription(), Name: c.reg.Name, ResourceGroup: c.reg.ResourceGroup}
	conn := c.conn
	c.GetKey.Disable()
	var key *app.ArtefactView
	c.keyTask.run(c.u.ctx, "Getting the activation key", true, func(ctx context.Context, progress func(app.Event)) error {
		var err error
		key, err = conn.ActivationKey(ctx, req, progress)
		return err
	}, func(err error) {
		c.GetKey.Enable()
		if err != nil {
			return
		}
		c.key = key
		c.Export.SetArtefact(key)
		c.showExport()
	})
}

func (c *ConnectedScreen) showExport() {
	another := widget.NewButtonWithIcon("Register another token", theme.ContentAddIcon(), func() {
		c.token, c.reg, c.key = nil, app.RegistrationView{}, nil
		c.Name.SetText("")
		c.Import.Clear()
		c.showImport()
	})
	c.show(StepExport,
		heading("Carry the activation key to the disconnected site"),
		note("Save the key (with its manifest) to a removable drive, or show its QR codes. At the disconnected site, import it in step 5 (Import key) and activate the stamp; this side's work is then done."),
		reviewCard(c.key), widget.NewSeparator(), c.Export.Object(), footer{c.Export.Actions()}, footer{container.NewHBox(c.Back, another)})
}

// onVerify shows what Azure holds for the token's stamp: its registration,
// billing model, lock, and whether it was made from this token. Nothing is
// changed.
func (c *ConnectedScreen) onVerify() {
	req := app.StatusRequest{Subscription: c.subscription(), Token: c.token}
	conn := c.conn
	setShown(c.VerifyResult, "")
	var st *app.RegistrationStatus
	var notFound bool
	c.verifyTask.run(c.u.ctx, "Checking the registration", true, func(ctx context.Context, progress func(app.Event)) error {
		var err error
		st, err = conn.Status(ctx, req, progress)
		if errors.Is(err, app.ErrNotRegistered) {
			notFound, err = true, nil
		}
		return err
	}, func(err error) {
		switch {
		case err != nil:
		case notFound:
			setShown(c.VerifyResult, "The stamp is not registered in this subscription yet: register the token.")
		default:
			r := st.Registration
			text := fmt.Sprintf("Registration %s in resource group %s, billing model %s. ", r.Name, r.ResourceGroup, r.BillingModel)
			switch {
			case st.Locked:
				text += "Locked against deletion (" + st.LockName + "). "
			case st.LockUnknown != "":
				text += "Its lock could not be read: " + app.Printable(st.LockUnknown) + ". "
			default:
				text += "Not locked: register again with the same token and name to restore the lock. "
			}
			if st.TokenMatches {
				text += "It was made from this token."
			} else {
				text += "It was not made from this token (" + app.Printable(strings.Join(st.Differences, "; ")) + "): registering updates it."
			}
			setShown(c.VerifyResult, text)
		}
	})
}
