package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// CheckStatus is the outcome of one preflight check.
type CheckStatus string

// The outcomes of a check.
const (
	// CheckPass: nothing stands in the way.
	CheckPass CheckStatus = "pass"
	// CheckWarn: worth knowing, or not decidable from here; it does not stop
	// a registration by itself.
	CheckWarn CheckStatus = "warn"
	// CheckFail: the registration would fail; fix this first.
	CheckFail CheckStatus = "fail"
)

// Names of the preflight checks, in the order a report lists them.
const (
	CheckAccount                 = "account"
	CheckProvider                = "provider"
	CheckLocation                = "location"
	CheckResourceGroup           = "resource-group"
	CheckPermissionProvider      = "permission-provider"
	CheckPermissionResourceGroup = "permission-resource-group"
	CheckPermissionRegistration  = "permission-registration"
	CheckPermissionLock          = "permission-lock"
	CheckCloudID                 = "cloud-id"
	CheckName                    = "name"
)

// Check is one preflight check: what was found, in one line, and for
// anything but a pass, the fix in one line.
type Check struct {
	Name    string      `json:"name"`
	Status  CheckStatus `json:"status"`
	Finding string      `json:"finding"`
	Fix     string      `json:"fix,omitempty"`
}

// MissingPermission is an action the caller lacks at a scope, with the
// built-in roles that grant it.
type MissingPermission struct {
	Action string `json:"action"`
	// Scope is the ARM scope it was evaluated at: /subscriptions/{id} or
	// /subscriptions/{id}/resourceGroups/{name}.
	Scope string   `json:"scope"`
	Roles []string `json:"roles"`
}

// RegistrationRef names a registration.
type RegistrationRef struct {
	Name          string `json:"name"`
	ResourceGroup string `json:"resourceGroup"`
}

// PreflightRequest says what a registration is about to do: register the
// stamp CloudID (or the cloud ID of Token) as Name in ResourceGroup, created
// in Location if it does not exist.
type PreflightRequest struct {
	CloudID string
	// Token is read for the cloud ID when CloudID is empty.
	Token string
	Name  string
	// ResourceGroup defaults to "azurestack".
	ResourceGroup string
	// Location is the resource group's location (the registration itself is
	// always "global"); it defaults to the cloud's default location.
	Location string
	// Replaces names a registration of the same stamp that the run removes
	// first (a renewal or change); that it holds the cloud ID is then expected.
	Replaces *RegistrationRef
}

// PreflightReport is the result of [Registrar.Preflight]: the facts found
// and the checks made on them.
type PreflightReport struct {
	Account           string `json:"account"`
	TenantID          string `json:"tenantId"`
	SubscriptionID    string `json:"subscriptionId"`
	SubscriptionName  string `json:"subscriptionName,omitempty"`
	SubscriptionState string `json:"subscriptionState,omitempty"`
	// CloudID, Name, ResourceGroup and Location are what was checked, with
	// the defaults filled in and the location spelled as Azure names it.
	CloudID       string `json:"cloudId"`
	Name          string `json:"name"`
	ResourceGroup string `json:"resourceGroup"`
	Location      string `json:"location"`
	// ProviderState is Microsoft.AzureStack's registration state, if read.
	ProviderState         string `json:"providerState,omitempty"`
	ResourceGroupExists   bool   `json:"resourceGroupExists"`
	ResourceGroupLocation string `json:"resourceGroupLocation,omitempty"`
	// Locations are the names of the subscription's locations, if read.
	Locations []string            `json:"locations,omitempty"`
	Missing   []MissingPermission `json:"missing,omitempty"`
	// Holding are the registrations in the subscription that hold CloudID.
	Holding []RegistrationInfo `json:"holding,omitempty"`
	Checks  []Check            `json:"checks"`
}

// OK reports whether no check failed.
func (p *PreflightReport) OK() bool { return len(p.Failed()) == 0 }

// Failed returns the checks that failed.
func (p *PreflightReport) Failed() []Check { return p.with(CheckFail) }

// Warnings returns the checks that warn.
func (p *PreflightReport) Warnings() []Check { return p.with(CheckWarn) }

func (p *PreflightReport) with(s CheckStatus) []Check {
	var out []Check
	for _, c := range p.Checks {
		if c.Status == s {
			out = append(out, c)
		}
	}
	return out
}

