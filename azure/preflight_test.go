package azure_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/azure"
	"github.com/azs-courier/azs-courier/azure/azuresim"
)

// want is what a test expects of one check: its status and words its
// finding and fix must contain.
type want struct {
	status  azure.CheckStatus
	finding []string
	fix     []string
}

func checkReport(t *testing.T, rep *azure.PreflightReport, wants map[string]want) {
	t.Helper()
	names := []string{azure.CheckAccount, azure.CheckProvider, azure.CheckLocation, azure.CheckResourceGroup,
		azure.CheckPermissionProvider, azure.CheckPermissionResourceGroup, azure.CheckPermissionRegistration,
		azure.CheckPermissionLock, azure.CheckCloudID, azure.CheckName}
	if len(rep.Checks) != len(names) {
		t.Fatalf("report has %d checks, want %d: %+v", len(rep.Checks), len(names), rep.Checks)
	}
	for i, c := range rep.Checks {
		if c.Name != names[i] {
			t.Errorf("check %d is %s, want %s", i, c.Name, names[i])
		}
		if strings.Contains(c.Finding+c.Fix, "\n") || c.Finding == "" {
			t.Errorf("%s: finding and fix must be one non-empty line each: %q / %q", c.Name, c.Finding, c.Fix)
		}
		if c.Status != azure.CheckPass && c.Fix == "" {
			t.Errorf("%s is %s without a fix: %q", c.Name, c.Status, c.Finding)
		}
		w, ok := wants[c.Name]
		if !ok {
			w = want{status: azure.CheckPass}
		}
		if c.Status != w.status {
			t.Errorf("%s: got %s (%s; %s), want %s", c.Name, c.Status, c.Finding, c.Fix, w.status)
		}
		for _, s := range w.finding {
			if !strings.Contains(c.Finding, s) {
				t.Errorf("%s finding %q does not contain %q", c.Name, c.Finding, s)
			}
		}
		for _, s := range w.fix {
			if !strings.Contains(c.Fix, s) {
				t.Errorf("%s fix %q does not contain %q", c.Name, c.Fix, s)
			}
		}
	}
}

// providerWarn is the check of a subscription that never registered Microsoft.AzureStack.
var providerWarn = want{status: azure.CheckWarn, finding: []string{"NotRegistered"}, fix: []string{"register registers it first", "Microsoft.AzureStack/register/action"}}

