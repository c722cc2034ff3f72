package azure_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/azs-courier/azs-courier/azure"
	"github.com/azs-courier/azs-courier/azure/azuresim"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestRegistrationRole: the role is the documentation's template plus
// Microsoft.Authorization/locks/*, assignable at the subscription; the file
// form is the template's (golden: testdata/registration-role.json).
func TestRegistrationRole(t *testing.T) {
	const sub = "dd8597b4-8739-4467-8b10-f8679f62bfbf"
	rd := azure.RegistrationRole(sub)
	p := rd.Properties
	want := []string{
		"Microsoft.Resources/subscriptions/resourceGroups/write",
		"Microsoft.Resources/subscriptions/resourceGroups/read",
		"Microsoft.AzureStack/registrations/*",
		"Microsoft.AzureStack/register/action",
		"Microsoft.Authorization/roleAssignments/read",
		"Microsoft.Authorization/roleAssignments/write",
		"Microsoft.Authorization/roleAssignments/delete",
		"Microsoft.Authorization/permissions/read",
		"Microsoft.Authorization/locks/*",
	}
	var got []string
	for _, a := range p.Permissions[0].Actions {
		got = append(got, *a)
	}
	if !slices.Equal(got, want) {
		t.Errorf("actions:\n got %v\nwant %v", got, want)
	}
	if *p.RoleName != "Azure Stack registration role" || *p.RoleType != "CustomRole" || len(p.AssignableScopes) != 1 ||
		*p.AssignableScopes[0] != "/subscriptions/"+sub || *rd.Name != azure.RoleID(sub, azure.RegistrationRoleName) ||
		*rd.ID != "/subscriptions/"+sub+"/providers/Microsoft.Authorization/roleDefinitions/"+*rd.Name {
		t.Errorf("role: %+v %+v", rd, p)
	}
	if lacks := azure.RoleLacks(rd); lacks != nil {
		t.Errorf("the role lacks %v", lacks)
	}
	doc := azure.RegistrationRole(sub)
	doc.Properties.Permissions[0].Actions = doc.Properties.Permissions[0].Actions[:8]
	if lacks := azure.RoleLacks(doc); !slices.Equal(lacks, []string{azure.ActionLockRead, azure.ActionLockWrite, azure.ActionLockDelete}) {
		t.Errorf("the documentation's role lacks %v, want the three lock actions", lacks)
	}

	file, err := azure.RoleDefinitionFile(rd)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "registration-role.json")
	if *update {
		if err := os.WriteFile(golden, file, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantFile, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestRegistrationRole -update to write it)", err)
	}
	if !bytes.Equal(file, wantFile) {
		t.Errorf("role file:\n%s\nwant (%s):\n%s", file, golden, wantFile)
	}
}

// putRole PUTs a role definition into sim directly, as an administrator
// with the portal or New-AzRoleDefinition would.
func putRole(t *testing.T, sim *azuresim.Server, id, body string) {
	t.Helper()
	c := customCloud(t, sim)
	cred, err := azure.NewCredential(c, azure.CredentialOptions{Method: azure.AuthClientSecret,
		TenantID: sim.TenantID(), ClientID: sim.ClientID(), ClientSecret: sim.ClientSecret()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{c.Scope()}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPut, sim.URL()+"/subscriptions/"+sim.SubscriptionID()+
		"/providers/Microsoft.Authorization/roleDefinitions/"+id+"?api-version=2022-04-01", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: sim.CertPool()}}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT role: %d", resp.StatusCode)
	}
}

// docRole is the documentation's JSON template as the ARM body.
const docRole = `{"properties":{"roleName":"Azure Stack registration role","description":"Allows access to register Azure Stack","type":"CustomRole",
"permissions":[{"actions":["Microsoft.Resources/subscriptions/resourceGroups/write","Microsoft.Resources/subscriptions/resourceGroups/read",
"Microsoft.AzureStack/registrations/*","Microsoft.AzureStack/register/action","Microsoft.Authorization/roleAssignments/read",
"Microsoft.Authorization/roleAssignments/write","Microsoft.Authorization/roleAssignments/delete","Microsoft.Authorization/permissions/read"],
"notActions":[]}],"assignableScopes":["/subscriptions/` + azuresim.DefaultSubscriptionID + `"]}}`

