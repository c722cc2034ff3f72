package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// runCancelled runs the CLI with a context that is already cancelled, so
// pep-simulator starts, prints its guidance and stops at once.
func runCancelled(env *Env, args ...string) int {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return Main(ctx, args, env)
}

func TestPEPSimulatorGuidance(t *testing.T) {
	t.Run("generated password", func(t *testing.T) {
		env, _, out, errOut := testEnv(t)
		if code := runCancelled(env, "pep-simulator", "--listen", "127.0.0.1:0", "--nodes", "2"); code != 0 {
			t.Fatalf("exit %d; stderr %q", code, errOut)
		}
		s := out.String()
		m := regexp.MustCompile(`export AZS_PEP_PASSWORD='([^']+)'`).FindStringSubmatch(s)
		if m == nil || len(m[1]) < 12 {
			t.Fatalf("no export line with a generated password:\n%s", s)
		}
		for _, want := range []string{"--pep 127.0.0.1:", `--user 'AZS\CloudAdmin'`, "2 nodes", "azs-courier token", "azs-courier activate"} {
			if !strings.Contains(s, want) {
				t.Errorf("guidance lacks %q:\n%s", want, s)
			}
		}
		if strings.Contains(s, "--password") {
			t.Errorf("guidance puts a password on the command line:\n%s", s)
		}
	})
	t.Run("password from the environment", func(t *testing.T) {
		env, _, out, errOut := testEnv(t)
		env.Getenv = func(k string) string {
			if k == "AZS_PEP_PASSWORD" {
				return "Secret-From-Env-1"
			}
			return ""
		}
		if code := runCancelled(env, "pep-simulator", "--listen", "127.0.0.1:0"); code != 0 {
			t.Fatalf("exit %d; stderr %q", code, errOut)
		}
		if strings.Contains(out.String()+errOut.String(), "Secret-From-Env-1") {
			t.Error("the password from AZS_PEP_PASSWORD was printed")
		}
	})
}

func TestPEPSimulatorBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--cloud-id", "not-a-guid"}, "--cloud-id"},
		{[]string{"--nodes", "17"}, "--nodes"},
		{[]string{"--user", "CloudAdmin"}, "--user"},
		{[]string{"--stamp-version", "v1"}, "--stamp-version"},
		{[]string{"--fault", "meteor"}, "--fault"},
		{[]string{"--fault", "busy=0"}, "--fault"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			env, _, _, errOut := testEnv(t)
			args := append([]string{"pep-simulator", "--listen", "127.0.0.1:0"}, c.args...)
			if code := runCancelled(env, args...); code != ExitFailed {
				t.Fatalf("exit %d, want %d; stderr %q", code, ExitFailed, errOut)
			}
			assertOneLineError(t, errOut.String(), c.want)
		})
	}
}

func TestParseSimFaults(t *testing.T) {
	f, err := parseSimFaults([]string{"busy=always", "drop-receive", "http-500=3", "broken-pool"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Busy != -1 || f.DropReceives != 1 || f.InternalErrors != 3 || !f.BrokenPool || f.TimedOut != 0 {
		t.Errorf("got %+v, want busy always, one drop, three 500s, broken pool", f)
	}
}
