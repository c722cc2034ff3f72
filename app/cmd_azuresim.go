package app

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
	cmd.Flags().BoolVar(&opts.deviceManual, "device-code-manual", false, "approve device codes only at /devicelogin?code=CODE")
	return cmd
}

func runAzureSim(ctx context.Context, opts *azureSimOptions) error {
	env := opts.env
	sim, err := azuresim.Start(azuresim.Options{Addr: opts.listen, ProviderRegisteringPolls: opts.providerPolls,
		Latency: opts.latency, DeviceCodeManual: opts.deviceManual})
	if err != nil {
		return fmt.Errorf("%w; choose another --listen address", err)
	}
	defer sim.Close()
	caFile := opts.caOut
	if caFile == "" {
		caFile = filepath.Join(env.ConfigDir, "azuresim-ca.pem")
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
	fmt.Fprintf(out, "# service principal (--auth environment):\n")
	fmt.Fprintf(out, "export AZURE_TENANT_ID=%s\nexport AZURE_CLIENT_ID=%s\nexport AZURE_CLIENT_SECRET=%s\n\n", sim.TenantID(), sim.ClientID(), sim.ClientSecret())
	flags := fmt.Sprintf("--arm-endpoint %s --authority-host %s --ca-file %s --subscription %s", sim.URL(), sim.URL(), caFile, sim.SubscriptionID())
	fmt.Fprintf(out, "AZURE_FLAGS=%q\n", flags)
	fmt.Fprintf(out, "azs-courier register --token registration-token.txt --name azs-registration $AZURE_FLAGS --auth environment\n")
	fmt.Fprintf(out, "azs-courier activation-key --name azs-registration --out activation-key.txt $AZURE_FLAGS --auth environment\n")
	fmt.Fprintf(out, "azs-courier unregister --name azs-registration --yes $AZURE_FLAGS --auth device-code --tenant %s\n", sim.TenantID())
	fmt.Fprintf(out, "\nPress Ctrl-C to stop.\n")
	<-ctx.Done()
	return nil
}
