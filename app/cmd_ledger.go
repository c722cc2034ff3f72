package app

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/courier"
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
			entries, err := env.Ledger().Entries()
			if err != nil {
				return err
			}
			if showJSON {
				return writeJSONLines(env.IO.Out, entries)
			}
			fmt.Fprintf(env.IO.Out, "Custody ledger %s: %d entries\n", env.Ledger().Path(), len(entries))
			tw := tabwriter.NewWriter(env.IO.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "#\tTIME (UTC)\tSTEP\tKIND\tSHA-256\tOUTCOME\tFILE")
			for _, e := range entries {
				sha := e.SHA256
				if len(sha) > 16 {
					sha = sha[:16] + "…"
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
			n, err := env.Ledger().Verify()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.IO.Out, "custody ledger intact: %d entries, chain verified (%s)\n", n, env.Ledger().Path())
			return err
		},
	}

	var format, out string
	var force bool
	export := &cobra.Command{
		Use:   "export",
		Short: "Export the verified ledger as CSV or JSON lines",
		Example: `  azs-courier ledger export --out E:\custody.csv
  azs-courier ledger export --format jsonl`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "csv" && format != "jsonl" {
				return usageErrorf(cmd, "--format must be csv or jsonl, not %q", format)
			}
			entries, err := env.Ledger().Entries()
			if err != nil {
				return err
			}
			if _, err := courier.VerifyEntries(entries); err != nil {
				return err
			}
			var buf bytes.Buffer
			if format == "csv" {
				err = writeLedgerCSV(&buf, entries)
			} else {
				err = writeJSONLines(&buf, entries)
			}
			if err != nil {
				return err
			}
			if out == "" {
				_, err = env.IO.Out.Write(buf.Bytes())
				return err
			}
			return writeExport(out, buf.Bytes(), force)
		},
	}
	export.Flags().StringVar(&format, "format", "csv", "csv or jsonl")
	export.Flags().StringVar(&out, "out", "", "write to `FILE` instead of standard output")
	export.Flags().BoolVar(&force, "force", false, "replace an existing --out file")

	cmd.AddCommand(show, verify, export)
	return cmd
}

func writeJSONLines(w io.Writer, entries []courier.Entry) error {
	enc := json.NewEncoder(w)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}

func writeLedgerCSV(w io.Writer, entries []courier.Entry) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "time_utc", "step", "kind", "sha256", "cloud_id", "file", "outcome", "detail", "user", "machine", "app", "prev", "hash"})
	for _, e := range entries {
		cw.Write([]string{strconv.Itoa(e.Seq), e.Time.UTC().Format(time.RFC3339), e.Step, string(e.Kind), e.SHA256,
			e.CloudID, e.File, e.Outcome, e.Detail, e.User, e.Machine, e.App, e.Prev, e.Hash})
	}
	cw.Flush()
	return cw.Error()
}

// writeExport writes data to path without replacing an existing file unless
// force is set; it creates the file only once all data is at hand.
func writeExport(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		if os.IsExist(err) {
			return &courier.ExistsError{Path: path}
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
