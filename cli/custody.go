package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

func newCustodyCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "custody",
		Short: "Print the custody sheet of an artefact, or record that one was received",
		Long: `The custody sheet is one printed A4 page per artefact that crosses the air gap:
what it is, its SHA-256, who signed and reviewed its release, the release's
custody ledger entry, the manifest as a QR code, and lines for the people who
release, carry and receive it to sign. On the receiving side, 'custody receive'
records the arrival and who carried it, paired with the release.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf(cmd, "say what to do: sheet or receive")
		},
	}
	var out string
	var force bool
	sheet := &cobra.Command{
		Use:     "sheet FILE --out SHEET.pdf",
		Short:   "Write the custody sheet of an artefact file (with its manifest) as a PDF",
		Example: `  azs-courier custody sheet ` + onDrive("registration-token.txt") + ` --out custody-sheet.pdf`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "out"); err != nil {
				return err
			}
			file, err := singleFile("the file", args[0], expandWildcards)
			if err != nil {
				return err
			}
			res, err := env.service().CustodySheet(cmd.Context(), file, out, force)
			if err != nil {
				return err
			}
			entry := res.ReleaseEntry
			if entry == "" {
				entry = "none: this installation did not write the file"
			}
			_, err = fmt.Fprintf(env.IO.Out, "wrote the custody sheet of %s to %s (release entry %s)\n", file, res.Path, entry)
			return err
		},
	}
	sheet.Flags().StringVar(&out, "out", "", "write the sheet to `SHEET.pdf`")
	sheet.Flags().BoolVar(&force, "force", false, "replace an existing file")

	var req app.ReceiveRequest
	receive := &cobra.Command{
		Use:     "receive FILE --carrier NAME",
		Short:   "Record in the custody ledger that an artefact arrived, and who carried it",
		Example: `  azs-courier custody receive ` + onDrive("activation-key.txt") + ` --carrier "C. Courier" --release-entry 12:9f86d0…`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "carrier"); err != nil {
				return err
			}
			if req.ReleaseEntry != "" {
				if err := app.CheckAnchor(req.ReleaseEntry); err != nil {
					return usageErrorf(cmd, "--release-entry: %v", err)
				}
			}
			file, err := singleFile("the file", args[0], expandWildcards)
			if err != nil {
				return err
			}
			req.Path = file
			v, err := env.service().Receive(cmd.Context(), req)
			if err != nil {
				return err
			}
			signer := "unsigned"
			if v.Origin != nil {
				signer = v.Origin.String()
			}
			_, err = fmt.Fprintf(env.IO.Out, "received the %s %s (SHA-256 %s), carried by %s\nsigner: %s\n", v.Kind.Title(), file, v.SHA256Groups(), req.Carrier, signer)
			return err
		},
	}
	receive.Flags().StringVar(&req.Carrier, "carrier", "", "the `NAME` of who carried it across")
	receive.Flags().StringVar(&req.ReleaseEntry, "release-entry", "", "the release's ledger entry `COUNT:HASH` printed on the custody sheet")
	cmd.AddCommand(sheet, receive)
	return cmd
}
