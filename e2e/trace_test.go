package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep/pepsim"
)

// traceLine is one line of `trace show --json`.
type traceLine struct {
	Exchange int    `json:"exchange"`
	From     string `json:"from"`
	Type     string `json:"type"`
	RPID     string `json:"rpid"`
	PID      string `json:"pid"`
	Value    any    `json:"value"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

func traceJSON(t *testing.T, stdout string) []traceLine {
	t.Helper()
	var out []traceLine
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var tl traceLine
		if err := json.Unmarshal([]byte(l), &tl); err != nil {
			t.Fatalf("not one JSON object per line: %v\n%s", err, l)
		}
		out = append(out, tl)
	}
	return out
}

// TestTraceShowJEA decodes pypsrp's JEA recording: the Get-Item output and
// the ScriptsNotAllowed failure must be there.
func TestTraceShowJEA(t *testing.T) {
	file := testutil.Shared(t, "psrp", "test_psrp_with_jea_configuration.yml")
	r := runCLI(t, runOpts{}, "trace", "show", file, "--json")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	var getItem, scripts, provider bool
	for _, l := range traceJSON(t, r.Stdout) {
		v, _ := json.Marshal(l.Value)
		switch l.Type {
		case "PIPELINE_OUTPUT":
			m, _ := l.Value.(map[string]any)
			getItem = l.From == "server" && m["Name"] == "AllowUnencrypted" && m["Value"] == "true" && l.PID != ""
		case "PIPELINE_STATE":
			if strings.Contains(string(v), `"FullyQualifiedErrorId":"ScriptsNotAllowed"`) && strings.Contains(string(v), "no-language mode") {
				scripts = true
			}
		case "ERROR_RECORD":
			provider = strings.Contains(string(v), "ProviderNotFound")
		}
	}
	if !getItem || !scripts || !provider {
		t.Errorf("Get-Item output %v, ScriptsNotAllowed record %v, ProviderNotFound record %v; want all\n%s", getItem, scripts, provider, r.Stdout)
	}

	// The text form names the same messages.
	r = runCLI(t, runOpts{}, "trace", "show", file)
	if r.Code != 0 || !strings.Contains(r.Stdout, "PIPELINE_OUTPUT") || !strings.Contains(r.Stdout, "ScriptsNotAllowed") {
		t.Errorf("text form: exit %d\n%s", r.Code, r.Stdout)
	}
}

// TestTraceShowFaults shows WS-Man faults as WSMAN_FAULT lines.
func TestTraceShowFaults(t *testing.T) {
	r := runCLI(t, runOpts{}, "trace", "show", testutil.Shared(t, "psrp", "test_psrp_long_running_cmdlet.yml"), "--json")
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	var faults int
	for _, l := range traceJSON(t, r.Stdout) {
		if l.Type == "WSMAN_FAULT" {
			faults++
			if l.Code != "2150858793" || !strings.Contains(l.Message, "OperationTimeout") {
				t.Errorf("fault line %+v", l)
			}
		}
	}
	if faults != 2 {
		t.Errorf("%d WSMAN_FAULT lines, want 2", faults)
	}
}

// TestTraceShowBadInput fails with one line naming the problem.
func TestTraceShowBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("not: [a recording"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, runOpts{}, "trace", "show", bad)
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, "azs-courier: ") || !strings.Contains(r.Stderr, "not a recording") || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 1 and one line saying it is not a recording", r.Code, r.Stderr)
	}
	r = runCLI(t, runOpts{}, "trace", "show")
	if r.Code != 2 {
		t.Errorf("no FILE: exit %d, want 2", r.Code)
	}
}

// TestTraceFlag records a real session with --trace and decodes it: the
// password is not in the file, and the stamp information is.
func TestTraceFlag(t *testing.T) {
	const password = "Trace-Passw0rd!"
	srv, err := pepsim.Start(pepsim.Options{Password: password})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	trace := filepath.Join(dir, "pep-trace.yml")
	r := runCLI(t, runOpts{Dir: dir, Env: []string{"AZS_PEP_PASSWORD=" + password}},
		"stamp", "--trace", trace, "--pep", srv.Addr(), "--user", srv.User())
	if r.Code != 0 {
		t.Fatalf("stamp --trace: exit %d\n%s", r.Code, r.Stderr)
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), password) || strings.Contains(strings.ToLower(string(data)), "authorization") {
		t.Fatal("the trace holds the password or an Authorization header")
	}
	r = runCLI(t, runOpts{}, "trace", "show", trace, "--json")
	if r.Code != 0 {
		t.Fatalf("trace show: exit %d\n%s", r.Code, r.Stderr)
	}
	var create, output, closed bool
	for _, l := range traceJSON(t, r.Stdout) {
		switch l.Type {
		case "CREATE_PIPELINE":
			v, _ := json.Marshal(l.Value)
			create = create || strings.Contains(string(v), "Get-AzureStackStampInformation")
			closed = closed || strings.Contains(string(v), "Close-PrivilegedEndpoint")
		case "PIPELINE_OUTPUT":
			m, _ := l.Value.(map[string]any)
			output = output || m["CloudID"] == srv.CloudID()
		}
	}
	if !create || !output || !closed {
		t.Errorf("trace lacks the stamp command %v, its output %v or Close-PrivilegedEndpoint %v\n%s", create, output, closed, r.Stdout)
	}
}
