package azure_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/azs-courier/azs-courier/azure"
	"github.com/azs-courier/azs-courier/azure/azuresim"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

const (
	cloud1 = "cd613e30-d8f1-4adf-91b7-584a2265b1f5"
	cloud4 = "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7"
)

func token(t testing.TB, nodes string) string {
	t.Helper()
	return strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-"+nodes+".txt")))
}

func startSim(t *testing.T, o azuresim.Options) *azuresim.Server {
	t.Helper()
	sim, err := azuresim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// fastRetry keeps the azcore retry policy but with test-sized delays.
var fastRetry = policy.RetryOptions{MaxRetries: 3, RetryDelay: 5 * time.Millisecond, MaxRetryDelay: 100 * time.Millisecond}

func customCloud(t *testing.T, sim *azuresim.Server) azure.Cloud {
	t.Helper()
	caFile := filepath.Join(t.TempDir(), "azuresim-ca.pem")
	if err := os.WriteFile(caFile, sim.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := azure.CustomCloud(sim.URL(), sim.URL(), caFile)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newRegistrar signs in with the real azidentity client-secret flow against sim.
func newRegistrar(t *testing.T, sim *azuresim.Server) *azure.Registrar {
	t.Helper()
	c := customCloud(t, sim)
	cred, err := azure.NewCredential(c, azure.CredentialOptions{Method: azure.AuthClientSecret,
		TenantID: sim.TenantID(), ClientID: sim.ClientID(), ClientSecret: sim.ClientSecret()})
	if err != nil {
		t.Fatal(err)
	}
	return registrarWith(t, sim, c, cred)
}

func registrarWith(t *testing.T, sim *azuresim.Server, c azure.Cloud, cred azcore.TokenCredential) *azure.Registrar {
	t.Helper()
	r, err := azure.NewRegistrar(azure.Options{Cloud: c, Credential: cred, SubscriptionID: sim.SubscriptionID(),
		Client: azure.ClientOptions{Retry: fastRetry}, PollInterval: time.Millisecond, PollTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRegisterActivationKeyUnregister(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	r := newRegistrar(t, sim)
	ctx := context.Background()
	tok := token(t, "1node")

	// Before the provider is registered, there are simply no registrations.
	if list, err := r.List(ctx, ""); err != nil || len(list) != 0 {
		t.Errorf("List before any registration: got %+v, %v; want none and no error", list, err)
	}
	info, err := r.Register(ctx, tok, "", "azs-registration", "", "")
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if info.CloudID != cloud1 || info.Name != "azs-registration" || info.ResourceGroup != "azurestack" {
		t.Errorf("Register: got %+v, want cloud %s, name azs-registration in azurestack", info, cloud1)
	}
	regs := sim.Registrations()
	if len(regs) != 1 {
		t.Fatalf("sim holds %d registrations, want 1", len(regs))
	}
	want := azuresim.RegistrationState{SubscriptionID: sim.SubscriptionID(), ResourceGroup: "azurestack", Name: "azs-registration",
		CloudID: cloud1, BillingModel: "Capacity", Etag: regs[0].Etag, LockName: "RegistrationResourceLock", LockLevel: "CanNotDelete",
		LockNotes: "Registration resource azs-registration is needed for syndication. Placing resource lock to prevent accidental deletion."}
	if regs[0] != want {
		t.Errorf("sim state:\n got %+v\nwant %+v", regs[0], want)
	}

	// Re-running with the same token and name succeeds and changes nothing.
	again, err := r.Register(ctx, tok, cloud1, "azs-registration", "azurestack", "westcentralus")
	if err != nil {
		t.Fatalf("Register again: %v", err)
	}
	if *again != *info {
		t.Errorf("Register again: got %+v, want %+v", again, info)
	}
	if got := sim.Registrations(); len(got) != 1 || got[0] != want {
		t.Errorf("after re-run sim state: got %+v, want %+v", got, want)
	}

	key, err := r.ActivationKey(ctx, "azs-registration", "")
	if err != nil {
		t.Fatalf("ActivationKey: %v", err)
	}
	if key.Claims.CloudID != cloud1 || key.Claims.RegistrationName != "azs-registration" || key.Claims.SubscriptionID != sim.SubscriptionID() {
		t.Errorf("key claims: got %+v", key.Claims)
	}
	if strings.Count(key.Key, ".") != 2 {
		t.Errorf("key is not a JWS: %.40s…", key.Key)
	}

	list, err := r.List(ctx, "azurestack")
	if err != nil || len(list) != 1 || list[0].CloudID != cloud1 {
		t.Errorf("List: got %+v, %v; want the one registration", list, err)
	}

	gone, err := r.Unregister(ctx, azure.UnregisterRequest{Token: tok})
	if err != nil {
		t.Fatalf("Unregister by token: %v", err)
	}
	if gone.Name != "azs-registration" {
		t.Errorf("Unregister removed %q, want azs-registration", gone.Name)
	}
	if n := len(sim.Registrations()); n != 0 {
		t.Errorf("after Unregister sim holds %d registrations, want 0", n)
	}
	// Unregistering again says clearly that there is nothing to remove.
	if _, err := r.Unregister(ctx, azure.UnregisterRequest{Token: tok}); !errors.Is(err, azure.ErrNotFound) {
		t.Errorf("second Unregister: got %v, want ErrNotFound", err)
	}
}

func TestUnregisterByNameAndCloudID(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	r := newRegistrar(t, sim)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  azure.UnregisterRequest
	}{
		{"by name", azure.UnregisterRequest{Name: "stamp-a"}},
		{"by cloud ID", azure.UnregisterRequest{CloudID: strings.ToUpper(cloud1)}},
		{"by cloud ID in resource group", azure.UnregisterRequest{CloudID: cloud1, ResourceGroup: "azurestack", SearchResourceGroupOnly: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.Register(ctx, token(t, "1node"), "", "stamp-a", "", ""); err != nil {
				t.Fatal(err)
			}
			got, err := r.Unregister(ctx, tc.req)
			if err != nil {
				t.Fatalf("Unregister: %v", err)
			}
			if got.CloudID != cloud1 || len(sim.Registrations()) != 0 {
				t.Errorf("Unregister: got %+v, %d left; want cloud %s and none left", got, len(sim.Registrations()), cloud1)
			}
		})
	}
	if _, err := r.Unregister(ctx, azure.UnregisterRequest{}); err == nil || !strings.Contains(err.Error(), "--name, --token or --cloud-id") {
		t.Errorf("Unregister without input: got %v, want advice naming --name, --token or --cloud-id", err)
	}
}

// TestDeviceCode signs in with the real azidentity device-code flow: the
// simulator asks the client to keep polling once, then approves.
func TestDeviceCode(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	c := customCloud(t, sim)
	var mu sync.Mutex
	var prompts []azure.DeviceCode
	cred, err := azure.NewCredential(c, azure.CredentialOptions{Method: azure.AuthDeviceCode, TenantID: sim.TenantID(),
		UserPrompt: func(_ context.Context, dc azure.DeviceCode) error {
			mu.Lock()
			defer mu.Unlock()
			prompts = append(prompts, dc)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	r := registrarWith(t, sim, c, cred)
	ctx := context.Background()
	if _, err := r.Register(ctx, token(t, "4node"), "", "stamp-4", "", ""); err != nil {
		t.Fatalf("Register: %v", err)
	}
	key, err := r.ActivationKey(ctx, "stamp-4", "")
	if err != nil || key.Claims.CloudID != cloud4 {
		t.Fatalf("ActivationKey: got %+v, %v; want cloud %s", key, err, cloud4)
	}
	if _, err := r.Unregister(ctx, azure.UnregisterRequest{CloudID: cloud4}); err != nil {
		t.Fatalf("Unregister: %v", err)
	}
	if len(prompts) != 1 {
		t.Fatalf("device code shown %d times, want once", len(prompts))
	}
	if prompts[0].UserCode == "" || !strings.HasPrefix(prompts[0].VerificationURL, sim.URL()) || !strings.Contains(prompts[0].Message, prompts[0].UserCode) {
		t.Errorf("device code prompt: got %+v", prompts[0])
	}
	polls := 0
	for _, req := range sim.Requests() {
		if strings.HasSuffix(req.Path, "/oauth2/v2.0/token") && strings.Contains(string(req.Body), "device_code") {
			polls++
		}
	}
	if polls < 2 {
		t.Errorf("token endpoint polled %d times, want at least 2 (pending, then approved)", polls)
	}
}

func TestSubscriptions(t *testing.T) {
	sim := startSim(t, azuresim.Options{Subscriptions: []azuresim.Subscription{
		{ID: "11111111-1111-4111-8111-111111111111", Name: "One"}, {ID: "22222222-2222-4222-8222-222222222222", Name: "Two"}}})
	c := customCloud(t, sim)
	cred, err := azure.NewCredential(c, azure.CredentialOptions{Method: azure.AuthClientSecret,
		TenantID: sim.TenantID(), ClientID: sim.ClientID(), ClientSecret: sim.ClientSecret()})
	if err != nil {
		t.Fatal(err)
	}
	subs, err := azure.ListSubscriptions(context.Background(), c, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range subs {
		got = append(got, *s.SubscriptionID+"="+*s.DisplayName)
	}
	if want := "11111111-1111-4111-8111-111111111111=One,22222222-2222-4222-8222-222222222222=Two"; strings.Join(got, ",") != want {
		t.Errorf("subscriptions: got %s, want %s", strings.Join(got, ","), want)
	}
}

func TestBadSecret(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	c := customCloud(t, sim)
	cred, err := azure.NewCredential(c, azure.CredentialOptions{Method: azure.AuthClientSecret,
		TenantID: sim.TenantID(), ClientID: sim.ClientID(), ClientSecret: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	r := registrarWith(t, sim, c, cred)
	_, err = r.Register(context.Background(), token(t, "1node"), "", "x", "", "")
	if err == nil || !strings.Contains(err.Error(), "sign-in failed") || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("Register with a wrong secret: got %v, want a sign-in failure naming AADSTS7000215", err)
	}
}

func TestUntrustedCA(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	c, err := azure.CustomCloud(sim.URL(), sim.URL(), "")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := azure.NewCredential(c, azure.CredentialOptions{Method: azure.AuthClientSecret,
		TenantID: sim.TenantID(), ClientID: sim.ClientID(), ClientSecret: sim.ClientSecret(), Retry: policy.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = azure.ListSubscriptions(context.Background(), c, cred, &azure.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}})
	if err == nil || !strings.Contains(err.Error(), "--ca-file") {
		t.Errorf("without the CA: got %v, want advice to use --ca-file", err)
	}
}

func statusOf(err error) int {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   azuresim.Options
		faults azuresim.Faults
		// status is the ARM status the error must carry (0: success wanted).
		status   int
		contains []string
	}{
		{name: "expired token", faults: azuresim.Faults{ExpiredToken: true}, status: http.StatusUnauthorized,
			contains: []string{"ExpiredAuthenticationToken", "sign in again"}},
		{name: "missing lock permission", faults: azuresim.Faults{DenyLocks: true}, status: http.StatusForbidden,
			contains: []string{"create lock RegistrationResourceLock", "Microsoft.Authorization/locks/write", "Owner or User Access Administrator"}},
		{name: "429 then success", faults: azuresim.Faults{Throttle: 2, RetryAfter: 20 * time.Millisecond}},
		{name: "429 beyond patience", faults: azuresim.Faults{Throttle: 100, RetryAfter: 3 * time.Second}, status: http.StatusTooManyRequests,
			contains: []string{"throttling", "wait 3 s"}},
		{name: "500 then success", faults: azuresim.Faults{ServerErrors: 3}},
		{name: "500 persistent", faults: azuresim.Faults{ServerErrors: 100}, status: http.StatusInternalServerError,
			contains: []string{"kept failing after retries", "try again later"}},
		{name: "connection resets then success", faults: azuresim.Faults{ResetConnections: 2}},
		{name: "cloud ID registered elsewhere", faults: azuresim.Faults{CloudIDTaken: true}, status: http.StatusConflict,
			contains: []string{"CloudIdAlreadyRegistered", "Reusing cloud identifiers is not allowed", "reuse it or unregister it"}},
		{name: "slow provider", opts: azuresim.Options{ProviderRegisteringPolls: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Faults = tc.faults
			sim := startSim(t, tc.opts)
			r := newRegistrar(t, sim)
			_, err := r.Register(context.Background(), token(t, "1node"), "", "azs-registration", "", "")
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("Register: %v, want success", err)
				}
				if _, err := r.ActivationKey(context.Background(), "azs-registration", ""); err != nil {
					t.Fatalf("ActivationKey: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Register: got success, want an error")
			}
			if got := statusOf(err); got != tc.status {
				t.Errorf("status in error chain: got %d, want %d (%v)", got, tc.status, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestSlowProviderPollsAndCancels(t *testing.T) {
	sim := startSim(t, azuresim.Options{ProviderRegisteringPolls: 1000})
	r := newRegistrar(t, sim)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err := r.Register(ctx, token(t, "1node"), "", "azs-registration", "", "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Register with a provider that never registers: got %v, want context.DeadlineExceeded", err)
	}
	gets := 0
	for _, req := range sim.Requests() {
		if req.Method == http.MethodGet && strings.HasSuffix(req.Path, "/providers/Microsoft.AzureStack") {
			gets++
		}
	}
	if gets < 2 {
		t.Errorf("provider polled %d times, want several", gets)
	}
}

func TestConflicts(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	r := newRegistrar(t, sim)
	ctx := context.Background()
	if _, err := r.Register(ctx, token(t, "1node"), "", "first", "", ""); err != nil {
		t.Fatal(err)
	}
	before := len(sim.Requests())
	_, err := r.Register(ctx, token(t, "1node"), "", "second", "other-rg", "")
	var inUse *azure.CloudIDInUseError
	if !errors.As(err, &inUse) || inUse.Existing.Name != "first" || inUse.Existing.ResourceGroup != "azurestack" {
		t.Fatalf("Register under another name: got %v, want CloudIDInUseError naming first in azurestack", err)
	}
	if !errors.Is(err, azure.ErrCloudIDInUse) || !strings.Contains(err.Error(), "reuse it with --name first --resource-group azurestack") {
		t.Errorf("error %q: want ErrCloudIDInUse and the reuse option", err)
	}
	for _, req := range sim.Requests()[before:] {
		if req.Method != http.MethodGet && !strings.HasSuffix(req.Path, "/register") && req.Kind == "arm" {
			t.Errorf("a write was sent before the conflict was found: %s %s", req.Method, req.Path)
		}
	}
	_, err = r.Register(ctx, token(t, "4node"), "", "first", "", "")
	var nameInUse *azure.NameInUseError
	if !errors.As(err, &nameInUse) || nameInUse.CloudID != cloud1 {
		t.Errorf("Register another stamp under the same name: got %v, want NameInUseError", err)
	}
	// Removing the lock is refused without the permission; the registration stays locked.
	sim.SetFaults(azuresim.Faults{DenyLocks: true})
	_, err = r.Unregister(ctx, azure.UnregisterRequest{Name: "first"})
	if statusOf(err) != http.StatusForbidden || !strings.Contains(err.Error(), "Microsoft.Authorization/locks/delete") {
		t.Errorf("Unregister without lock permission: got %v, want 403 naming locks/delete", err)
	}
	if regs := sim.Registrations(); len(regs) != 1 || regs[0].LockName == "" {
		t.Errorf("after refused unregister: got %+v, want the locked registration", regs)
	}
}

func TestActivationKeyOfAnotherStamp(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	r := newRegistrar(t, sim)
	ctx := context.Background()
	if _, err := r.Register(ctx, token(t, "1node"), "", "azs-registration", "", ""); err != nil {
		t.Fatal(err)
	}
	sim.SetFaults(azuresim.Faults{KeyCloudID: cloud4})
	key, err := r.ActivationKey(ctx, "azs-registration", "")
	var me *azure.MismatchError
	if !errors.As(err, &me) || me.Want != cloud1 || me.Got != cloud4 || !errors.Is(err, azure.ErrMismatch) {
		t.Fatalf("ActivationKey with a key for another stamp: got %+v, %v; want MismatchError want %s got %s", key, err, cloud1, cloud4)
	}
}

// TestFailedUpdateKeepsLock: when the PUT fails after the lock was removed,
// the lock is put back, so a failed re-run never leaves the registration unprotected.
func TestFailedUpdateKeepsLock(t *testing.T) {
	sim := startSim(t, azuresim.Options{})
	r := newRegistrar(t, sim)
	ctx := context.Background()
	if _, err := r.Register(ctx, token(t, "1node"), "", "azs-registration", "", ""); err != nil {
		t.Fatal(err)
	}
	sim.SetFaults(azuresim.Faults{CloudIDTaken: true})
	if _, err := r.Register(ctx, token(t, "1node"), "", "azs-registration", "", ""); statusOf(err) != http.StatusConflict {
		t.Fatalf("Register with a failing PUT: got %v, want 409", err)
	}
	if regs := sim.Registrations(); len(regs) != 1 || regs[0].LockLevel != "CanNotDelete" {
		t.Errorf("after the failed update: got %+v, want the registration still locked", regs)
	}
}
