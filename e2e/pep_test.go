package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep/pepsim"
)

const pepPassword = "E2e-Pep-Passw0rd"

// The shared 4-node vectors' stamp.
const cloud4 = "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7"

// startPEP runs a simulated PEP in the test process for the binary to
// talk to over loopback.
func startPEP(t *testing.T, o pepsim.Options) *pepsim.Server {
	t.Helper()
	o.Password = pepPassword
	if o.CloudID == "" {
		o.CloudID = cloud4
	}
	srv, err := pepsim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// pepRun runs a PEP command against srv with the password in
// AZS_PEP_PASSWORD (never on the command line).
func pepRun(t *testing.T, srv *pepsim.Server, dir string, args ...string) result {
	t.Helper()
	args = append(args, "--pep", srv.Addr(), "--user", srv.User())
	return runCLI(t, runOpts{Dir: dir, Env: []string{"AZS_PEP_PASSWORD=" + pepPassword, "AZS_PEP_RETRY_DELAY=0s"}}, args...)
}

// lastLine returns the last line of stderr: progress may come before the
// one-line error.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func assertFailure(t *testing.T, r result, code int, wants ...string) {
	t.Helper()
	if r.Code != code {
		t.Errorf("exit code %d, want %d; stderr:\n%s", r.Code, code, r.Stderr)
	}
	line := lastLine(r.Stderr)
	t.Logf("error: %s", line)
	if !strings.HasPrefix(line, "azs-courier: ") {
		t.Errorf("last stderr line is not an 'azs-courier: ' error: %q", line)
	}
	for _, w := range wants {
		if !strings.Contains(strings.ToLower(line), strings.ToLower(w)) {
			t.Errorf("error %q does not mention %q", line, w)
		}
	}
}

// noFiles checks that a failed run left nothing in dir.
func noFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("a failed run left %s", e.Name())
	}
}

