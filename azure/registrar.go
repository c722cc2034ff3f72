package azure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// ProviderNamespace is the resource provider of registrations.
const ProviderNamespace = "Microsoft.AzureStack"

// LockName is the name of the lock the PowerShell module puts on a registration.
const LockName = "RegistrationResourceLock"

// LockNotes returns the notes the PowerShell module writes on the lock.
func LockNotes(name string) string {
	return "Registration resource " + name + " is needed for syndication. Placing resource lock to prevent accidental deletion."
}

// ClientOptions tune the HTTP side of every ARM call.
type ClientOptions struct {
	// Transport overrides the cloud's transport (tests).
	Transport policy.Transporter
	// Retry configures azcore's retry policy, which retries 408, 429, 500,
	// 502, 503, 504, connection errors and tries that time out, honouring
	// Retry-After. Zero fields mean DefaultTryTimeout for each try,
	// DefaultMaxRetries retries and azcore's delays between them.
	Retry policy.RetryOptions
}

func (o *ClientOptions) armOptions(c Cloud) (*arm.ClientOptions, error) {
	if o == nil {
		o = &ClientOptions{}
	}
	tr := o.Transport
	if tr == nil {
		var err error
		if tr, err = c.Transport(); err != nil {
			return nil, err
		}
	}
	return &arm.ClientOptions{
		ClientOptions: policy.ClientOptions{Cloud: c.Configuration(), Transport: tr, Retry: withDefaults(o.Retry)},
		// Registering the provider is an explicit, polled step of Register;
		// the pipeline must not do it behind our back.
		DisableRPRegistration: true,
	}, nil
}

func newARMClient(c Cloud, cred azcore.TokenCredential, o *ClientOptions) (*arm.Client, error) {
	opts, err := o.armOptions(c)
	if err != nil {
		return nil, err
	}
	client, err := arm.NewClient(moduleName, moduleVersion, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("azure: ARM client for %s: %w", c.ARMEndpoint, err)
	}
	return client, nil
}

// Options configure a Registrar.
type Options struct {
	Cloud          Cloud
	Credential     azcore.TokenCredential
	SubscriptionID string
	Client         ClientOptions
	// PollInterval is the wait between provider-state checks; zero means 5 s.
	PollInterval time.Duration
	// PollTimeout bounds the wait for the provider; zero means 10 minutes.
	PollTimeout time.Duration
	// Progress, when set, is told about each step as it starts.
	Progress func(step, message string)
	// Logger receives debug logs of the steps (never tokens); nil discards.
	Logger *slog.Logger
}

// Registrar registers Azure Stack Hub stamps in one Azure subscription: it is
// Register-AzsEnvironment, Get-AzsActivationKey and UnRegister-AzsEnvironment.
type Registrar struct {
	cloud          Cloud
	subscriptionID string
	cred           azcore.TokenCredential
	regs           *registrationsClient
	locks          *locksClient
	perms          *permissionsClient
	roles          *roleDefinitionsClient
	subs           *subscriptionsClient
	providers      *armresources.ProvidersClient
	groups         *armresources.ResourceGroupsClient
	pollInterval   time.Duration
	pollTimeout    time.Duration
	progress       func(step, message string)
	log            *slog.Logger
}

