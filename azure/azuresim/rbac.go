package azuresim

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// Permission is what one role assignment lets the caller do, as an entry of
// GET {scope}/providers/Microsoft.Authorization/permissions lists it: the
// actions granted, less the notActions of the same entry. Patterns may hold
// '*' wildcards and match case-insensitively, as in Azure RBAC.
type Permission struct {
	Actions    []string
	NotActions []string
}

// Built-in role permissions, as the Azure built-in roles reference lists
// them (MicrosoftDocs/azure-docs articles/role-based-access-control/
// built-in-roles/general.md and privileged.md). Each call returns a fresh
// value.

// Owner is the Owner role: everything.
func Owner() Permission { return Permission{Actions: []string{"*"}} }

// Contributor is the Contributor role: everything except writing and
// deleting in Microsoft.Authorization (so no locks, role definitions or role
// assignments) and a few other privileged actions.
func Contributor() Permission {
	return Permission{Actions: []string{"*"}, NotActions: []string{
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
	}}
}

// UserAccessAdministrator is the User Access Administrator role: read
// everything, manage Microsoft.Authorization (locks included) and support.
func UserAccessAdministrator() Permission {
	return Permission{Actions: []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"}}
}

// Reader is the Reader role: read everything.
func Reader() Permission { return Permission{Actions: []string{"*/read"}} }

// OwnerExcept is an Owner assignment with the given actions taken away, for
// a caller that lacks exactly those (e.g. Microsoft.Authorization/locks/write).
func OwnerExcept(actions ...string) Permission {
	return Permission{Actions: []string{"*"}, NotActions: append([]string(nil), actions...)}
}

// builtinRole is a built-in role definition the simulator lists.
type builtinRole struct {
	id, name, description string
	perm                  func() Permission
}

// builtinRoles are the built-in roles with their well-known IDs.
func builtinRoles() []builtinRole {
	return []builtinRole{
		{"8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.", Owner},
		{"b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor", "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.", Contributor},
		{"acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", "View all resources, but does not allow you to make any changes.", Reader},
		{"18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator", "Lets you manage user access to Azure resources.", UserAccessAdministrator},
	}
}

// matchAction reports whether an RBAC action pattern matches action: '*'
// stands for any run of characters ('/' included) and letters compare
// without regard to case.
func matchAction(pattern, action string) bool {
	p, a := strings.ToLower(pattern), strings.ToLower(action)
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == a
	}
	if !strings.HasPrefix(a, parts[0]) {
		return false
	}
	a = a[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(a, part)
		if i < 0 {
			return false
		}
		a = a[i+len(part):]
	}
	return strings.HasSuffix(a, last)
}

func anyMatch(patterns []string, action string) bool {
	for _, p := range patterns {
		if matchAction(p, action) {
			return true
		}
	}
	return false
}

// allows reports whether any of perms grants action.
func allows(perms []Permission, action string) bool {
	for _, p := range perms {
		if anyMatch(p.Actions, action) && !anyMatch(p.NotActions, action) {
			return true
		}
	}
	return false
}

// permissionsAt returns the caller's assignments that apply at a scope in
// resource group rg ("" for the subscription itself). s.mu must be held.
func (s *Server) permissionsAt(rg string) []Permission {
	perms := s.perms
	if perms == nil {
		perms = []Permission{Owner()}
	}
	out := append([]Permission(nil), perms...)
	if rg != "" {
		for name, p := range s.rgPerms {
			if strings.EqualFold(name, rg) {
				out = append(out, p...)
			}
		}
	}
	return out
}