// Check returns the check with the given name, or nil.
func (p *PreflightReport) Check(name string) *Check {
	for i := range p.Checks {
		if p.Checks[i].Name == name {
			return &p.Checks[i]
		}
	}
	return nil
}

// Err returns a *PreflightError for the failed checks, or nil.
func (p *PreflightReport) Err() error {
	if f := p.Failed(); len(f) > 0 {
		return &PreflightError{Failed: f}
	}
	return nil
}

// ErrPreflight is wrapped by every *PreflightError.
var ErrPreflight = errors.New("azure: preflight check failed")

// PreflightError reports the failed checks of a preflight. Its message is
// one line: the first failure with its fix, and how many more there are.
type PreflightError struct {
	Failed []Check
}

func (e *PreflightError) Error() string {
	if len(e.Failed) == 0 {
		return ErrPreflight.Error()
	}
	c := e.Failed[0]
	msg := "azure: preflight " + c.Name + ": " + c.Finding
	if c.Fix != "" {
		msg += "; " + c.Fix
	}
	if n := len(e.Failed) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more failed check%s; run preflight to see all)", n, plural(n))
	}
	return msg
}

func (e *PreflightError) Unwrap() error { return ErrPreflight }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Preflight checks, without changing anything in Azure, what Register would
// need for req: who is signed in and the subscription's state, the
// Microsoft.AzureStack provider's state, the location and resource group,
// the caller's permitted actions (from Microsoft.Authorization/permissions
// at the resource group, or the subscription while the group does not exist;
// registering the provider always at the subscription), whether another
// registration in the subscription holds the cloud ID, and whether the name
// is free or already this stamp's. It sends only GET requests.
//
// A check whose facts cannot be read warns instead of failing; only a
// missing cloud ID, a failed sign-in or the end of ctx make Preflight return
// an error. Deny assignments are not part of the permissions Azure lists,
// and registrations in other subscriptions cannot be seen, so a report
// without failures is not a promise.
func (r *Registrar) Preflight(ctx context.Context, req PreflightRequest) (*PreflightReport, error) {
	cloudID := strings.TrimSpace(req.CloudID)
	if cloudID == "" && strings.TrimSpace(req.Token) != "" {
		var err error
		if cloudID, err = TokenCloudID(req.Token); err != nil {
			return nil, err
		}
	}
	if cloudID == "" {
		return nil, errors.New("azure: preflight needs the stamp's cloud ID; pass --token (or --cloud-id)")
	}
	rg := req.ResourceGroup
	if rg == "" {
		rg = DefaultResourceGroup
	}
	loc := req.Location
	if loc == "" {
		loc = r.cloud.DefaultLocation
	}
	rep := &PreflightReport{SubscriptionID: r.subscriptionID, CloudID: cloudID, Name: req.Name, ResourceGroup: rg, Location: loc}
	r.progress("preflight", "checking subscription "+r.subscriptionID+" before registering cloud ID "+cloudID)

	id, err := WhoAmI(ctx, r.cloud, r.cred)
	if err := ended(ctx, err); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("azure: preflight: %w", err)
	}
	rep.Account, rep.TenantID = id.Account, id.Tenant
	sub, subErr := r.subs.Get(ctx)
	if err := ended(ctx, subErr); err != nil {
		return nil, err
	}
	rep.Checks = append(rep.Checks, r.accountCheck(rep, sub, subErr))

	prov, provErr := r.providers.Get(ctx, ProviderNamespace, nil)
	if err := ended(ctx, provErr); err != nil {
		return nil, err
	}
	rep.ProviderState = deref(prov.RegistrationState)
	rep.Checks = append(rep.Checks, r.providerCheck(rep, provErr))

	locs, locErr := r.subs.ListLocations(ctx)
	if err := ended(ctx, locErr); err != nil {
		return nil, err
	}
	for _, l := range locs {
		rep.Locations = append(rep.Locations, deref(l.Name))
	}
	rep.Checks = append(rep.Checks, r.locationCheck(rep, locs, locErr))

	group, rgErr := r.groups.Get(ctx, rg, nil)
	if isNotFound(rgErr) {
		rgErr = nil
	} else if err := ended(ctx, rgErr); err != nil {
		return nil, err
	} else if rgErr == nil {
		rep.ResourceGroupExists, rep.ResourceGroupLocation = true, deref(group.Location)
	}
	rep.Checks = append(rep.Checks, r.resourceGroupCheck(rep, locs, rgErr))

	subPerms, subPermErr := r.perms.ListForSubscription(ctx)
	if err := ended(ctx, subPermErr); err != nil {
		return nil, err
	}
	rgPerms, rgPermErr, rgScope := subPerms, subPermErr, r.scope("")
	if rep.ResourceGroupExists {
		rgPerms, rgPermErr = r.perms.ListForResourceGroup(ctx, rg)
		if err := ended(ctx, rgPermErr); err != nil {
			return nil, err
		}
		rgScope = r.scope(rg)
	}
	rep.Checks = append(rep.Checks,
		r.permissionCheck(rep, CheckPermissionProvider, "register the resource provider", subPerms, subPermErr, r.scope(""), ActionProviderRegister),
		r.permissionCheck(rep, CheckPermissionResourceGroup, "create or update the resource group", rgPerms, rgPermErr, rgScope, ActionResourceGroupWrite),
		r.permissionCheck(rep, CheckPermissionRegistration, "manage the registration", rgPerms, rgPermErr, rgScope,
			ActionRegistrationRead, ActionRegistrationWrite, ActionRegistrationDelete, ActionGetActivationKey),
		r.permissionCheck(rep, CheckPermissionLock, "manage its lock", rgPerms, rgPermErr, rgScope,
			ActionLockRead, ActionLockWrite, ActionLockDelete))

	all, listErr := r.List(ctx, "")
	if err := ended(ctx, listErr); err != nil {
		return nil, err
	}
	rep.Checks = append(rep.Checks, r.cloudIDCheck(rep, req.Replaces, all, listErr), r.nameCheck(rep, req.Replaces, all, listErr))
	r.log.Debug("preflight", "cloudId", cloudID, "failed", len(rep.Failed()), "warnings", len(rep.Warnings()))
	return rep, nil
}

