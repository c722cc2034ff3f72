package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/azure/azuresim"
)

type azureSimOptions struct {
	env           *Env
	listen        string
	caOut         string
	providerPolls int
	latency       time.Duration
	deviceManual  bool
	shell         string
	shells        []shell
}

func newAzureSimCmd(env *Env) *cobra.Command {
	opts := &azureSimOptions{env: env}
	cmd := &cobra.Command{
		Use:   "azure-simulator",
		Short: "Run the simulated Azure (Entra ID + Resource Manager) for training and tests",
		Long: `Azure-simulator runs azuresim: a loopback TLS server with its own test CA that
answers as the Entra ID authority and as Azure Resource Manager for registering
Azure Stack Hub. It writes its CA certificate to a file and prints the flags and
environment that point register, activation-key, unregister and registrations at
it. It runs until interrupted. The credentials it prints are the simulator's own
and work nowhere else.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAzureSim(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.listen, "listen", "127.0.0.1:8443", "listen `ADDRESS`")
	cmd.Flags().StringVar(&opts.caOut, "ca-out", "", "write the CA certificate to `FILE` (default: azuresim-ca.pem in the config folder)")
	cmd.Flags().IntVar(&opts.providerPolls, "provider-delay", 1, "reads of the resource provider that answer Registering before Registered")
	cmd.Flags().DurationVar(&opts.latency, "latency", 0, "delay every answer by `DURATION`")
	cmd.Flags().StringVar(&opts.shell, "shell", "", "print the instructions for `SHELL`: bash, powershell or cmd (default: "+shellDefault+")")
	cmd.Flags().BoolVar(&opts.deviceManual, "device-code-manual", false, "approve device codes only at /devicelogin?code=CODE")
	return cmd
}

func runAzureSim(ctx context.Context, opts *azureSimOptions) error {
	env := opts.env
	shells, err := shellNamed(opts.shell)
	if err != nil {
		return err
	}
	opts.shells = shells
	sim, err := azuresim.Start(azuresim.Options{Addr: opts.listen, ProviderRegisteringPolls: opts.providerPolls,
		Latency: opts.latency, DeviceCodeManual: opts.deviceManual})
	if err != nil {
		return fmt.Errorf("%w; choose another --listen address", err)
	}
	defer sim.Close()
	caFile := opts.caOut
	if caFile == "" {
		caFile = filepath.Join(env.App.ConfigDir, "azuresim-ca.pem")
	}
	if err := os.MkdirAll(filepath.Dir(caFile), 0o755); err != nil {
		return fmt.Errorf("write the simulator's CA: %w; choose --ca-out", err)
	}
	if err := os.WriteFile(caFile, sim.CAPEM(), 0o644); err != nil {
		return fmt.Errorf("write the simulator's CA: %w; choose --ca-out", err)
	}
	out := env.IO.Out
	fmt.Fprintf(out, "azuresim listening on %s (tenant %s, subscription %s)\n", sim.URL(), sim.TenantID(), sim.SubscriptionID())
	fmt.Fprintf(out, "CA certificate: %s\n\n", caFile)
	fmt.Fprintf(out, "Paste these lines into the shell that runs the CLI (the service principal signs in with --auth environment,\nthe last command with a device code that the simulator approves by itself):\n")
	flags := []string{"--arm-endpoint", sim.URL(), "--authority-host", sim.URL(), "--ca-file", caFile, "--subscription", sim.SubscriptionID()}
	cmd := func(args ...string) []string { return append(append([]string{"azs-courier"}, args...), flags...) }
	in := instructions{
		env: [][2]string{{"AZURE_TENANT_ID", sim.TenantID()}, {"AZURE_CLIENT_ID", sim.ClientID()}, {"AZURE_CLIENT_SECRET", sim.ClientSecret()}},
		cmds: [][]string{
			cmd("register", "--token", "registration-token.txt", "--name", "azs-registration", "--auth", "environment"),
			cmd("activation-key", "--name", "azs-registration", "--out", "activation-key.txt", "--auth", "environment"),
			cmd("unregister", "--name", "azs-registration", "--yes", "--auth", "device-code", "--tenant", sim.TenantID()),
		},
	}
	in.write(out, opts.shells)
	fmt.Fprintf(out, "\nPress %s to stop.\n", stopKeys)
	<-ctx.Done()
	return nil
}
