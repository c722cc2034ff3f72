package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/azs-courier/azs-courier/azure"
	"github.com/azs-courier/azs-courier/courier"
)

// Preflight outcomes and report, as the azure package makes them.
type (
	// PreflightReport is what the checks before a registration found: the
	// account, tenant and subscription, and each check with its finding
	// and fix.
	PreflightReport = azure.PreflightReport
	// PreflightCheck is one check of a PreflightReport.
	PreflightCheck = azure.Check
	// CheckStatus is a check's outcome: CheckPass, CheckWarn or CheckFail.
	CheckStatus = azure.CheckStatus
)

// Check outcomes.
const (
	CheckPass = azure.CheckPass
	CheckWarn = azure.CheckWarn
	CheckFail = azure.CheckFail
)

// ErrPreflight is matched by the error of a registration a preflight check
// stopped before anything was written.
var ErrPreflight = azure.ErrPreflight

// PreflightRequest is what a registration is about to do.
type PreflightRequest struct {
	Subscription  string
	Token         *ArtefactView
	Name          string
	ResourceGroup string // "" means azurestack
	Location      string // the resource group's; "" means the cloud's default
	// Replaces names the registration a renewal removes first.
	Replaces *ReplacedRegistration
}

// Preflight checks, with reads only, whether registering req.Token as
// req.Name would work: the resource provider, the caller's permissions at
// the target scope, the location, the resource group, another registration
// holding the cloud ID, the name. Each check says what it found and the
// fix; nothing is changed.
func (c *Connected) Preflight(ctx context.Context, req PreflightRequest, progress func(Event)) (*PreflightReport, error) {
	progress = orDiscard(progress)
	if req.Token == nil || req.Token.Kind != KindToken {
		return nil, errors.New("no registration token; import the token first")
	}
	r, err := c.registrar(req.Subscription, progress)
	if err != nil {
		return nil, azureError(err)
	}
	pr := azure.PreflightRequest{CloudID: req.Token.CloudID, Name: req.Name, ResourceGroup: req.ResourceGroup, Location: req.Location}
	replaces := req.Replaces
	if reason, rep := req.Token.Renewal(); replaces == nil && (reason != "" || rep != nil) {
		// A renewal's token: the registration it replaces will be removed
		// first, so that it holds the cloud ID now is expected.
		old, err := c.findReplaced(ctx, RegisterRequest{Token: req.Token, Subscription: req.Subscription}, rep, progress)
		if err != nil {
			return nil, err
		}
		if old != nil && sameSubscription(old.SubscriptionID, r) {
			replaces = &ReplacedRegistration{Name: old.Name, ResourceGroup: old.ResourceGroup}
		}
	}
	if replaces != nil {
		pr.Replaces = &azure.RegistrationRef{Name: replaces.Name, ResourceGroup: orDefault(replaces.ResourceGroup, DefaultResourceGroup)}
	}
	progress(Event{Step: "preflight", Message: "checking the subscription, permissions and names before any change", Fraction: -1, Level: LevelInfo})
	rep, err := r.Preflight(ctx, pr)
	if err != nil {
		return nil, azureError(err)
	}
	return rep, nil
}

// RoleView is the least-privilege custom role for registering.
type RoleView struct {
	Name string
	// Definition is the role as a JSON file for New-AzRoleDefinition
	// -InputFile or az role definition create.
	Definition []byte
	// Created and Updated say what RegistrationRole did in Azure; Added
	// lists the actions an existing role gained.
	Created, Updated bool
	Added            []string
}

// RegistrationRoleFile returns the least-privilege custom role the
// documentation describes for registering, plus the lock actions it lacks,
// for subscription, without signing in.
func RegistrationRoleFile(subscription string) (RoleView, error) {
	rd := azure.RegistrationRole(subscription)
	data, err := azure.RoleDefinitionFile(rd)
	if err != nil {
		return RoleView{}, err
	}
	return RoleView{Name: azure.RegistrationRoleName, Definition: data}, nil
}

// RegistrationRole creates the least-privilege custom role in the
// subscription, or updates a role of its name that lacks what registering
// needs, and records it in the custody ledger.
func (c *Connected) RegistrationRole(ctx context.Context, subscription string, progress func(Event)) (RoleView, error) {
	r, err := c.registrar(subscription, orDiscard(progress))
	if err != nil {
		return RoleView{}, azureError(err)
	}
	if err := c.svc.env.checkLedger(); err != nil {
		return RoleView{}, err
	}
	res, err := r.CreateRole(ctx, nil)
	if err != nil {
		return RoleView{}, azureError(err)
	}
	data, err := azure.RoleDefinitionFile(res.Role)
	if err != nil {
		return RoleView{}, err
	}
	v := RoleView{Name: azure.RegistrationRoleName, Definition: data, Created: res.Created, Updated: res.Updated, Added: res.Added}
	what := "unchanged"
	switch {
	case res.Created:
		what = "created"
	case res.Updated:
		what = fmt.Sprintf("updated (added %v)", res.Added)
	}
	entry := courier.Entry{Step: "role create", Outcome: "ok", Detail: fmt.Sprintf("custom role %q %s in subscription %s", v.Name, what, subscription)}
	return v, c.svc.env.recordDone(entry, nil, "the custom role is "+what)
}

// StatusRequest names the stamp whose registration to check: by the
// token's cloud ID (and then the token is compared with it) or a cloud ID.
type StatusRequest struct {
	Subscription string
	Token        *ArtefactView
	CloudID      string
}

// RegistrationStatus is what Azure holds for a stamp: the registration,
// whether its lock is there, and with a token whether they match.
type RegistrationStatus = azure.RegistrationStatus

// ErrNotRegistered is matched by Status's error when Azure holds no
// registration of the stamp.
var ErrNotRegistered = azure.ErrNotFound

// Status finds the stamp's registration in the subscription and checks it:
// billing model, name, resource group, the CanNotDelete lock, and with a
// token that it was made from a token like it. Nothing is changed.
func (c *Connected) Status(ctx context.Context, req StatusRequest, progress func(Event)) (*RegistrationStatus, error) {
	r, err := c.registrar(req.Subscription, orDiscard(progress))
	if err != nil {
		return nil, azureError(err)
	}
	fr := azure.FindRequest{CloudID: req.CloudID}
	if req.Token != nil {
		fr.CloudID, fr.Token = req.Token.CloudID, req.Token.Text()
	}
	st, err := r.Status(ctx, fr)
	if err != nil {
		return nil, azureError(err)
	}
	return st, nil
}
