package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

func newLedgerCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ledger",
		Short: "Show, verify or export the custody ledger",
		Long: `The custody ledger records every artefact written or checked on this machine, and
every step on the stamp or in Azure: when, by whom, which file, its SHA-256 and
the outcome. Each entry carries the hash of the one before it and is signed
with this installation's key, so 'ledger verify' finds any edit, deletion,
reordering or rewritten chain; 'ledger anchor' prints the head to write down,
and 'ledger verify --anchor' later finds a ledger cut short or replaced. A step
whose entry cannot be written fails. The ledger lives in the configuration
folder (AZS_COURIER_CONFIG_DIR overrides it).`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf(cmd, "say what to do: show, verify, anchor or export")
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

	var anchor string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the ledger's chain and signatures; exit 3 at the first broken entry",
		Example: `  azs-courier ledger verify
  azs-courier ledger verify --anchor 42:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if anchor != "" {
				if err := app.CheckAnchor(anchor); err != nil {
					return usageErrorf(cmd, "--anchor: %v", err)
				}
			}
			chk, err := env.service().VerifyLedger(anchor)
			if err != nil {
				return err
			}
			return printLedgerCheck(env, chk, anchor)
		},
	}
	verify.Flags().StringVar(&anchor, "anchor", "", "also check that the entry `COUNT:HASH` printed by 'ledger anchor' is still there")

	anchorCmd := &cobra.Command{
		Use:   "anchor",
		Short: "Print the ledger's head (COUNT:HASH) to write down, and record that it was shown",
		Long: `Print the ledger's head as COUNT:HASH on the first line, then the hash in groups of
four for reading aloud. Write it down, or keep it away from this machine: a
ledger cut short, emptied or replaced still has an intact chain, but
'ledger verify --anchor COUNT:HASH' finds that the anchored entry is gone.
Showing the head is itself recorded, as the entry the anchor names.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := env.service().LedgerAnchor()
			if err != nil {
				return err
			}
			count, hash, _ := strings.Cut(a, ":")
			fmt.Fprintln(env.IO.Out, a)
			fmt.Fprintf(env.IO.Out, "entry %s, hash %s\n", count, app.GroupHash(hash))
			_, err = fmt.Fprintf(env.IO.Out, "Check later with: azs-courier ledger verify --anchor %s\n", a)
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

	cmd.AddCommand(show, verify, anchorCmd, export)
	return cmd
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

// printLedgerCheck says what ledger verify found.
func printLedgerCheck(env *Env, chk app.LedgerCheck, anchor string) error {
	w := env.IO.Out
	if chk.Entries == 0 {
		_, err := fmt.Fprintf(w, "custody ledger empty: nothing recorded yet (%s)\n", chk.Path)
		return err
	}
	entries := "entries"
	if chk.Entries == 1 {
		entries = "entry"
	}
	fmt.Fprintf(w, "custody ledger intact: %d %s, chain and signatures verified (%s)\n", chk.Entries, entries, chk.Path)
	fmt.Fprintf(w, "  signed by this installation's key %s\n", chk.Signer)
	if anchor != "" {
		fmt.Fprintf(w, "  the anchored entry %s is still there\n", strings.SplitN(anchor, ":", 2)[0])
	}
	fmt.Fprintf(w, "  head: %s\n", chk.Head)
	for _, n := range chk.Recovered {
		fmt.Fprintf(w, "  entry %d records a torn line set aside after an interrupted write (a crash or a full disk), not tampering\n", n)
	}
	if chk.TornBytes > 0 {
		fmt.Fprintf(w, "  the last line is torn (%d bytes from an interrupted write); the next entry sets it aside\n", chk.TornBytes)
	}
	return nil
}