// NewRegistrar returns a Registrar for o.SubscriptionID in o.Cloud.
func NewRegistrar(o Options) (*Registrar, error) {
	if o.Credential == nil {
		return nil, errors.New("azure: NewRegistrar needs a credential")
	}
	if o.SubscriptionID == "" {
		return nil, errors.New("azure: no subscription given; pass --subscription")
	}
	client, err := newARMClient(o.Cloud, o.Credential, &o.Client)
	if err != nil {
		return nil, err
	}
	armOpts, err := o.Client.armOptions(o.Cloud)
	if err != nil {
		return nil, err
	}
	providers, err := armresources.NewProvidersClient(o.SubscriptionID, o.Credential, armOpts)
	if err != nil {
		return nil, fmt.Errorf("azure: providers client: %w", err)
	}
	groups, err := armresources.NewResourceGroupsClient(o.SubscriptionID, o.Credential, armOpts)
	if err != nil {
		return nil, fmt.Errorf("azure: resource groups client: %w", err)
	}
	r := &Registrar{
		cloud: o.Cloud, subscriptionID: o.SubscriptionID, cred: o.Credential,
		regs:         newRegistrationsClient(o.SubscriptionID, client),
		locks:        &locksClient{internal: client, subscriptionID: o.SubscriptionID},
		perms:        &permissionsClient{internal: client, subscriptionID: o.SubscriptionID},
		roles:        &roleDefinitionsClient{internal: client, subscriptionID: o.SubscriptionID},
		subs:         &subscriptionsClient{internal: client, subscriptionID: o.SubscriptionID},
		providers:    providers,
		groups:       groups,
		pollInterval: o.PollInterval, pollTimeout: o.PollTimeout,
		progress: o.Progress, log: o.Logger,
	}
	if r.pollInterval <= 0 {
		r.pollInterval = 5 * time.Second
	}
	if r.pollTimeout <= 0 {
		r.pollTimeout = 10 * time.Minute
	}
	if r.progress == nil {
		r.progress = func(string, string) {}
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return r, nil
}

// RegistrationInfo is a registration as the user sees it.
type RegistrationInfo struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	ResourceGroup  string `json:"resourceGroup"`
	SubscriptionID string `json:"subscriptionId"`
	Location       string `json:"location"`
	CloudID        string `json:"cloudId"`
	ObjectID       string `json:"objectId"`
	BillingModel   string `json:"billingModel"`
}

func infoOf(r *Registration) RegistrationInfo {
	info := RegistrationInfo{ID: deref(r.ID), Name: deref(r.Name), Location: string(deref(r.Location))}
	if p := r.Properties; p != nil {
		info.CloudID, info.ObjectID, info.BillingModel = deref(p.CloudID), deref(p.ObjectID), deref(p.BillingModel)
	}
	// /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.AzureStack/registrations/{name}
	seg := strings.Split(strings.Trim(info.ID, "/"), "/")
	for i := 0; i+1 < len(seg); i++ {
		switch strings.ToLower(seg[i]) {
		case "subscriptions":
			info.SubscriptionID = seg[i+1]
		case "resourcegroups":
			info.ResourceGroup = seg[i+1]
		case "registrations":
			// The name in the ID is authoritative (the spec's Get example
			// has "name":"azurestack" for registration testregistration).
			info.Name = seg[i+1]
		}
	}
	return info
}

