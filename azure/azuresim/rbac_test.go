package azuresim_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/azure/azuresim"
)

const (
	vAuth = "?api-version=2022-04-01"
	vRG   = "?api-version=2021-04-01"
	vSub  = "?api-version=2022-12-01"
	roles = sub + "/providers/Microsoft.Authorization/roleDefinitions"
)

func errMessage(v map[string]any) string {
	e, _ := v["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// TestPermissionsEnforced: a caller is refused, 403 AuthorizationFailed
// naming the action and scope, exactly what its role assignments do not
// grant, before the request reaches the resource provider.
func TestPermissionsEnforced(t *testing.T) {
	for _, tc := range []struct {
		name                string
		perms               []azuresim.Permission
		rgPerms             map[string][]azuresim.Permission
		method, path, body  string
		status              int
		code, action, scope string
	}{
		{name: "Contributor cannot lock", perms: []azuresim.Permission{azuresim.Contributor()},
			method: "PUT", path: lock + vLk, body: `{"properties":{"level":"CanNotDelete"}}`,
			status: 403, code: "AuthorizationFailed", action: "Microsoft.Authorization/locks/write", scope: "/providers/Microsoft.Authorization/locks/RegistrationResourceLock"},
		{name: "Contributor cannot unlock", perms: []azuresim.Permission{azuresim.Contributor()},
			method: "DELETE", path: lock + vLk, status: 403, code: "AuthorizationFailed", action: "Microsoft.Authorization/locks/delete"},
		{name: "Contributor reads locks", perms: []azuresim.Permission{azuresim.Contributor()},
			method: "GET", path: lock + vLk, status: 404, code: "ResourceNotFound"}, // authorized: the provider answers
		{name: "Contributor registers", perms: []azuresim.Permission{azuresim.Contributor()},
			method: "PUT", path: reg + v17, status: 201},
		{name: "User Access Administrator locks but cannot register", perms: []azuresim.Permission{azuresim.UserAccessAdministrator()},
			method: "PUT", path: reg + v17, status: 403, code: "AuthorizationFailed", action: "Microsoft.AzureStack/registrations/write"},
		{name: "without register/action", perms: []azuresim.Permission{azuresim.OwnerExcept("Microsoft.AzureStack/register/action")},
			method: "POST", path: sub + "/providers/Microsoft.AzureStack/register" + vRG,
			status: 403, code: "AuthorizationFailed", action: "Microsoft.AzureStack/register/action", scope: sub + "/providers/Microsoft.AzureStack'"},
		{name: "wildcard notAction", perms: []azuresim.Permission{azuresim.OwnerExcept("microsoft.azurestack/*/getactivationkey/action")},
			method: "POST", path: reg + "/getactivationkey" + v17, status: 403, code: "AuthorizationFailed", action: "Microsoft.AzureStack/registrations/getactivationkey/action"},
		{name: "Reader cannot make resource groups", perms: []azuresim.Permission{azuresim.Reader()},
			method: "PUT", path: sub + "/resourcegroups/other" + vRG, body: `{"location":"westus"}`,
			status: 403, code: "AuthorizationFailed", action: "Microsoft.Resources/subscriptions/resourceGroups/write"},
		{name: "no assignment reads subscription metadata", perms: []azuresim.Permission{},
			method: "GET", path: sub + "/providers/Microsoft.AzureStack" + vRG, status: 200},
		{name: "no assignment cannot list registrations", perms: []azuresim.Permission{},
			method: "GET", path: sub + "/providers/Microsoft.AzureStack/registrations?api-version=2022-06-01",
			status: 403, code: "AuthorizationFailed", action: "Microsoft.AzureStack/registrations/read"},
		{name: "resource-group Contributor registers there", perms: []azuresim.Permission{},
			rgPerms: map[string][]azuresim.Permission{"AzureStack": {azuresim.Contributor()}},
			method:  "PUT", path: reg + v17, status: 201},
		{name: "resource-group Contributor cannot register the provider", perms: []azuresim.Permission{},
			rgPerms: map[string][]azuresim.Permission{"azurestack": {azuresim.Contributor()}},
			method:  "POST", path: sub + "/providers/Microsoft.AzureStack/register" + vRG, status: 403, code: "AuthorizationFailed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, azuresim.Options{})
			c.setup()
			c.sim.SetPermissions(tc.perms, tc.rgPerms)
			body := tc.body
			if tc.method == "PUT" && strings.Contains(tc.path, "/registrations/") && !strings.Contains(tc.path, "/locks/") {
				body = putBody(t)
			}
			st, v := c.do(tc.method, tc.path, body)
			if st != tc.status || errCode(v) != tc.code {
				t.Fatalf("got %d %s, want %d %s (%s)", st, errCode(v), tc.status, tc.code, errMessage(v))
			}
			msg := errMessage(v)
			if tc.action != "" && !strings.Contains(msg, "perform action '"+tc.action+"' over scope") {
				t.Errorf("message %q does not name action %s", msg, tc.action)
			}
			if tc.scope != "" && !strings.Contains(msg, tc.scope) {
				t.Errorf("message %q does not name scope %s", msg, tc.scope)
			}
			if tc.code == "AuthorizationFailed" && !strings.Contains(msg, "The client '"+c.sim.ClientID()+"' with object id '") {
				t.Errorf("message %q does not name the client", msg)
			}
		})
	}
}

func TestPermissionsListed(t *testing.T) {
	c := newClient(t, azuresim.Options{
		Permissions:              []azuresim.Permission{azuresim.Contributor()},
		ResourceGroupPermissions: map[string][]azuresim.Permission{"azurestack": {azuresim.UserAccessAdministrator()}},
	})
	st, v := c.do("GET", sub+"/resourcegroups/azurestack/providers/Microsoft.Authorization/permissions"+vAuth, "")
	if st != 404 || errCode(v) != "ResourceGroupNotFound" {
		t.Errorf("permissions of a missing resource group: got %d %s, want 404 ResourceGroupNotFound", st, errCode(v))
	}
	c.sim.SetPermissions(nil, map[string][]azuresim.Permission{"azurestack": {azuresim.UserAccessAdministrator()}})
	c.setup()
	c.sim.SetPermissions([]azuresim.Permission{azuresim.Contributor()}, map[string][]azuresim.Permission{"azurestack": {azuresim.UserAccessAdministrator()}})
	count := func(path string) (int, []any) {
		st, v := c.do("GET", path+vAuth, "")
		value, _ := v["value"].([]any)
		return st, value
	}
	st, subPerms := count(sub + "/providers/Microsoft.Authorization/permissions")
	if st != 200 || len(subPerms) != 1 {
		t.Fatalf("subscription permissions: got %d with %d entries, want 200 with 1", st, len(subPerms))
	}
	first, _ := subPerms[0].(map[string]any)
	if keys(first) != "actions,dataActions,notActions,notDataActions" {
		t.Errorf("permission entry fields: got %s", keys(first))
	}
	if na, _ := first["notActions"].([]any); len(na) == 0 || na[0] != "Microsoft.Authorization/*/Delete" {
		t.Errorf("Contributor notActions: got %v", first["notActions"])
	}
	if st, rgPerms := count(sub + "/resourcegroups/azurestack/providers/Microsoft.Authorization/permissions"); st != 200 || len(rgPerms) != 2 {
		t.Errorf("resource group permissions: got %d with %d entries, want 200 with 2 (subscription + resource group)", st, len(rgPerms))
	}
	if st, _ := c.do("GET", sub+"/providers/Microsoft.Authorization/permissions?api-version=2014-01-01", ""); st != 400 {
		t.Errorf("unknown api-version: got %d, want 400", st)
	}
}

func TestLocations(t *testing.T) {
	c := newClient(t, azuresim.Options{Locations: []string{"eastus", "northeurope"}})
	st, v := c.do("GET", sub+"/locations"+vSub, "")
	value, _ := v["value"].([]any)
	if st != 200 || len(value) != 2 {
		t.Fatalf("locations: got %d with %d, want 200 with 2", st, len(value))
	}
	l, _ := value[0].(map[string]any)
	if l["name"] != "eastus" || l["displayName"] != "East US" || l["type"] != "Region" || l["id"] != sub+"/locations/eastus" {
		t.Errorf("location: got %v", l)
	}
	for _, tc := range []struct {
		loc    string
		status int
		code   string
	}{
		{"westcentralus", 400, "LocationNotAvailableForResourceGroup"},
		{"global", 400, "LocationNotAvailableForResourceGroup"},
		{"North Europe", 201, ""},
	} {
		st, v := c.do("PUT", sub+"/resourcegroups/rg-"+strings.ReplaceAll(tc.loc, " ", "")+vRG, `{"location":"`+tc.loc+`"}`)
		if st != tc.status || errCode(v) != tc.code {
			t.Errorf("resource group in %s: got %d %s, want %d %s", tc.loc, st, errCode(v), tc.status, tc.code)
		}
	}
	if _, v := c.do("GET", sub+"/resourcegroups/rg-NorthEurope"+vRG, ""); v["location"] != "northeurope" {
		t.Errorf("resource group made in 'North Europe' has location %v, want northeurope", v["location"])
	}
}

func TestSubscriptionStates(t *testing.T) {
	c := newClient(t, azuresim.Options{Subscriptions: []azuresim.Subscription{{ID: azuresim.DefaultSubscriptionID, Name: "Hub", State: "Disabled"}}})
	st, v := c.do("GET", sub+vSub, "")
	if st != 200 || v["state"] != "Disabled" || v["displayName"] != "Hub" || v["tenantId"] != c.sim.TenantID() {
		t.Errorf("subscription: got %d %v", st, v)
	}
	if st, v := c.do("PUT", sub+"/resourcegroups/azurestack"+vRG, `{"location":"westus"}`); st != 409 || errCode(v) != "ReadOnlyDisabledSubscription" {
		t.Errorf("write in a disabled subscription: got %d %s, want 409 ReadOnlyDisabledSubscription", st, errCode(v))
	}
}

func TestProviderRegisteredOption(t *testing.T) {
	for _, tc := range []struct {
		registered bool
		want       string
	}{{false, "NotRegistered"}, {true, "Registered"}} {
		c := newClient(t, azuresim.Options{ProviderRegistered: tc.registered})
		if _, v := c.do("GET", sub+"/providers/Microsoft.AzureStack"+vRG, ""); v["registrationState"] != tc.want {
			t.Errorf("ProviderRegistered %v: state %v, want %s", tc.registered, v["registrationState"], tc.want)
		}
	}
}

func roleBody(name string, actions ...string) string {
	q := make([]string, len(actions))
	for i, a := range actions {
		q[i] = `"` + a + `"`
	}
	return `{"properties":{"roleName":"` + name + `","description":"d","type":"CustomRole","permissions":[{"actions":[` +
		strings.Join(q, ",") + `],"notActions":[],"dataActions":[],"notDataActions":[]}],"assignableScopes":["` + sub + `"]}}`
}

func TestRoleDefinitions(t *testing.T) {
	c := newClient(t, azuresim.Options{})
	const id1, id2 = "6c3a9a8e-58a4-4c2f-9d1e-0b7f3f1a2b3c", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"create", "PUT", roles + "/" + id1 + vAuth, roleBody("Azure Stack registration role", "Microsoft.AzureStack/registrations/*"), 201, ""},
		{"update", "PUT", roles + "/" + id1 + vAuth, roleBody("Azure Stack registration role", "Microsoft.AzureStack/registrations/*", "Microsoft.Authorization/locks/*"), 201, ""},
		{"get", "GET", roles + "/" + id1 + vAuth, "", 200, ""},
		{"same name, other ID", "PUT", roles + "/" + id2 + vAuth, roleBody("azure stack REGISTRATION role", "*/read"), 409, "RoleDefinitionWithSameNameExists"},
		{"name of a built-in role", "PUT", roles + "/" + id2 + vAuth, roleBody("Owner", "*/read"), 409, "RoleDefinitionWithSameNameExists"},
		{"ID not a GUID", "PUT", roles + "/my-role" + vAuth, roleBody("r", "*/read"), 400, "InvalidRoleDefinitionId"},
		{"bad action", "PUT", roles + "/" + id2 + vAuth, roleBody("r", "not an action"), 400, "InvalidActionOrNotAction"},
		{"unknown field", "PUT", roles + "/" + id2 + vAuth, `{"properties":{"roleName":"r","x":1}}`, 400, "InvalidRequestContent"},
		{"missing", "GET", roles + "/" + id2 + vAuth, "", 404, "RoleDefinitionDoesNotExist"},
		{"built-in", "GET", roles + "/8e3af657-a8ff-443c-a75c-2fe8c4bcb635" + vAuth, "", 200, ""},
		{"bad filter", "GET", roles + vAuth + "&$filter=" + url.QueryEscape("name eq 'x'"), "", 400, "InvalidFilter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, v := c.do(tc.method, tc.path, tc.body)
			if st != tc.status || errCode(v) != tc.code {
				t.Errorf("got %d %s, want %d %s (%s)", st, errCode(v), tc.status, tc.code, errMessage(v))
			}
		})
	}
	st, v := c.do("GET", roles+vAuth+"&$filter="+url.QueryEscape("roleName eq 'Azure Stack registration role'"), "")
	value, _ := v["value"].([]any)
	if st != 200 || len(value) != 1 {
		t.Fatalf("list by roleName: got %d with %d, want 200 with 1", st, len(value))
	}
	rd, _ := value[0].(map[string]any)
	props, _ := rd["properties"].(map[string]any)
	if rd["name"] != id1 || rd["id"] != roles+"/"+id1 || props["type"] != "CustomRole" || keys(rd) != keys(specExample(t, "GetRoleDefinitionByName.json", "200")) {
		t.Errorf("listed role: got %v", rd)
	}
	if got := c.sim.RoleDefinitions(); len(got) != 1 || len(got[0].Permissions[0].Actions) != 2 {
		t.Errorf("sim state: got %+v, want the updated role with 2 actions", got)
	}
	// A role name with a quote is found with the quote doubled, as OData spells it.
	if st, _ := c.do("PUT", roles+"/"+id2+vAuth, roleBody("O'Brien's role", "*/read")); st != 201 {
		t.Fatalf("create role with a quote: %d", st)
	}
	_, v = c.do("GET", roles+vAuth+"&$filter="+url.QueryEscape("roleName eq 'O''Brien''s role'"), "")
	if value, _ := v["value"].([]any); len(value) != 1 {
		t.Errorf("list by a name with quotes: got %d, want 1", len(value))
	}
	c.sim.SetPermissions([]azuresim.Permission{azuresim.Contributor()}, nil)
	if st, v := c.do("PUT", roles+"/"+id1+vAuth, roleBody("Azure Stack registration role", "*/read")); st != 403 ||
		!strings.Contains(errMessage(v), "Microsoft.Authorization/roleDefinitions/write") {
		t.Errorf("Contributor creating a role: got %d %s, want 403 naming roleDefinitions/write", st, errMessage(v))
	}
	c.sim.SetPermissions(nil, nil)
	if st, _ := c.do("DELETE", roles+"/"+id1+vAuth, ""); st != 200 {
		t.Errorf("DELETE: got %d, want 200", st)
	}
	if st, _ := c.do("DELETE", roles+"/"+id1+vAuth, ""); st != 204 {
		t.Errorf("DELETE again: got %d, want 204", st)
	}
}