// ended returns ctx's error, wrapped, when err is the context ending.
func ended(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("azure: preflight: %w", ctx.Err())
	}
	return nil
}

// scope returns the ARM scope of the subscription, or of resource group rg in it.
func (r *Registrar) scope(rg string) string {
	s := "/subscriptions/" + r.subscriptionID
	if rg != "" {
		s += "/resourceGroups/" + rg
	}
	return s
}

// where names a scope for the user.
func (r *Registrar) where(scope string) string {
	if _, rg, ok := strings.Cut(scope, "/resourceGroups/"); ok {
		return "resource group " + rg
	}
	return "subscription " + r.subscriptionID
}

// short says in a few words why a lookup failed: "403 AuthorizationFailed".
func short(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		code, _ := armError(re)
		return fmt.Sprintf("%d %s", re.StatusCode, code)
	}
	s := oneLine(err.Error())
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func forbidden(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusForbidden
}

func (r *Registrar) accountCheck(rep *PreflightReport, sub Subscription, err error) Check {
	c := Check{Name: CheckAccount}
	who := "signed in as " + firstNonEmpty(rep.Account, "an account the token does not name")
	if rep.TenantID != "" {
		who += " (tenant " + rep.TenantID + ")"
	}
	switch {
	case isNotFound(err) || forbidden(err):
		c.Status, c.Finding = CheckFail, who+"; subscription "+r.subscriptionID+" is not available to this account ("+short(err)+")"
		c.Fix = "check --subscription, or sign in with an account that has a role in it"
		return c
	case err != nil:
		c.Status, c.Finding = CheckWarn, who+"; could not read subscription "+r.subscriptionID+" ("+short(err)+")"
		c.Fix = "check the network and --subscription"
		return c
	}
	rep.SubscriptionName, rep.SubscriptionState = deref(sub.DisplayName), deref(sub.State)
	c.Finding = fmt.Sprintf("%s; subscription %q (%s) is %s", who, rep.SubscriptionName, r.subscriptionID, firstNonEmpty(rep.SubscriptionState, "in an unknown state"))
	tenant := deref(sub.TenantID)
	switch strings.ToLower(rep.SubscriptionState) {
	case "disabled", "deleted":
		c.Status, c.Fix = CheckFail, "Azure refuses every write in a "+strings.ToLower(rep.SubscriptionState)+" subscription: re-enable it, or choose another with --subscription"
	case "warned", "pastdue":
		c.Status, c.Fix = CheckWarn, "Azure may disable this subscription soon: settle its billing, or choose another with --subscription"
	default:
		c.Status = CheckPass
	}
	if c.Status == CheckPass && tenant != "" && rep.TenantID != "" && !strings.EqualFold(tenant, rep.TenantID) {
		c.Status = CheckWarn
		c.Finding += "; it belongs to tenant " + tenant
		c.Fix = "sign in to tenant " + tenant + " (--tenant " + tenant + ")"
	}
	return c
}

