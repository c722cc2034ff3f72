package azuresim

import (
	"strings"
	"testing"
)

func TestRequiredAction(t *testing.T) {
	const sub = "s"
	for _, tc := range []struct {
		method, path, action, scope string
	}{
		{"GET", "", "", ""},
		{"GET", "locations", "", ""},
		{"GET", "providers/Microsoft.AzureStack", "", ""},
		{"POST", "providers/Microsoft.AzureStack/register", "Microsoft.AzureStack/register/action", "/subscriptions/s/providers/Microsoft.AzureStack"},
		{"PUT", "resourcegroups/azurestack", "Microsoft.Resources/subscriptions/resourceGroups/write", "/subscriptions/s/resourcegroups/azurestack"},
		{"GET", "resourceGroups/azurestack", "Microsoft.Resources/subscriptions/resourceGroups/read", "/subscriptions/s/resourceGroups/azurestack"},
		{"GET", "providers/Microsoft.AzureStack/registrations", "Microsoft.AzureStack/registrations/read", "/subscriptions/s/providers/Microsoft.AzureStack/registrations"},
		{"GET", "resourceGroups/rg/providers/microsoft.azurestack/registrations", "Microsoft.AzureStack/registrations/read", ""},
		{"DELETE", "resourceGroups/rg/providers/Microsoft.AzureStack/registrations/r", "Microsoft.AzureStack/registrations/delete", ""},
		{"POST", "resourceGroups/rg/providers/Microsoft.AzureStack/registrations/r/getactivationkey", "Microsoft.AzureStack/registrations/getactivationkey/action",
			"/subscriptions/s/resourceGroups/rg/providers/Microsoft.AzureStack/registrations/r"},
		{"PUT", "resourcegroups/rg/providers/Microsoft.AzureStack/registrations/r/providers/Microsoft.Authorization/locks/l", "Microsoft.Authorization/locks/write", ""},
		{"GET", "providers/Microsoft.Authorization/permissions", "Microsoft.Authorization/permissions/read", ""},
		{"GET", "resourcegroups/rg/providers/Microsoft.Authorization/permissions", "Microsoft.Authorization/permissions/read", ""},
		{"PUT", "providers/Microsoft.Authorization/roleDefinitions/g", "Microsoft.Authorization/roleDefinitions/write", ""},
		{"GET", "providers/Microsoft.Authorization/roleDefinitions", "Microsoft.Authorization/roleDefinitions/read", ""},
	} {
		var rest []string
		if tc.path != "" {
			rest = strings.Split(tc.path, "/")
		}
		action, scope, _ := requiredAction(tc.method, sub, rest)
		if action != tc.action || (tc.scope != "" && scope != tc.scope) {
			t.Errorf("%s %s: got %q over %q, want %q over %q", tc.method, tc.path, action, scope, tc.action, tc.scope)
		}
	}
}

func TestMatchAction(t *testing.T) {
	for _, tc := range []struct {
		pattern, action string
		want            bool
	}{
		{"*", "Microsoft.AzureStack/register/action", true},
		{"*/read", "Microsoft.Authorization/locks/read", true},
		{"*/read", "Microsoft.Authorization/locks/write", false},
		{"Microsoft.Authorization/*/Write", "microsoft.authorization/locks/write", true},
		{"Microsoft.Authorization/*", "Microsoft.Authorization/locks/delete", true},
		{"Microsoft.AzureStack/registrations/*", "Microsoft.AzureStack/registrations/getActivationKey/action", true},
		{"Microsoft.AzureStack/registrations/*", "Microsoft.AzureStack/register/action", false},
		{"a*a", "a", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "acb", false},
	} {
		if got := matchAction(tc.pattern, tc.action); got != tc.want {
			t.Errorf("matchAction(%q, %q) = %v, want %v", tc.pattern, tc.action, got, tc.want)
		}
	}
}