// requiredAction maps an ARM request under /subscriptions/{sub} to the RBAC
// action ARM checks before passing it to the resource provider, the scope it
// is checked at and the resource group that scope lies in. rest are the path
// segments after the subscription ID. Reads of subscription metadata (the
// subscription, its locations and resource providers) need no action: any
// caller with a role in the subscription may read them.
func requiredAction(method, subID string, rest []string) (action, scope, rg string) {
	scope = "/subscriptions/" + subID
	if len(rest) > 0 {
		scope += "/" + strings.Join(rest, "/")
	}
	low := make([]string, len(rest))
	for i, x := range rest {
		low[i] = strings.ToLower(x)
	}
	if len(low) >= 2 && low[0] == "resourcegroups" {
		rg = rest[1]
	}
	verb := map[string]string{http.MethodGet: "read", http.MethodHead: "read", http.MethodPut: "write",
		http.MethodPatch: "write", http.MethodDelete: "delete"}[method]
	if len(low) == 2 && low[0] == "resourcegroups" {
		if verb == "" {
			return "", "", ""
		}
		return "Microsoft.Resources/subscriptions/resourceGroups/" + verb, scope, rg
	}
	p := -1
	for i := len(low) - 2; i >= 0; i-- {
		if low[i] == "providers" {
			p = i
			break
		}
	}
	if p < 0 || p+2 > len(rest) {
		return "", "", "" // the subscription, its locations, resource groups listed
	}
	ns, after := rest[p+1], rest[p+2:]
	if len(after) == 0 {
		return "", "", "" // a resource provider's registration state
	}
	var types []string
	for i := 0; i < len(after); i += 2 {
		types = append(types, after[i])
	}
	if len(after)%2 == 1 && method == http.MethodPost {
		// POST .../{type}/{name}/{action} or POST /providers/{ns}/{action}
		scope = "/subscriptions/" + subID + "/" + strings.Join(rest[:len(rest)-1], "/")
		return canonical(ns) + "/" + strings.Join(types, "/") + "/action", scope, rg
	}
	if len(after)%2 == 1 {
		verb = "read" // a collection: only GET lists it
	}
	if verb == "" {
		return "", "", ""
	}
	return canonical(ns) + "/" + strings.Join(types, "/") + "/" + verb, scope, rg
}

// canonical spells the namespaces the simulator knows as ARM does.
func canonical(ns string) string {
	for _, n := range []string{"Microsoft.AzureStack", "Microsoft.Authorization", "Microsoft.Resources"} {
		if strings.EqualFold(ns, n) {
			return n
		}
	}
	return ns
}

// authorize answers 403 AuthorizationFailed, as ARM does before the request
// reaches the resource provider, when the caller lacks the action the request
// needs. It reports whether the request may go on. s.mu must be held.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, claims tokenClaims, subID string, rest []string) bool {
	action, scope, rg := requiredAction(r.Method, subID, rest)
	if action == "" {
		return true
	}
	denied := !allows(s.permissionsAt(rg), action)
	if f := s.faults; f.DenyLocks && (strings.EqualFold(action, "Microsoft.Authorization/locks/write") ||
		strings.EqualFold(action, "Microsoft.Authorization/locks/delete")) {
		denied = true
	}
	if !denied {
		return true
	}
	who := claims.UPN
	if who == "" {
		who = claims.AppID
	}
	armError(w, http.StatusForbidden, "AuthorizationFailed",
		fmt.Sprintf("The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
			who, claims.Oid, action, scope))
	return false
}

// permissionJSON is a Permission of the 2022-04-01 spec.
func permissionJSON(p Permission) map[string]any {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return map[string]any{"actions": nonNil(p.Actions), "notActions": nonNil(p.NotActions),
		"dataActions": []string{}, "notDataActions": []string{}}
}