func (r *Registrar) providerCheck(rep *PreflightReport, err error) Check {
	c := Check{Name: CheckProvider}
	if err != nil {
		c.Status, c.Finding = CheckWarn, "could not read the state of resource provider "+ProviderNamespace+" ("+short(err)+")"
		c.Fix = "register tries to register it anyway; check the network, or ask for Reader on the subscription"
		return c
	}
	state := firstNonEmpty(rep.ProviderState, "unknown")
	c.Finding = "resource provider " + ProviderNamespace + " is " + state + " in subscription " + r.subscriptionID
	switch strings.ToLower(state) {
	case "registered":
		c.Status = CheckPass
	case "registering":
		c.Status, c.Fix = CheckWarn, "register waits until it is Registered (usually a few minutes)"
	case "unregistering":
		c.Status, c.Fix = CheckWarn, "wait until the unregistering has finished, then run register (it registers the provider again)"
	default:
		c.Status = CheckWarn
		c.Fix = "register registers it first (a few minutes), which needs " + ActionProviderRegister + " on the subscription"
	}
	return c
}

// normLoc spells a location for comparison: "West Central US" → "westcentralus".
func normLoc(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "")) }

// findLocation returns the subscription location named want (by name or display name).
func findLocation(locs []SubscriptionLocation, want string) (SubscriptionLocation, bool) {
	for _, l := range locs {
		if normLoc(deref(l.Name)) == normLoc(want) || normLoc(deref(l.DisplayName)) == normLoc(want) {
			return l, true
		}
	}
	return SubscriptionLocation{}, false
}

func (r *Registrar) locationCheck(rep *PreflightReport, locs []SubscriptionLocation, err error) Check {
	c := Check{Name: CheckLocation}
	loc := rep.Location
	if strings.EqualFold(loc, string(LocationGlobal)) {
		c.Status = CheckFail
		c.Finding = "location global is the registration's own location (always global), not a place for its resource group"
		c.Fix = "leave --location out (default " + r.cloud.DefaultLocation + ") or give a region such as " + r.cloud.DefaultLocation
		return c
	}
	if err != nil {
		c.Status, c.Finding = CheckWarn, "could not list the locations of subscription "+r.subscriptionID+" ("+short(err)+")"
		c.Fix = "make sure " + loc + " is a region of the subscription (az account list-locations)"
		return c
	}
	l, ok := findLocation(locs, loc)
	if !ok {
		names := append([]string(nil), rep.Locations...)
		sort.Strings(names)
		more := ""
		if len(names) > 8 {
			names, more = names[:8], ", …"
		}
		c.Status = CheckFail
		c.Finding = "location " + loc + " is not available in subscription " + r.subscriptionID + " (the module's UnknownResourceGroupLocation)"
		c.Fix = fmt.Sprintf("pass --location with one of its %d locations: %s%s", len(rep.Locations), strings.Join(names, ", "), more)
		if len(rep.Locations) == 1 {
			c.Fix = "pass --location " + names[0] + ", its only location"
		}
		return c
	}
	rep.Location = deref(l.Name)
	c.Status = CheckPass
	c.Finding = "resource group location " + rep.Location
	if dn := deref(l.DisplayName); dn != "" && dn != rep.Location {
		c.Finding += " (" + dn + ")"
	}
	c.Finding += " is available in subscription " + r.subscriptionID + "; the registration itself uses location global"
	return c
}

