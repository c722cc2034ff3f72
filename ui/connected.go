package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
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

	Progress *widget.Label
	Account  *widget.Label
	body     *fyne.Container

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
	ToRegister *widget.Button

	// register
	Name, ResourceGroup, Location *widget.Entry
	Register                      *widget.Button
	registerTask                  *taskPanel

	// key, export
	GetKey  *widget.Button
	keyTask *taskPanel
	Export  *exportPanel
	Done    *widget.Label
}

var connectedSteps = []struct{ id, name string }{
	{StepSignIn, "Sign in"}, {StepImport, "Import token"}, {StepReview, "Review"}, {StepRegister, "Register"},
	{StepKey, "Activation key"}, {StepExport, "Export"},
}

func newConnectedScreen(u *UI, svc *app.Service, t *app.Training) *ConnectedScreen {
	c := &ConnectedScreen{u: u, svc: svc, training: t, Progress: widget.NewLabel(""), Account: widget.NewLabel(""),
		body: container.NewStack(), signInTask: newTaskPanel(u.thread), registerTask: newTaskPanel(u.thread), keyTask: newTaskPanel(u.thread),
		DeviceCode: widget.NewLabel(""), Done: widget.NewLabel("")}
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
	c.Subscription = widget.NewSelect(nil, nil)
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
	c.Import.Imported = func(v *app.ArtefactView) { c.token = v; c.showReview() }
	c.ToRegister = widget.NewButtonWithIcon("Looks right: register it", theme.NavigateNextIcon(), c.showRegister)
	c.ToRegister.Importance = widget.HighImportance

	c.Name = widget.NewEntry()
	c.ResourceGroup = widget.NewEntry()
	c.Location = widget.NewEntry()
	c.Register = widget.NewButtonWithIcon("Register in Azure", theme.UploadIcon(), c.onRegister)
	c.Register.Importance = widget.HighImportance

	c.GetKey = widget.NewButtonWithIcon("Get the activation key", theme.DownloadIcon(), c.onGetKey)
	c.GetKey.Importance = widget.HighImportance
	c.Export = newExportPanel(u, svc)

	c.showSignIn()
	return c
}

// Object returns the screen's widget tree.
func (c *ConnectedScreen) Object() fyne.CanvasObject {
	return container.NewBorder(container.NewVBox(c.Progress, c.Account), nil, nil, nil, c.body)
}

// Step returns the step on screen.
func (c *ConnectedScreen) Step() string { return c.step }

func (c *ConnectedScreen) show(step string, objs ...fyne.CanvasObject) {
	c.step = step
	c.Progress.SetText(stepLine(connectedSteps, step))
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
		form, c.customBox, container.NewHBox(c.SignIn), c.DeviceCode, c.signInTask.Object())
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
		c.Account.SetText(fmt.Sprintf("Signed in to %s · %d subscription(s)", conn.Cloud(), len(c.subs)))
		c.show(StepSignIn,
			heading("Choose the subscription"),
			note("The registration is created in this subscription."),
			widget.NewForm(widget.NewFormItem("Subscription", c.Subscription)),
			container.NewHBox(c.ToImport))
	})
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
	c.show(StepImport, heading("Import the registration token"), c.Import.Object())
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
		reviewCard(c.token), footer{container.NewHBox(c.ToRegister)})
}

func (c *ConnectedScreen) showRegister() {
	c.Name.SetText(app.DefaultRegistrationName(c.token.CloudID))
	c.ResourceGroup.SetText("azurestack")
	c.Location.SetText(c.conn.DefaultLocation())
	c.show(StepRegister,
		heading("Register the stamp in Azure"),
		note("The name is proposed from the cloud ID. The resource group is created in the location if it does not exist; the registration is locked against deletion."),
		widget.NewForm(
			widget.NewFormItem("Registration name", c.Name),
			widget.NewFormItem("Resource group", c.ResourceGroup),
			widget.NewFormItem("Location", c.Location)),
		container.NewHBox(c.Register), c.registerTask.Object())
}

func (c *ConnectedScreen) onRegister() {
	req := app.RegisterRequest{Token: c.token, Subscription: c.subscription(), Name: strings.TrimSpace(c.Name.Text),
		ResourceGroup: strings.TrimSpace(c.ResourceGroup.Text), Location: strings.TrimSpace(c.Location.Text)}
	conn := c.conn
	c.Register.Disable()
	var reg app.RegistrationView
	c.registerTask.run(c.u.ctx, "Registering", true, func(ctx context.Context, progress func(app.Event)) error {
		var err error
		reg, err = conn.Register(ctx, req, progress)
		return err
	}, func(err error) {
		c.Register.Enable()
		if err != nil {
			return
		}
		c.reg = reg
		c.show(StepKey,
			heading("Registered"),
			note(fmt.Sprintf("Registration %s in resource group %s (subscription %s) holds cloud ID %s.", reg.Name, reg.ResourceGroup, reg.Subscription, reg.CloudID)),
			container.NewHBox(c.GetKey), c.keyTask.Object())
	})
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
		c.show(StepExport,
			heading("Carry the activation key to the disconnected site"),
			reviewCard(key), widget.NewSeparator(), c.Export.Object())
	})
}
