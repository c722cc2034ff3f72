package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newStampsCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stamps",
		Short: "List the stamps this computer remembers, their activation and what needs attention",
		Long: `Each stamp this computer connected to (or imported) is remembered by cloud ID:
its name, ERCS addresses (the last one that answered first), PEP account,
version and nodes, and what was done to it: tokens made, activations (with the
key's registration and expiry), removals, and a renewal or change under way.
Every PEP command takes --stamp NAME|CLOUDID instead of --pep and --user.
The list warns 60, 30 and 7 days before an activation expires, and after.`,
		Example: `  azs-courier stamps
  azs-courier stamps import ` + onDrive("AzureStackStampInformation.json") + `
  azs-courier token --stamp hub01 --billing-model Development --out ` + onDrive("registration-token.txt"),
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := env.service().Stamps()
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(env.IO.data(), list)
			}
			if len(list) == 0 {
				_, err := fmt.Fprintln(env.IO.Out, "No stamps remembered yet: connect to one (stamp --pep ... --user ...), or import its AzureStackStampInformation.json with 'azs-courier stamps import FILE'.")
				return err
			}
			tw := tabwriter.NewWriter(env.IO.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCLOUD ID\tVERSION\tNODES\tACTIVATION\tEXPIRES")
			for _, s := range list {
				expires := "—"
				switch {
				case s.DaysLeft != nil:
					expires = fmt.Sprintf("%s (%d days)", s.Expires.UTC().Format("2006-01-02"), *s.DaysLeft)
				case strings.HasPrefix(s.Activation, "activated"):
					expires = "never"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.Name, s.CloudID, s.Version, s.Nodes, s.Activation, expires)
			}
			tw.Flush()
			for _, s := range list {
				if s.Warning != "" {
					fmt.Fprintf(env.IO.Out, "%s: %s\n", s.Name, s.Warning)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the stamps as JSON")

	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Remember a stamp from its AzureStackStampInformation.json",
		Long: `Read the AzureStackStampInformation.json the deployment leaves (on the deployment
share, or from the OEM): the stamp's ERCS addresses (EmergencyConsoleIPAddresses),
its domain for DOMAIN\CloudAdmin, its name, cloud ID, version and nodes.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := singleFile("the file", args[0], expandWildcards)
			if err != nil {
				return err
			}
			p, err := env.service().ImportStampInformation(file)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.IO.Out, "remembered %s (cloud ID %s): ERCS %s, account %s\n", p.Name, p.CloudID, strings.Join(p.Hosts, ", "), p.User)
			return err
		},
	}
	forget := &cobra.Command{
		Use:   "forget NAME|CLOUDID",
		Short: "Forget a remembered stamp (the custody ledger keeps its history)",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := env.service().ForgetStamp(args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.IO.Out, "forgot %s (cloud ID %s)\n", p.Name, p.CloudID)
			return err
		},
	}
	cmd.AddCommand(imp, forget)
	return cmd
}