func (r *Registrar) resourceGroupCheck(rep *PreflightReport, locs []SubscriptionLocation, err error) Check {
	c := Check{Name: CheckResourceGroup}
	rg := rep.ResourceGroup
	switch {
	case err != nil:
		c.Status, c.Finding = CheckWarn, "could not read resource group "+rg+" ("+short(err)+")"
		c.Fix = "ask for Reader on the resource group or the subscription"
	case !rep.ResourceGroupExists:
		c.Status, c.Finding = CheckPass, "resource group "+rg+" does not exist yet; register creates it in "+rep.Location
	case sameLocation(locs, rep.ResourceGroupLocation, rep.Location):
		c.Status, c.Finding = CheckPass, "resource group "+rg+" exists in "+rep.ResourceGroupLocation
	default:
		c.Status = CheckFail
		c.Finding = "resource group " + rg + " exists in " + rep.ResourceGroupLocation + ", not in " + rep.Location +
			": updating it there fails (InvalidResourceGroupLocation)"
		c.Fix = "pass --location " + rep.ResourceGroupLocation + ", or another --resource-group"
	}
	return c
}

// sameLocation reports whether a and b name the same location.
func sameLocation(locs []SubscriptionLocation, a, b string) bool {
	if normLoc(a) == normLoc(b) {
		return true
	}
	la, oka := findLocation(locs, a)
	lb, okb := findLocation(locs, b)
	return oka && okb && strings.EqualFold(deref(la.Name), deref(lb.Name))
}

