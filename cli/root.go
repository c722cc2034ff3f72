package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

// newRootCmd builds the command tree.
//
// Conventions for commands (one file a group, cli/<group>.go):
//   - newXxxCmd(env) only parses flags into an options struct; runXxx(ctx,
//     opts) does the work. Output goes to env.IO.Out, progress and warnings to
//     env.IO.ErrOut; never os.Std* or os.Exit.
//   - Positional arguments are checked with usageArgs(...); missing required
//     flags with requireFlags(cmd, names...). Both give a *UsageError (exit 2).
//   - Errors come back to Main, which prints one line and picks the exit code.
func newRootCmd(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "azs-courier",
		Short: "Carry Azure Stack Hub registration across an air gap",
		Long: `AzS Courier registers and activates a disconnected Azure Stack Hub.

Disconnected side: read the stamp, make a registration token on the privileged
endpoint (PEP), and later activate the stamp with the activation key.
Connected side: register the token in Azure and fetch the activation key.
Between them, the artefacts travel as files (with a manifest and a custody
ledger) or as QR codes. Without a command, the GUI opens.`,
		Args:          usageArgs(cobra.NoArgs),
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       env.App.Build.Version,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			if verboseFlag(cmd) {
				env.setVerbose()
			}
			if p, _ := cmd.Flags().GetString("policy"); p != "" {
				env.App.PolicyPath = p
			}
		},
	}
	root.SetIn(env.IO.In)
	root.SetOut(env.IO.Out)
	root.SetErr(env.IO.ErrOut)
	root.SetVersionTemplate("azs-courier {{.Version}}\n")
	root.PersistentFlags().Bool("verbose", false, "print the chain of causes with an error")
	root.PersistentFlags().String("policy", "", "apply the site policy in `FILE` (default: policy.json in the configuration folder)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &UsageError{Err: err, Command: cmd.CommandPath()}
	})
	root.CompletionOptions.HiddenDefaultCmd = false
	addCommands(root, env)
	return root
}

// addCommands registers every command group. Add one line per command.
func addCommands(root *cobra.Command, env *Env) {
	root.AddCommand(
		newGUICmd(env),
		newVersionCmd(env),
		newInspectCmd(env),
		newLedgerCmd(env),
		newDemoCmd(env),
		newPEPSimCmd(env),
		newRegisterCmd(env), newActivationKeyCmd(env), newUnregisterCmd(env), newRegistrationsCmd(env), newAzureSimCmd(env),
		newTraceCmd(env), newStampCmd(env), newTokenCmd(env), newActivateCmd(env), newDeactivateCmd(env),
		newQRCmd(env),
		newIdentityCmd(env), newTrustCmd(env), newPolicyCmd(env), newCustodyCmd(env),
		newPreflightCmd(env), newRoleCmd(env), newVerifyCmd(env), newStampsCmd(env), newRenewCmd(env),
	)
}

// usageArgs wraps a cobra argument check so that its error is a *UsageError.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return &UsageError{Err: err, Command: cmd.CommandPath()}
		}
		return nil
	}
}

// requireFlags returns a *UsageError naming the first of names that was not
// set on the command line.
func requireFlags(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		if f := cmd.Flags().Lookup(n); f != nil && !f.Changed {
			return usageErrorf(cmd, "--%s is required", n)
		}
	}
	return nil
}

func newGUICmd(env *Env) *cobra.Command {
	var opts app.GUIOptions
	cmd := &cobra.Command{
		Use:         "gui",
		Short:       "Open the GUI (the default without a command)",
		Annotations: map[string]string{mainThread: "true"},
		Args:        usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if env.RunGUI == nil {
				return fmt.Errorf("this build has no GUI; use the commands listed by 'azs-courier --help'")
			}
			return env.RunGUI(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Training, "training", false, "wire both sides to the built-in simulated stamp and Azure")
	return cmd
}

func verboseFlag(cmd *cobra.Command) bool {
	v, _ := cmd.Flags().GetBool("verbose")
	return v
}