// specExample returns the answer body of one of the spec examples in
// ../testdata/arm (copied from azure-rest-api-specs).
func specExample(t *testing.T, file, status string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "arm", file))
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Responses map[string]struct {
			Body json.RawMessage `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(ex.Responses[status].Body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRequestLogKeepsOrder: the log lists ARM requests as they arrived, and
// a registration that was removed can be registered again, under the same
// name or another.
func TestRequestLogKeepsOrder(t *testing.T) {
	c := newClient(t, azuresim.Options{})
	c.setup()
	c.sim.ResetRequests()
	steps := []struct{ method, path, body string }{
		{"PUT", reg + v17, putBody(t)},
		{"PUT", lock + vLk, `{"properties":{"level":"CanNotDelete","notes":"n"}}`},
		{"DELETE", lock + vLk, ""},
		{"DELETE", reg + v17, ""},
		{"PUT", reg + v17, putBody(t)},
		{"DELETE", reg + v17, ""},
		{"PUT", strings.Replace(reg, "testregistration", "renewed", 1) + v17, putBody(t)},
		{"POST", strings.Replace(reg, "testregistration", "renewed", 1) + "/getactivationkey" + v17, ""},
	}
	var want []string
	for _, step := range steps {
		if st, v := c.do(step.method, step.path, step.body); st >= 300 {
			t.Fatalf("%s %s: %d %s", step.method, step.path, st, errCode(v))
		}
		want = append(want, step.method+" "+strings.Split(step.path, "?")[0])
	}
	if got := c.sim.RequestLog(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("request log:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	reqs := c.sim.Requests()
	for i, r := range reqs {
		if (i > 0 && r.Seq != reqs[i-1].Seq+1) || r.Status == 0 {
			t.Errorf("request %d: Seq %d Status %d, want Seq one above the last and a status", i, r.Seq, r.Status)
		}
	}
	if regs := c.sim.Registrations(); len(regs) != 1 || regs[0].Name != "renewed" {
		t.Errorf("registrations: got %+v, want only renewed", regs)
	}
}
