package azure

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatchAction(t *testing.T) {
	for _, tc := range []struct {
		pattern, action string
		want            bool
	}{
		{"*", "Microsoft.AzureStack/register/action", true},
		{"*/read", "Microsoft.Authorization/locks/read", true},
		{"*/read", "Microsoft.Authorization/locks/write", false},
		{"*/read", "Microsoft.Authorization/locks/readx", false},
		{"Microsoft.Authorization/*/Write", "microsoft.authorization/locks/write", true},
		{"Microsoft.Authorization/*/Write", "Microsoft.Authorization/write", false},
		{"Microsoft.Authorization/*", "Microsoft.Authorization/locks/delete", true},
		{"Microsoft.Authorization/*", "Microsoft.AuthorizationX/locks/delete", false},
		{"Microsoft.AzureStack/registrations/*", "Microsoft.AzureStack/registrations/getActivationKey/action", true},
		{"Microsoft.AzureStack/registrations/*", "Microsoft.AzureStack/register/action", false},
		{"Microsoft.AzureStack/register/action", "MICROSOFT.AZURESTACK/REGISTER/ACTION", true},
		{"Microsoft.AzureStack/register/action", "Microsoft.AzureStack/register/actions", false},
		{"Microsoft.*/locks/*", "Microsoft.Authorization/locks/write", true},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"a**b", "ab", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "acb", false},
		{"", "", true},
		{"", "a", false},
	} {
		if got := MatchAction(tc.pattern, tc.action); got != tc.want {
			t.Errorf("MatchAction(%q, %q) = %v, want %v", tc.pattern, tc.action, got, tc.want)
		}
	}
}

func perm(actions []string, notActions ...string) Permission {
	return Permission{Actions: ptrs(actions), NotActions: ptrs(notActions)}
}

// TestAllowsEvaluatesAsARM: notActions subtract only from their own entry;
// another entry may still grant the action.
func TestAllowsEvaluatesAsARM(t *testing.T) {
	contributor := BuiltinRoles()[1].Permission()
	for _, tc := range []struct {
		name   string
		perms  Permissions
		action string
		want   bool
	}{
		{"none", nil, ActionRegistrationRead, false},
		{"Contributor writes registrations", Permissions{contributor}, ActionRegistrationWrite, true},
		{"Contributor reads locks", Permissions{contributor}, ActionLockRead, true},
		{"Contributor cannot write locks", Permissions{contributor}, ActionLockWrite, false},
		{"Contributor cannot delete locks (case-insensitive notAction)", Permissions{contributor}, ActionLockDelete, false},
		{"Contributor cannot write role definitions", Permissions{contributor}, ActionRoleDefinitionWrite, false},
		{"Contributor registers providers", Permissions{contributor}, ActionProviderRegister, true},
		{"Contributor plus a lock role", Permissions{contributor, perm([]string{"Microsoft.Authorization/locks/*"})}, ActionLockWrite, true},
		{"notAction of another entry does not deny", Permissions{perm([]string{"*"}), perm(nil, "*")}, ActionLockWrite, true},
		{"notAction wildcard", Permissions{perm([]string{"*"}, "Microsoft.AzureStack/*/action")}, ActionGetActivationKey, false},
		{"notAction wildcard leaves others", Permissions{perm([]string{"*"}, "Microsoft.AzureStack/*/action")}, ActionRegistrationWrite, true},
		{"Reader", Permissions{perm([]string{"*/read"})}, ActionRegistrationRead, true},
		{"Reader cannot register the provider", Permissions{perm([]string{"*/read"})}, ActionProviderRegister, false},
		{"nil patterns are skipped", Permissions{{Actions: []*string{nil}}}, ActionLockRead, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.perms.Allows(tc.action); got != tc.want {
				t.Errorf("Allows(%s) = %v, want %v", tc.action, got, tc.want)
			}
		})
	}
}

