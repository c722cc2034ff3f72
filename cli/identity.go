package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newIdentityCmd(env *Env) *cobra.Command {
	var export, qrDir string
	var asJSON, force bool
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Show this installation's signing key fingerprint, or export its public key",
		Long: `Each installation signs the manifests it writes and its custody ledger with its
own key (Ed25519), made on first use and kept in the configuration folder,
readable by its owner only. Its fingerprint names it: read it aloud to the
other side, or carry the public key across with --export, where
'azs-courier trust add' makes its signatures trusted.`,
		Example: `  azs-courier identity
  azs-courier identity --export ` + onDrive("site-a.pub") + ` --qr ` + onDrive("site-a-key-qr"),
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if qrDir != "" && export == "" {
				return usageErrorf(cmd, "--qr needs --export FILE")
			}
			svc := env.service()
			if export != "" {
				v, err := svc.ExportIdentity(export, qrDir, force)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.IO.Out, "Wrote the public key of %s to %s\n", v.Name, export)
				if qrDir != "" {
					fmt.Fprintf(env.IO.Out, "and its QR code to %s\n", qrDir)
				}
				_, err = fmt.Fprintf(env.IO.Out, "Fingerprint: %s\nOn the other side: azs-courier trust add FILE --name \"...\"\n", v.Fingerprint)
				return err
			}
			v, err := svc.Identity()
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(env.IO.Out, v)
			}
			_, err = fmt.Fprintf(env.IO.Out, "Fingerprint: %s\nInstallation: %s\nKey file: %s\n", v.Fingerprint, v.Name, v.KeyFile)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the identity as JSON")
	cmd.Flags().StringVar(&export, "export", "", "write the public key to `FILE` to carry to the other side")
	cmd.Flags().StringVar(&qrDir, "qr", "", "with --export, also write the public key as a QR code into `DIR`")
	cmd.Flags().BoolVar(&force, "force", false, "replace existing files")
	return cmd
}

func newTrustCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "Trust, list or stop trusting other installations' signing keys",
		Long: `Artefacts carry the signature of the installation that wrote them. Imports name
the signer; a trusted one by the name given here. A site policy can require a
trusted signer (requireTrustedSigner).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf(cmd, "say what to do: add, list or remove")
		},
	}
	var name string
	add := &cobra.Command{
		Use:   "add FILE|FINGERPRINT",
		Short: "Trust the installation whose public key file or fingerprint is given",
		Example: `  azs-courier trust add ` + onDrive("site-a.pub") + ` --name "Site A operator workstation"
  azs-courier trust add "3F2A 9C01 DEAD BEEF 0123 4567 89AB CDEF" --name "Site A operator workstation"`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := singleFile("the file", args[0], expandWildcards)
			if err != nil {
				return err
			}
			k, err := env.service().TrustKey(ref, name)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.IO.Out, "Trusted %s as %q\n", k.Fingerprint, k.Name)
			return err
		},
	}
	add.Flags().StringVar(&name, "name", "", "the `NAME` people know the installation by (default: the name in the file)")

	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the trusted installations",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := env.service().TrustedKeys()
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(env.IO.Out, keys)
			}
			if len(keys) == 0 {
				_, err := fmt.Fprintln(env.IO.Out, "No trusted keys yet; add one with: azs-courier trust add FILE --name NAME")
				return err
			}
			tw := tabwriter.NewWriter(env.IO.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "FINGERPRINT\tNAME\tADDED")
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Fingerprint, k.Name, k.Added)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print the keys as JSON")

	remove := &cobra.Command{
		Use:   "remove FINGERPRINT|NAME",
		Short: "Stop trusting an installation",
		Args:  usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := env.service().UntrustKey(args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.IO.Out, "No longer trusts %s (%q)\n", k.Fingerprint, k.Name)
			return err
		},
	}
	cmd.AddCommand(add, list, remove)
	return cmd
}
