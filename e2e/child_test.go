package e2e

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/azure/azuresim"
)

// TestAzureCLIGetsNoSecrets signs in with --auth azure-cli through a fake
// az on PATH that records its environment and arguments: it must see what
// the Azure CLI needs (PATH, HOME, AZURE_CONFIG_DIR) and none of our
// secrets; a fake az used to read AZS_PEP_PASSWORD and AZURE_CLIENT_SECRET.
func TestAzureCLIGetsNoSecrets(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake az is a shell script")
	}
	sim, flags := azSim(t, azuresim.Options{})
	bin := t.TempDir()
	record := filepath.Join(t.TempDir(), "az-saw.txt")
	script := "#!/bin/sh\n{ env; echo \"ARGS $*\"; } > " + record + "\n" +
		`echo '{"accessToken":"not-a-real-token","expiresOn":"2099-01-01 00:00:00.000000","expires_on":4070908800,"tokenType":"Bearer"}'` + "\n"
	if err := os.WriteFile(filepath.Join(bin, "az"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	o := runOpts{Env: []string{
		"PATH=" + bin + ":" + os.Getenv("PATH"),
		"AZURE_CONFIG_DIR=/tmp/az-config",
		"AZS_PEP_PASSWORD=Pep-Secret-123",
		"AZS_TRANSCRIPTS_PASSWORD=Share-Secret-456",
		"AZURE_CLIENT_SECRET=Client-Secret-789",
		"SOME_TOKEN=other-ambient-value",
	}}
	r := azRun(t, o, flags, "registrations", "--auth", "azure-cli")
	saw, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("the fake az was not run (exit %d, stderr %q): %v", r.Code, r.Stderr, err)
	}
	s := string(saw)
	for _, secret := range []string{"Pep-Secret-123", "Share-Secret-456", "Client-Secret-789", "other-ambient-value"} {
		if strings.Contains(s, secret) {
			t.Errorf("the Azure CLI's environment holds %q:\n%s", secret, s)
		}
	}
	for _, want := range []string{"PATH=" + bin, "HOME=", "AZURE_CONFIG_DIR=/tmp/az-config", "ARGS account get-access-token --output json --scope " + sim.URL() + "/.default"} {
		if !strings.Contains(s, want) {
			t.Errorf("the Azure CLI did not get %q:\n%s", want, s)
		}
	}
	// The made-up token is refused by the simulated Azure: a clear failure.
	if r.Code != 1 {
		t.Errorf("exit %d, want 1 (the token is not the simulator's); stderr %q", r.Code, r.Stderr)
	}
}

// TestStoppedAzure points the CLI at an endpoint that accepts connections
// and never answers, as a stopped (SIGSTOP) server does: it fails within
// its tries' time limits, saying Azure did not answer.
func TestStoppedAzure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c) // never read, never answered
		}
	}()
	url := "https://" + ln.Addr().String()
	start := time.Now()
	r := runCLI(t, runOpts{Env: []string{"AZURE_TENANT_ID=t", "AZURE_CLIENT_ID=c", "AZURE_CLIENT_SECRET=s"}},
		"registrations", "--arm-endpoint", url, "--authority-host", url, "--subscription", "00000000-0000-0000-0000-000000000001",
		"--auth", "environment", "--try-timeout", "300ms", "--retry-delay", "10ms")
	took := time.Since(start)
	if r.Code != 1 {
		t.Errorf("exit %d, want 1; stderr %q", r.Code, r.Stderr)
	}
	assertOneLineError(t, r, "did not answer")
	if took > 10*time.Second {
		t.Errorf("took %v to fail with 300 ms tries", took)
	}
}