// Register is Register-AzsEnvironment: it registers the Microsoft.AzureStack
// provider and waits until it is Registered, makes sure no other registration
// holds cloudID, creates or updates the resource group rg in location,
// removes the registration's lock if present, PUTs the registration (location
// global, the token) and locks it again (CanNotDelete, RegistrationResourceLock).
// Running it again with the same token and name succeeds and changes nothing.
// Empty rg and location mean "azurestack" and the cloud's default location; an
// empty cloudID is read from the token.
func (r *Registrar) Register(ctx context.Context, token, cloudID, name, rg, location string) (*RegistrationInfo, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("azure: empty registration token; pass the token file made on the stamp with --token")
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	if rg == "" {
		rg = DefaultResourceGroup
	}
	if location == "" {
		location = r.cloud.DefaultLocation
	}
	if cloudID == "" {
		var err error
		if cloudID, err = TokenCloudID(token); err != nil {
			return nil, err
		}
	}
	if err := r.registerProvider(ctx); err != nil {
		return nil, err
	}

	r.progress("check", "looking for registrations of cloud ID "+cloudID)
	all, err := r.List(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, reg := range all {
		same := strings.EqualFold(reg.Name, name) && strings.EqualFold(reg.ResourceGroup, rg)
		switch {
		case !same && strings.EqualFold(reg.CloudID, cloudID):
			return nil, &CloudIDInUseError{CloudID: cloudID, Existing: reg}
		case same && reg.CloudID != "" && !strings.EqualFold(reg.CloudID, cloudID):
			return nil, &NameInUseError{Name: reg.Name, ResourceGroup: reg.ResourceGroup, CloudID: reg.CloudID, Want: cloudID}
		}
	}

	r.progress("resource-group", "creating or updating resource group "+rg+" in "+location)
	if _, err := r.groups.CreateOrUpdate(ctx, rg, armresources.ResourceGroup{Location: &location}, nil); err != nil {
		return nil, explain("create resource group "+rg, "Microsoft.Resources/subscriptions/resourceGroups/write", err)
	}

	hadLock, err := r.removeLock(ctx, rg, name)
	if err != nil {
		return nil, err
	}

	r.progress("registration", "creating registration "+name)
	loc := LocationGlobal
	resp, err := r.regs.CreateOrUpdate(ctx, rg, name, RegistrationParameter{
		Location:   &loc,
		Properties: &RegistrationParameterProperties{RegistrationToken: &token},
	}, nil)
	if err != nil {
		err = explain("create registration "+name, "Microsoft.AzureStack/registrations/write", err)
		if hadLock {
			err = r.restoreLock(ctx, rg, name, err)
		}
		return nil, err
	}
	info := infoOf(&resp.Registration)
	if info.CloudID != "" && !strings.EqualFold(info.CloudID, cloudID) {
		return nil, &MismatchError{What: "cloud ID of registration " + name, Want: cloudID, Got: info.CloudID}
	}
	if err := r.addLock(ctx, rg, name); err != nil {
		return nil, err
	}
	r.log.Info("registered", "name", name, "resourceGroup", rg, "cloudId", cloudID)
	return &info, nil
}

func checkName(name string) error {
	if name == "" {
		return errors.New("azure: no registration name; pass --name (e.g. azurestack-<cloud ID>)")
	}
	if len(name) > 128 || strings.ContainsAny(name, `/\?#%&:<>*`) || strings.TrimSpace(name) != name {
		return fmt.Errorf("azure: registration name %q is not a valid resource name; use letters, digits, '-', '_' and '.'", name)
	}
	return nil
}

func (r *Registrar) registerProvider(ctx context.Context) error {
	r.progress("provider", "registering resource provider "+ProviderNamespace)
	resp, err := r.providers.Register(ctx, ProviderNamespace, nil)
	if err != nil {
		return explain("register resource provider "+ProviderNamespace, "Microsoft.AzureStack/register/action", err)
	}
	state := deref(resp.RegistrationState)
	deadline := time.Now().Add(r.pollTimeout)
	for !strings.EqualFold(state, "Registered") {
		if time.Now().After(deadline) {
			return fmt.Errorf("azure: resource provider %s still %s after %s; run register again later", ProviderNamespace, state, r.pollTimeout)
		}
		r.progress("provider", "waiting for "+ProviderNamespace+" to be registered (now "+state+")")
		t := time.NewTimer(r.pollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("azure: wait for resource provider %s: %w", ProviderNamespace, ctx.Err())
		case <-t.C:
		}
		got, err := r.providers.Get(ctx, ProviderNamespace, nil)
		if err != nil {
			return explain("read resource provider "+ProviderNamespace, "Microsoft.Resources/subscriptions/providers/read", err)
		}
		state = deref(got.RegistrationState)
	}
	return nil
}

// removeLock deletes RegistrationResourceLock from the registration if it
// has one, and reports whether it did.
func (r *Registrar) removeLock(ctx context.Context, rg, name string) (bool, error) {
	if _, err := r.locks.GetAtResourceLevel(ctx, rg, name, LockName); err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, explain("read lock "+LockName, "Microsoft.Authorization/locks/read", err)
	}
	r.progress("lock", "removing lock "+LockName+" from "+name)
	if _, err := r.locks.DeleteAtResourceLevel(ctx, rg, name, LockName); err != nil {
		return false, explain("remove lock "+LockName, "Microsoft.Authorization/locks/delete", err)
	}
	return true, nil
}

func (r *Registrar) addLock(ctx context.Context, rg, name string) error {
	r.progress("lock", "locking "+name+" with "+LockName+" (CanNotDelete)")
	level, notes := LockLevelCanNotDelete, LockNotes(name)
	_, err := r.locks.CreateOrUpdateAtResourceLevel(ctx, rg, name, LockName,
		ManagementLockObject{Properties: &ManagementLockProperties{Level: &level, Notes: &notes}})
	return explain("create lock "+LockName+" on registration "+name+" (the registration itself is in place, unlocked)",
		"Microsoft.Authorization/locks/write", err)
}

