package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/app"
)

// testEnv returns an Env over buffers with its own config folder.
func testEnv(t *testing.T) (env *Env, in, out, errOut *bytes.Buffer) {
	t.Helper()
	ios, in, out, errOut := TestIO()
	env = &Env{
		IO:     ios,
		Getenv: func(string) string { return "" },
		App: &app.Env{
			Now:       func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) },
			ConfigDir: filepath.Join(t.TempDir(), "config"),
			User:      "operator",
			Machine:   "ws01",
			Build:     app.BuildInfo{Version: "0.1.0-test", Commit: "abc"},
			Warn:      func(msg string) { fmt.Fprintf(errOut, "warning: %s\n", msg) },
		},
	}
	return env, in, out, errOut
}

// run runs the CLI in-process and returns the exit code.
func run(t *testing.T, env *Env, args ...string) int {
	t.Helper()
	return Main(context.Background(), args, env)
}

func assertOneLineError(t *testing.T, errOut string, wants ...string) {
	t.Helper()
	s := strings.TrimSuffix(errOut, "\n")
	if strings.Contains(s, "\n") || !strings.HasPrefix(s, "azs-courier: ") {
		t.Errorf("stderr is not one 'azs-courier: ' line: %q", errOut)
	}
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("stderr %q does not mention %q", s, w)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	cases := [][]string{
		{"inspect"},
		{"inspect", "a", "b"},
		{"inspect", "--no-such-flag", "x"},
		{"no-such-command"},
		{"ledger", "export", "--format", "xml"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			env, _, _, errOut := testEnv(t)
			if code := run(t, env, args...); code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr %q", code, ExitUsage, errOut)
			}
			assertOneLineError(t, errOut.String(), "--help")
		})
	}
}

func TestVersionJSON(t *testing.T) {
	env, _, out, _ := testEnv(t)
	if code := run(t, env, "version", "--json"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{`"version": "0.1.0-test"`, `"commit": "abc"`, `"goVersion": "go1.`, `"modules"`} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("version --json lacks %s:\n%s", w, out)
		}
	}
}

func TestGUIWithoutRunner(t *testing.T) {
	env, _, _, errOut := testEnv(t)
	if code := run(t, env); code != ExitFailed {
		t.Fatalf("exit %d, want 1", code)
	}
	assertOneLineError(t, errOut.String(), "no GUI")
	var got app.GUIOptions
	env.RunGUI = func(ctx context.Context, o app.GUIOptions) error { got = o; return nil }
	if code := run(t, env, "gui", "--training"); code != 0 || !got.Training {
		t.Fatalf("gui --training: exit %d, options %+v", code, got)
	}
}
