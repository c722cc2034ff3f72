package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/azure/azuresim"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

// TestPreflightNamesMissingLockWrite: a caller who may do all but write
// locks is told so by preflight, with a role that grants it, and register
// stops at the same check before anything is written. The custom role
// grants what is missing; verify then shows the registration locked and
// made from the token.
func TestPreflightNamesMissingLockWrite(t *testing.T) {
	sim, flags := azSim(t, azuresim.Options{Permissions: []azuresim.Permission{azuresim.OwnerExcept("Microsoft.Authorization/locks/write")}})
	sp := azEnv(sim)
	flags = append(flags, "--auth", "environment")
	tok := testutil.Shared(t, "tokens", "registration-token-1node.txt")

	r := azRun(t, sp, flags, "preflight", "--token", tok)
	if r.Code != 1 {
		t.Fatalf("preflight: exit %d, want 1\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{"FAIL", "permission-lock", "Microsoft.Authorization/locks/write", "Owner", "ok  ", "account", azCloud1} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("preflight report lacks %q:\n%s", want, r.Stdout)
		}
	}
	assertOneLineError(t, r, "check(s) failed", "locks/write")
	r = azRun(t, sp, flags, "preflight", "--token", tok, "--json")
	var rep struct {
		Checks []struct{ Name, Status, Fix string }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil || len(rep.Checks) < 8 {
		t.Fatalf("preflight --json: %v\n%s", err, r.Stdout)
	}

	before := len(sim.RequestLog())
	r = azRun(t, sp, flags, "register", "--token", tok, "--name", "hub01")
	if r.Code != 1 {
		t.Fatalf("register with a failed preflight: exit %d, want 1", r.Code)
	}
	assertOneLineError(t, r, "locks/write")
	for _, req := range sim.RequestLog()[before:] {
		if !strings.HasPrefix(req, "GET ") {
			t.Errorf("register wrote %q after a failed preflight", req)
		}
	}
	if n := len(sim.Registrations()); n != 0 {
		t.Fatalf("%d registrations after a refused register", n)
	}

	// The least-privilege role: shown offline, created, and enough.
	r = runCLI(t, runOpts{}, "role", "show", "--subscription", sim.SubscriptionID())
	if r.Code != 0 || !strings.Contains(r.Stdout, "Microsoft.Authorization/locks/*") || !strings.Contains(r.Stdout, "Microsoft.AzureStack/register/action") {
		t.Fatalf("role show: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	var role map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &role); err != nil {
		t.Fatalf("role show is not JSON: %v", err)
	}
	sim.SetPermissions([]azuresim.Permission{azuresim.Owner()}, nil) // an admin creates the role
	azWant(t, azRun(t, sp, flags, "role", "create", "--subscription", sim.SubscriptionID()), 0, "created the custom role")
	azWant(t, azRun(t, sp, flags, "role", "create", "--subscription", sim.SubscriptionID()), 0, "already grants")

	azWant(t, azRun(t, sp, flags, "register", "--token", tok, "--name", "hub01"), 0, "registered hub01")
	azWant(t, azRun(t, sp, flags, "verify", "--token", tok), 0, "Registration hub01", "CanNotDelete", "matches the registration")
	other := testutil.Shared(t, "tokens", "registration-token-4node.txt")
	r = azRun(t, sp, flags, "verify", "--token", other)
	if r.Code != 1 {
		t.Fatalf("verify of an unregistered stamp: exit %d, want 1\n%s", r.Code, r.Stderr)
	}
	assertOneLineError(t, r, "register")
}
