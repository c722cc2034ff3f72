package e2e

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/azure/azuresim"
	"github.com/azs-courier/azs-courier/pep/pepsim"
)

// stampsRun runs a command on the disconnected side with --stamp (no
// --pep, no --user: the stamp's profile gives them).
func stampsRun(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return runCLI(t, runOpts{Dir: dir, Env: []string{"AZS_PEP_PASSWORD=" + pepPassword, "AZS_PEP_RETRY_DELAY=0s"}}, args...)
}

type stampJSONEntry struct {
	CloudID    string
	Activation string
	Warning    string
	Workflow   *struct{ Reason, Step string }
}

func stampList(t *testing.T) []stampJSONEntry {
	t.Helper()
	r := runCLI(t, runOpts{}, "stamps", "--json")
	if r.Code != 0 {
		t.Fatalf("stamps --json: exit %d: %s", r.Code, r.Stderr)
	}
	var list []stampJSONEntry
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil || len(list) != 1 {
		t.Fatalf("stamps --json: %v\n%s", err, r.Stdout)
	}
	return list
}

// commands returns the PEP cmdlets run since the first n.
func commands(srv *pepsim.Server, n int) []string {
	var out []string
	for _, iv := range srv.Invocations()[n:] {
		out = append(out, iv.Command)
	}
	return out
}

// inOrder reports whether want occur in got in that order (others may lie
// between them).
func inOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && strings.HasPrefix(g, want[i]) {
			i++
		}
	}
	return i == len(want)
}