func TestPreflight(t *testing.T) {
	tok := token(t, "1node")
	for _, tc := range []struct {
		name  string
		opts  azuresim.Options
		setup func(t *testing.T, sim *azuresim.Server, r *azure.Registrar)
		req   azure.PreflightRequest
		wants map[string]want
		// missing are the actions Report.Missing must name, in order.
		missing []string
	}{
		{name: "Owner in a new subscription", req: azure.PreflightRequest{Token: tok, Name: "hub"},
			wants: map[string]want{
				azure.CheckAccount:       {status: azure.CheckPass, finding: []string{"signed in as application " + azuresim.DefaultClientID, "tenant " + azuresim.DefaultTenantID, "is Enabled"}},
				azure.CheckProvider:      providerWarn,
				azure.CheckLocation:      {status: azure.CheckPass, finding: []string{"westcentralus (West Central US) is available", "registration itself uses location global"}},
				azure.CheckResourceGroup: {status: azure.CheckPass, finding: []string{"does not exist yet", "creates it in westcentralus"}},
				azure.CheckPermissionLock: {status: azure.CheckPass, finding: []string{
					"at subscription " + azuresim.DefaultSubscriptionID, "Microsoft.Authorization/locks/{read,write,delete}"}},
				azure.CheckCloudID: {status: azure.CheckPass, finding: []string{"no registration", cloud1}},
				azure.CheckName:    {status: azure.CheckPass, finding: []string{`name "hub" is free`}},
			}},
		{name: "provider already registered", opts: azuresim.Options{ProviderRegistered: true}, req: azure.PreflightRequest{CloudID: cloud1, Name: "hub"},
			wants: map[string]want{azure.CheckProvider: {status: azure.CheckPass, finding: []string{"is Registered"}}}},
		{name: "Contributor cannot lock", opts: azuresim.Options{Permissions: []azuresim.Permission{azuresim.Contributor()}},
			req: azure.PreflightRequest{Token: tok, Name: "hub"},
			wants: map[string]want{azure.CheckProvider: providerWarn,
				azure.CheckPermissionLock: {status: azure.CheckFail, finding: []string{"missing Microsoft.Authorization/locks/{write,delete}"},
					fix: []string{"Owner or User Access Administrator", "on subscription", "'Azure Stack registration role'", "azs-courier role create"}}},
			missing: []string{azure.ActionLockWrite, azure.ActionLockDelete}},
		{name: "without locks/write", opts: azuresim.Options{Permissions: []azuresim.Permission{azuresim.OwnerExcept("Microsoft.Authorization/locks/write")}},
			req: azure.PreflightRequest{Token: tok, Name: "hub"},
			wants: map[string]want{azure.CheckProvider: providerWarn,
				azure.CheckPermissionLock: {status: azure.CheckFail, finding: []string{"manage its lock", "missing Microsoft.Authorization/locks/write"},
					fix: []string{"Owner or User Access Administrator"}}},
			missing: []string{azure.ActionLockWrite}},
		{name: "without register/action", opts: azuresim.Options{Permissions: []azuresim.Permission{azuresim.OwnerExcept("Microsoft.AzureStack/register/action")}},
			req: azure.PreflightRequest{Token: tok, Name: "hub"},
			wants: map[string]want{azure.CheckProvider: providerWarn,
				azure.CheckPermissionProvider: {status: azure.CheckFail, finding: []string{"register the resource provider", "missing Microsoft.AzureStack/register/action"},
					fix: []string{"Contributor or Owner role on subscription " + azuresim.DefaultSubscriptionID + ","}}},
			missing: []string{azure.ActionProviderRegister}},
		{name: "Reader", opts: azuresim.Options{Permissions: []azuresim.Permission{azuresim.Reader()}},
			req: azure.PreflightRequest{Token: tok, Name: "hub"},
			wants: map[string]want{azure.CheckProvider: providerWarn,
				azure.CheckPermissionProvider:      {status: azure.CheckFail, fix: []string{"Contributor or Owner"}},
				azure.CheckPermissionResourceGroup: {status: azure.CheckFail, finding: []string{"Microsoft.Resources/subscriptions/resourceGroups/write"}},
				azure.CheckPermissionRegistration: {status: azure.CheckFail, finding: []string{
					"missing Microsoft.AzureStack/registrations/{write,delete,getActivationKey/action}"}, fix: []string{"Contributor or Owner"}},
				azure.CheckPermissionLock: {status: azure.CheckFail, finding: []string{"locks/{write,delete}"}, fix: []string{"Owner or User Access Administrator"}}},
			missing: []string{azure.ActionProviderRegister, azure.ActionResourceGroupWrite, azure.ActionRegistrationWrite,
				azure.ActionRegistrationDelete, azure.ActionGetActivationKey, azure.ActionLockWrite, azure.ActionLockDelete}},
		{name: "permissions unreadable", opts: azuresim.Options{Permissions: []azuresim.Permission{azuresim.OwnerExcept("Microsoft.Authorization/permissions/read")}},
			req: azure.PreflightRequest{Token: tok, Name: "hub"},
			wants: map[string]want{azure.CheckProvider: providerWarn,
				azure.CheckPermissionProvider:      {status: azure.CheckWarn, finding: []string{"could not read your permissions", "403 AuthorizationFailed"}, fix: []string{"Microsoft.Authorization/permissions/read"}},
				azure.CheckPermissionResourceGroup: {status: azure.CheckWarn},
				azure.CheckPermissionRegistration:  {status: azure.CheckWarn},
				azure.CheckPermissionLock:          {status: azure.CheckWarn}}},
		{name: "resource-group Contributor", setup: func(t *testing.T, sim *azuresim.Server, r *azure.Registrar) {
			if _, err := r.Register(context.Background(), token(t, "4node"), "", "other", "", ""); err != nil {
				t.Fatal(err)
			}
			sim.SetPermissions([]azuresim.Permission{azuresim.Reader()}, map[string][]azuresim.Permission{"azurestack": {azuresim.Contributor()}})
		}, req: azure.PreflightRequest{Token: tok, Name: "hub"},
			wants: map[string]want{
				azure.CheckPermissionProvider:      {status: azure.CheckFail, finding: []string{"at subscription"}, fix: []string{"Contributor or Owner role on subscription"}},
				azure.CheckPermissionResourceGroup: {status: azure.CheckPass, finding: []string{"at resource group azurestack"}},
				azure.CheckPermissionRegistration:  {status: azure.CheckPass, finding: []string{"at resource group azurestack"}},
				azure.CheckPermissionLock: {status: azure.CheckFail, finding: []string{"at resource group azurestack: missing Microsoft.Authorization/locks/{write,delete}"},
					fix: []string{"on resource group azurestack or the subscription"}}},
			missing: []string{azure.ActionProviderRegister, azure.ActionLockWrite, azure.ActionLockDelete}},
		{name: "location not offered", opts: azuresim.Options{Locations: []string{"eastus", "northeurope"}},
			req: azure.PreflightRequest{Token: tok, Name: "hub"},
			wants: map[string]want{azure.CheckProvider: providerWarn,
				azure.CheckLocation: {status: azure.CheckFail, finding: []string{"location westcentralus is not available", "UnknownResourceGroupLocation"},
					fix: []string{"--location", "2 locations: eastus, northeurope"}}}},
		{name: "location global", req: azure.PreflightRequest{Token: tok, Name: "hub", Location: "Global"},
			wants: map[string]want{azure.CheckProvider: providerWarn,
				azure.CheckLocation: {status: azure.CheckFail, finding: []string{"registration's own location"}, fix: []string{"westcentralus"}}}},
		{name: "location by display name", req: azure.PreflightRequest{Token: tok, Name: "hub", Location: "West Europe"},
			wants: map[string]want{azure.CheckProvider: providerWarn,
				azure.CheckLocation:      {status: azure.CheckPass, finding: []string{"westeurope (West Europe)"}},
				azure.CheckResourceGroup: {status: azure.CheckPass, finding: []string{"creates it in westeurope"}}}},
		{name: "resource group elsewhere", setup: func(t *testing.T, sim *azuresim.Server, r *azure.Registrar) {
			if _, err := r.Register(context.Background(), token(t, "4node"), "", "other", "", "westus"); err != nil {
				t.Fatal(err)
			}
		}, req: azure.PreflightRequest{Token: tok, Name: "hub"},
			wants: map[string]want{azure.CheckResourceGroup: {status: azure.CheckFail,
				finding: []string{"exists in westus, not in westcentralus", "InvalidResourceGroupLocation"}, fix: []string{"--location westus"}}}},
		{name: "resource group exists here", setup: func(t *testing.T, sim *azuresim.Server, r *azure.Registrar) {
			if _, err := r.Register(context.Background(), token(t, "4node"), "", "other", "", ""); err != nil {
				t.Fatal(err)
			}
		}, req: azure.PreflightRequest{Token: tok, Name: "hub", Location: "West Central US"},
			wants: map[string]want{azure.CheckResourceGroup: {status: azure.CheckPass, finding: []string{"exists in westcentralus"}},
				azure.CheckPermissionLock: {status: azure.CheckPass, finding: []string{"at resource group azurestack"}}}},
		{name: "cloud ID held by another registration", setup: registerAs("first", "1node"),
			req: azure.PreflightRequest{Token: tok, Name: "second", ResourceGroup: "other-rg"},
			wants: map[string]want{azure.CheckCloudID: {status: azure.CheckFail,
				finding: []string{"cloud ID " + cloud1 + ` is already registered as "first" in resource group "azurestack"`},
				fix:     []string{"reuse it with --name first --resource-group azurestack", "unregister --name first"}}}},
		{name: "already ours", setup: registerAs("first", "1node"), req: azure.PreflightRequest{Token: tok, Name: "First"},
			wants: map[string]want{
				azure.CheckCloudID: {status: azure.CheckPass, finding: []string{"registering again updates it"}},
				azure.CheckName:    {status: azure.CheckPass, finding: []string{"already belongs to this stamp"}}}},
		{name: "name of another stamp", setup: registerAs("first", "4node"), req: azure.PreflightRequest{Token: tok, Name: "first"},
			wants: map[string]want{azure.CheckName: {status: azure.CheckFail, finding: []string{"belongs to cloud ID " + cloud4 + ", not " + cloud1}, fix: []string{"another --name"}}}},
		{name: "renewal replaces the registration", setup: registerAs("first", "1node"),
			req:   azure.PreflightRequest{Token: tok, Name: "first-2027", Replaces: &azure.RegistrationRef{Name: "first", ResourceGroup: "azurestack"}},
			wants: map[string]want{azure.CheckCloudID: {status: azure.CheckPass, finding: []string{`held by "first"`, "removes first"}}}},
		{name: "renewal reuses the name", setup: registerAs("first", "1node"),
			req: azure.PreflightRequest{Token: tok, Name: "first", Replaces: &azure.RegistrationRef{Name: "first", ResourceGroup: "azurestack"}},
			wants: map[string]want{azure.CheckCloudID: {status: azure.CheckPass, finding: []string{"removes first"}},
				azure.CheckName: {status: azure.CheckPass, finding: []string{"this run replaces"}}}},
		{name: "no name", req: azure.PreflightRequest{Token: tok},
			wants: map[string]want{azure.CheckProvider: providerWarn, azure.CheckName: {status: azure.CheckFail, fix: []string{"--name", "AzureStack-" + cloud1}}}},
		{name: "invalid name", req: azure.PreflightRequest{Token: tok, Name: "a/b"},
			wants: map[string]want{azure.CheckProvider: providerWarn, azure.CheckName: {status: azure.CheckFail, finding: []string{"not a valid resource name"}}}},
		{name: "disabled subscription", opts: azuresim.Options{Subscriptions: []azuresim.Subscription{{ID: azuresim.DefaultSubscriptionID, Name: "Hub", State: "Disabled"}}},
			req: azure.PreflightRequest{Token: tok, Name: "hub"},
			wants: map[string]want{azure.CheckProvider: providerWarn,
				azure.CheckAccount: {status: azure.CheckFail, finding: []string{`subscription "Hub"`, "is Disabled"}, fix: []string{"re-enable it"}}}},
		{name: "past-due subscription", opts: azuresim.Options{Subscriptions: []azuresim.Subscription{{ID: azuresim.DefaultSubscriptionID, Name: "Hub", State: "PastDue"}}},
			req:   azure.PreflightRequest{Token: tok, Name: "hub"},
			wants: map[string]want{azure.CheckProvider: providerWarn, azure.CheckAccount: {status: azure.CheckWarn, fix: []string{"settle its billing"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, tc.opts)
			r := newRegistrar(t, sim)
			if tc.setup != nil {
				tc.setup(t, sim, r)
			}
			before := len(sim.Requests())
			rep, err := r.Preflight(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("Preflight: %v", err)
			}
			checkReport(t, rep, tc.wants)
			for _, req := range sim.Requests()[before:] {
				if req.Kind == "arm" && req.Method != http.MethodGet {
					t.Errorf("preflight sent %s %s; it must only read", req.Method, req.Path)
				}
			}
			var missing []string
			for _, m := range rep.Missing {
				missing = append(missing, m.Action)
				if len(m.Roles) == 0 || !strings.HasPrefix(m.Scope, "/subscriptions/"+azuresim.DefaultSubscriptionID) {
					t.Errorf("missing %s: roles %v scope %q", m.Action, m.Roles, m.Scope)
				}
			}
			if strings.Join(missing, " ") != strings.Join(tc.missing, " ") {
				t.Errorf("missing actions:\n got %v\nwant %v", missing, tc.missing)
			}
			failed := 0
			for _, w := range tc.wants {
				if w.status == azure.CheckFail {
					failed++
				}
			}
			err = rep.Err()
			if rep.OK() != (failed == 0) || (err == nil) != (failed == 0) {
				t.Errorf("OK %v, Err %v with %d failed checks", rep.OK(), err, failed)
			}
			if err != nil && (!errors.Is(err, azure.ErrPreflight) || strings.Contains(err.Error(), "\n")) {
				t.Errorf("Err: %q, want one line wrapping ErrPreflight", err)
			}
		})
	}
}

func registerAs(name, nodes string) func(*testing.T, *azuresim.Server, *azure.Registrar) {
	return func(t *testing.T, _ *azuresim.Server, r *azure.Registrar) {
		t.Helper()
		if _, err := r.Register(context.Background(), token(t, nodes), "", name, "", ""); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPreflightReportFacts(t *testing.T) {
	sim := startSim(t, azuresim.Options{Subscriptions: []azuresim.Subscription{{ID: azuresim.DefaultSubscriptionID, Name: "Hub billing"}}})
	r := newRegistrar(t, sim)
	ctx := context.Background()
	if _, err := r.Register(ctx, token(t, "1node"), "", "first", "", ""); err != nil {
		t.Fatal(err)
	}
	rep, err := r.Preflight(ctx, azure.PreflightRequest{CloudID: strings.ToUpper(cloud1), Name: "second", Location: "West Central US"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Account != "application "+azuresim.DefaultClientID || rep.TenantID != azuresim.DefaultTenantID || rep.SubscriptionName != "Hub billing" ||
		rep.SubscriptionState != "Enabled" || rep.ProviderState != "Registered" || !rep.ResourceGroupExists ||
		rep.ResourceGroupLocation != "westcentralus" || rep.Location != "westcentralus" || rep.ResourceGroup != "azurestack" {
		t.Errorf("report facts: %+v", rep)
	}
	if len(rep.Holding) != 1 || rep.Holding[0].Name != "first" || len(rep.Locations) != len(azuresim.DefaultLocations()) {
		t.Errorf("holding %+v, %d locations", rep.Holding, len(rep.Locations))
	}
	var pe *azure.PreflightError
	if err := rep.Err(); !errors.As(err, &pe) || len(pe.Failed) != 1 || pe.Failed[0].Name != azure.CheckCloudID ||
		!strings.Contains(err.Error(), "azure: preflight cloud-id: cloud ID") || !strings.Contains(err.Error(), "reuse it with --name first") {
		t.Errorf("Err: %v", err)
	}
	if c := rep.Check(azure.CheckName); c == nil || c.Status != azure.CheckPass {
		t.Errorf("Check(name): %+v", c)
	}
}

func TestPreflightRefusals(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	r := newRegistrar(t, sim)
	if _, err := r.Preflight(context.Background(), azure.PreflightRequest{Name: "hub"}); err == nil || !strings.Contains(err.Error(), "--token") {
		t.Errorf("Preflight without a cloud ID: got %v, want advice naming --token", err)
	}
	if _, err := r.Preflight(context.Background(), azure.PreflightRequest{Token: base64.StdEncoding.EncodeToString([]byte(`{"x":1}`))}); err == nil {
		t.Error("Preflight with a token without cloudId: got no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Preflight(ctx, azure.PreflightRequest{CloudID: cloud1, Name: "hub"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Preflight with a cancelled context: got %v, want context.Canceled", err)
	}
}

// TestPreflightPredictsRegister: for each set of role assignments, a
// preflight without failures means Register (as the simulator authorizes it)
// succeeds, and a failed permission check means it is refused 403 naming an
// action the preflight named.
func TestPreflightPredictsRegister(t *testing.T) {
	for _, tc := range []struct {
		name  string
		perms []azuresim.Permission
	}{
		{"Owner", nil},
		{"Contributor", []azuresim.Permission{azuresim.Contributor()}},
		{"Contributor and User Access Administrator", []azuresim.Permission{azuresim.Contributor(), azuresim.UserAccessAdministrator()}},
		{"Reader", []azuresim.Permission{azuresim.Reader()}},
		{"without locks/write", []azuresim.Permission{azuresim.OwnerExcept("Microsoft.Authorization/locks/write")}},
		{"without locks/read", []azuresim.Permission{azuresim.OwnerExcept("Microsoft.Authorization/locks/read")}},
		{"without register/action", []azuresim.Permission{azuresim.OwnerExcept("Microsoft.AzureStack/register/action")}},
		{"without resource group write", []azuresim.Permission{azuresim.OwnerExcept("Microsoft.Resources/subscriptions/resourceGroups/write")}},
		{"without registration write", []azuresim.Permission{azuresim.OwnerExcept("microsoft.azurestack/registrations/write")}},
		{"the documented custom role", []azuresim.Permission{{Actions: azure.RegistrationRoleActions()[:8]}}},
		{"the custom role with locks", []azuresim.Permission{{Actions: azure.RegistrationRoleActions()}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, azuresim.Options{Permissions: tc.perms})
			r := newRegistrar(t, sim)
			ctx := context.Background()
			rep, err := r.Preflight(ctx, azure.PreflightRequest{Token: token(t, "1node"), Name: "hub"})
			if err != nil {
				t.Fatal(err)
			}
			_, regErr := r.Register(ctx, token(t, "1node"), "", "hub", "", "")
			if rep.OK() {
				if regErr != nil {
					t.Fatalf("preflight passed but Register failed: %v", regErr)
				}
				if _, err := r.ActivationKey(ctx, "hub", ""); err != nil {
					t.Errorf("preflight passed but ActivationKey failed: %v", err)
				}
				if _, err := r.Unregister(ctx, azure.UnregisterRequest{Name: "hub"}); err != nil {
					t.Errorf("preflight passed but Unregister failed: %v", err)
				}
				return
			}
			if regErr == nil {
				t.Fatalf("preflight failed (%v) but Register succeeded", rep.Err())
			}
			var ae *azure.Error
			if !errors.As(regErr, &ae) || ae.StatusCode() != http.StatusForbidden {
				t.Fatalf("Register: got %v, want a 403", regErr)
			}
			named := false
			for _, m := range rep.Missing {
				named = named || strings.EqualFold(m.Action, ae.Permission)
			}
			if !named {
				t.Errorf("Register was refused %s, which the preflight did not name (missing %+v)", ae.Permission, rep.Missing)
			}
		})
	}
}
