package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/pep/pepsim"
)

// pepPasswordEnv is the environment variable the PEP commands and the
// simulator read the CloudAdmin password from.
const pepPasswordEnv = "AZS_PEP_PASSWORD"

type pepSimOptions struct {
	env             *Env
	listen          string
	user            string
	cloudID         string
	nodes           int
	stampVersion    string
	tokenDelay      time.Duration
	activationDelay time.Duration
	latency         time.Duration
	faults          []string
	shell           string
	shells          []shell
}

func newPEPSimCmd(env *Env) *cobra.Command {
	opts := &pepSimOptions{env: env}
	cmd := &cobra.Command{
		Use:   "pep-simulator",
		Short: "Run the simulated privileged endpoint (PEP) for training and tests",
		Long: `Pep-simulator runs pepsim: a loopback WinRM server that speaks WS-Man, PSRP and
NTLM with message encryption like the PrivilegedEndpoint of an Azure Stack Hub
ERCS VM, with its JEA commands (Get-AzureStackStampInformation,
New-RegistrationToken, New-AzureStackActivation, Remove-AzureStackActivation,
Close-PrivilegedEndpoint). It holds one simulated stamp and its activation
state in memory and prints how to point stamp, token, activate and deactivate
at it. It runs until interrupted.

The password is read from AZS_PEP_PASSWORD; without it the simulator makes
one up and prints it. It is the simulator's own and works nowhere else.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPEPSim(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.listen, "listen", "127.0.0.1:5985", "listen `ADDRESS` (host:port)")
	f.StringVar(&opts.user, "user", pepsim.DefaultUser, "the PEP account, `DOMAIN\\name`")
	f.StringVar(&opts.cloudID, "cloud-id", pepsim.DefaultCloudID, "the stamp's cloud `ID` (a GUID)")
	f.IntVar(&opts.nodes, "nodes", pepsim.DefaultNodes, "scale-unit nodes (1-16)")
	f.StringVar(&opts.stampVersion, "stamp-version", pepsim.DefaultStampVersion, "the stamp's `VERSION`, e.g. 1.2311.2.23")
	f.DurationVar(&opts.tokenDelay, "token-delay", 3*time.Second, "how long New-RegistrationToken works")
	f.DurationVar(&opts.activationDelay, "activation-delay", 5*time.Second, "how long activation and deactivation work")
	f.DurationVar(&opts.latency, "latency", 0, "delay every answer by `DURATION`")
	f.StringVar(&opts.shell, "shell", "", "print the instructions for `SHELL`: bash, powershell or cmd (default: "+shellDefault+")")
	f.StringArrayVar(&opts.faults, "fault", nil, "inject `FAULT[=N]` (repeatable): busy, drop-receive, http-500, timed-out, broken-pool; N times (default 1) or N=always")
	return cmd
}

func runPEPSim(ctx context.Context, opts *pepSimOptions) error {
	env := opts.env
	shells, err := shellNamed(opts.shell)
	if err != nil {
		return err
	}
	opts.shells = shells
	if !isGUID(opts.cloudID) {
		return fmt.Errorf("--cloud-id %q is not a GUID; give it as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", opts.cloudID)
	}
	if opts.nodes < 1 || opts.nodes > 16 {
		return fmt.Errorf("--nodes %d is out of range; an Azure Stack Hub scale unit has 1 to 16 nodes", opts.nodes)
	}
	if d, u, ok := strings.Cut(opts.user, `\`); !ok || d == "" || u == "" {
		return fmt.Errorf(`--user %q is not DOMAIN\name; give it as AZS\CloudAdmin`, opts.user)
	}
	faults, err := parseSimFaults(opts.faults)
	if err != nil {
		return err
	}
	faults.Latency = opts.latency
	password := env.getenv(pepPasswordEnv)
	generated := password == ""
	if generated {
		password = rand.Text()[:16]
	}
	sim, err := pepsim.Start(pepsim.Options{
		Addr: opts.listen, User: opts.user, Password: password,
		CloudID: strings.ToLower(opts.cloudID), Nodes: opts.nodes, StampVersion: opts.stampVersion,
		TokenDelay: opts.tokenDelay, ActivationDelay: opts.activationDelay,
		Faults: faults,
	})
	if err != nil {
		return fmt.Errorf("%w; check --stamp-version or choose another --listen address", err)
	}
	defer sim.Close()

	out := env.IO.Out
	fmt.Fprintf(out, "pepsim listening on %s (WS-Man at %s)\n", sim.Addr(), sim.URL())
	fmt.Fprintf(out, "stamp: cloud ID %s, version %s, %d nodes; account %s\n", sim.CloudID(), sim.StampVersion(), sim.Nodes(), sim.User())
	if len(opts.faults) > 0 {
		fmt.Fprintf(out, "faults: %s\n", strings.Join(opts.faults, ", "))
	}
	fmt.Fprintln(out)
	var in instructions
	if generated {
		fmt.Fprintf(out, "%s is not set, so the simulator made up a password. Paste these lines into the shell that runs the CLI.\n", pepPasswordEnv)
		in.env = [][2]string{{pepPasswordEnv, password}}
	} else {
		fmt.Fprintf(out, "The password is the one in %s; keep it set in the shell that runs the CLI, and paste these lines there.\n", pepPasswordEnv)
	}
	flags := []string{"--pep", sim.Addr(), "--user", sim.User()}
	in.cmds = [][]string{
		append([]string{"azs-courier", "stamp"}, flags...),
		append([]string{"azs-courier", "token", "--billing-model", "Development", "--out", "registration-token.txt"}, flags...),
		append([]string{"azs-courier", "activate", "--key", "activation-key.txt"}, flags...),
		append([]string{"azs-courier", "deactivate", "--yes"}, flags...),
	}
	in.write(out, opts.shells)
	fmt.Fprintf(out, "\nPress %s to stop.\n", stopKeys)
	<-ctx.Done()
	return nil
}

// parseSimFaults turns --fault values into the simulator's faults.
func parseSimFaults(specs []string) (pepsim.Faults, error) {
	var f pepsim.Faults
	for _, spec := range specs {
		name, count, _ := strings.Cut(spec, "=")
		n := 1
		switch {
		case count == "always":
			n = -1
		case count != "":
			v, err := strconv.Atoi(count)
			if err != nil || v < 1 {
				return f, fmt.Errorf("--fault %q: the count must be a positive number or \"always\"", spec)
			}
			n = v
		}
		switch name {
		case "busy":
			f.Busy = n
		case "drop-receive":
			f.DropReceives = n
		case "http-500":
			f.InternalErrors = n
		case "timed-out":
			f.TimedOut = n
		case "broken-pool":
			f.BrokenPool = true
		default:
			return f, fmt.Errorf("--fault %q is unknown; use busy, drop-receive, http-500, timed-out or broken-pool", spec)
		}
	}
	return f, nil
}

// isGUID reports whether s has the textual form of a GUID.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