// listPermissions answers Permissions_ListForResourceGroup (and the same call
// at subscription scope, which ARM serves though the spec does not list it):
// {"value":[Permission…]}, one entry per role assignment that applies.
func (s *Server) listPermissions(w http.ResponseWriter, sub *subState, rg string) {
	if rg != "" && sub.groups[strings.ToLower(rg)] == nil {
		armError(w, http.StatusNotFound, "ResourceGroupNotFound", "Resource group '"+rg+"' could not be found.")
		return
	}
	value := []any{}
	for _, p := range s.permissionsAt(rg) {
		value = append(value, permissionJSON(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

// roleDef is a custom role definition the simulator holds.
type roleDef struct {
	id, name, description string
	permissions           []Permission
	scopes                []string
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// actionPattern is the shape of an RBAC action: '*', or a namespace and
// segments, each possibly holding wildcards.
var actionPattern = regexp.MustCompile(`^(\*|[A-Za-z0-9*]+(\.[A-Za-z0-9*]+)*(/[A-Za-z0-9.*_-]+)*)$`)

func roleDefJSON(subID string, rd *roleDef, builtin bool) map[string]any {
	perms := []any{}
	for _, p := range rd.permissions {
		perms = append(perms, permissionJSON(p))
	}
	kind := "CustomRole"
	if builtin {
		kind = "BuiltInRole"
	}
	scopes := rd.scopes
	if scopes == nil {
		scopes = []string{"/"}
	}
	return map[string]any{
		"id":   "/subscriptions/" + subID + "/providers/Microsoft.Authorization/roleDefinitions/" + rd.id,
		"name": rd.id,
		"type": "Microsoft.Authorization/roleDefinitions",
		"properties": map[string]any{
			"roleName": rd.name, "type": kind, "description": rd.description,
			"assignableScopes": scopes, "permissions": perms,
		},
	}
}

func (s *Server) builtinDefs() []*roleDef {
	var out []*roleDef
	for _, b := range builtinRoles() {
		out = append(out, &roleDef{id: b.id, name: b.name, description: b.description, permissions: []Permission{b.perm()}})
	}
	return out
}

// roleDefinitions serves /subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions[/{id}].
func (s *Server) roleDefinitions(w http.ResponseWriter, r *http.Request, sub *subState, id string, body []byte) {
	if id == "" {
		s.listRoleDefinitions(w, r, sub)
		return
	}
	key := strings.ToLower(id)
	rd := s.roles[key]
	var builtin *roleDef
	for _, b := range s.builtinDefs() {
		if strings.EqualFold(b.id, id) {
			builtin = b
		}
	}
	switch r.Method {
	case http.MethodGet:
		switch {
		case rd != nil:
			writeJSON(w, http.StatusOK, roleDefJSON(sub.sub.ID, rd, false))
		case builtin != nil:
			writeJSON(w, http.StatusOK, roleDefJSON(sub.sub.ID, builtin, true))
		default:
			armError(w, http.StatusNotFound, "RoleDefinitionDoesNotExist", "The specified role definition with ID '"+id+"' does not exist.")
		}
	case http.MethodPut:
		if builtin != nil {
			armError(w, http.StatusForbidden, "AuthorizationFailed", "Built-in role definition '"+id+"' cannot be changed.")
			return
		}
		s.putRoleDefinition(w, sub, id, body)
	case http.MethodDelete:
		if rd == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		delete(s.roles, key)
		writeJSON(w, http.StatusOK, roleDefJSON(sub.sub.ID, rd, false))
	default:
		armError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The method is not allowed on role definitions.")
	}
}

func (s *Server) putRoleDefinition(w http.ResponseWriter, sub *subState, id string, body []byte) {
	if !guidPattern.MatchString(id) {
		armError(w, http.StatusBadRequest, "InvalidRoleDefinitionId", "The role definition ID '"+id+"' is not valid. It must be a GUID.")
		return
	}
	var req struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Type       string `json:"type"`
		Properties *struct {
			RoleName    string `json:"roleName"`
			Description string `json:"description"`
			Type        string `json:"type"`
			Permissions []struct {
				Actions        []string `json:"actions"`
				NotActions     []string `json:"notActions"`
				DataActions    []string `json:"dataActions"`
				NotDataActions []string `json:"notDataActions"`
			} `json:"permissions"`
			AssignableScopes []string `json:"assignableScopes"`
		} `json:"properties"`
	}
	if err := strictJSON(body, &req); err != nil || req.Properties == nil {
		armError(w, http.StatusBadRequest, "InvalidRequestContent",
			"The request content was invalid and could not be deserialized: a role definition is {\"properties\":{\"roleName\",\"permissions\",\"assignableScopes\"}}.")
		return
	}
	p := req.Properties
	if strings.TrimSpace(p.RoleName) == "" {
		armError(w, http.StatusBadRequest, "RoleDefinitionNameNullOrEmpty", "The role definition name cannot be null or empty.")
		return
	}
	if len(p.AssignableScopes) == 0 {
		armError(w, http.StatusBadRequest, "MissingAssignableScopes", "The role definition must have at least one assignable scope.")
		return
	}
	subScope := "/subscriptions/" + sub.sub.ID
	for _, sc := range p.AssignableScopes {
		if !strings.EqualFold(sc, subScope) && !strings.HasPrefix(strings.ToLower(sc), strings.ToLower(subScope)+"/resourcegroups/") {
			armError(w, http.StatusBadRequest, "InvalidAssignableScope",
				"The assignable scope '"+sc+"' is not valid: it must be the subscription '"+subScope+"' or a resource group in it.")
			return
		}
	}
	var perms []Permission
	for _, pe := range p.Permissions {
		for _, a := range append(append([]string(nil), pe.Actions...), pe.NotActions...) {
			if !actionPattern.MatchString(a) {
				armError(w, http.StatusBadRequest, "InvalidActionOrNotAction",
					"'"+a+"' does not match any of the actions supported by the providers.")
				return
			}
		}
		perms = append(perms, Permission{Actions: pe.Actions, NotActions: pe.NotActions})
	}
	if len(perms) == 0 {
		armError(w, http.StatusBadRequest, "RoleDefinitionHasNoPermissions", "The role definition must have permissions.")
		return
	}
	for _, b := range s.builtinDefs() {
		if strings.EqualFold(b.name, p.RoleName) {
			armError(w, http.StatusConflict, "RoleDefinitionWithSameNameExists", "A role definition cannot be updated with a name that already exists.")
			return
		}
	}
	for key, other := range s.roles {
		if key != strings.ToLower(id) && strings.EqualFold(other.name, p.RoleName) {
			armError(w, http.StatusConflict, "RoleDefinitionWithSameNameExists", "A role definition cannot be updated with a name that already exists.")
			return
		}
	}
	rd := &roleDef{id: strings.ToLower(id), name: p.RoleName, description: p.Description, permissions: perms,
		scopes: append([]string(nil), p.AssignableScopes...)}
	s.roles[strings.ToLower(id)] = rd
	// The spec lists only 201 for RoleDefinitions_CreateOrUpdate, for updates too.
	writeJSON(w, http.StatusCreated, roleDefJSON(sub.sub.ID, rd, false))
}

// roleNameFilter matches the $filter RoleDefinitions_List accepts for a name:
// roleName eq 'name' (a quote inside doubled, as OData spells it).
var roleNameFilter = regexp.MustCompile(`^\s*roleName\s+eq\s+'((?:[^']|'')*)'\s*$`)
var roleTypeFilter = regexp.MustCompile(`^\s*type\s+eq\s+'(BuiltInRole|CustomRole)'\s*$`)

func (s *Server) listRoleDefinitions(w http.ResponseWriter, r *http.Request, sub *subState) {
	if r.Method != http.MethodGet {
		armError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Only GET lists role definitions.")
		return
	}
	filter := r.URL.Query().Get("$filter")
	keep := func(*roleDef, bool) bool { return true }
	switch {
	case filter == "":
	case roleNameFilter.MatchString(filter):
		name := strings.ReplaceAll(roleNameFilter.FindStringSubmatch(filter)[1], "''", "'")
		keep = func(rd *roleDef, _ bool) bool { return strings.EqualFold(rd.name, name) }
	case roleTypeFilter.MatchString(filter):
		custom := roleTypeFilter.FindStringSubmatch(filter)[1] == "CustomRole"
		keep = func(_ *roleDef, builtin bool) bool { return builtin != custom }
	default:
		armError(w, http.StatusBadRequest, "InvalidFilter", "The filter '"+filter+"' is not supported. Use roleName eq '{name}' or type eq '{BuiltInRole|CustomRole}'.")
		return
	}
	value := []any{}
	for _, b := range s.builtinDefs() {
		if keep(b, true) {
			value = append(value, roleDefJSON(sub.sub.ID, b, true))
		}
	}
	ids := make([]string, 0, len(s.roles))
	for id := range s.roles {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if rd := s.roles[id]; keep(rd, false) && rd.assignableAt(sub.sub.ID) {
			value = append(value, roleDefJSON(sub.sub.ID, rd, false))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

// assignableAt reports whether RoleDefinitions_List at the subscription
// returns rd: it lists the roles applicable at the scope and above, so a
// role assignable only at a resource group is not among them.
func (rd *roleDef) assignableAt(subID string) bool {
	for _, sc := range rd.scopes {
		if sc == "/" || strings.EqualFold(sc, "/subscriptions/"+subID) {
			return true
		}
	}
	return false
}

// RoleDefinitionState is a custom role definition as the simulator holds it.
type RoleDefinitionState struct {
	ID, RoleName, Description string
	Permissions               []Permission
	AssignableScopes          []string
}

// RoleDefinitions returns the custom role definitions, sorted by ID.
func (s *Server) RoleDefinitions() []RoleDefinitionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RoleDefinitionState
	for _, rd := range s.roles {
		out = append(out, RoleDefinitionState{ID: rd.id, RoleName: rd.name, Description: rd.description,
			Permissions: append([]Permission(nil), rd.permissions...), AssignableScopes: append([]string(nil), rd.scopes...)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
