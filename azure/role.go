package azure

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// RegistrationRoleName is the name of the least-privilege custom role, as
// the Azure Stack Hub documentation names it ("Create a registration role
// for Azure Stack", azure-stack/operator/azure-stack-registration-role.md).
const RegistrationRoleName = "Azure Stack registration role"

const registrationRoleDescription = "Allows access to register Azure Stack, including the registration's resource lock"

// RegistrationRoleActions returns the actions of the custom role: those the
// documentation lists (resource group write and read,
// Microsoft.AzureStack/registrations/*, Microsoft.AzureStack/register/action,
// role assignments read, write and delete, permissions read) plus
// Microsoft.Authorization/locks/*, which it lacks although registering puts a
// CanNotDelete lock on the registration and unregistering removes it.
func RegistrationRoleActions() []string {
	return []string{
		ActionResourceGroupWrite,
		ActionResourceGroupRead,
		"Microsoft.AzureStack/registrations/*",
		ActionProviderRegister,
		"Microsoft.Authorization/roleAssignments/read",
		"Microsoft.Authorization/roleAssignments/write",
		"Microsoft.Authorization/roleAssignments/delete",
		ActionPermissionsRead,
		"Microsoft.Authorization/locks/*",
	}
}

// WorkflowActions returns the concrete actions register, activation-key,
// unregister and preflight perform, which a role for them must grant.
func WorkflowActions() []string {
	return []string{
		ActionResourceGroupWrite, ActionResourceGroupRead, ActionProviderRegister,
		ActionRegistrationRead, ActionRegistrationWrite, ActionRegistrationDelete, ActionGetActivationKey,
		ActionLockRead, ActionLockWrite, ActionLockDelete, ActionPermissionsRead,
	}
}

// roleIDNamespace is the UUID namespace of the role definition IDs this
// package makes (RFC 9562 name-based, SHA-1).
var roleIDNamespace = [16]byte{0x6b, 0x1f, 0x3a, 0x52, 0x0c, 0x4e, 0x4d, 0x8a, 0x9e, 0x27, 0x51, 0x3c, 0x88, 0x0d, 0x6f, 0x41}

