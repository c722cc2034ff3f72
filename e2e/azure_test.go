package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/azure/azuresim"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

const azCloud1 = "cd613e30-d8f1-4adf-91b7-584a2265b1f5"

// azSim starts the simulated Azure and returns it with the flags that point
// the CLI at it (short retry and poll delays keep the fault runs fast).
func azSim(t *testing.T, o azuresim.Options) (*azuresim.Server, []string) {
	t.Helper()
	sim, err := azuresim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	ca := filepath.Join(t.TempDir(), "azuresim-ca.pem")
	if err := os.WriteFile(ca, sim.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return sim, []string{"--arm-endpoint", sim.URL(), "--authority-host", sim.URL(), "--ca-file", ca,
		"--subscription", sim.SubscriptionID(), "--retry-delay", "10ms", "--poll-interval", "10ms"}
}

// azEnv is the service principal for --auth environment (azidentity's EnvironmentCredential).
func azEnv(sim *azuresim.Server) runOpts {
	return runOpts{Env: []string{"AZURE_TENANT_ID=" + sim.TenantID(), "AZURE_CLIENT_ID=" + sim.ClientID(), "AZURE_CLIENT_SECRET=" + sim.ClientSecret()}}
}

func azRun(t *testing.T, o runOpts, flags []string, args ...string) result {
	t.Helper()
	return runCLI(t, o, append(args, flags...)...)
}

// azNoSecrets checks that no token the simulator issued, nor the client
// secret, appears in the runs' output or in any file under dirs (the config
// folder with the custody ledger, the output folders).
func azNoSecrets(t *testing.T, sim *azuresim.Server, runs []result, dirs ...string) {
	t.Helper()
	secrets := append(sim.IssuedTokens(), sim.ClientSecret())
	if len(secrets) < 2 {
		t.Fatal("the simulator issued no tokens: nothing was checked")
	}
	var texts []string
	for _, r := range runs {
		texts = append(texts, r.Stdout, r.Stderr)
	}
	for _, d := range dirs {
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				b, _ := os.ReadFile(p)
				texts = append(texts, p+": "+string(b))
			}
			return nil
		})
	}
	for _, text := range texts {
		for _, sec := range secrets {
			if strings.Contains(text, sec) {
				t.Errorf("a token or secret leaked: %.60s…", text)
			}
		}
	}
}

func azWant(t *testing.T, r result, code int, stdout ...string) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("exit status %d, want %d\nstdout: %s\nstderr: %s", r.Code, code, r.Stdout, r.Stderr)
	}
	for _, s := range stdout {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("stdout %q does not contain %q", r.Stdout, s)
		}
	}
}

func TestAzureRoundTripEnvironment(t *testing.T) {
	sim, flags := azSim(t, azuresim.Options{ProviderRegisteringPolls: 2})
	sp := azEnv(sim)
	tok := testutil.Shared(t, "tokens", "registration-token-1node.txt")
	dir := t.TempDir()
	key := filepath.Join(dir, "activation-key.txt")

	r := azRun(t, sp, flags, "register", "--token", tok, "--name", "azs-registration", "--auth", "environment")
	azWant(t, r, 0, "registered azs-registration", azCloud1, "RegistrationResourceLock")
	// Re-running with the same token and name succeeds without change.
	r = azRun(t, sp, flags, "register", "--token", tok, "--name", "azs-registration", "--auth", "environment")
	azWant(t, r, 0, "registered azs-registration")
	if regs := sim.Registrations(); len(regs) != 1 || regs[0].LockLevel != "CanNotDelete" {
		t.Fatalf("after two runs the simulator holds %+v, want one locked registration", regs)
	}

	r = azRun(t, sp, flags, "registrations", "--json", "--auth", "environment")
	azWant(t, r, 0)
	var list []struct{ Name, CloudID string }
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil || len(list) != 1 || list[0].CloudID != azCloud1 {
		t.Errorf("registrations --json: got %q (%v), want one with cloud ID %s", r.Stdout, err, azCloud1)
	}

	r = azRun(t, sp, flags, "activation-key", "--name", "azs-registration", "--out", key, "--qr", filepath.Join(dir, "qr"), "--auth", "environment")
	azWant(t, r, 0, "wrote the activation key", azCloud1)
	if _, err := os.Stat(key + ".courier.json"); err != nil {
		t.Errorf("no manifest beside the key: %v", err)
	}
	if pngs, _ := filepath.Glob(filepath.Join(dir, "qr", "*.png")); len(pngs) == 0 {
		t.Error("--qr wrote no PNG frames")
	}
	r = runCLI(t, runOpts{}, "inspect", key, "--json")
	azWant(t, r, 0, `"activation-key"`, azCloud1)
	// An existing key is never overwritten silently.
	r = azRun(t, sp, flags, "activation-key", "--name", "azs-registration", "--out", key, "--auth", "environment")
	azWant(t, r, 1)
	assertOneLineError(t, r, "already exists", "--force")

	r = azRun(t, sp, flags, "unregister", "--token", tok, "--auth", "environment")
	azWant(t, r, 1)
	assertOneLineError(t, r, "--yes")
	r = azRun(t, sp, flags, "unregister", "--token", tok, "--yes", "--auth", "environment")
	azWant(t, r, 0, "unregistered azs-registration")
	if n := len(sim.Registrations()); n != 0 {
		t.Errorf("after unregister the simulator holds %d registrations", n)
	}
	r = azRun(t, sp, flags, "unregister", "--token", tok, "--yes", "--auth", "environment")
	azWant(t, r, 1)
	assertOneLineError(t, r, "no registration with cloud ID "+azCloud1)
	azNoSecrets(t, sim, []result{r}, configDir(t), dir)
}