// restoreLock puts the lock back after a failed change and returns cause,
// noting if the lock could not be restored.
func (r *Registrar) restoreLock(ctx context.Context, rg, name string, cause error) error {
	if err := r.addLock(context.WithoutCancel(ctx), rg, name); err != nil {
		return fmt.Errorf("%w (and restoring the lock failed: %v)", cause, err)
	}
	return cause
}

// ActivationKey is an activation key with what it was checked against.
type ActivationKey struct {
	// Key is the key text, a JWS; it is not a secret but is only shown on request.
	Key          string
	Claims       KeyClaims
	Registration RegistrationInfo
}

// ActivationKey is Get-AzsActivationKey: it reads the registration, POSTs
// getactivationkey and checks that the key's cloud ID, registration name and
// resource group are the registration's before returning it.
func (r *Registrar) ActivationKey(ctx context.Context, name, rg string) (*ActivationKey, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if rg == "" {
		rg = DefaultResourceGroup
	}
	r.progress("registration", "reading registration "+name)
	got, err := r.regs.Get(ctx, rg, name, nil)
	if err != nil {
		return nil, explain("read registration "+name+" in resource group "+rg, "Microsoft.AzureStack/registrations/read", err)
	}
	reg := infoOf(&got.Registration)
	r.progress("activation-key", "fetching the activation key of "+name)
	resp, err := r.regs.GetActivationKey(ctx, rg, name, nil)
	if err != nil {
		return nil, explain("get activation key of "+name, "Microsoft.AzureStack/registrations/getActivationKey/action", err)
	}
	key := strings.TrimSpace(deref(resp.ActivationKey))
	claims, err := ParseActivationKey(key)
	if err != nil {
		return nil, fmt.Errorf("get activation key of %s: %w", name, err)
	}
	if reg.CloudID == "" {
		r.log.Warn("registration has no cloudId; checking the key by name only", "name", name)
	} else if !strings.EqualFold(claims.CloudID, reg.CloudID) {
		return nil, &MismatchError{What: "cloud ID of the activation key for " + name, Want: reg.CloudID, Got: claims.CloudID}
	}
	if !strings.EqualFold(claims.RegistrationName, reg.Name) {
		return nil, &MismatchError{What: "registration name in the activation key", Want: reg.Name, Got: claims.RegistrationName}
	}
	if !strings.EqualFold(claims.ResourceGroupName, rg) {
		return nil, &MismatchError{What: "resource group in the activation key", Want: rg, Got: claims.ResourceGroupName}
	}
	return &ActivationKey{Key: key, Claims: claims, Registration: reg}, nil
}

// FindRequest says which registration to look up: by Name (in
// ResourceGroup), or by the cloud ID of Token or CloudID (searched in the
// whole subscription, or only in ResourceGroup when SearchResourceGroupOnly).
type FindRequest struct {
	Name          string
	Token         string
	CloudID       string
	ResourceGroup string
	// SearchResourceGroupOnly limits a cloud-ID search to ResourceGroup.
	SearchResourceGroupOnly bool
}

// UnregisterRequest says which registration Unregister removes; it is a
// FindRequest.
type UnregisterRequest = FindRequest

