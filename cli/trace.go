package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

// traceOptions are the flags of `trace show`.
type traceOptions struct {
	File   string
	JSON   bool
	Limit  int // text mode: characters of each value shown; 0 = all
	Stdin  io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

func newTraceCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "Work with PEP traces (recordings of the decrypted WS-Man exchange)",
		Args:  usageArgs(cobra.NoArgs),
	}
	opts := traceOptions{}
	show := &cobra.Command{
		Use:   "show FILE|-",
		Short: "Decode a --trace file or a pypsrp recording into its PSRP messages",
		Long: "Decode a recording (written by --trace, or a pypsrp test recording) into its PSRP messages:\n" +
			"exchange number, sender, message type, runspace pool and pipeline IDs and the CLIXML value.\n" +
			"With --json, one JSON object per message per line; WS-Man faults appear as type WSMAN_FAULT.",
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := singleFile("the file", args[0], expandWildcards)
			if err != nil {
				return err
			}
			opts.File = file
			opts.Stdin, opts.Out, opts.ErrOut = env.IO.In, env.IO.Out, env.IO.ErrOut
			return runTraceShow(cmd.Context(), opts)
		},
	}
	show.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object per PSRP message per line")
	show.Flags().IntVar(&opts.Limit, "width", 400, "text mode: show at most this many characters of each value (0 = all)")
	cmd.AddCommand(show)
	return cmd
}

func runTraceShow(ctx context.Context, o traceOptions) error {
	src := app.FileSource(o.File)
	if o.File == "-" {
		src = app.StreamSource("standard input", o.Stdin)
	}
	msgs, err := app.ReadTrace(ctx, src)
	if err != nil {
		// Print what was decoded before the damage, then fail.
		_ = printTrace(o, msgs)
		return err
	}
	return printTrace(o, msgs)
}

func printTrace(o traceOptions, msgs []app.TraceMessage) error {
	if o.JSON {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		for _, m := range msgs {
			b.Reset()
			if err := enc.Encode(m); err != nil {
				return err
			}
			if _, err := o.Out.Write(asciiJSON(b.Bytes())); err != nil {
				return err
			}
		}
		return nil
	}
	for _, m := range msgs {
		line := fmt.Sprintf("#%d %-6s %-16s %s", m.Exchange, m.From, m.Action, m.Type)
		if m.Type == "WSMAN_FAULT" {
			line += fmt.Sprintf(" code=%s %s", m.Code, m.Message)
		} else {
			if m.PID != "" {
				line += " pid=" + m.PID
			} else if m.RPID != "" {
				line += " rpid=" + m.RPID
			}
			if e := m.Failure; e != "" {
				line += "\n    error: " + e
			}
			if m.Value != nil {
				b, _ := json.Marshal(m.Value)
				s := string(b)
				if o.Limit > 0 && len(s) > o.Limit {
					s = s[:o.Limit] + "…"
				}
				line += "\n    " + s
			}
			if m.Error != "" {
				line += "\n    error: " + m.Error
			}
		}
		if _, err := fmt.Fprintln(o.Out, app.PrintableLines(strings.TrimRight(line, " "))); err != nil {
			return err
		}
	}
	return nil
}
