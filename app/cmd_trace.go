package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/pep/psrp"
	"github.com/azs-courier/azs-courier/pep/wsman"
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
			opts.File = args[0]
			opts.Stdin, opts.Out, opts.ErrOut = env.IO.In, env.IO.Out, env.IO.ErrOut
			return runTraceShow(cmd.Context(), opts)
		},
	}
	show.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object per PSRP message per line")
	show.Flags().IntVar(&opts.Limit, "width", 400, "text mode: show at most this many characters of each value (0 = all)")
	cmd.AddCommand(show)
	return cmd
}

func runTraceShow(_ context.Context, o traceOptions) error {
	var data []byte
	var err error
	if o.File == "-" {
		data, err = io.ReadAll(io.LimitReader(o.Stdin, 256<<20))
	} else {
		data, err = os.ReadFile(o.File)
	}
	if err != nil {
		return fmt.Errorf("read trace %s: %w; check the path", o.File, err)
	}
	rec, err := wsman.ParseRecording(data)
	if err != nil {
		return fmt.Errorf("trace %s is not a recording (%v); give a file written by --trace or a pypsrp recording", o.File, err)
	}
	msgs, err := psrp.DecodeRecording(rec)
	if err != nil {
		// Print what was decoded before the damage, then fail.
		_ = printTrace(o, msgs)
		return fmt.Errorf("trace %s is damaged after %d messages: %w; the file was cut or edited", o.File, len(msgs), err)
	}
	return printTrace(o, msgs)
}

func printTrace(o traceOptions, msgs []psrp.TraceMessage) error {
	if o.JSON {
		enc := json.NewEncoder(o.Out)
		enc.SetEscapeHTML(false)
		for _, m := range msgs {
			if err := enc.Encode(m); err != nil {
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
			if e := errorSummary(m.Value); e != "" {
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
		if _, err := fmt.Fprintln(o.Out, strings.TrimRight(line, " ")); err != nil {
			return err
		}
	}
	return nil
}

// errorSummary returns "message (FullyQualifiedErrorId)" for an error
// record value or a state value carrying ExceptionAsErrorRecord, so the
// text form shows failures however long the value is.
func errorSummary(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if inner, ok := m["ExceptionAsErrorRecord"].(map[string]any); ok {
		m = inner
	}
	id, _ := m["FullyQualifiedErrorId"].(string)
	if id == "" {
		return ""
	}
	msg, _ := m["_toString"].(string)
	if exc, ok := m["Exception"].(map[string]any); ok {
		if s, ok := exc["Message"].(string); ok && s != "" {
			msg = s
		}
	}
	return oneLine(msg) + " (" + id + ")"
}