func TestRolesGranting(t *testing.T) {
	for _, tc := range []struct {
		action string
		want   []string
		text   string
	}{
		{ActionLockWrite, []string{"Owner", "User Access Administrator"}, "the Owner or User Access Administrator role"},
		{ActionLockDelete, []string{"Owner", "User Access Administrator"}, "the Owner or User Access Administrator role"},
		{ActionLockRead, []string{"Reader", "Contributor", "Owner", "User Access Administrator"}, "the Reader role (or any higher one)"},
		{ActionRegistrationWrite, []string{"Contributor", "Owner"}, "the Contributor or Owner role"},
		{ActionProviderRegister, []string{"Contributor", "Owner"}, "the Contributor or Owner role"},
		{ActionResourceGroupWrite, []string{"Contributor", "Owner"}, "the Contributor or Owner role"},
		{ActionRoleDefinitionWrite, []string{"Owner", "User Access Administrator"}, "the Owner or User Access Administrator role"},
	} {
		if got := RolesGranting(tc.action); !slices.Equal(got, tc.want) {
			t.Errorf("RolesGranting(%s) = %v, want %v", tc.action, got, tc.want)
		}
		if got := askRoles(RolesGranting(tc.action)); got != tc.text {
			t.Errorf("askRoles(RolesGranting(%s)) = %q, want %q", tc.action, got, tc.text)
		}
	}
}