// Find returns the registration req names without changing anything.
func (r *Registrar) Find(ctx context.Context, req FindRequest) (*RegistrationInfo, error) {
	rg := req.ResourceGroup
	if rg == "" {
		rg = DefaultResourceGroup
	}
	cloudID := req.CloudID
	if req.Token != "" {
		id, err := TokenCloudID(req.Token)
		if err != nil {
			return nil, err
		}
		if cloudID != "" && !strings.EqualFold(cloudID, id) {
			return nil, &MismatchError{What: "cloud ID of the token", Want: cloudID, Got: id}
		}
		cloudID = id
	}
	switch {
	case req.Name != "":
		got, err := r.regs.Get(ctx, rg, req.Name, nil)
		if isNotFound(err) {
			return nil, fmt.Errorf("%w: no registration %q in resource group %q of subscription %s; check --name, --resource-group and --subscription",
				ErrNotFound, req.Name, rg, r.subscriptionID)
		}
		if err != nil {
			return nil, explain("read registration "+req.Name, "Microsoft.AzureStack/registrations/read", err)
		}
		info := infoOf(&got.Registration)
		if cloudID != "" && !strings.EqualFold(info.CloudID, cloudID) {
			return nil, &MismatchError{What: "cloud ID of registration " + req.Name, Want: cloudID, Got: info.CloudID}
		}
		return &info, nil
	case cloudID != "":
		scope := ""
		if req.SearchResourceGroupOnly {
			scope = rg
		}
		all, err := r.List(ctx, scope)
		if err != nil {
			return nil, err
		}
		var found []RegistrationInfo
		for _, reg := range all {
			if strings.EqualFold(reg.CloudID, cloudID) {
				found = append(found, reg)
			}
		}
		switch len(found) {
		case 0:
			return nil, fmt.Errorf("%w: no registration with cloud ID %s in subscription %s; check --subscription (the one used to register)",
				ErrNotFound, cloudID, r.subscriptionID)
		case 1:
			return &found[0], nil
		}
		var names []string
		for _, f := range found {
			names = append(names, f.ResourceGroup+"/"+f.Name)
		}
		return nil, fmt.Errorf("azure: %d registrations hold cloud ID %s (%s); pick one with --name and --resource-group",
			len(found), cloudID, strings.Join(names, ", "))
	}
	return nil, errors.New("azure: no registration given; pass one of --name, --token or --cloud-id")
}

// Unregister is UnRegister-AzsEnvironment: it finds the registration (by
// name, token or cloud ID; the last two work here, unlike in the module),
// removes its lock, deletes it and checks that it is gone.
func (r *Registrar) Unregister(ctx context.Context, req UnregisterRequest) (*RegistrationInfo, error) {
	info, err := r.Find(ctx, req)
	if err != nil {
		return nil, err
	}
	rg := info.ResourceGroup
	if rg == "" {
		rg = req.ResourceGroup
	}
	hadLock, err := r.removeLock(ctx, rg, info.Name)
	if err != nil {
		return nil, err
	}
	r.progress("registration", "deleting registration "+info.Name)
	if _, err := r.regs.Delete(ctx, rg, info.Name, nil); err != nil {
		err = explain("delete registration "+info.Name, "Microsoft.AzureStack/registrations/delete", err)
		if hadLock {
			err = r.restoreLock(ctx, rg, info.Name, err)
		}
		return nil, err
	}
	if _, err := r.regs.Get(ctx, rg, info.Name, nil); err == nil {
		return nil, fmt.Errorf("azure: registration %s still exists after DELETE; run unregister again", info.Name)
	} else if !isNotFound(err) {
		return nil, explain("check registration "+info.Name+" is gone", "Microsoft.AzureStack/registrations/read", err)
	}
	r.log.Info("unregistered", "name", info.Name, "resourceGroup", rg, "cloudId", info.CloudID)
	return info, nil
}

// List returns the registrations in resource group rg, or in the whole
// subscription when rg is empty.
func (r *Registrar) List(ctx context.Context, rg string) ([]RegistrationInfo, error) {
	pager := r.regs.NewListBySubscriptionPager(nil)
	where := "subscription " + r.subscriptionID
	if rg != "" {
		pager = r.regs.NewListPager(rg, nil)
		where = "resource group " + rg
	}
	var out []RegistrationInfo
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			if rg != "" && isNotFound(err) {
				return nil, nil // no such resource group: no registrations in it
			}
			if providerNotRegistered(err) {
				return nil, nil // Microsoft.AzureStack never registered here: no registrations
			}
			return nil, explain("list registrations in "+where, "Microsoft.AzureStack/registrations/read", err)
		}
		for _, reg := range page.Value {
			if reg != nil {
				out = append(out, infoOf(reg))
			}
		}
	}
	return out, nil
}

// SubscriptionID returns the subscription r works in.
func (r *Registrar) SubscriptionID() string { return r.subscriptionID }
