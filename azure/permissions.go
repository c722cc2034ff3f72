package azure

import (
	"strings"
)

// Actions the registration workflow needs, as Azure RBAC names them.
const (
	ActionResourceGroupWrite  = "Microsoft.Resources/subscriptions/resourceGroups/write"
	ActionResourceGroupRead   = "Microsoft.Resources/subscriptions/resourceGroups/read"
	ActionProviderRegister    = "Microsoft.AzureStack/register/action"
	ActionRegistrationRead    = "Microsoft.AzureStack/registrations/read"
	ActionRegistrationWrite   = "Microsoft.AzureStack/registrations/write"
	ActionRegistrationDelete  = "Microsoft.AzureStack/registrations/delete"
	ActionGetActivationKey    = "Microsoft.AzureStack/registrations/getActivationKey/action"
	ActionLockRead            = "Microsoft.Authorization/locks/read"
	ActionLockWrite           = "Microsoft.Authorization/locks/write"
	ActionLockDelete          = "Microsoft.Authorization/locks/delete"
	ActionPermissionsRead     = "Microsoft.Authorization/permissions/read"
	ActionRoleDefinitionWrite = "Microsoft.Authorization/roleDefinitions/write"
	ActionRoleDefinitionRead  = "Microsoft.Authorization/roleDefinitions/read"
)

// Permissions are the entries of GET {scope}/providers/Microsoft.Authorization/permissions:
// one per role assignment that applies at the scope.
type Permissions []Permission

// Allows reports whether p grants action, as Azure RBAC decides it: some
// entry has an action pattern matching it and no notAction pattern of the
// same entry matches it. NotActions subtract only from their own entry, so
// another assignment may still grant the action; they are not denials.
// Patterns match case-insensitively and '*' stands for any run of
// characters, '/' included ("*/read", "Microsoft.Authorization/*/Write").
// Deny assignments are not part of the permissions list and are not seen.
func (p Permissions) Allows(action string) bool {
	for _, e := range p {
		if anyMatch(e.Actions, action) && !anyMatch(e.NotActions, action) {
			return true
		}
	}
	return false
}

func anyMatch(patterns []*string, action string) bool {
	for _, pat := range patterns {
		if pat != nil && MatchAction(*pat, action) {
			return true
		}
	}
	return false
}

// MatchAction reports whether the RBAC action pattern matches action:
// letters compare without regard to case and each '*' stands for any run of
// characters ('/' included). It takes time linear in the lengths of both.
func MatchAction(pattern, action string) bool {
	p, a := strings.ToLower(pattern), strings.ToLower(action)
	first, rest, wild := strings.Cut(p, "*")
	if !wild {
		return p == a
	}
	if !strings.HasPrefix(a, first) {
		return false
	}
	a = a[len(first):]
	parts := strings.Split(rest, "*")
	last := parts[len(parts)-1]
	for _, part := range parts[:len(parts)-1] {
		i := strings.Index(a, part)
		if i < 0 {
			return false
		}
		a = a[i+len(part):]
	}
	return strings.HasSuffix(a, last)
}

// BuiltinRole is an Azure built-in role, with the permissions the Azure
// built-in roles reference lists for it (MicrosoftDocs/azure-docs,
// articles/role-based-access-control/built-in-roles/general.md and
// privileged.md).
type BuiltinRole struct {
	Name string
	// ID is the role definition's well-known name (a GUID).
	ID         string
	Actions    []string
	NotActions []string
}

// BuiltinRoles returns the built-in roles the advice names, in the order it
// names them: Reader, Contributor, Owner, User Access Administrator.
func BuiltinRoles() []BuiltinRole {
	return []BuiltinRole{
		{Name: "Reader", ID: "acdd72a7-3385-48ef-bd42-f606fba81ae7", Actions: []string{"*/read"}},
		{Name: "Contributor", ID: "b24988ac-6180-42a0-ab88-20f7382dd24c", Actions: []string{"*"}, NotActions: []string{
			"Microsoft.Authorization/*/Delete",
			"Microsoft.Authorization/*/Write",
			"Microsoft.Authorization/elevateAccess/Action",
			"Microsoft.Blueprint/blueprintAssignments/write",
			"Microsoft.Blueprint/blueprintAssignments/delete",
			"Microsoft.Compute/galleries/share/action",
			"Microsoft.Purview/consents/write",
			"Microsoft.Purview/consents/delete",
			"Microsoft.Resources/deploymentStacks/manageDenySetting/action",
			"Microsoft.Subscription/cancel/action",
			"Microsoft.Subscription/enable/action",
		}},
		{Name: "Owner", ID: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", Actions: []string{"*"}},
		{Name: "User Access Administrator", ID: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
			Actions: []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"}},
	}
}

// Permission returns the role's permissions as ARM lists them.
func (b BuiltinRole) Permission() Permission {
	return Permission{Actions: ptrs(b.Actions), NotActions: ptrs(b.NotActions)}
}

// RolesGranting returns the names of the built-in roles of [BuiltinRoles]
// that grant action, in that order.
func RolesGranting(action string) []string {
	var out []string
	for _, b := range BuiltinRoles() {
		if (Permissions{b.Permission()}).Allows(action) {
			out = append(out, b.Name)
		}
	}
	return out
}

// askRoles words a request for one of roles, the built-in roles that grant
// what is missing: "the Contributor or Owner role", or "the Reader role (or
// any higher one)" when reading is all it takes.
func askRoles(roles []string) string {
	switch {
	case len(roles) == 0:
		return "a role that grants it"
	case roles[0] == "Reader":
		return "the Reader role (or any higher one)"
	}
	return "the " + strings.Join(roles, " or ") + " role"
}