func TestCompactActions(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{ActionLockRead, ActionLockWrite, ActionLockDelete}, "Microsoft.Authorization/locks/{read,write,delete}"},
		{[]string{ActionProviderRegister}, "Microsoft.AzureStack/register/action"},
		{[]string{ActionRegistrationRead, ActionGetActivationKey, ActionLockWrite},
			"Microsoft.AzureStack/registrations/{read,getActivationKey/action}, Microsoft.Authorization/locks/write"},
		{[]string{"*"}, "*"},
	} {
		if got := compactActions(tc.in); got != tc.want {
			t.Errorf("compactActions(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "arm", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPermissionsFixture decodes a permissions answer written from the
// spec's schema and evaluates it: Contributor at the subscription plus a
// custom role reading locks on the resource group.
func TestPermissionsFixture(t *testing.T) {
	var page PermissionGetResult
	strictDecode(t, readFixture(t, "permissions-contributor.json"), &page)
	var perms Permissions
	for _, p := range page.Value {
		perms = append(perms, *p)
	}
	var denied []string
	for _, a := range WorkflowActions() {
		if !perms.Allows(a) {
			denied = append(denied, a)
		}
	}
	if want := []string{ActionLockWrite, ActionLockDelete}; !slices.Equal(denied, want) {
		t.Errorf("denied: got %v, want %v", denied, want)
	}
	if page.NextLink != nil {
		t.Errorf("nextLink null decoded as %q, want nil", *page.NextLink)
	}
}

func TestLocationListShapes(t *testing.T) {
	var ex example
	if err := json.Unmarshal(readFixture(t, "GetLocations.json"), &ex); err != nil {
		t.Fatal(err)
	}
	bare := ex.Responses["200"].Body
	wrapped := append(append([]byte(`{"value":`), bare...), '}')
	for name, body := range map[string][]byte{"bare array (spec example)": bare, "value (schema)": wrapped} {
		var l LocationListResult
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(l.Value) != 2 || deref(l.Value[0].Name) != "eastus" || deref(l.Value[1].DisplayName) != "East US 2" {
			t.Errorf("%s: got %d locations", name, len(l.Value))
		}
	}
}

func TestRoleModelsDecodeSpecExamples(t *testing.T) {
	for _, tc := range []struct{ file, status string }{{"GetRoleDefinitionByName.json", "200"}, {"PutRoleDefinition.json", "201"}} {
		var ex example
		if err := json.Unmarshal(readFixture(t, tc.file), &ex); err != nil {
			t.Fatal(err)
		}
		var rd RoleDefinition
		strictDecode(t, ex.Responses[tc.status].Body, &rd)
		if deref(rd.Properties.RoleName) != "Role name" || deref(rd.Properties.RoleType) != "roletype" ||
			len(rd.Properties.Permissions) != 1 || deref(rd.Properties.Permissions[0].DataActions[0]) != "dataAction" {
			t.Errorf("%s: decoded %+v", tc.file, rd.Properties)
		}
	}
}

func TestRoleID(t *testing.T) {
	a := RoleID("DD8597B4-8739-4467-8b10-f8679f62bfbf", RegistrationRoleName)
	if a != RoleID("dd8597b4-8739-4467-8b10-f8679f62bfbf", strings.ToUpper(RegistrationRoleName)) {
		t.Error("RoleID depends on letter case")
	}
	if a == RoleID("11111111-1111-4111-8111-111111111111", RegistrationRoleName) {
		t.Error("RoleID is the same for two subscriptions")
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(a) {
		t.Errorf("RoleID %s is not a version 5 UUID", a)
	}
}

func TestMergeRole(t *testing.T) {
	const sub = "dd8597b4-8739-4467-8b10-f8679f62bfbf"
	doc := RegistrationRole(sub)
	// The documentation's role: the same actions without the lock ones, plus one of the admin's.
	doc.Properties.Permissions[0].Actions = ptrs(append(RegistrationRoleActions()[:8:8], "Microsoft.Support/*"))
	merged, res := mergeRole(doc, sub)
	if !res.Updated || !slices.Equal(res.Added, []string{"Microsoft.Authorization/locks/*"}) || res.AddedScopes != nil || res.Removed != nil {
		t.Errorf("merge of the documented role: got %+v", res)
	}
	if lacks := RoleLacks(merged); lacks != nil {
		t.Errorf("merged role lacks %v", lacks)
	}
	if acts := derefs(merged.Properties.Permissions[0].Actions); !slices.Contains(acts, "Microsoft.Support/*") {
		t.Errorf("merged role dropped the admin's action: %v", acts)
	}
	if derefs(doc.Properties.Permissions[0].Actions)[len(derefs(doc.Properties.Permissions[0].Actions))-1] != "Microsoft.Support/*" {
		t.Error("mergeRole changed its input")
	}

	blocked := RegistrationRole("11111111-1111-4111-8111-111111111111")
	blocked.Properties.Permissions[0].NotActions = ptrs([]string{"Microsoft.Authorization/locks/delete", "Microsoft.Compute/*"})
	merged, res = mergeRole(blocked, sub)
	if !slices.Equal(res.Removed, []string{"Microsoft.Authorization/locks/delete"}) || !slices.Equal(res.AddedScopes, []string{"/subscriptions/" + sub}) || res.Added != nil {
		t.Errorf("merge of a role with a blocking notAction: got %+v", res)
	}
	if lacks := RoleLacks(merged); lacks != nil {
		t.Errorf("merged role lacks %v", lacks)
	}
	if _, res := mergeRole(RegistrationRole(sub), sub); res.Updated {
		t.Errorf("the role itself needs no merge: got %+v", res)
	}
}

// FuzzMatchAction compares MatchAction with a regular expression built from
// the pattern ('*' → '.*', the rest literal, case-insensitive).
func FuzzMatchAction(f *testing.F) {
	for _, s := range [][2]string{
		{"*/read", ActionLockRead}, {"Microsoft.Authorization/*/Write", ActionLockWrite}, {"a*b*c", "acb"},
		{"**", ""}, {"Microsoft.AzureStack/registrations/*", ActionGetActivationKey}, {"*a*", "bab"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, action string) {
		if len(pattern) > 200 || len(action) > 400 || !ascii(pattern) || !ascii(action) {
			return
		}
		parts := strings.Split(pattern, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re := regexp.MustCompile(`(?is)^` + strings.Join(parts, ".*") + `$`)
		if got, want := MatchAction(pattern, action), re.MatchString(action); got != want {
			t.Errorf("MatchAction(%q, %q) = %v, regexp says %v", pattern, action, got, want)
		}
	})
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// FuzzPermissionsJSON decodes arbitrary permissions answers and evaluates
// them: no panic, and a notAction naming an action in every entry denies it.
func FuzzPermissionsJSON(f *testing.F) {
	f.Add(readFixture(f, "permissions-contributor.json"))
	f.Add([]byte(`{"value":[{"actions":["*"],"notActions":[]}]}`))
	f.Add([]byte(`{"value":[{"actions":["*/read"]},{"actions":null,"notActions":["*"]}],"nextLink":"https://x"}`))
	f.Add([]byte(`{"value":[null,{"actions":[null,"Microsoft.Authorization/*"]}]}`))
	f.Add([]byte(`{"value":{}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var page PermissionGetResult
		if json.Unmarshal(body, &page) != nil {
			return
		}
		var perms Permissions
		for _, p := range page.Value {
			if p != nil {
				perms = append(perms, *p)
			}
		}
		for _, a := range WorkflowActions() {
			granted := perms.Allows(a)
			denied := make(Permissions, len(perms))
			for i, p := range perms {
				p.NotActions = append(append([]*string(nil), p.NotActions...), ptr(strings.ToUpper(a)))
				denied[i] = p
			}
			if denied.Allows(a) {
				t.Errorf("%s still allowed with a notAction for it in every entry (granted before: %v)", a, granted)
			}
		}
	})
}

// FuzzLocationsJSON decodes arbitrary locations answers: no panic, and a
// bare array reads as the same list as {"value": array}.
func FuzzLocationsJSON(f *testing.F) {
	var ex example
	if err := json.Unmarshal(readFixture(f, "GetLocations.json"), &ex); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(ex.Responses["200"].Body))
	f.Add([]byte(`[{"name":"westus"},null]`))
	f.Add([]byte(`{"value":null}`))
	f.Add([]byte(` [ ] `))
	f.Fuzz(func(t *testing.T, body []byte) {
		var l LocationListResult
		if json.Unmarshal(body, &l) != nil {
			return
		}
		var arr []*SubscriptionLocation
		if json.Unmarshal(body, &arr) == nil {
			var w LocationListResult
			wrapped := append(append([]byte(`{"value":`), body...), '}')
			if err := json.Unmarshal(wrapped, &w); err != nil || len(w.Value) != len(l.Value) {
				t.Errorf("bare array gave %d, wrapped %d (%v)", len(l.Value), len(w.Value), err)
			}
		}
	})
}

// FuzzRoleDefinitionJSON decodes arbitrary role definitions: no panic, and
// merging the registration role's needs into any of them yields a role that
// grants every workflow action.
func FuzzRoleDefinitionJSON(f *testing.F) {
	for _, tc := range []struct{ file, status string }{{"GetRoleDefinitionByName.json", "200"}, {"PutRoleDefinition.json", "201"}} {
		var ex example
		if err := json.Unmarshal(readFixture(f, tc.file), &ex); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(ex.Responses[tc.status].Body))
	}
	if b, err := json.Marshal(RegistrationRole("s")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"properties":{"permissions":[null,{"actions":["*"],"notActions":["*",null]}],"assignableScopes":[null]}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var rd RoleDefinition
		if json.Unmarshal(body, &rd) != nil {
			return
		}
		_ = RoleLacks(rd)
		if _, err := RoleDefinitionFile(rd); err != nil && rd.Properties != nil {
			t.Errorf("RoleDefinitionFile: %v", err)
		}
		merged, _ := mergeRole(rd, "s")
		if lacks := RoleLacks(merged); lacks != nil {
			t.Errorf("merged role still lacks %v (from %s)", lacks, body)
		}
	})
}