func TestAzureRoundTripDeviceCode(t *testing.T) {
	sim, flags := azSim(t, azuresim.Options{})
	dc := append(flags, "--auth", "device-code", "--tenant", sim.TenantID())
	tok := testutil.Shared(t, "tokens", "registration-token-4node.txt")
	key := filepath.Join(t.TempDir(), "key.txt")
	var runs []result
	for _, step := range [][]string{
		{"register", "--token", tok, "--name", "hub-4"},
		{"register", "--token", tok, "--name", "hub-4"}, // a re-run changes nothing
		{"activation-key", "--name", "hub-4", "--out", key},
		{"unregister", "--cloud-id", "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7", "--yes"},
	} {
		r := azRun(t, runOpts{}, dc, step...)
		runs = append(runs, r)
		azWant(t, r, 0)
		if !strings.Contains(r.Stderr, "enter the code") || !strings.Contains(r.Stderr, sim.URL()+"/devicelogin") {
			t.Errorf("%s: the device code was not shown on stderr: %q", step[0], r.Stderr)
		}
	}
	if _, err := os.Stat(key); err != nil {
		t.Errorf("activation key not written: %v", err)
	}
	// A fault under device-code sign-in: the code is shown, then one error line.
	sim.SetFaults(azuresim.Faults{ExpiredToken: true})
	r := azRun(t, runOpts{}, dc, "registrations")
	azWant(t, r, 1)
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	if last := lines[len(lines)-1]; len(lines) != 2 || !strings.HasPrefix(last, "azs-courier: ") || !strings.Contains(last, "sign in again") {
		t.Errorf("stderr: got %q, want the device-code prompt and one error line advising to sign in again", r.Stderr)
	}
	runs = append(runs, r)
	azNoSecrets(t, sim, runs, configDir(t), filepath.Dir(key))
}

func TestAzureSubscriptionPicker(t *testing.T) {
	sim, flags := azSim(t, azuresim.Options{Subscriptions: []azuresim.Subscription{
		{ID: "11111111-1111-4111-8111-111111111111", Name: "Lab"}, {ID: "22222222-2222-4222-8222-222222222222", Name: "Production"}}})
	// Drop --subscription: with two subscriptions and no terminal, the CLI lists them.
	for i, f := range flags {
		if f == "--subscription" {
			flags = append(append([]string(nil), flags[:i]...), flags[i+2:]...)
			break
		}
	}
	r := azRun(t, azEnv(sim), flags, "registrations", "--auth", "environment")
	azWant(t, r, 1)
	assertOneLineError(t, r, "11111111-1111-4111-8111-111111111111 (Lab)", "22222222-2222-4222-8222-222222222222 (Production)", "--subscription")
	r = azRun(t, azEnv(sim), append(flags, "--subscription", "22222222-2222-4222-8222-222222222222"), "registrations", "--auth", "environment")
	azWant(t, r, 0, "no registrations in subscription 22222222-2222-4222-8222-222222222222")
}