func (r *Registrar) permissionCheck(rep *PreflightReport, name, purpose string, perms Permissions, err error, scope string, actions ...string) Check {
	c := Check{Name: name}
	where := r.where(scope)
	if err != nil {
		c.Status = CheckWarn
		c.Finding = "could not read your permissions at " + where + " to " + purpose + " (" + short(err) + ")"
		c.Fix = "ask for " + ActionPermissionsRead + " (Reader, or the custom role of azs-courier role create); otherwise Azure refuses what is missing when register runs"
		return c
	}
	var missing []string
	var roles []string
	for _, a := range actions {
		if perms.Allows(a) {
			continue
		}
		granting := RolesGranting(a)
		rep.Missing = append(rep.Missing, MissingPermission{Action: a, Scope: scope, Roles: granting})
		missing = append(missing, a)
		if roles == nil {
			roles = granting
		} else {
			roles = intersect(roles, granting)
		}
	}
	if len(missing) == 0 {
		c.Status, c.Finding = CheckPass, "allowed to "+purpose+" at "+where+": "+compactActions(actions)
		return c
	}
	c.Status = CheckFail
	c.Finding = "not allowed to " + purpose + " at " + where + ": missing " + compactActions(missing)
	on := "on " + where
	if strings.Contains(scope, "/resourceGroups/") {
		on += " or the subscription"
	}
	c.Fix = "ask for " + askRoles(roles) + " " + on + ", or for the custom role '" + RegistrationRoleName + "' (azs-courier role create)"
	return c
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

// compactActions writes actions sharing namespace and type once:
// "Microsoft.Authorization/locks/{read,write,delete}".
func compactActions(actions []string) string {
	var order []string
	groups := map[string][]string{}
	for _, a := range actions {
		parts := strings.SplitN(a, "/", 3)
		prefix, rest := a, ""
		if len(parts) == 3 {
			prefix, rest = parts[0]+"/"+parts[1]+"/", parts[2]
		}
		if _, ok := groups[prefix]; !ok {
			order = append(order, prefix)
		}
		groups[prefix] = append(groups[prefix], rest)
	}
	var out []string
	for _, p := range order {
		g := groups[p]
		switch {
		case len(g) == 1 && g[0] == "":
			out = append(out, p)
		case len(g) == 1:
			out = append(out, p+g[0])
		default:
			out = append(out, p+"{"+strings.Join(g, ",")+"}")
		}
	}
	return strings.Join(out, ", ")
}

func (r *Registrar) cloudIDCheck(rep *PreflightReport, replaces *RegistrationRef, all []RegistrationInfo, err error) Check {
	c := Check{Name: CheckCloudID}
	if err != nil {
		c.Status, c.Finding = CheckWarn, "could not list the registrations of subscription "+r.subscriptionID+" ("+short(err)+")"
		c.Fix = "ask for " + ActionRegistrationRead + " on the subscription; otherwise a conflict shows only when register runs"
		return c
	}
	var ours, replaced, others []RegistrationInfo
	for _, reg := range all {
		if !strings.EqualFold(reg.CloudID, rep.CloudID) {
			continue
		}
		rep.Holding = append(rep.Holding, reg)
		switch {
		case replaces != nil && sameRegistration(reg, replaces.Name, replaces.ResourceGroup):
			replaced = append(replaced, reg)
		case sameRegistration(reg, rep.Name, rep.ResourceGroup):
			ours = append(ours, reg)
		default:
			others = append(others, reg)
		}
	}
	switch {
	case len(others) > 0:
		o := others[0]
		c.Status = CheckFail
		c.Finding = fmt.Sprintf("cloud ID %s is already registered as %q in resource group %q", rep.CloudID, o.Name, o.ResourceGroup)
		if len(others) > 1 {
			c.Finding += fmt.Sprintf(" (and %d more)", len(others)-1)
		}
		c.Fix = fmt.Sprintf("reuse it with --name %s --resource-group %s, or remove it first with unregister --name %s --resource-group %s",
			o.Name, o.ResourceGroup, o.Name, o.ResourceGroup)
	case len(replaced) > 0:
		c.Status = CheckPass
		c.Finding = fmt.Sprintf("cloud ID %s is held by %q in resource group %q, which this run removes first", rep.CloudID, replaced[0].Name, replaced[0].ResourceGroup)
	case len(ours) > 0:
		c.Status = CheckPass
		c.Finding = fmt.Sprintf("cloud ID %s is already registered as %q in resource group %q: registering again updates it", rep.CloudID, ours[0].Name, ours[0].ResourceGroup)
	default:
		c.Status = CheckPass
		c.Finding = "no registration in subscription " + r.subscriptionID + " holds cloud ID " + rep.CloudID
	}
	return c
}

func sameRegistration(reg RegistrationInfo, name, rg string) bool {
	return strings.EqualFold(reg.Name, name) && strings.EqualFold(reg.ResourceGroup, rg)
}

func (r *Registrar) nameCheck(rep *PreflightReport, replaces *RegistrationRef, all []RegistrationInfo, err error) Check {
	c := Check{Name: CheckName}
	if rep.Name == "" {
		c.Status, c.Finding = CheckFail, "no registration name given"
		c.Fix = "pass --name, e.g. AzureStack-" + rep.CloudID
		return c
	}
	if nameErr := checkName(rep.Name); nameErr != nil {
		c.Status, c.Finding = CheckFail, fmt.Sprintf("registration name %q is not a valid resource name", rep.Name)
		c.Fix = "use letters, digits, '-', '_' and '.', at most 128 characters"
		return c
	}
	if err != nil {
		c.Status, c.Finding = CheckWarn, fmt.Sprintf("could not check whether %q is free (%s)", rep.Name, short(err))
		c.Fix = "ask for " + ActionRegistrationRead + " on the subscription"
		return c
	}
	for _, reg := range all {
		if !sameRegistration(reg, rep.Name, rep.ResourceGroup) {
			continue
		}
		switch {
		case replaces != nil && sameRegistration(reg, replaces.Name, replaces.ResourceGroup):
			c.Status = CheckPass
			c.Finding = fmt.Sprintf("%q is the registration this run replaces; it is removed first, so its name can be reused", reg.Name)
		case strings.EqualFold(reg.CloudID, rep.CloudID):
			c.Status = CheckPass
			c.Finding = fmt.Sprintf("%q in resource group %q already belongs to this stamp (cloud ID %s)", reg.Name, reg.ResourceGroup, rep.CloudID)
		default:
			c.Status = CheckFail
			c.Finding = fmt.Sprintf("%q in resource group %q belongs to cloud ID %s, not %s", reg.Name, reg.ResourceGroup, firstNonEmpty(reg.CloudID, "(none)"), rep.CloudID)
			c.Fix = "choose another --name (e.g. AzureStack-" + rep.CloudID + ")"
		}
		return c
	}
	c.Status, c.Finding = CheckPass, fmt.Sprintf("name %q is free in resource group %q", rep.Name, rep.ResourceGroup)
	return c
}
