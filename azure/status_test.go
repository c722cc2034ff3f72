package azure_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/azure"
	"github.com/azs-courier/azs-courier/azure/azuresim"
)

func TestStatus(t *testing.T) {
	tok := token(t, "1node")
	// The same stamp, but a token made for another billing model.
	devTok := base64.StdEncoding.EncodeToString([]byte(`{"billingModel":"Development","objectId":"1e2feb89-414c-443c-9027-c4d1c386bbc4","cloudId":"` + cloud1 + `"}`))
	for _, tc := range []struct {
		name   string
		faults azuresim.Faults // while registering
		perms  []azuresim.Permission
		req    azure.FindRequest
		check  func(t *testing.T, st *azure.RegistrationStatus)
	}{
		{name: "by cloud ID, locked", req: azure.FindRequest{CloudID: cloud1}, check: func(t *testing.T, st *azure.RegistrationStatus) {
			if !st.Locked || st.LockName != azure.LockName || st.LockLevel != "CanNotDelete" || !strings.Contains(st.LockNotes, "needed for syndication") ||
				st.TokenChecked || st.Registration.Name != "hub" || st.Registration.ResourceGroup != "azurestack" || st.Registration.BillingModel != "Capacity" {
				t.Errorf("status: %+v", st)
			}
		}},
		{name: "by token, matching", req: azure.FindRequest{Token: tok}, check: func(t *testing.T, st *azure.RegistrationStatus) {
			if !st.TokenChecked || !st.TokenMatches || st.Differences != nil || !st.Locked {
				t.Errorf("status: %+v", st)
			}
		}},
		{name: "by name, token of another billing model", req: azure.FindRequest{Name: "hub", Token: devTok}, check: func(t *testing.T, st *azure.RegistrationStatus) {
			if !st.TokenChecked || st.TokenMatches || !slices.Equal(st.Differences, []string{"billing model: token Development, registration Capacity"}) {
				t.Errorf("status: %+v", st)
			}
		}},
		{name: "lock missing", faults: azuresim.Faults{DenyLocks: true}, req: azure.FindRequest{CloudID: cloud1}, check: func(t *testing.T, st *azure.RegistrationStatus) {
			if st.Locked || st.LockName != "" || st.LockUnknown != "" {
				t.Errorf("status: %+v", st)
			}
		}},
		{name: "lock unreadable", perms: []azuresim.Permission{azuresim.OwnerExcept("Microsoft.Authorization/locks/read")}, req: azure.FindRequest{CloudID: cloud1},
			check: func(t *testing.T, st *azure.RegistrationStatus) {
				if st.Locked || !strings.Contains(st.LockUnknown, "403 AuthorizationFailed") || !strings.Contains(st.LockUnknown, "Microsoft.Authorization/locks/read") {
					t.Errorf("status: %+v", st)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, azuresim.Options{Faults: tc.faults})
			r := newRegistrar(t, sim)
			ctx := context.Background()
			if _, err := r.Register(ctx, tok, "", "hub", "", ""); err != nil && tc.faults == (azuresim.Faults{}) {
				t.Fatal(err)
			}
			sim.SetFaults(azuresim.Faults{})
			sim.SetPermissions(tc.perms, nil)
			before := len(sim.Requests())
			st, err := r.Status(ctx, tc.req)
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			tc.check(t, st)
			for _, req := range sim.Requests()[before:] {
				if req.Kind == "arm" && req.Method != http.MethodGet {
					t.Errorf("Status sent %s %s; it must only read", req.Method, req.Path)
				}
			}
		})
	}
}

func TestStatusNotRegistered(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	r := newRegistrar(t, sim)
	if _, err := r.Status(context.Background(), azure.FindRequest{CloudID: cloud1}); !errors.Is(err, azure.ErrNotFound) {
		t.Errorf("Status of an unregistered stamp: got %v, want ErrNotFound", err)
	}
	if _, err := r.Status(context.Background(), azure.FindRequest{Token: "not a token"}); err == nil {
		t.Error("Status with a broken token: got no error")
	}
}

// TestRenewalInDocumentedOrder: the connected half of "Renew or change
// registration": the old registration is unregistered (lock DELETE, then
// registration DELETE), the stamp is registered again (under a new name, and
// then under the old name once it is free) and the new key is fetched, in that
// order on the wire.
func TestRenewalInDocumentedOrder(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	r := newRegistrar(t, sim)
	ctx := context.Background()
	tok := token(t, "1node")
	if _, err := r.Register(ctx, tok, "", "hub", "", ""); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hub-2027", "hub"} {
		t.Run(name, func(t *testing.T) {
			old := sim.Registrations()[0].Name
			sim.ResetRequests()
			rep, err := r.Preflight(ctx, azure.PreflightRequest{Token: tok, Name: name, Replaces: &azure.RegistrationRef{Name: old, ResourceGroup: "azurestack"}})
			if err != nil || !rep.OK() {
				t.Fatalf("Preflight: %v %v", err, rep.Err())
			}
			if _, err := r.Unregister(ctx, azure.UnregisterRequest{Name: old}); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Register(ctx, tok, "", name, "", ""); err != nil {
				t.Fatalf("Register again as %s: %v", name, err)
			}
			key, err := r.ActivationKey(ctx, name, "")
			if err != nil || key.Claims.RegistrationName != name {
				t.Fatalf("ActivationKey: %+v, %v", key, err)
			}
			base := "/subscriptions/" + sim.SubscriptionID()
			wantOrder := []string{
				"DELETE " + base + "/resourcegroups/azurestack/providers/Microsoft.AzureStack/registrations/" + old + "/providers/Microsoft.Authorization/locks/RegistrationResourceLock",
				"DELETE " + base + "/resourceGroups/azurestack/providers/Microsoft.AzureStack/registrations/" + old,
				"PUT " + base + "/resourceGroups/azurestack/providers/Microsoft.AzureStack/registrations/" + name,
				"PUT " + base + "/resourcegroups/azurestack/providers/Microsoft.AzureStack/registrations/" + name + "/providers/Microsoft.Authorization/locks/RegistrationResourceLock",
				"POST " + base + "/resourceGroups/azurestack/providers/Microsoft.AzureStack/registrations/" + name + "/getactivationkey",
			}
			log := sim.RequestLog()
			at := 0
			for _, line := range log {
				if at < len(wantOrder) && line == wantOrder[at] {
					at++
				}
			}
			if at != len(wantOrder) {
				t.Errorf("the log lacks, in order, %q\nlog:\n  %s", wantOrder[at], strings.Join(log, "\n  "))
			}
			if regs := sim.Registrations(); len(regs) != 1 || regs[0].Name != name || regs[0].LockLevel != "CanNotDelete" {
				t.Errorf("after the renewal the sim holds %+v", regs)
			}
		})
	}
}
