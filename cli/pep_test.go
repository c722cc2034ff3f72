package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep/pepsim"
)

const simPassword = "Cli-Pep-Passw0rd"

// fakePrompter answers password and confirmation prompts from fields.
type fakePrompter struct {
	password string
	confirm  bool
	asked    []string
}

func (p *fakePrompter) Password(prompt string) (string, error) {
	p.asked = append(p.asked, prompt)
	if p.password == "" {
		return "", ErrNoTerminal
	}
	return p.password, nil
}

func (p *fakePrompter) Confirm(prompt string) (bool, error) {
	p.asked = append(p.asked, prompt)
	return p.confirm, nil
}

func pepEnv(t *testing.T, vars map[string]string) (*Env, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer, *fakePrompter) {
	t.Helper()
	env, in, out, errOut := testEnv(t)
	p := &fakePrompter{}
	env.Prompter = p
	env.Getenv = func(k string) string {
		if k == "AZS_PEP_RETRY_DELAY" {
			return "0s"
		}
		return vars[k]
	}
	return env, in, out, errOut, p
}

func startSimPEP(t *testing.T, o pepsim.Options) *pepsim.Server {
	t.Helper()
	o.Password = simPassword
	srv, err := pepsim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func TestPEPCommandsUsage(t *testing.T) {
	cases := [][]string{
		{"stamp"},
		{"stamp", "--pep", "10.0.0.1"},
		{"stamp", "--pep", "10.0.0.1", "--user", "CloudAdmin"},
		{"token", "--pep", "10.0.0.1", "--user", `AZS\CloudAdmin`, "--out", "t.txt"},
		{"token", "--pep", "10.0.0.1", "--user", `AZS\CloudAdmin`, "--billing-model", "Capacity", "--out", "t.txt"},
		{"token", "--pep", "10.0.0.1", "--user", `AZS\CloudAdmin`, "--billing-model", "Custom", "--out", "t.txt"},
		{"token", "--pep", "10.0.0.1", "--user", `AZS\CloudAdmin`, "--billing-model", "PayAsYouUse", "--out", "t.txt"},
		{"token", "--pep", "10.0.0.1", "--user", `AZS\CloudAdmin`, "--billing-model", "Capacity", "--agreement-number", "1", "--usage-reporting", "--out", "t.txt"},
		{"activate", "--pep", "10.0.0.1", "--user", `AZS\CloudAdmin`},
		{"activate", "--pep", "10.0.0.1", "--user", `AZS\CloudAdmin`, "--key", "-", "--password-stdin"},
		{"stamp", "--password", "x"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			env, _, _, errOut, p := pepEnv(t, nil)
			if code := run(t, env, args...); code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, ExitUsage, errOut)
			}
			if len(p.asked) != 0 {
				t.Errorf("asked %v before rejecting the command line", p.asked)
			}
		})
	}
}

