package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/azs-courier/azs-courier/azure"
	"github.com/azs-courier/azs-courier/courier"
)

// SignInRequest says which Azure to sign in to and how. Secrets in it are
// kept in memory only.
type SignInRequest struct {
	// Cloud is AzureCloud, AzureUSGovernment or AzureChinaCloud; ignored when
	// ARMEndpoint is set (a custom cloud, as the simulator is).
	Cloud         string
	ARMEndpoint   string
	AuthorityHost string
	CAFile        string // PEM of CAs a custom cloud's endpoints use
	// Method is an azure.AuthMethod name: browser, device-code, azure-cli,
	// environment or client-secret.
	Method       string
	Tenant       string
	ClientID     string
	ClientSecret string
	// DeviceCode shows the device-code instruction to the user; required for
	// the device-code method.
	DeviceCode func(ctx context.Context, message string) error
	// PollInterval is the wait between resource-provider checks; zero means
	// azure's default (10 s). Training uses a short one.
	PollInterval time.Duration
	// RetryDelay is the first wait between retries of failed Azure requests;
	// zero means azcore's default (800 ms).
	RetryDelay time.Duration
	// TryTimeout bounds each try of an Azure request; zero means
	// azure.DefaultTryTimeout (20 s).
	TryTimeout time.Duration
	// Subscription, when set, is used without listing the account's
	// subscriptions first.
	Subscription string
}

// Connected-side defaults, as the PowerShell module has them.
const (
	DefaultCloud         = azure.CloudPublic            // AzureCloud
	DefaultResourceGroup = azure.DefaultResourceGroup   // azurestack
	RegistrationLockName = azure.LockName               // the CanNotDelete lock on a registration
	DefaultAuthMethod    = string(azure.AuthDeviceCode) // the CLI's sign-in method
)

// cloud returns the cloud req names, without using the network.
func (req SignInRequest) cloud() (azure.Cloud, error) {
	if req.ARMEndpoint != "" || req.AuthorityHost != "" {
		return azure.CustomCloud(req.ARMEndpoint, req.AuthorityHost, req.CAFile)
	}
	if req.CAFile != "" {
		return azure.Cloud{}, errors.New("a CA file applies to a custom cloud; give the ARM endpoint and authority host too")
	}
	return azure.LookupCloud(req.Cloud)
}

// Validate checks the cloud and the sign-in method without using the
// network, so that mistakes are reported before any file is read or any
// sign-in starts.
func (req SignInRequest) Validate() error {
	if _, err := req.cloud(); err != nil {
		return err
	}
	_, err := azure.ParseAuthMethod(req.Method)
	return err
}

// CloudNames returns the built-in clouds a user can choose.
func CloudNames() []string {
	var names []string
	for _, c := range azure.Clouds() {
		names = append(names, c.Name)
	}
	return names
}

// AuthMethodNames returns the sign-in methods a user can choose, the GUI's
// default (browser) first.
func AuthMethodNames() []string {
	var names []string
	for _, m := range azure.AuthMethods {
		names = append(names, string(m))
	}
	return names
}

// SubscriptionView is an Azure subscription for the picker.
type SubscriptionView struct {
	ID, Name string
	Enabled  bool
}

// Connected is a signed-in connected side: it registers tokens, fetches
// activation keys and removes registrations.
type Connected struct {
	svc   *Service
	cloud azure.Cloud
	cred  azcore.TokenCredential
	copts azure.ClientOptions
	poll  time.Duration
	subs  []SubscriptionView
	who   azure.Identity
}