// TestPEPRoundTrip drives the binary as an operator would: stamp, token,
// activate, deactivate, against the simulated PEP.
func TestPEPRoundTrip(t *testing.T) {
	srv := startPEP(t, pepsim.Options{Nodes: 4})
	dir := t.TempDir()

	r := pepRun(t, srv, dir, "stamp", "--json")
	if r.Code != 0 {
		t.Fatalf("stamp: exit %d\n%s", r.Code, r.Stderr)
	}
	var stamp map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &stamp); err != nil {
		t.Fatalf("stamp --json: %v\n%s", err, r.Stdout)
	}
	found := false
	for k, v := range stamp {
		if strings.EqualFold(k, "cloudId") && v == cloud4 {
			found = true
		}
	}
	if !found {
		t.Errorf("stamp --json has no cloudId %s: %s", cloud4, r.Stdout)
	}

	tok := filepath.Join(dir, "registration-token.txt")
	r = pepRun(t, srv, dir, "token", "--billing-model", "Capacity", "--agreement-number", "EA-1234567", "--out", tok)
	if r.Code != 0 {
		t.Fatalf("token: exit %d\n%s", r.Code, r.Stderr)
	}
	data, err := os.ReadFile(tok)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("token file is not base64: %v", err)
	}
	var body struct {
		CloudID         string `json:"cloudId"`
		BillingModel    string `json:"billingModel"`
		AgreementNumber string `json:"agreementNumber"`
		HardwareInfo    []any  `json:"hardwareInfo"`
		Usage           bool   `json:"usageReportingEnabled"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	if body.CloudID != cloud4 || body.BillingModel != "Capacity" || body.AgreementNumber != "EA-1234567" || len(body.HardwareInfo) != 4 || body.Usage {
		t.Errorf("token: got %+v, want cloud %s, Capacity, EA-1234567, 4 nodes, usage off", body, cloud4)
	}
	if _, err := os.Stat(tok + ".courier.json"); err != nil {
		t.Errorf("token has no manifest: %v", err)
	}
	if strings.Contains(r.Stdout+r.Stderr, pepPassword) {
		t.Error("the PEP password was printed")
	}

	key := testutil.Shared(t, "tokens", "activation-key-4node.txt")
	r = pepRun(t, srv, dir, "activate", "--key", key)
	if r.Code != 0 {
		t.Fatalf("activate: exit %d\n%s", r.Code, r.Stderr)
	}
	if !srv.Activated() {
		t.Fatal("stamp not activated after 'activate'")
	}

	r = pepRun(t, srv, dir, "deactivate", "--yes")
	if r.Code != 0 {
		t.Fatalf("deactivate: exit %d\n%s", r.Code, r.Stderr)
	}
	if srv.Activated() {
		t.Fatal("stamp still activated after 'deactivate'")
	}
	if n := srv.OpenShells(); n != 0 {
		t.Errorf("PEP sessions left open: %d", n)
	}
	if st := srv.Stats(); st.Plaintext != 0 || st.Handshakes != 4 {
		t.Errorf("%d plain-text bodies, %d NTLM handshakes: want 0 and one per command (4)", st.Plaintext, st.Handshakes)
	}
}

// TestPEPKeyOfAnotherStamp refuses a key whose cloud ID is not the stamp's,
// before anything reaches New-AzureStackActivation.
func TestPEPKeyOfAnotherStamp(t *testing.T) {
	srv := startPEP(t, pepsim.Options{})
	key := testutil.Shared(t, "tokens", "activation-key-1node.txt")
	r := pepRun(t, srv, t.TempDir(), "activate", "--key", key)
	assertFailure(t, r, 3, cloud4, "cd613e30-d8f1-4adf-91b7-584a2265b1f5")
	if srv.Activated() {
		t.Error("activated with another stamp's key")
	}
}

// TestPEPFaults runs the commands against each fault of the simulator:
// a clear one-line error and no output file where the fault persists, the
// module's retries where it passes.
func TestPEPFaults(t *testing.T) {
	key := testutil.Shared(t, "tokens", "activation-key-4node.txt")
	token := []string{"token", "--billing-model", "Development"}
	activate := []string{"activate", "--key", key}
	tests := []struct {
		name      string
		faults    pepsim.Faults
		args      []string
		code      int
		wants     []string // words the one-line error must contain; nil: success
		activated bool     // the stamp's state afterwards
	}{
		{"busy token", pepsim.Faults{Busy: -1}, token, 1, []string{"another action is in progress"}, false},
		{"busy activation", pepsim.Faults{Busy: -1}, activate, 1, []string{"another action is in progress"}, false},
		{"broken pool", pepsim.Faults{BrokenPool: true}, []string{"stamp"}, 1, []string{"broken"}, false},
		{"HTTP 500 fault", pepsim.Faults{InternalErrors: -1, InternalErrorAction: "Command"}, token, 1, []string{"internal"}, false},
		// The faults below hit the command after the stamp information, which
		// the module does not retry.
		{"HTTP 500 twice, retried", pepsim.Faults{InternalErrors: 2, InternalErrorAction: "Command", AfterCommands: 1}, token, 0, nil, false},
		{"dropped connection, retried", pepsim.Faults{DropReceives: 1, AfterCommands: 1}, token, 0, nil, false},
		{"activation dropped, retried", pepsim.Faults{DropReceives: 1, AfterCommands: 1}, activate, 0, nil, true},
		{"stamp information dropped, not retried", pepsim.Faults{DropReceives: 1}, []string{"stamp"}, 1, []string{"closed the connection"}, false},
		{"repeated TimedOut, re-polled", pepsim.Faults{TimedOut: 5}, token, 0, nil, false},
		{"slow PEP", pepsim.Faults{Latency: 50 * time.Millisecond}, []string{"stamp"}, 0, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startPEP(t, pepsim.Options{Faults: tt.faults, Nodes: 1})
			dir := t.TempDir()
			args := tt.args
			if args[0] == "token" {
				args = append(args, "--out", filepath.Join(dir, "token.txt"))
			}
			r := pepRun(t, srv, dir, args...)
			if srv.Activated() != tt.activated {
				t.Errorf("activated: got %v, want %v", srv.Activated(), tt.activated)
			}
			if tt.wants == nil {
				if r.Code != 0 {
					t.Fatalf("exit %d, want 0 (the fault is absorbed)\n%s", r.Code, r.Stderr)
				}
				if args[0] == "token" {
					if _, err := os.Stat(filepath.Join(dir, "token.txt")); err != nil {
						t.Errorf("no token file after success: %v", err)
					}
				}
				return
			}
			assertFailure(t, r, tt.code, tt.wants...)
			noFiles(t, dir)
		})
	}
}

// TestPEPPasswordStdin reads the password from standard input instead of
// the environment.
func TestPEPPasswordStdin(t *testing.T) {
	srv := startPEP(t, pepsim.Options{})
	r := runCLI(t, runOpts{Stdin: pepPassword + "\n"}, "stamp", "--password-stdin", "--pep", srv.Addr(), "--user", srv.User())
	if r.Code != 0 {
		t.Fatalf("stamp --password-stdin: exit %d\n%s", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stdout, cloud4) {
		t.Errorf("stamp output lacks the cloud ID:\n%s", r.Stdout)
	}
}

// TestPEPConnectionErrors covers the wrong password and an unreachable
// ERCS address.
func TestPEPConnectionErrors(t *testing.T) {
	srv := startPEP(t, pepsim.Options{})
	dir := t.TempDir()
	r := runCLI(t, runOpts{Dir: dir, Env: []string{"AZS_PEP_PASSWORD=wrong", "AZS_PEP_RETRY_DELAY=0s"}},
		"token", "--billing-model", "Development", "--out", filepath.Join(dir, "t.txt"), "--pep", srv.Addr(), "--user", srv.User())
	assertFailure(t, r, 1, "password")
	noFiles(t, dir)
	if st := srv.Stats(); st.AuthFailures != 1 || st.Plaintext != 0 || st.Messages != 0 {
		t.Errorf("after a wrong password: %d failed authentications, %d plain-text bodies, %d messages; want 1, 0, 0 (no retry, nothing sent in clear)",
			st.AuthFailures, st.Plaintext, st.Messages)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	r = runCLI(t, runOpts{Dir: dir, Env: []string{"AZS_PEP_PASSWORD=" + pepPassword, "AZS_PEP_RETRY_DELAY=0s"}},
		"stamp", "--pep", closed, "--user", srv.User())
	assertFailure(t, r, 1, closed)

	// Several ERCS addresses: the dead one is skipped.
	r = runCLI(t, runOpts{Dir: dir, Env: []string{"AZS_PEP_PASSWORD=" + pepPassword, "AZS_PEP_RETRY_DELAY=0s"}},
		"stamp", "--pep", closed+","+srv.Addr(), "--user", srv.User())
	if r.Code != 0 {
		t.Errorf("stamp with a dead and a live ERCS: exit %d\n%s", r.Code, r.Stderr)
	}
}
