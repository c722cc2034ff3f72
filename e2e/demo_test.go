package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDemoRoundTrip runs `azs-courier demo` as a new user would: it must
// verify every step of the round trip on the simulators, exit 0, leave the
// real custody ledger alone and remove its temporary drive folder.
func TestDemoRoundTrip(t *testing.T) {
	r := runCLI(t, runOpts{}, "demo")
	if r.Code != 0 {
		t.Fatalf("demo: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{
		"connecting to the privileged endpoint",
		"creating the registration token",
		"QR PNG(s)",
		"QR codes and file give the same SHA-256",
		"registering the token",
		"fetching the activation key",
		"the key's cloud ID is the stamp's",
		"the simulated stamp reports itself activated",
		"marked as the renewal of",
		"the stamp's profile says the renewal is finished",
		"the simulated stamp is no longer activated",
		"the simulated Azure holds no registration",
		"demo: every step verified",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("demo output lacks %q\n%s", want, r.Stdout)
		}
	}
	if got := strings.Count(r.Stdout, "    ok: "); got != 16 {
		t.Errorf("got %d verified steps, want 16\n%s", got, r.Stdout)
	}
	// The real custody ledger is not touched by a rehearsal.
	if _, err := os.Stat(filepath.Join(configDir(t), "custody-ledger.jsonl")); !os.IsNotExist(err) {
		t.Errorf("demo wrote the real custody ledger (stat: %v)", err)
	}
	m := regexp.MustCompile(`removable drive stands in as (\S+)`).FindStringSubmatch(r.Stdout)
	if m == nil {
		t.Fatalf("demo did not name its drive folder:\n%s", r.Stdout)
	}
	if _, err := os.Stat(filepath.Dir(m[1])); !os.IsNotExist(err) {
		t.Errorf("demo left its training folder %s behind (stat: %v)", filepath.Dir(m[1]), err)
	}
}