// SignIn signs in to Azure and lists the account's subscriptions, which
// proves the sign-in worked.
func (s *Service) SignIn(ctx context.Context, req SignInRequest, progress func(Event)) (*Connected, error) {
	progress = orDiscard(progress)
	c, err := req.cloud()
	if err != nil {
		return nil, err
	}
	method, err := azure.ParseAuthMethod(req.Method)
	if err != nil {
		return nil, err
	}
	progress(Event{Step: "sign-in", Message: fmt.Sprintf("signing in to %s (%s)", c.Name, method), Fraction: -1, Level: LevelInfo})
	retry := policy.RetryOptions{RetryDelay: req.RetryDelay, TryTimeout: req.TryTimeout}
	if req.RetryDelay > 0 {
		retry.MaxRetryDelay = 30 * req.RetryDelay
	}
	cred, err := azure.NewCredential(c, azure.CredentialOptions{
		Method: method, TenantID: req.Tenant, ClientID: req.ClientID, ClientSecret: req.ClientSecret, Retry: retry,
		Getenv: s.env.getenv,
		UserPrompt: func(ctx context.Context, dc azure.DeviceCode) error {
			if req.DeviceCode != nil {
				return req.DeviceCode(ctx, dc.Message)
			}
			progress(Event{Step: "sign-in", Message: dc.Message, Fraction: -1, Level: LevelWarning})
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	conn := &Connected{svc: s, cloud: c, cred: cred, poll: req.PollInterval, copts: azure.ClientOptions{Retry: retry}}
	if req.Subscription != "" {
		conn.subs = []SubscriptionView{{ID: req.Subscription, Enabled: true}}
		return conn, nil
	}

	subs, err := azure.ListSubscriptions(ctx, c, cred, &conn.copts)
	if err != nil {
		return nil, azureError(err)
	}
	for _, sub := range subs {
		st := azDeref(sub.State)
		conn.subs = append(conn.subs, SubscriptionView{ID: azDeref(sub.SubscriptionID), Name: azDeref(sub.DisplayName),
			Enabled: st == "" || strings.EqualFold(st, "Enabled")})
	}
	// The token is in the credential's cache by now: no further request.
	if who, err := azure.WhoAmI(ctx, c, cred); err == nil {
		conn.who = who
	}
	progress(Event{Step: "sign-in", Message: fmt.Sprintf("signed in; %d subscription(s)", len(conn.subs)), Fraction: -1, Level: LevelInfo})
	return conn, nil
}

// Account returns who is signed in (a user's sign-in name, or
// "application <id>") and the tenant, as far as the token says.
func (c *Connected) Account() (account, tenant string) { return c.who.Account, c.who.Tenant }

// Cloud returns the name of the cloud signed in to.
func (c *Connected) Cloud() string { return c.cloud.Name }

// DefaultLocation returns the cloud's default resource-group location.
func (c *Connected) DefaultLocation() string { return c.cloud.DefaultLocation }

// Subscriptions returns the account's subscriptions, enabled ones first.
func (c *Connected) Subscriptions() []SubscriptionView {
	var en, dis []SubscriptionView
	for _, s := range c.subs {
		if s.Enabled {
			en = append(en, s)
		} else {
			dis = append(dis, s)
		}
	}
	return append(en, dis...)
}

func (c *Connected) registrar(subscription string, progress func(Event)) (*azure.Registrar, error) {
	if subscription == "" {
		en := 0
		for _, s := range c.subs {
			if s.Enabled {
				subscription, en = s.ID, en+1
			}
		}
		if en != 1 {
			return nil, fmt.Errorf("the account has %d enabled subscriptions; choose one", en)
		}
	}
	return azure.NewRegistrar(azure.Options{
		Cloud: c.cloud, Credential: c.cred, SubscriptionID: subscription, Client: c.copts, PollInterval: c.poll,
		Progress: func(step, msg string) { progress(Event{Step: step, Message: msg, Fraction: -1, Level: LevelInfo}) },
	})
}

// DefaultRegistrationName returns the registration name proposed for a
// cloud ID, as the PowerShell module's older versions defaulted it:
// "AzureStack-<CloudId>".
func DefaultRegistrationName(cloudID string) string {
	id := strings.ToLower(strings.TrimSpace(cloudID))
	if id == "" {
		return "AzureStack"
	}
	return "AzureStack-" + id
}

// RenewalRegistrationName returns the name for a renewal's new
// registration made on day: the default name with the date, since a
// capacity registration's name cannot be reused once its term has ended.
func RenewalRegistrationName(cloudID string, day time.Time) string {
	return DefaultRegistrationName(cloudID) + "-" + day.UTC().Format("20060102")
}

// RegisterRequest says which token to register where.
type RegisterRequest struct {
	Token         *ArtefactView
	Subscription  string // "" when the account has one
	Name          string
	ResourceGroup string // "" means azurestack
	Location      string // "" means the cloud's default
	// Checked is the preflight the caller ran and showed for this request;
	// when nil, Register runs it first. A failed check stops the
	// registration before anything is written.
	Checked *PreflightReport
	// Replaces names the registration a renewal or change removes first;
	// nil takes it from the token's manifest when the token is a renewal's.
	Replaces *ReplacedRegistration
}

// RegistrationView is a registration resource as the GUI shows it; its
// JSON is what `registrations --json` prints.
type RegistrationView struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	ResourceGroup string `json:"resourceGroup"`
	Subscription  string `json:"subscriptionId"`
	Location      string `json:"location"`
	CloudID       string `json:"cloudId"`
	ObjectID      string `json:"objectId"`
	BillingModel  string `json:"billingModel"`
	// Replaced is the registration a renewal or change removed first.
	Replaced *RegistrationView `json:"replaced,omitempty"`
}

func registrationView(i *azure.RegistrationInfo) RegistrationView {
	return RegistrationView{ID: i.ID, Name: i.Name, ResourceGroup: i.ResourceGroup, Subscription: i.SubscriptionID,
		Location: i.Location, CloudID: i.CloudID, ObjectID: i.ObjectID, BillingModel: i.BillingModel}
}

// Register registers the token in Azure (Register-AzsEnvironment) and
// records the outcome in the custody ledger. The checks before registering
// run first (or req.Checked is used) and a failed one stops it before any
// write. A renewal's or change's token (its manifest says so, or
// req.Replaces names the registration) first has the registration it
// replaces removed (lock, DELETE, confirmed gone), as the documentation's
// order for a disconnected stamp has it; a capacity renewal then takes a
// new, dated name unless req.Name is given.
func (c *Connected) Register(ctx context.Context, req RegisterRequest, progress func(Event)) (RegistrationView, error) {
	progress = orDiscard(progress)
	if req.Token == nil || req.Token.Kind != KindToken {
		return RegistrationView{}, errors.New("no registration token; import the token first")
	}
	r, err := c.registrar(req.Subscription, progress)
	if err != nil {
		return RegistrationView{}, azureError(err)
	}
	if err := c.svc.env.checkLedger(); err != nil {
		return RegistrationView{}, err
	}
	reason, replaces := req.Token.Renewal()
	if req.Replaces != nil {
		replaces = req.Replaces
	}
	if name, rg, ok := c.svc.renewedBefore(req.Token.SHA256, replaces); ok && req.Replaces == nil {
		// This renewal was registered here already (a rerun): what it
		// replaced is gone, and the registration it made is the one to keep.
		reason, replaces = "", nil
		if strings.TrimSpace(req.Name) == "" {
			req.Name, req.ResourceGroup = name, rg
		}
	}
	var old *azure.RegistrationInfo
	if reason != "" || replaces != nil {
		if old, err = c.findReplaced(ctx, req, replaces, progress); err != nil {
			return RegistrationView{}, err
		}
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" {
		req.Name = renewalName(req.Token.CloudID, reason, old, c.svc.env.now())
	}
	rep := req.Checked
	if rep == nil {
		pr := PreflightRequest{Subscription: req.Subscription, Token: req.Token, Name: req.Name, ResourceGroup: req.ResourceGroup, Location: req.Location}
		if old != nil && sameSubscription(old.SubscriptionID, r) {
			pr.Replaces = &ReplacedRegistration{Name: old.Name, ResourceGroup: old.ResourceGroup}
		}
		if rep, err = c.Preflight(ctx, pr, progress); err != nil {
			return RegistrationView{}, err
		}
	}
	if err := rep.Err(); err != nil {
		return RegistrationView{}, err
	}
	var replaced *RegistrationView
	if old != nil {
		if replaced, err = c.removeReplaced(ctx, req, old, reason, progress); err != nil {
			return RegistrationView{}, err
		}
	}
	a := req.Token.a
	info, err := r.Register(ctx, a.Text, a.CloudID(), req.Name, req.ResourceGroup, req.Location)
	entry := courier.Entry{Step: "register", Kind: a.Kind, SHA256: a.SHA256, CloudID: a.CloudID(), Outcome: "ok"}
	if err != nil {
		return RegistrationView{}, c.svc.env.recordDone(entry, azureError(err), "")
	}
	entry.Detail = "registration " + info.ID
	if replaced != nil {
		entry.Detail += fmt.Sprintf("; the %s of %s", workflowTitle(orDefault(reason, ReasonRenewal)), replaced.ID)
	}
	if err := c.svc.env.recordDone(entry, nil, "the stamp is registered in Azure as "+info.ID); err != nil {
		return RegistrationView{}, err
	}
	v := registrationView(info)
	v.Replaced = replaced
	return v, nil
}

// renewedBefore reports whether this installation's custody ledger
// records a renewal registered from the token with hash sha that replaced
// replaces (any, when nil), and the name and resource group it made.
func (s *Service) renewedBefore(sha string, replaces *ReplacedRegistration) (name, rg string, ok bool) {
	entries, err := s.env.Ledger().Entries()
	if err != nil {
		return "", "", false
	}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Step != "register" || e.Outcome != "ok" || !strings.EqualFold(e.SHA256, sha) {
			continue
		}
		id, renewal, isRenewal := strings.Cut(strings.TrimPrefix(e.Detail, "registration "), "; the ")
		if !isRenewal || replaces != nil && !strings.HasSuffix(strings.ToLower(renewal), "/registrations/"+strings.ToLower(replaces.Name)) {
			continue
		}
		parts := strings.Split(strings.TrimSpace(id), "/")
		for j := 0; j+1 < len(parts); j++ {
			if strings.EqualFold(parts[j], "resourceGroups") {
				rg = parts[j+1]
			}
		}
		if len(parts) > 0 && rg != "" {
			return parts[len(parts)-1], rg, true
		}
	}
	return "", "", false
}

// findReplaced finds the registration a renewal replaces: the one named
// (in its own subscription), or the one holding the stamp's cloud ID. It
// returns nil when there is none any more (removed by hand, or a first
// registration marked as a change).
func (c *Connected) findReplaced(ctx context.Context, req RegisterRequest, replaces *ReplacedRegistration, progress func(Event)) (*azure.RegistrationInfo, error) {
	sub := req.Subscription
	fr := azure.FindRequest{CloudID: req.Token.CloudID}
	if replaces != nil {
		sub = orDefault(replaces.Subscription, req.Subscription)
		fr = azure.FindRequest{Name: replaces.Name, ResourceGroup: orDefault(replaces.ResourceGroup, DefaultResourceGroup)}
	}
	r, err := c.registrar(sub, progress)
	if err != nil {
		return nil, azureError(err)
	}
	info, err := r.Find(ctx, fr)
	switch {
	case errors.Is(err, azure.ErrNotFound):
		progress(Event{Step: "renew", Message: "the registration it replaces is not in Azure any more; registering the new one", Fraction: -1, Level: LevelProgress})
		return nil, nil
	case err != nil:
		return nil, azureError(err)
	case !strings.EqualFold(info.CloudID, req.Token.CloudID):
		return nil, fmt.Errorf("the registration %s that the token says it replaces belongs to another stamp (cloud ID %s, the token's is %s); do not remove it: check the token, or register with --replaces naming the right one",
			info.Name, info.CloudID, req.Token.CloudID)
	}
	return info, nil
}

// removeReplaced removes the registration a renewal replaces, in its own
// subscription, and records it.
func (c *Connected) removeReplaced(ctx context.Context, req RegisterRequest, old *azure.RegistrationInfo, reason string, progress func(Event)) (*RegistrationView, error) {
	progress(Event{Step: "renew", Message: fmt.Sprintf("removing the registration %s that the %s replaces", old.Name, workflowTitle(orDefault(reason, ReasonRenewal))), Fraction: -1, Level: LevelProgress})
	r, err := c.registrar(old.SubscriptionID, progress)
	if err != nil {
		return nil, azureError(err)
	}
	info, err := r.Unregister(ctx, azure.UnregisterRequest{Name: old.Name, ResourceGroup: old.ResourceGroup})
	entry := courier.Entry{Step: "unregister", CloudID: old.CloudID, Outcome: "ok", Detail: "registration " + old.ID + ", replaced by a " + workflowTitle(orDefault(reason, ReasonRenewal))}
	if err != nil {
		return nil, c.svc.env.recordDone(entry, fmt.Errorf("the %s stopped before registering the new token: removing %s failed: %w", workflowTitle(orDefault(reason, ReasonRenewal)), old.Name, azureError(err)), "")
	}
	if err := c.svc.env.recordDone(entry, nil, "the registration "+old.ID+" is removed"); err != nil {
		return nil, err
	}
	v := registrationView(info)
	return &v, nil
}

// ProposedRegistrationName returns the name to propose for registering
// token: for a renewal's or change's token (its manifest says so), a
// capacity renewal's new dated name or the replaced registration's; else
// AzureStack-<cloud ID>.
func ProposedRegistrationName(token *ArtefactView, now time.Time) string {
	reason, rep := token.Renewal()
	var old *azure.RegistrationInfo
	if rep != nil {
		old = &azure.RegistrationInfo{Name: rep.Name, BillingModel: orDefault(rep.BillingModel, "Capacity")}
	}
	if reason == "" && old == nil {
		return DefaultRegistrationName(token.CloudID)
	}
	return renewalName(token.CloudID, reason, old, now)
}

// renewalName is the name a registration takes when none is given: a
// capacity renewal's new, dated name (the documentation: a capacity
// registration must change its name when re-registering after its yearly
// term), the replaced registration's for other changes, or the default.
func renewalName(cloudID, reason string, old *azure.RegistrationInfo, now time.Time) string {
	switch {
	case reason == ReasonRenewal && (old == nil || strings.EqualFold(old.BillingModel, "Capacity")):
		return RenewalRegistrationName(cloudID, now)
	case old != nil:
		return old.Name
	}
	return DefaultRegistrationName(cloudID)
}

func sameSubscription(sub string, r *azure.Registrar) bool {
	return sub == "" || strings.EqualFold(sub, r.SubscriptionID())
}

// KeyRequest names the registration whose activation key to fetch.
type KeyRequest struct {
	Subscription  string
	Name          string
	ResourceGroup string
}

// ActivationKey fetches the activation key of a registration
// (Get-AzsActivationKey) and checks that it is a key for that registration's
// cloud ID.
func (c *Connected) ActivationKey(ctx context.Context, req KeyRequest, progress func(Event)) (*ArtefactView, error) {
	progress = orDiscard(progress)
	r, err := c.registrar(req.Subscription, progress)
	if err != nil {
		return nil, azureError(err)
	}
	rg := req.ResourceGroup
	if rg == "" {
		rg = azure.DefaultResourceGroup
	}
	if err := c.svc.env.checkLedger(); err != nil {
		return nil, err
	}
	key, err := r.ActivationKey(ctx, req.Name, rg)
	if err != nil {
		return nil, azureError(err)
	}
	a, err := courier.Parse([]byte(key.Key))
	if err != nil {
		return nil, fmt.Errorf("the activation key Azure returned for %s is not readable: %w", req.Name, err)
	}
	if a.Kind != courier.KindKey {
		return nil, &courier.MismatchError{What: "kind of what Azure returned", Want: courier.KindKey.Title(), Got: a.Kind.Title()}
	}
	if want := key.Registration.CloudID; want != "" && !strings.EqualFold(a.CloudID(), want) {
		return nil, &courier.MismatchError{What: "cloud ID of the activation key for " + req.Name, Want: want, Got: a.CloudID(),
			Fix: "do not use this key; check the registration in Azure"}
	}
	if err := c.svc.env.record(courier.Entry{Step: "activation-key", Kind: a.Kind, SHA256: a.SHA256, CloudID: a.CloudID(), Outcome: "ok",
		Detail: "from registration " + key.Registration.ID}); err != nil {
		return nil, err
	}
	return newView(a, nil, "Azure registration "+key.Registration.Name), nil
}

// UnregisterRequest names the registration to remove: by name (in
// ResourceGroup) or by cloud ID (searched in the whole subscription).
type UnregisterRequest struct {
	Subscription  string
	Name          string
	CloudID       string
	ResourceGroup string
}

// Unregister removes a registration (UnRegister-AzsEnvironment): lock,
// resource, and a check that it is gone.
func (c *Connected) Unregister(ctx context.Context, req UnregisterRequest, progress func(Event)) (RegistrationView, error) {
	progress = orDiscard(progress)
	r, err := c.registrar(req.Subscription, progress)
	if err != nil {
		return RegistrationView{}, azureError(err)
	}
	rg := req.ResourceGroup
	if rg == "" && req.Name != "" {
		rg = azure.DefaultResourceGroup
	}
	if err := c.svc.env.checkLedger(); err != nil {
		return RegistrationView{}, err
	}
	info, err := r.Unregister(ctx, azure.UnregisterRequest{Name: req.Name, CloudID: req.CloudID, ResourceGroup: rg})
	entry := courier.Entry{Step: "unregister", CloudID: req.CloudID, Outcome: "ok"}
	if err != nil {
		return RegistrationView{}, c.svc.env.recordDone(entry, azureError(err), "")
	}
	entry.CloudID, entry.Detail = info.CloudID, "registration "+info.ID
	if err := c.svc.env.recordDone(entry, nil, "the registration "+info.ID+" is removed from Azure"); err != nil {
		return RegistrationView{}, err
	}
	return registrationView(info), nil
}

// FindRegistration looks up the registration req names, by name (in
// ResourceGroup) or by cloud ID (in the whole subscription), without
// changing anything: the CLI shows it before asking to delete it.
func (c *Connected) FindRegistration(ctx context.Context, req UnregisterRequest) (RegistrationView, error) {
	r, err := c.registrar(req.Subscription, orDiscard(nil))
	if err != nil {
		return RegistrationView{}, azureError(err)
	}
	rg := req.ResourceGroup
	if rg == "" && req.Name != "" {
		rg = azure.DefaultResourceGroup
	}
	info, err := r.Find(ctx, azure.UnregisterRequest{Name: req.Name, CloudID: req.CloudID, ResourceGroup: rg})
	if err != nil {
		return RegistrationView{}, azureError(err)
	}
	return registrationView(info), nil
}

// SubscriptionID returns the subscription the requests go to when they
// name none: the only enabled one.
func (c *Connected) SubscriptionID() string {
	id := ""
	for _, s := range c.subs {
		if s.Enabled {
			if id != "" {
				return ""
			}
			id = s.ID
		}
	}
	return id
}

// Registrations lists the registrations in the subscription, or in one
// resource group when group is not "".
func (c *Connected) Registrations(ctx context.Context, subscription, group string) ([]RegistrationView, error) {
	r, err := c.registrar(subscription, orDiscard(nil))
	if err != nil {
		return nil, azureError(err)
	}
	list, err := r.List(ctx, group)
	if err != nil {
		return nil, azureError(err)
	}
	out := make([]RegistrationView, 0, len(list))
	for i := range list {
		out = append(out, registrationView(&list[i]))
	}
	return out, nil
}

func azDeref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// azureError turns azure's identity mismatches into courier's, so that they
// end with exit status 3 like every other integrity or identity check.
func azureError(err error) error {
	var me *azure.MismatchError
	if errors.As(err, &me) {
		return &courier.MismatchError{What: me.What, Want: me.Want, Got: me.Got,
			Fix: "check --name, --resource-group and --subscription; do not use this key"}
	}
	return err
}
