package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

func newLedgerCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ledger",
		Short: "Show, verify or export the custody ledger",
		Long: `The custody ledger records every artefact written or checked on this machine:
when, by whom, which file, its SHA-256 and the outcome. Each entry carries the
hash of the one before it, so 'ledger verify' finds any edit, deletion or
reordering. It lives in the configuration folder (AZS_COURIER_CONFIG_DIR
overrides it).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf(cmd, "say what to do: show, verify or export")
		},
	}
	var showJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "List the ledger's entries",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc := env.service()
			if showJSON {
				data, err := svc.LedgerData(app.LedgerJSONL, false)
				if err != nil {
					return err
				}
				_, err = env.IO.data().Write(data)
				return err
			}
			rows, err := svc.LedgerRows()
			if err != nil {
				return err
			}
			fmt.Fprintf(env.IO.Out, "Custody ledger %s: %d entries\n", svc.LedgerPath(), len(rows))
			tw := tabwriter.NewWriter(env.IO.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "#\tTIME (UTC)\tSTEP\tKIND\tSHA-256\tOUTCOME\tFILE")
			for _, e := range rows {
				sha := e.SHA256
				if len(sha) > 16 {
					sha = sha[:16] + "..."
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.UTC().Format("2006-01-02 15:04:05"),
					e.Step, e.Kind, sha, truncate(e.Outcome, 60), e.File)
			}
			return tw.Flush()
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print the entries as JSON lines")

	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the ledger's hash chain; exit 3 at the first broken entry",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc := env.service()
			n, err := svc.VerifyLedger()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.IO.Out, "custody ledger intact: %d entries, chain verified (%s)\n", n, svc.LedgerPath())
			return err
		},
	}

	var format, out string
	var force bool
	export := &cobra.Command{
		Use:   "export",
		Short: "Export the verified ledger as CSV or JSON lines",
		Example: `  azs-courier ledger export --out ` + onDrive("custody.csv") + `
  azs-courier ledger export --format jsonl`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != string(app.LedgerCSV) && format != string(app.LedgerJSONL) {
				return usageErrorf(cmd, "--format must be csv or jsonl, not %q", format)
			}
			svc := env.service()
			data, err := svc.LedgerData(app.LedgerFormat(format), true)
			if err != nil {
				return err
			}
			if out == "" {
				_, err = env.IO.data().Write(data)
				return err
			}
			return svc.WriteLedgerExport(out, data, force)
		},
	}
	export.Flags().StringVar(&format, "format", "csv", "csv or jsonl")
	export.Flags().StringVar(&out, "out", "", "write to `FILE` instead of standard output")
	export.Flags().BoolVar(&force, "force", false, "replace an existing --out file")

	cmd.AddCommand(show, verify, export)
	return cmd
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}
