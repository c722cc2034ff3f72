package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// simulator is a running `azs-courier pep-simulator` or `azure-simulator`
// and what it printed up to "Press Ctrl-C to stop."
type simulator struct {
	cmd     *exec.Cmd
	printed string
}

// startSimulator starts the binary with args as a person would and reads
// its instructions. Cleanup stops it with an interrupt, as Ctrl-C does, and
// fails the test if it does not stop cleanly within 10 s.
func startSimulator(t *testing.T, args ...string) *simulator {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + testHome(t), "AZS_COURIER_CONFIG_DIR=" + configDir(t)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s did not stop cleanly on interrupt: %v", args[0], err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("%s did not stop within 10 s of an interrupt", args[0])
		}
	})
	var b strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "Press Ctrl") {
			break
		}
	}
	return &simulator{cmd: cmd, printed: b.String()}
}

// block returns the lines printed under "In <shell>:", without their indent.
func (s *simulator) block(t *testing.T, shell string) []string {
	t.Helper()
	var lines []string
	in := false
	for _, l := range strings.Split(s.printed, "\n") {
		switch {
		case l == "In "+shell+":":
			in = true
		case in && strings.HasPrefix(l, "  "):
			lines = append(lines, strings.TrimPrefix(l, "  "))
		case in:
			return lines
		}
	}
	if len(lines) == 0 {
		t.Fatalf("no instructions for %s in:\n%s", shell, s.printed)
	}
	return lines
}

// TestSimulatorInstructionsInBash pastes every line the two simulators
// print for a POSIX shell into bash, in the order of the round trip:
// stamp and token on the simulated PEP, register and activation key in the
// simulated Azure, activate and deactivate on the PEP, then unregister. Each
// line must work exactly as printed.
func TestSimulatorInstructionsInBash(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the Windows forms are tested in cli's unit tests")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed to run the printed instructions: ", err)
	}
	pep := startSimulator(t, "pep-simulator", "--listen", "127.0.0.1:0", "--token-delay", "0s", "--activation-delay", "0s")
	az := startSimulator(t, "azure-simulator", "--listen", "127.0.0.1:0", "--ca-out", filepath.Join(t.TempDir(), "ca.pem"), "--provider-delay", "0")
	p, a := pep.block(t, "bash or zsh"), az.block(t, "bash or zsh")
	pick := func(lines []string, prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Fatalf("no line starting %q among %q", prefix, lines)
		return ""
	}
	var script []string
	for _, l := range append(append([]string{}, p...), a...) {
		if strings.HasPrefix(l, "export ") {
			script = append(script, l)
		}
	}
	for _, step := range []struct {
		lines  []string
		prefix string
	}{
		{p, "azs-courier stamp"}, {p, "azs-courier token"}, {a, "azs-courier register"}, {a, "azs-courier activation-key"},
		{p, "azs-courier activate"}, {p, "azs-courier deactivate"}, {a, "azs-courier unregister"},
	} {
		script = append(script, pick(step.lines, step.prefix))
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-e", "-u", "-c", strings.Join(script, "\n"))
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + filepath.Dir(binPath) + ":" + os.Getenv("PATH"), "HOME=" + testHome(t),
		"AZS_COURIER_CONFIG_DIR=" + configDir(t), "AZS_PEP_RETRY_DELAY=0s"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the printed lines failed in bash: %v\nscript:\n%s\noutput:\n%s", err, strings.Join(script, "\n"), out)
	}
	for _, want := range []string{"cloud ID", "wrote the registration token", "registered azs-registration", "wrote the activation key",
		"activated stamp", "removed the activation", "unregistered azs-registration"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output of the printed lines lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(strings.Join(script, "\n"), "--password") {
		t.Error("the instructions put a password on the command line")
	}
}