// TestRegistrationLifecycle plays a stamp's years through files: the first
// registration, a capacity renewal, and a node-count change that stops
// half-way and resumes in a new run, each in the documented order on the
// wire: the activation removed before the new token, and in Azure the old
// registration's lock and resource deleted before the new PUT and the key.
func TestRegistrationLifecycle(t *testing.T) {
	srv := startPEP(t, pepsim.Options{Nodes: 4, ActivationDelay: 50 * time.Millisecond, TokenDelay: 50 * time.Millisecond})
	sim, flags := azSim(t, azuresim.Options{})
	sp := azEnv(sim)
	flags = append(flags, "--auth", "environment")
	media := t.TempDir()
	connected := runOpts{Env: append([]string{"AZS_COURIER_CONFIG_DIR=" + filepath.Join(t.TempDir(), "connected")}, sp.Env...)}
	file := func(n string) string { return filepath.Join(media, n) }
	capacity := []string{"--billing-model", "Capacity", "--agreement-number", "EA-1234567"}

	// The first registration.
	r := pepRun(t, srv, media, append([]string{"token", "--out", file("token-1.txt")}, capacity...)...)
	if r.Code != 0 {
		t.Fatalf("token: exit %d: %s", r.Code, r.Stderr)
	}
	azWant(t, azRun(t, connected, flags, "register", "--token", file("token-1.txt"), "--out", file("key-1.txt")), 0,
		"registered AzureStack-"+cloud4, "wrote the activation key")
	if r = stampsRun(t, media, "activate", "--stamp", cloud4, "--key", file("key-1.txt")); r.Code != 0 {
		t.Fatalf("activate --stamp: exit %d: %s", r.Code, r.Stderr)
	}
	if s := stampList(t)[0]; !strings.Contains(s.Activation, "AzureStack-"+cloud4) || s.Workflow != nil {
		t.Fatalf("after the first activation: %+v", s)
	}

	// A capacity renewal: a new, dated name.
	pepMark, azMark := len(srv.Invocations()), len(sim.RequestLog())
	r = stampsRun(t, media, append([]string{"renew", "--stamp", "b8a1abcd", "--reason", "renewal", "--out", file("token-2.txt"), "--yes"}, capacity...)...)
	if r.Code != 0 {
		t.Fatalf("renew: exit %d: %s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "remove the activation") || !strings.Contains(r.Stderr, "AzureStack-"+cloud4) {
		t.Errorf("renew did not say what it would do:\n%s", r.Stderr)
	}
	if got := commands(srv, pepMark); !inOrder(got, []string{"Remove-AzureStackActivation", "New-RegistrationToken"}) || slices.Index(got, "New-AzureStackActivation") >= 0 {
		t.Errorf("PEP commands of the renewal: %v; want the activation removed before the new token", got)
	}
	if s := stampList(t)[0]; s.Workflow == nil || s.Workflow.Step != "waiting for the activation key" || !strings.Contains(s.Warning, "Waiting for the activation key of the renewal") {
		t.Errorf("after renew: %+v; want it waiting for the key", s)
	}
	r = azRun(t, connected, flags, "register", "--token", file("token-2.txt"), "--out", file("key-2.txt"))
	newName := "AzureStack-" + cloud4 + "-" + time.Now().UTC().Format("20060102")
	azWant(t, r, 0, "removed AzureStack-"+cloud4, "registered "+newName)
	wire := sim.RequestLog()[azMark:]
	order := []string{
		"DELETE /subscriptions/" + sim.SubscriptionID() + "/resourceGroups/azurestack/providers/Microsoft.AzureStack/registrations/AzureStack-" + cloud4 + "/providers/Microsoft.Authorization/locks/",
		"DELETE /subscriptions/" + sim.SubscriptionID() + "/resourceGroups/azurestack/providers/Microsoft.AzureStack/registrations/AzureStack-" + cloud4,
		"PUT /subscriptions/" + sim.SubscriptionID() + "/resourceGroups/azurestack/providers/Microsoft.AzureStack/registrations/" + newName,
		"POST /subscriptions/" + sim.SubscriptionID() + "/resourceGroups/azurestack/providers/Microsoft.AzureStack/registrations/" + newName + "/",
	}
	if !inOrderFold(wire, order) {
		t.Errorf("Azure requests of the renewal:\n  %s\nwant in order:\n  %s", strings.Join(wire, "\n  "), strings.Join(order, "\n  "))
	}
	if r = stampsRun(t, media, "activate", "--stamp", cloud4, "--key", file("key-2.txt")); r.Code != 0 {
		t.Fatalf("activate the renewal's key: exit %d: %s", r.Code, r.Stderr)
	}
	if s := stampList(t)[0]; s.Workflow != nil || !strings.Contains(s.Activation, newName) {
		t.Errorf("after the renewal's activation: %+v; want it finished, with the new registration", s)
	}

	// Nodes added: the change stops after the activation is removed (the
	// stamp fails the token), and a later run resumes at the token.
	srv.SetNodes(6)
	srv.SetFaults(pepsim.Faults{CommandErrors: 10, CommandErrorName: "New-RegistrationToken"})
	pepMark = len(srv.Invocations())
	r = stampsRun(t, media, append([]string{"renew", "--stamp", cloud4, "--reason", "nodes", "--out", file("token-3.txt"), "--yes"}, capacity...)...)
	if r.Code != 1 || !strings.Contains(lastLine(r.Stderr), "resumes") {
		t.Fatalf("renew with a failing token: exit %d, want 1 saying it resumes\n%s", r.Code, r.Stderr)
	}
	if s := stampList(t)[0]; s.Workflow == nil || s.Workflow.Step != "activation removed" {
		t.Fatalf("after the failed run: %+v; want the change at 'activation removed'", s)
	}
	srv.SetFaults(pepsim.Faults{})
	resumeMark := len(srv.Invocations())
	r = stampsRun(t, media, append([]string{"renew", "--stamp", cloud4, "--reason", "nodes", "--out", file("token-3.txt"), "--yes"}, capacity...)...)
	if r.Code != 0 || !strings.Contains(r.Stderr, "resum") {
		t.Fatalf("renew again: exit %d, want it to resume\n%s", r.Code, r.Stderr)
	}
	if got := commands(srv, resumeMark); slices.Contains(got, "Remove-AzureStackActivation") || !slices.Contains(got, "New-RegistrationToken") {
		t.Errorf("the resumed run ran %v; want the token only", got)
	}
	if got := commands(srv, pepMark); !inOrder(got, []string{"Remove-AzureStackActivation", "New-RegistrationToken"}) {
		t.Errorf("PEP commands of the change: %v", got)
	}
	azMark = len(sim.RequestLog())
	r = runCLI(t, connected, "inspect", file("token-3.txt"), "--json")
	if !strings.Contains(r.Stdout, `"nodes": 6`) {
		t.Errorf("the change's token does not hold 6 nodes:\n%s", r.Stdout)
	}
	// A node change keeps the name of the registration it replaces.
	azWant(t, azRun(t, connected, flags, "register", "--token", file("token-3.txt"), "--out", file("key-3.txt")), 0, "removed "+newName, "registered "+newName)
	if !inOrderFold(sim.RequestLog()[azMark:], order[1:2]) {
		t.Errorf("the change did not delete the registration first: %v", sim.RequestLog()[azMark:])
	}
	if r = stampsRun(t, media, "activate", "--stamp", cloud4, "--key", file("key-3.txt")); r.Code != 0 {
		t.Fatalf("activate the change's key: exit %d: %s", r.Code, r.Stderr)
	}
	if s := stampList(t)[0]; s.Workflow != nil {
		t.Errorf("after the change's activation: %+v; want it finished", s)
	}
	if n := len(sim.Registrations()); n != 1 {
		t.Errorf("%d registrations in Azure at the end, want 1", n)
	}
}

// inOrderFold is inOrder ignoring case (ARM paths are case-insensitive,
// and clients differ in resourceGroups/resourcegroups).
func inOrderFold(got, want []string) bool {
	lower := func(ss []string) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = strings.ToLower(s)
		}
		return out
	}
	return inOrder(lower(got), lower(want))
}