func TestAzureFaults(t *testing.T) {
	tok := testutil.Shared(t, "tokens", "registration-token-1node.txt")
	for _, tc := range []struct {
		name   string
		opts   azuresim.Options
		faults azuresim.Faults
		// step is "register" or "activation-key" (run after a clean register).
		step  string
		code  int
		wants []string
	}{
		{name: "expired token on register", faults: azuresim.Faults{ExpiredToken: true}, step: "register", code: 1,
			wants: []string{"401 ExpiredAuthenticationToken", "sign in again"}},
		{name: "expired token on activation-key", faults: azuresim.Faults{ExpiredToken: true}, step: "activation-key", code: 1,
			wants: []string{"401 ExpiredAuthenticationToken", "sign in again"}},
		{name: "missing lock permission", faults: azuresim.Faults{DenyLocks: true}, step: "register", code: 1,
			wants: []string{"403 AuthorizationFailed", "Microsoft.Authorization/locks/write", "Owner or User Access Administrator"}},
		{name: "throttled beyond patience", faults: azuresim.Faults{Throttle: 1000, RetryAfter: 10 * time.Minute}, step: "activation-key", code: 1,
			wants: []string{"429", "throttling", "wait 600 s"}},
		{name: "throttled then served", faults: azuresim.Faults{Throttle: 2, RetryAfter: 10 * time.Millisecond}, step: "activation-key"},
		{name: "server errors persist", faults: azuresim.Faults{ServerErrors: 1000}, step: "activation-key", code: 1,
			wants: []string{"500 InternalServerError", "try again later"}},
		{name: "server errors then served", faults: azuresim.Faults{ServerErrors: 2}, step: "register"},
		{name: "connection resets then served", faults: azuresim.Faults{ResetConnections: 2}, step: "activation-key"},
		{name: "cloud ID registered elsewhere", faults: azuresim.Faults{CloudIDTaken: true}, step: "register", code: 1,
			wants: []string{"409 CloudIdAlreadyRegistered", "reuse it or unregister it"}},
		{name: "slow resource provider", opts: azuresim.Options{ProviderRegisteringPolls: 5}, step: "register"},
		{name: "key for another stamp", faults: azuresim.Faults{KeyCloudID: "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7"}, step: "activation-key", code: 3,
			wants: []string{"cloud ID of the activation key", azCloud1, "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7", "do not use this key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, flags := azSim(t, tc.opts)
			sp := azEnv(sim)
			flags = append(flags, "--auth", "environment")
			dir := t.TempDir()
			key := filepath.Join(dir, "activation-key.txt")
			if tc.step == "activation-key" {
				azWant(t, azRun(t, sp, flags, "register", "--token", tok, "--name", "azs-registration"), 0)
			}
			sim.SetFaults(tc.faults)
			var r result
			if tc.step == "register" {
				r = azRun(t, sp, flags, "register", "--token", tok, "--name", "azs-registration")
			} else {
				r = azRun(t, sp, flags, "activation-key", "--name", "azs-registration", "--out", key)
			}
			if r.Code != tc.code {
				t.Fatalf("exit status %d, want %d; stderr: %s", r.Code, tc.code, r.Stderr)
			}
			if tc.code == 0 {
				return
			}
			assertOneLineError(t, r, tc.wants...)
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a failed run left files behind: %v", entries)
			}
		})
	}
}

func TestAzureCloudIDInUse(t *testing.T) {
	sim, flags := azSim(t, azuresim.Options{})
	sp := azEnv(sim)
	flags = append(flags, "--auth", "environment")
	tok := testutil.Shared(t, "tokens", "registration-token-1node.txt")
	azWant(t, azRun(t, sp, flags, "register", "--token", tok, "--name", "first"), 0)
	r := azRun(t, sp, flags, "register", "--token", tok, "--name", "second")
	azWant(t, r, 1)
	assertOneLineError(t, r, `already registered as "first"`, "reuse it with --name first")
}

func TestAzureUsage(t *testing.T) {
	for _, args := range [][]string{
		{"register", "--name", "x"},
		{"activation-key", "--name", "x"},
		{"unregister", "--name", "x", "--cloud-id", "y"},
		{"register", "--token", "t", "--name", "x", "--arm-endpoint", "https://127.0.0.1:1"},
		{"registrations", "--auth", "carrier-pigeon", "--subscription", "s"},
	} {
		r := runCLI(t, runOpts{}, args...)
		if r.Code != 2 {
			t.Errorf("%v: exit status %d, want 2 (stderr %q)", args, r.Code, r.Stderr)
		}
		assertOneLineError(t, r)
	}
}