func TestPEPPasswordSources(t *testing.T) {
	srv := startSimPEP(t, pepsim.Options{})
	args := []string{"stamp", "--json", "--pep", srv.Addr(), "--user", srv.User()}
	t.Run("prompt", func(t *testing.T) {
		env, _, out, errOut, p := pepEnv(t, nil)
		p.password = simPassword
		if code := run(t, env, args...); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if len(p.asked) != 1 || !strings.Contains(p.asked[0], srv.User()) {
			t.Errorf("prompts %v, want one password prompt naming the user", p.asked)
		}
		var s stampJSON
		if err := json.Unmarshal(out.Bytes(), &s); err != nil || s.CloudID != srv.CloudID() || s.Host != srv.Addr() {
			t.Errorf("stamp --json = %s (%v)", out, err)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		env, in, _, errOut, p := pepEnv(t, nil)
		in.WriteString(simPassword + "\n")
		if code := run(t, env, append(args, "--password-stdin")...); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if len(p.asked) != 0 {
			t.Errorf("prompted %v with --password-stdin", p.asked)
		}
	})
	t.Run("stdin with a byte-order mark and CRLF", func(t *testing.T) {
		env, in, _, errOut, _ := pepEnv(t, nil)
		in.WriteString("\xef\xbb\xbf" + simPassword + "\r\n")
		if code := run(t, env, append(args, "--password-stdin")...); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	// cmd's "echo secret | azs-courier" pipes "secret \r\n": the refusal
	// says the space is part of the password.
	for _, tt := range []struct {
		name  string
		stdin string
		vars  map[string]string
		from  string
	}{
		{"stdin ends with a space", simPassword + " \r\n", nil, "standard input"},
		{"environment ends with a space", "", map[string]string{"AZS_PEP_PASSWORD": simPassword + " "}, "AZS_PEP_PASSWORD"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env, in, _, errOut, _ := pepEnv(t, tt.vars)
			in.WriteString(tt.stdin)
			a := args
			if tt.stdin != "" {
				a = append(a, "--password-stdin")
			}
			if code := run(t, env, a...); code != ExitFailed {
				t.Fatalf("exit %d, want 1: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
			assertOneLineError(t, lines[len(lines)-1]+"\n", "401", "ends with a space", tt.from)
		})
	}
	t.Run("refused without a space: no hint", func(t *testing.T) {
		env, _, _, errOut, _ := pepEnv(t, map[string]string{"AZS_PEP_PASSWORD": "wrong"})
		if code := run(t, env, args...); code != ExitFailed {
			t.Fatalf("exit %d, want 1", code)
		}
		if strings.Contains(errOut.String(), "ends with a space") {
			t.Errorf("hint about a space for a password without one: %s", errOut)
		}
	})
	t.Run("no terminal", func(t *testing.T) {
		env, _, _, errOut, _ := pepEnv(t, nil)
		if code := run(t, env, args...); code != ExitFailed {
			t.Fatalf("exit %d, want 1", code)
		}
		assertOneLineError(t, errOut.String(), "AZS_PEP_PASSWORD", "--password-stdin")
	})
}

func TestPEPWorkflow(t *testing.T) {
	srv := startSimPEP(t, pepsim.Options{Nodes: 4, CloudID: "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7"})
	vars := map[string]string{"AZS_PEP_PASSWORD": simPassword}
	pepArgs := []string{"--pep", srv.Addr(), "--user", srv.User()}
	dir := t.TempDir()
	tok := filepath.Join(dir, "token.txt")
	trace := filepath.Join(dir, "trace.yml")
	qrDir := filepath.Join(dir, "qr")

	env, _, out, errOut, _ := pepEnv(t, vars)
	code := run(t, env, append([]string{"token", "--billing-model", "Development", "--out", tok, "--qr", qrDir, "--trace", trace}, pepArgs...)...)
	if code != 0 {
		t.Fatalf("token: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(tok)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if !bytes.Contains(raw, []byte(srv.CloudID())) {
		t.Errorf("token does not hold the stamp's cloud ID")
	}
	if pngs, _ := filepath.Glob(filepath.Join(qrDir, "*.png")); len(pngs) == 0 {
		t.Error("no QR frames saved")
	}
	if !strings.Contains(out.String(), tok) || !strings.Contains(errOut.String(), "token") {
		t.Errorf("stdout %q / stderr %q", out, errOut)
	}
	tr, _ := os.ReadFile(trace)
	if len(tr) == 0 || bytes.Contains(tr, []byte(simPassword)) {
		t.Errorf("trace: %d bytes, holds password %v", len(tr), bytes.Contains(tr, []byte(simPassword)))
	}

	// A second token run does not overwrite without --force.
	env, _, _, errOut, _ = pepEnv(t, vars)
	if code := run(t, env, append([]string{"token", "--billing-model", "Development", "--out", tok}, pepArgs...)...); code != ExitFailed {
		t.Errorf("existing --out: exit %d, want 1", code)
	}
	assertOneLineError(t, errOut.String(), "already exists", "--force")

	// The key of another stamp is refused with exit 3 and both IDs.
	env, _, _, errOut, _ = pepEnv(t, vars)
	other := testutil.Shared(t, "tokens", "activation-key-1node.txt")
	if code := run(t, env, append([]string{"activate", "--key", other}, pepArgs...)...); code != ExitIntegrity {
		t.Fatalf("foreign key: exit %d, want 3: %s", code, errOut)
	}
	if s := errOut.String(); !strings.Contains(s, srv.CloudID()) || !strings.Contains(s, "cd613e30-d8f1-4adf-91b7-584a2265b1f5") {
		t.Errorf("mismatch error does not show both cloud IDs: %s", s)
	}
	if srv.Activated() {
		t.Fatal("activated with a foreign key")
	}

	key := testutil.Shared(t, "tokens", "activation-key-4node.txt")
	env, _, _, errOut, _ = pepEnv(t, vars)
	if code := run(t, env, append([]string{"activate", "--key", key}, pepArgs...)...); code != 0 {
		t.Fatalf("activate: exit %d: %s", code, errOut)
	}
	if !srv.Activated() {
		t.Fatal("not activated")
	}

	env, _, _, errOut, p := pepEnv(t, vars)
	p.confirm = false
	if code := run(t, env, append([]string{"deactivate"}, pepArgs...)...); code != ExitFailed || !srv.Activated() {
		t.Fatalf("declined deactivation: exit %d, activated %v", code, srv.Activated())
	}
	env, _, _, errOut, _ = pepEnv(t, vars)
	if code := run(t, env, append([]string{"deactivate", "--yes"}, pepArgs...)...); code != 0 {
		t.Fatalf("deactivate: exit %d: %s", code, errOut)
	}
	if srv.Activated() {
		t.Error("still activated")
	}
	if n := srv.OpenShells(); n != 0 {
		t.Errorf("%d PEP sessions left open", n)
	}
}

// TestPEPTraceShortPassword records a session whose password is short
// enough to occur by chance in base64 payloads: the trace must still
// decode, and must not hold the password as such.
func TestPEPTraceShortPassword(t *testing.T) {
	srv, err := pepsim.Start(pepsim.Options{Password: "pw", TokenDelay: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace.yml")
	env, _, _, errOut, _ := pepEnv(t, map[string]string{"AZS_PEP_PASSWORD": "pw"})
	args := []string{"token", "--billing-model", "Development", "--out", filepath.Join(dir, "t.txt"), "--trace", trace, "--pep", srv.Addr(), "--user", srv.User()}
	if code := run(t, env, args...); code != 0 {
		t.Fatalf("token: exit %d: %s", code, errOut)
	}
	env, _, out, errOut, _ := pepEnv(t, nil)
	if code := run(t, env, "trace", "show", trace, "--json"); code != 0 {
		t.Fatalf("trace show: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), `"type":"PIPELINE_OUTPUT"`) {
		t.Errorf("decoded trace has no output:\n%s", out)
	}
}

func TestPEPStampOverHTTPS(t *testing.T) {
	srv := startSimPEP(t, pepsim.Options{TLS: true})
	ca := filepath.Join(t.TempDir(), "pep-ca.pem")
	if err := os.WriteFile(ca, srv.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	env, _, out, errOut, _ := pepEnv(t, map[string]string{"AZS_PEP_PASSWORD": simPassword})
	if code := run(t, env, "stamp", "--pep", srv.Addr(), "--user", srv.User(), "--https", "--ca-file", ca, "--json"); code != 0 {
		t.Fatalf("stamp over HTTPS: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), srv.CloudID()) {
		t.Errorf("stamp output lacks the cloud ID %s:\n%s", srv.CloudID(), out)
	}
	// Without the CA the certificate is not trusted: a clear failure, no fallback to HTTP.
	env, _, _, errOut, _ = pepEnv(t, map[string]string{"AZS_PEP_PASSWORD": simPassword})
	if code := run(t, env, "stamp", "--pep", srv.Addr(), "--user", srv.User(), "--https"); code != ExitFailed {
		t.Fatalf("untrusted certificate: exit %d, want 1: %s", code, errOut)
	}
	if s := errOut.String(); !strings.Contains(strings.ToLower(s), "certificate") {
		t.Errorf("error does not name the certificate: %s", s)
	}
	env, _, _, errOut, _ = pepEnv(t, nil)
	if code := run(t, env, "stamp", "--pep", srv.Addr(), "--user", srv.User(), "--ca-file", ca); code != ExitUsage {
		t.Fatalf("--ca-file without --https: exit %d, want 2: %s", code, errOut)
	}
}

// TestPEPTimeout: a command that runs out of its --timeout says what it
// was doing, what became of it, and how to allow more time.
func TestPEPTimeout(t *testing.T) {
	srv := startSimPEP(t, pepsim.Options{Faults: pepsim.Faults{Latency: 2 * time.Second}})
	env, _, _, errOut, _ := pepEnv(t, map[string]string{"AZS_PEP_PASSWORD": simPassword})
	start := time.Now()
	code := run(t, env, "stamp", "--pep", srv.Addr(), "--user", srv.User(), "--timeout", "1s")
	if code != ExitFailed {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v with --timeout 1s", d)
	}
	last := lastLine(errOut.String())
	for _, want := range []string{"reading the stamp's information did not finish within 1s", "--timeout 5m"} {
		if !strings.Contains(last, want) {
			t.Errorf("error %q lacks %q", last, want)
		}
	}
}

// TestActivationCancelled: Ctrl-C during an activation says that the
// stamp may finish it on its own and how to find out, and the ledger
// records the step as cancelled by the user, not failed.
func TestActivationCancelled(t *testing.T) {
	srv := startSimPEP(t, pepsim.Options{CloudID: "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7", ActivationDelay: 10 * time.Second})
	env, _, _, errOut, _ := pepEnv(t, map[string]string{"AZS_PEP_PASSWORD": simPassword})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(1500 * time.Millisecond)
		cancel()
	}()
	key := testutil.Shared(t, "tokens", "activation-key-4node.txt")
	code := Main(ctx, []string{"activate", "--key", key, "--pep", srv.Addr(), "--user", srv.User()}, env)
	if code != ExitFailed {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	last := lastLine(errOut.String())
	for _, want := range []string{"The activation was cancelled by the user", "may finish it on its own", "administrator portal"} {
		if !strings.Contains(last, want) {
			t.Errorf("error %q lacks %q", last, want)
		}
	}
	if strings.Contains(last, "context canceled") {
		t.Errorf("error %q says context canceled", last)
	}
	entries, err := env.App.Ledger().Entries()
	if err != nil {
		t.Fatal(err)
	}
	var outcome string
	for _, e := range entries {
		if e.Step == "activate" {
			outcome = e.Outcome
		}
	}
	if outcome != "cancelled by the user" {
		t.Errorf("ledger records the activation as %q, want cancelled by the user", outcome)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestTranscriptsExport closes the session with
// Close-PrivilegedEndpoint -TranscriptsPathDestination -Credential: the
// simulated PEP receives the share and the decrypted credential; the share
// password reaches no trace, ledger or output; a refused export fails the
// command (exit 1) and the session is still closed.
func TestTranscriptsExport(t *testing.T) {
	const share, user, sharePW = `\\fileserver\pep-logs\hub01`, `AZS\ShareUser`, "Share-Passw0rd-42"
	srv := startSimPEP(t, pepsim.Options{TranscriptsUser: user, TranscriptsPassword: sharePW})
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace.yml")
	args := []string{"stamp", "--pep", srv.Addr(), "--user", srv.User(), "--transcripts", share, "--transcripts-user", user, "--trace", trace}
	env, _, out, errOut, _ := pepEnv(t, map[string]string{"AZS_PEP_PASSWORD": simPassword, "AZS_TRANSCRIPTS_PASSWORD": sharePW})
	if code := run(t, env, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := srv.Transcripts()
	if len(got) != 1 || got[0].Path != share || got[0].User != user || got[0].Password != sharePW {
		t.Fatalf("the PEP received %+v, want the share %s for %s with its password", got, share, user)
	}
	if !strings.Contains(errOut.String(), "transcripts are exported to "+share) {
		t.Errorf("stderr does not say the transcripts went to the share: %s", errOut)
	}
	tr, _ := os.ReadFile(trace)
	ledger, _ := os.ReadFile(filepath.Join(env.App.ConfigDir, "custody-ledger.jsonl"))
	for what, text := range map[string]string{"trace": string(tr), "ledger": string(ledger), "output": out.String() + errOut.String()} {
		if strings.Contains(text, sharePW) {
			t.Errorf("the share password is in the %s", what)
		}
	}
	if !strings.Contains(string(ledger), `"step":"export transcripts"`) || !strings.Contains(string(ledger), strings.ReplaceAll(share, `\`, `\\`)) {
		t.Errorf("the ledger has no export of the transcripts to %s", share)
	}

	// The wrong share password: the command fails, the session is closed.
	env, _, _, errOut, _ = pepEnv(t, map[string]string{"AZS_PEP_PASSWORD": simPassword, "AZS_TRANSCRIPTS_PASSWORD": "wrong"})
	if code := run(t, env, args[:len(args)-2]...); code != ExitFailed {
		t.Fatalf("a refused export: exit %d, want 1: %s", code, errOut)
	}
	if last := lastLine(errOut.String()); !strings.Contains(last, "transcripts") {
		t.Errorf("error %q does not name the transcripts", last)
	}
	if n := srv.OpenShells(); n != 0 {
		t.Errorf("%d PEP sessions left open after a refused export", n)
	}
	// No share password at all, and no terminal: said before connecting.
	env, _, _, errOut, _ = pepEnv(t, map[string]string{"AZS_PEP_PASSWORD": simPassword})
	if code := run(t, env, args[:len(args)-2]...); code != ExitFailed || !strings.Contains(errOut.String(), "AZS_TRANSCRIPTS_PASSWORD") {
		t.Errorf("no share password: exit %d, %s", code, errOut)
	}
}

// TestStampsRemembered: a connection remembers the stamp, the address that
// answered first; --stamp then stands for --pep and --user; stamps lists it.
func TestStampsRemembered(t *testing.T) {
	srv := startSimPEP(t, pepsim.Options{})
	vars := map[string]string{"AZS_PEP_PASSWORD": simPassword}
	env, _, out, errOut, _ := pepEnv(t, vars)
	if code := run(t, env, "stamp", "--pep", "127.0.0.1:1,"+srv.Addr(), "--user", srv.User()); code != 0 {
		t.Fatalf("stamp: exit %d: %s", code, errOut)
	}
	out.Reset()
	if code := run(t, env, "stamps", "--json"); code != 0 {
		t.Fatalf("stamps: exit %d: %s", code, errOut)
	}
	var list []struct {
		CloudID string
		Name    string
		Hosts   []string
		User    string
	}
	if err := json.Unmarshal(out.Bytes(), &list); err != nil || len(list) != 1 {
		t.Fatalf("stamps --json: %s (%v)", out, err)
	}
	if s := list[0]; s.CloudID != srv.CloudID() || len(s.Hosts) != 2 || s.Hosts[0] != srv.Addr() || s.User != srv.User() {
		t.Errorf("profile %+v: want the answering address first and the account", s)
	}
	out.Reset()
	if code := run(t, env, "stamp", "--json", "--stamp", list[0].CloudID[:8]); code != 0 {
		t.Fatalf("stamp --stamp: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), srv.CloudID()) {
		t.Errorf("stamp --stamp printed %s", out)
	}
	errOut.Reset()
	if code := run(t, env, "stamp", "--stamp", "nosuchstamp"); code != ExitUsage {
		t.Errorf("--stamp of an unknown stamp: exit %d, want 2", code)
	}
	assertOneLineError(t, errOut.String(), "nosuchstamp", "stamps import")
}