func TestCreateRole(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	r := newRegistrar(t, sim)
	ctx := context.Background()
	if _, err := r.GetRole(ctx, nil); !errors.Is(err, azure.ErrRoleNotFound) || !strings.Contains(err.Error(), "role create") {
		t.Errorf("GetRole before: got %v, want ErrRoleNotFound with the fix", err)
	}
	res, err := r.CreateRole(ctx, nil)
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	id := azure.RoleID(sim.SubscriptionID(), azure.RegistrationRoleName)
	if !res.Created || res.Updated || *res.Role.Name != id {
		t.Errorf("CreateRole: got %+v, want a new role %s", res, id)
	}
	held := sim.RoleDefinitions()
	if len(held) != 1 || held[0].ID != id || held[0].RoleName != azure.RegistrationRoleName ||
		!slices.Equal(held[0].Permissions[0].Actions, azure.RegistrationRoleActions()) ||
		!slices.Equal(held[0].AssignableScopes, []string{"/subscriptions/" + sim.SubscriptionID()}) {
		t.Errorf("sim holds %+v", held)
	}
	again, err := r.CreateRole(ctx, nil)
	if err != nil || again.Created || again.Updated || *again.Role.Name != id {
		t.Errorf("CreateRole again: got %+v, %v; want the same role unchanged", again, err)
	}
	got, err := r.GetRole(ctx, &azure.RoleOptions{RoleName: "azure stack REGISTRATION role"})
	if err != nil || *got.Name != id || azure.RoleLacks(*got) != nil {
		t.Errorf("GetRole: got %+v, %v", got, err)
	}
	var puts int
	for _, req := range sim.Requests() {
		if req.Method == http.MethodPut {
			puts++
			if req.APIVersion != "2022-04-01" || !strings.HasSuffix(req.Path, "/providers/Microsoft.Authorization/roleDefinitions/"+id) {
				t.Errorf("PUT %s?api-version=%s", req.Path, req.APIVersion)
			}
		}
		if q := req.Query.Get("$filter"); req.Method == http.MethodGet && strings.HasSuffix(req.Path, "/roleDefinitions") &&
			q != "roleName eq 'Azure Stack registration role'" && q != "roleName eq 'azure stack REGISTRATION role'" {
			t.Errorf("role lookup filter %q", q)
		}
	}
	if puts != 1 {
		t.Errorf("%d PUTs, want 1 (the second CreateRole changes nothing)", puts)
	}
}

// TestCreateRoleCompletesTheDocumentedRole: a role an administrator made
// from the documentation's template gains the lock actions under its own ID.
func TestCreateRoleCompletesTheDocumentedRole(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	r := newRegistrar(t, sim)
	const handMade = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	putRole(t, sim, handMade, docRole)
	res, err := r.CreateRole(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || !res.Updated || !slices.Equal(res.Added, []string{"Microsoft.Authorization/locks/*"}) || *res.Role.Name != handMade {
		t.Errorf("CreateRole: got %+v, want the hand-made role updated with locks/*", res)
	}
	held := sim.RoleDefinitions()
	if len(held) != 1 || held[0].ID != handMade || !slices.Contains(held[0].Permissions[0].Actions, "Microsoft.Authorization/locks/*") ||
		held[0].Description != "Allows access to register Azure Stack" {
		t.Errorf("sim holds %+v", held)
	}
}

func TestCreateRoleRefused(t *testing.T) {
	sim := startSim(t, azuresim.Options{Permissions: []azuresim.Permission{azuresim.Contributor()}})
	r := newRegistrar(t, sim)
	_, err := r.CreateRole(context.Background(), nil)
	if statusOf(err) != http.StatusForbidden || !strings.Contains(err.Error(), "Microsoft.Authorization/roleDefinitions/write") ||
		!strings.Contains(err.Error(), "Owner or User Access Administrator") {
		t.Errorf("CreateRole as Contributor: got %v, want 403 naming roleDefinitions/write and the roles", err)
	}
	// A role of the same name that is not assignable here collides by name.
	other := startSim(t, azuresim.Options{})
	putRole(t, other, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
		strings.Replace(docRole, `"assignableScopes":["/subscriptions/`+azuresim.DefaultSubscriptionID, `"assignableScopes":["/subscriptions/`+azuresim.DefaultSubscriptionID+`/resourceGroups/elsewhere`, 1))
	_, err = newRegistrar(t, other).CreateRole(context.Background(), nil)
	if statusOf(err) != http.StatusConflict || !strings.Contains(err.Error(), "RoleDefinitionWithSameNameExists") || !strings.Contains(err.Error(), "assignable scopes") {
		t.Errorf("CreateRole with the name taken: got %v, want 409 RoleDefinitionWithSameNameExists with advice", err)
	}
}
