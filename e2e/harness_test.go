package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// binPath is the azs-courier binary under test: built in TestMain, or the one
// named by AZS_E2E_BIN.
var binPath string

// moduleRoot is the folder holding go.mod.
var moduleRoot string

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	moduleRoot = filepath.Dir(filepath.Dir(file))
	if p := os.Getenv("AZS_E2E_BIN"); p != "" {
		binPath = p
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "azs-courier-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "azs-courier")
	if runtime.GOOS == "windows" {
		binPath += ".exe"
	}
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Dir = moduleRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build azs-courier: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runOpts are the extras of one CLI run.
type runOpts struct {
	Stdin string   // fed to standard input
	Env   []string // extra KEY=VALUE pairs
	Dir   string   // working folder; a per-test temporary folder by default
}

// result is what a CLI run left.
type result struct {
	Stdout, Stderr string
	Code           int
}

// home holds each test's private HOME and configuration folder, so that runs
// within one test share a custody ledger and tests do not share anything.
var home sync.Map // *testing.T → string

func testHome(t *testing.T) string {
	if h, ok := home.Load(t); ok {
		return h.(string)
	}
	h := t.TempDir()
	home.Store(t, h)
	t.Cleanup(func() { home.Delete(t) })
	return h
}

// configDir returns the configuration folder (custody ledger) the test's runs use.
func configDir(t *testing.T) string { return filepath.Join(testHome(t), "config") }

// runCLI runs the binary with args in a clean environment (PATH, a private
// HOME and AZS_COURIER_CONFIG_DIR, plus o.Env) and returns what it printed
// and its exit code. A run that takes over two minutes fails the test.
func runCLI(t *testing.T, o runOpts, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	h := testHome(t)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + h,
		"XDG_CONFIG_HOME=" + filepath.Join(h, ".config"),
		"AZS_COURIER_CONFIG_DIR=" + configDir(t),
		"LANG=C.UTF-8",
	}, o.Env...)
	cmd.Dir = o.Dir
	if cmd.Dir == "" {
		cmd.Dir = h
	}
	cmd.Stdin = strings.NewReader(o.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	default:
		t.Fatalf("run azs-courier %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("azs-courier %s did not finish within 2 minutes", strings.Join(args, " "))
	}
	return res
}

// assertOneLineError checks the CLI's error contract: exactly one line on
// stderr, prefixed "azs-courier: ", mentioning each of wants.
func assertOneLineError(t *testing.T, r result, wants ...string) {
	t.Helper()
	s := strings.TrimSuffix(r.Stderr, "\n")
	if s == "" || strings.Contains(s, "\n") || !strings.HasPrefix(s, "azs-courier: ") {
		t.Errorf("stderr is not one 'azs-courier: ' line: %q", r.Stderr)
	}
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("stderr %q does not mention %q", s, w)
		}
	}
}
