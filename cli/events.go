package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/azs-courier/azs-courier/app"
)

// printEvents returns a progress callback that writes events to w, one line
// each. Verbose events are printed only when verbose is set; events with no
// words are not printed.
func printEvents(w io.Writer, verbose bool) func(app.Event) {
	return func(ev app.Event) {
		msg := app.OneLine(ev.Message)
		if strings.TrimSpace(msg) == "" {
			return
		}
		switch ev.Level {
		case app.LevelVerbose:
			if verbose {
				fmt.Fprintf(w, "  %s: %s\n", ev.Step, msg)
			}
		case app.LevelWarning:
			fmt.Fprintf(w, "warning: %s\n", msg)
		default:
			if ev.Fraction >= 0 && ev.Fraction <= 1 && ev.Level == app.LevelProgress {
				fmt.Fprintf(w, "  %s: %s (%d%%)\n", ev.Step, msg, int(ev.Fraction*100+0.5))
				return
			}
			fmt.Fprintf(w, "  %s: %s\n", ev.Step, msg)
		}
	}
}