// TestStampsImport remembers a stamp from the deployment's
// AzureStackStampInformation.json: its ERCS addresses and account stand in
// for --pep and --user from then on.
func TestStampsImport(t *testing.T) {
	info := filepath.Join(moduleRoot, "app", "testdata", "AzureStackStampInformation.json")
	r := runCLI(t, runOpts{}, "stamps", "import", info)
	if r.Code != 0 || !strings.Contains(r.Stdout, "10.20.30.224, 10.20.30.225, 10.20.30.226") || !strings.Contains(r.Stdout, `AZS\CloudAdmin`) {
		t.Fatalf("stamps import: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = runCLI(t, runOpts{}, "stamps")
	if r.Code != 0 || !strings.Contains(r.Stdout, "hub01 (azs.contoso.local)") || !strings.Contains(r.Stdout, "1.2311.2.23") {
		t.Errorf("stamps: exit %d\n%s", r.Code, r.Stdout)
	}
	r = runCLI(t, runOpts{}, "stamps", "forget", "hub01")
	if r.Code != 0 {
		t.Fatalf("stamps forget: exit %d: %s", r.Code, r.Stderr)
	}
	if r = runCLI(t, runOpts{}, "stamps"); !strings.Contains(r.Stdout, "No stamps remembered") {
		t.Errorf("after forget: %s", r.Stdout)
	}
}

// TestRenewalRegisterRerun: registering a renewal's token a second time
// (a rerun after a lost terminal) keeps the renewal's registration: it does
// not remove and make it again.
func TestRenewalRegisterRerun(t *testing.T) {
	srv := startPEP(t, pepsim.Options{Nodes: 4, ActivationDelay: 50 * time.Millisecond, TokenDelay: 50 * time.Millisecond})
	sim, flags := azSim(t, azuresim.Options{})
	flags = append(flags, "--auth", "environment")
	media := t.TempDir()
	connected := runOpts{Env: append([]string{"AZS_COURIER_CONFIG_DIR=" + filepath.Join(t.TempDir(), "connected")}, azEnv(sim).Env...)}
	file := func(n string) string { return filepath.Join(media, n) }
	dev := []string{"--billing-model", "Development"}
	if r := pepRun(t, srv, media, append([]string{"token", "--out", file("t1.txt")}, dev...)...); r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	azWant(t, azRun(t, connected, flags, "register", "--token", file("t1.txt"), "--out", file("k1.txt")), 0)
	if r := stampsRun(t, media, "activate", "--stamp", cloud4, "--key", file("k1.txt")); r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	if r := stampsRun(t, media, append([]string{"renew", "--stamp", cloud4, "--reason", "billing-model", "--out", file("t2.txt"), "--yes"}, dev...)...); r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	azWant(t, azRun(t, connected, flags, "register", "--token", file("t2.txt")), 0, "removed AzureStack-"+cloud4)
	mark := len(sim.RequestLog())
	r := azRun(t, connected, flags, "register", "--token", file("t2.txt"))
	azWant(t, r, 0, "registered AzureStack-"+cloud4)
	if strings.Contains(r.Stdout, "removed") {
		t.Errorf("the rerun removed a registration:\n%s", r.Stdout)
	}
	for _, req := range sim.RequestLog()[mark:] {
		if strings.HasPrefix(req, "DELETE") && !strings.Contains(strings.ToLower(req), "/locks/") {
			t.Errorf("the rerun deleted %s", req)
		}
	}
	if n := len(sim.Registrations()); n != 1 {
		t.Errorf("%d registrations after the rerun, want 1", n)
	}
}
