package azure_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/azure"
	"github.com/azs-courier/azs-courier/azure/azuresim"
)

// TestRequestsMatchReferenceTable checks every ARM request of register →
// activation-key → unregister against the table in
// shared/reference/azure-registration.md §5 (and §3.10, §3.11, §8.1): method,
// path, api-version and body, byte for byte. Where the module leaves the
// api-version to Az.Resources, the Go SDK's version named in §5/§9 is used.
func TestRequestsMatchReferenceTable(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	r := newRegistrar(t, sim)
	ctx := context.Background()
	tok := token(t, "1node")
	if _, err := r.Register(ctx, tok, "", "azs-registration", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ActivationKey(ctx, "azs-registration", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Unregister(ctx, azure.UnregisterRequest{Name: "azs-registration"}); err != nil {
		t.Fatal(err)
	}

	sub := "/subscriptions/" + sim.SubscriptionID()
	reg := sub + "/resourceGroups/azurestack/providers/Microsoft.AzureStack/registrations/azs-registration"
	lock := sub + "/resourcegroups/azurestack/providers/Microsoft.AzureStack/registrations/azs-registration/providers/Microsoft.Authorization/locks/RegistrationResourceLock"
	notes := "Registration resource azs-registration is needed for syndication. Placing resource lock to prevent accidental deletion."
	want := []struct {
		row, method, path, api, body string
	}{
		// Register (§3.10): RP register, then our cloud-ID check (§11 quirk 1 designed out), RG, lock, PUT, lock.
		{"RP register", "POST", sub + "/providers/Microsoft.AzureStack/register", "2021-04-01", ""},
		{"registration list (subscription, §8.1 ListBySubscription)", "GET", sub + "/providers/Microsoft.AzureStack/registrations", "2022-06-01", ""},
		{"RG create", "PUT", sub + "/resourcegroups/azurestack", "2021-04-01", `{"location":"westcentralus"}`},
		{"lock get", "GET", lock, "2020-05-01", ""},
		{"registration create", "PUT", reg, "2017-06-01", `{"location":"global","properties":{"registrationToken":"` + tok + `"}}`},
		{"lock create", "PUT", lock, "2020-05-01", `{"properties":{"level":"CanNotDelete","notes":"` + notes + `"}}`},
		// Get-AzsActivationKey (§3.4), with the registration read first to check the key's cloud ID.
		{"registration get", "GET", reg, "2017-06-01", ""},
		{"activation key", "POST", reg + "/getactivationkey", "2017-06-01", ""},
		// UnRegister-AzsEnvironment by name (§3.3, §3.11): GET, lock get + delete, DELETE, GET to confirm.
		{"registration get", "GET", reg, "2017-06-01", ""},
		{"lock get", "GET", lock, "2020-05-01", ""},
		{"lock delete", "DELETE", lock, "2020-05-01", ""},
		{"registration delete", "DELETE", reg, "2017-06-01", ""},
		{"registration get (confirm gone)", "GET", reg, "2017-06-01", ""},
	}
	var got []azuresim.Request
	for _, req := range sim.Requests() {
		if req.Kind == "arm" {
			got = append(got, req)
		}
	}
	for i := 0; i < len(want) || i < len(got); i++ {
		switch {
		case i >= len(got):
			t.Errorf("request %d (%s): missing, want %s %s", i, want[i].row, want[i].method, want[i].path)
			continue
		case i >= len(want):
			t.Errorf("request %d: unexpected %s %s?api-version=%s", i, got[i].Method, got[i].Path, got[i].APIVersion)
			continue
		}
		w, g := want[i], got[i]
		if g.Method != w.method || g.Path != w.path || g.APIVersion != w.api {
			t.Errorf("request %d (%s):\n got %s %s?api-version=%s\nwant %s %s?api-version=%s", i, w.row, g.Method, g.Path, g.APIVersion, w.method, w.path, w.api)
		}
		if len(g.Query) != 1 {
			t.Errorf("request %d (%s): query %v, want only api-version", i, w.row, g.Query)
		}
		if string(g.Body) != w.body {
			t.Errorf("request %d (%s) body:\n got %s\nwant %s", i, w.row, abbrev(string(g.Body)), abbrev(w.body))
		}
	}
}

func abbrev(s string) string {
	if len(s) > 200 {
		return s[:120] + fmt.Sprintf("…(%d bytes)…", len(s)) + s[len(s)-60:]
	}
	return strings.TrimSpace(s)
}