// RoleID returns the role definition ID (a GUID) this package gives the
// custom role roleName in a subscription: a name-based UUID (version 5), so
// that making the role twice, on any machine, names the same definition.
func RoleID(subscriptionID, roleName string) string {
	h := sha1.New()
	h.Write(roleIDNamespace[:])
	h.Write([]byte(strings.ToLower(subscriptionID) + "/" + strings.ToLower(roleName)))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	s := hex.EncodeToString(u[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// RegistrationRole returns the custom role definition for subscriptionID:
// RegistrationRoleName with [RegistrationRoleActions], assignable at the
// subscription, under the ID [RoleID] gives it.
func RegistrationRole(subscriptionID string) RoleDefinition {
	return customRole(subscriptionID, RegistrationRoleName)
}

func customRole(subscriptionID, roleName string) RoleDefinition {
	id := RoleID(subscriptionID, roleName)
	scope := "/subscriptions/" + subscriptionID
	return RoleDefinition{
		ID:   ptr(scope + "/providers/Microsoft.Authorization/roleDefinitions/" + id),
		Name: ptr(id),
		Type: ptr("Microsoft.Authorization/roleDefinitions"),
		Properties: &RoleDefinitionProperties{
			RoleName:         ptr(roleName),
			Description:      ptr(registrationRoleDescription),
			RoleType:         ptr("CustomRole"),
			Permissions:      []*Permission{{Actions: ptrs(RegistrationRoleActions()), NotActions: []*string{}, DataActions: []*string{}, NotDataActions: []*string{}}},
			AssignableScopes: ptrs([]string{scope}),
		},
	}
}

func ptr[T any](v T) *T { return &v }

// RoleDefinitionFile returns rd in the format of the documentation's JSON
// template, which New-AzRoleDefinition -InputFile and
// az role definition create --role-definition read: Name, Id (null, so
// Azure picks one), IsCustom, Description, Actions, NotActions,
// AssignableScopes.
func RoleDefinitionFile(rd RoleDefinition) ([]byte, error) {
	p := rd.Properties
	if p == nil {
		return nil, errors.New("azure: role definition has no properties")
	}
	var actions, notActions []string
	for _, e := range p.Permissions {
		if e != nil {
			actions = append(actions, derefs(e.Actions)...)
			notActions = append(notActions, derefs(e.NotActions)...)
		}
	}
	if notActions == nil {
		notActions = []string{}
	}
	b, err := json.MarshalIndent(struct {
		Name             string   `json:"Name"`
		ID               *string  `json:"Id"`
		IsCustom         bool     `json:"IsCustom"`
		Description      string   `json:"Description"`
		Actions          []string `json:"Actions"`
		NotActions       []string `json:"NotActions"`
		AssignableScopes []string `json:"AssignableScopes"`
	}{deref(p.RoleName), nil, true, deref(p.Description), actions, notActions, derefs(p.AssignableScopes)}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("azure: role definition file: %w", err)
	}
	return append(b, '\n'), nil
}

// RoleLacks returns the actions of [WorkflowActions] that rd does not grant.
func RoleLacks(rd RoleDefinition) []string {
	var perms Permissions
	if rd.Properties != nil {
		for _, e := range rd.Properties.Permissions {
			if e != nil {
				perms = append(perms, *e)
			}
		}
	}
	var out []string
	for _, a := range WorkflowActions() {
		if !perms.Allows(a) {
			out = append(out, a)
		}
	}
	return out
}

// ErrRoleNotFound means no custom role of the name is assignable in the subscription.
var ErrRoleNotFound = errors.New("azure: custom role not found")

// RoleOptions tune CreateRole and GetRole; nil means the defaults.
type RoleOptions struct {
	// RoleName overrides RegistrationRoleName.
	RoleName string
}

func (o *RoleOptions) name() string {
	if o == nil || strings.TrimSpace(o.RoleName) == "" {
		return RegistrationRoleName
	}
	return strings.TrimSpace(o.RoleName)
}

// RoleResult says what CreateRole did.
type RoleResult struct {
	// Role is the definition as Azure holds it now.
	Role RoleDefinition
	// Created is true when a new definition was made.
	Created bool
	// Updated is true when an existing definition of the name was changed:
	// Added are the actions and AddedScopes the assignable scopes it gained,
	// Removed the notActions that blocked what registration needs.
	Updated     bool
	Added       []string
	AddedScopes []string
	Removed     []string
}

// GetRole returns the custom role of the name (RegistrationRoleName by
// default) assignable in the subscription: RoleDefinitions_List with
// $filter=roleName eq '…'. It wraps ErrRoleNotFound when there is none.
func (r *Registrar) GetRole(ctx context.Context, o *RoleOptions) (*RoleDefinition, error) {
	name := o.name()
	rd, err := r.findRole(ctx, name)
	if err != nil {
		return nil, err
	}
	if rd == nil {
		return nil, fmt.Errorf("%w: no custom role %q in subscription %s; create it with azs-courier role create", ErrRoleNotFound, name, r.subscriptionID)
	}
	return rd, nil
}

func (r *Registrar) findRole(ctx context.Context, name string) (*RoleDefinition, error) {
	list, err := r.roles.ListByName(ctx, name)
	if err != nil {
		return nil, explain("look for custom role "+name, ActionRoleDefinitionRead, err)
	}
	for i := range list {
		p := list[i].Properties
		if p != nil && strings.EqualFold(deref(p.RoleName), name) && !strings.EqualFold(deref(p.RoleType), "BuiltInRole") {
			return &list[i], nil
		}
	}
	return nil, nil
}

// concretes returns the concrete actions a wildcard of RegistrationRoleActions stands for here.
func concretes(pattern string) []string {
	switch pattern {
	case "Microsoft.AzureStack/registrations/*":
		return []string{ActionRegistrationRead, ActionRegistrationWrite, ActionRegistrationDelete, ActionGetActivationKey}
	case "Microsoft.Authorization/locks/*":
		return []string{ActionLockRead, ActionLockWrite, ActionLockDelete}
	}
	return []string{pattern}
}

// CreateRole makes the least-privilege custom role (see [RegistrationRole])
// in the subscription: PUT /subscriptions/{id}/providers/Microsoft.Authorization/roleDefinitions/{guid}
// (api-version 2022-04-01), assignable at the subscription. It is
// idempotent: a custom role of the same name is looked up first and, if it
// already grants everything, returned unchanged; if it lacks some of the
// actions (as the documentation's role lacks the lock actions) or the
// subscription as a scope, it is updated under its own ID, keeping what it
// had. Making a role needs Microsoft.Authorization/roleDefinitions/write
// (Owner or User Access Administrator).
func (r *Registrar) CreateRole(ctx context.Context, o *RoleOptions) (*RoleResult, error) {
	name := o.name()
	want := customRole(r.subscriptionID, name)
	existing, err := r.findRole(ctx, name)
	if err != nil {
		return nil, err
	}
	if existing == nil {
		r.progress("role", "creating custom role "+name)
		got, err := r.roles.CreateOrUpdate(ctx, deref(want.Name), want)
		if err != nil {
			return nil, explain("create custom role "+name, ActionRoleDefinitionWrite, err)
		}
		r.log.Info("custom role created", "name", name, "id", deref(got.Name))
		return &RoleResult{Role: got, Created: true}, nil
	}

	merged, res := mergeRole(*existing, r.subscriptionID)
	if !res.Updated {
		return &RoleResult{Role: *existing}, nil
	}
	id := deref(existing.Name)
	if id == "" {
		id = lastSegment(deref(existing.ID))
	}
	r.progress("role", "updating custom role "+name+": adding "+strings.Join(append(res.Added, res.AddedScopes...), ", "))
	got, err := r.roles.CreateOrUpdate(ctx, id, merged)
	if err != nil {
		return nil, explain("update custom role "+name, ActionRoleDefinitionWrite, err)
	}
	res.Role = got
	r.log.Info("custom role updated", "name", name, "id", id, "added", res.Added, "addedScopes", res.AddedScopes, "removed", res.Removed)
	return &res, nil
}

// mergeRole returns rd with what the registration role needs: notActions
// that block a workflow action removed, missing actions added (to its first
// permission entry) and the subscription as an assignable scope. rd itself
// is not changed.
func mergeRole(rd RoleDefinition, subscriptionID string) (RoleDefinition, RoleResult) {
	var res RoleResult
	props := RoleDefinitionProperties{}
	if rd.Properties != nil {
		props = *rd.Properties
	}
	var perms []*Permission
	for _, e := range props.Permissions {
		if e != nil {
			c := *e
			perms = append(perms, &c)
		}
	}
	if len(perms) == 0 {
		perms = []*Permission{{}}
	}
	flat := func() Permissions {
		var p Permissions
		for _, e := range perms {
			p = append(p, *e)
		}
		return p
	}
	for _, a := range WorkflowActions() {
		for _, e := range perms {
			var keep []*string
			for _, na := range e.NotActions {
				if na != nil && MatchAction(*na, a) {
					res.Removed = append(res.Removed, *na)
					continue
				}
				keep = append(keep, na)
			}
			e.NotActions = keep
		}
	}
	for _, pattern := range RegistrationRoleActions() {
		for _, a := range concretes(pattern) {
			if !flat().Allows(a) {
				perms[0].Actions = append(append([]*string(nil), perms[0].Actions...), ptr(pattern))
				res.Added = append(res.Added, pattern)
				break
			}
		}
	}
	scope := "/subscriptions/" + subscriptionID
	has := false
	for _, s := range props.AssignableScopes {
		if s != nil && strings.EqualFold(*s, scope) {
			has = true
		}
	}
	if !has {
		props.AssignableScopes = append(append([]*string(nil), props.AssignableScopes...), ptr(scope))
		res.AddedScopes = append(res.AddedScopes, scope)
	}
	props.Permissions = perms
	rd.Properties = &props
	res.Updated = len(res.Added)+len(res.AddedScopes)+len(res.Removed) > 0
	return rd, res
}

func lastSegment(id string) string {
	id = strings.TrimRight(id, "/")
	if i := strings.LastIndex(id, "/"); i >= 0 {
		return id[i+1:]
	}
	return id
}
