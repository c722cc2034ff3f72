package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/internal/testutil"
)

// TestSpecialFilesAreRefused gives devices and named pipes where files are
// expected: each is refused at once with one line, where they used to be
// read until memory ran out (/dev/zero) or to block forever (a FIFO).
func TestSpecialFilesAreRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("devices and FIFOs")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "activation-key.txt")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"qr", "decode", "/dev/zero", "--out", filepath.Join(dir, "out.txt")},
		{"trace", "show", "/dev/zero"},
		{"inspect", "/dev/zero"},
		{"inspect", fifo},
		{"qr", "decode", fifo, "--out", filepath.Join(dir, "out2.txt")},
		{"activate", "--key", fifo, "--pep", "127.0.0.1:1", "--user", `AZS\CloudAdmin`},
	} {
		name := args[0] + " " + args[1]
		if len(args) > 2 {
			name += " " + filepath.Base(args[2])
		}
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			r := runCLI(t, runOpts{Env: []string{"AZS_PEP_PASSWORD=x"}}, args...)
			if r.Code != 1 {
				t.Errorf("exit %d, want 1 (stderr %q)", r.Code, r.Stderr)
			}
			assertOneLineError(t, r, "not a regular file")
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v to refuse", d)
			}
		})
	}
}

// TestSignalEndsABlockedCommand: a command waiting on standard input that
// never ends (a pipe held open) stops within a second of SIGTERM, saying it
// was cancelled; it used to ignore SIGTERM.
func TestSignalEndsABlockedCommand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM")
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(binPath, "inspect", "-")
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + testHome(t), "AZS_COURIER_CONFIG_DIR=" + configDir(t)}
			stdin, err := cmd.StdinPipe() // held open: the read never ends
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			sent := time.Now()
			cmd.Process.Signal(sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 5 s after %v", sig)
			}
			if d := time.Since(sent); d > 1500*time.Millisecond {
				t.Errorf("stopped %v after %v, want within about 1 s", d, sig)
			}
			if !strings.Contains(stderr.String(), "cancelled by the user") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Errorf("stderr %q: want one line saying it was cancelled", stderr.String())
			}
			if cmd.ProcessState.ExitCode() != 1 {
				t.Errorf("exit %d, want 1", cmd.ProcessState.ExitCode())
			}
		})
	}
}

// TestUmaskIsRespected: artefacts, manifests and QR files take the user's
// umask (077 gives 0600); they used to be forced to 0644.
func TestUmaskIsRespected(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("umask")
	}
	dir := t.TempDir()
	tok := testutil.Shared(t, "tokens", "registration-token-1node.txt")
	out := filepath.Join(dir, "registration-token.txt")
	qrDir := filepath.Join(dir, "qr")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, args := range [][]string{{"inspect", tok, "--write-canonical", out}, {"qr", "encode", tok, "--out", qrDir}} {
		cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", `umask 077 && exec "$@"`, "sh", binPath}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + testHome(t), "AZS_COURIER_CONFIG_DIR=" + configDir(t)}
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, b)
		}
	}
	files := []string{out, out + ".courier.json", filepath.Join(qrDir, "frames.txt")}
	pngs, _ := filepath.Glob(filepath.Join(qrDir, "*.png"))
	for _, f := range append(files, pngs...) {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %o, want 600 under umask 077", filepath.Base(f), m)
		}
	}
	if st, err := os.Stat(qrDir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("the QR folder: %v, %v; want mode 700 under umask 077", st.Mode().Perm(), err)
	}
}

// TestHostileStringsAreEscaped: what a token holds is shown with its
// control and bidi characters escaped, and a cloud ID that is no GUID is
// refused; a token could otherwise clear the screen and print a fake
// "SHA-256 OK" line.
func TestHostileStringsAreEscaped(t *testing.T) {
	dir := t.TempDir()
	evil := func(name, json string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(base64.StdEncoding.EncodeToString([]byte(json))), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := evil("bad-cloud.txt", `{"cloudId":"\u001b[2J\u001b[HSHA-256 OK\r\n","billingModel":"Capacity"}`)
	r := runCLI(t, runOpts{}, "inspect", bad)
	if r.Code != 1 {
		t.Errorf("hostile cloud ID: exit %d, want 1", r.Code)
	}
	assertOneLineError(t, r, "is not a GUID")
	if strings.ContainsAny(r.Stdout+r.Stderr, "\x1b\r") {
		t.Errorf("raw control characters reached the terminal: %q %q", r.Stdout, r.Stderr)
	}
	shown := evil("bad-fields.txt", `{"cloudId":"cd613e30-d8f1-4adf-91b7-584a2265b1f5","billingModel":"Capacity\u001b]0;pwned\u0007","agreementNumber":"12\u202e34","issuer":"x\r\nSHA-256 OK"}`)
	r = runCLI(t, runOpts{}, "inspect", shown)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	if strings.ContainsAny(r.Stdout, "\x1b\x07\r\u202e") || strings.Contains(r.Stdout, "\nSHA-256 OK") {
		t.Errorf("inspect shows control or bidi characters raw:\n%q", r.Stdout)
	}
	for _, want := range []string{`Capacity\u001b]0;pwned\u0007`, `12\u202e34`} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("inspect does not show %s escaped:\n%s", want, r.Stdout)
		}
	}
	r = runCLI(t, runOpts{}, "inspect", shown, "--json")
	if strings.ContainsAny(r.Stdout, "\x1b\x07\r\u202e") {
		t.Errorf("inspect --json shows control or bidi characters raw:\n%q", r.Stdout)
	}
}
