package app

import (
	"fmt"
	"io"
)

// Level says how an Event should be shown.
type Level string

// Event levels.
const (
	LevelInfo     Level = "info"
	LevelProgress Level = "progress"
	LevelWarning  Level = "warning"
	LevelVerbose  Level = "verbose"
)

// Event reports the progress of a use case: which step it is in, a message
// for people (PowerShell progress, warning and verbose records among them),
// and how far it has got. The CLI prints events on ErrOut; the GUI turns them
// into widget updates.
type Event struct {
	Step     string  // e.g. "token", "activate"
	Message  string  // what is happening, for people
	Fraction float64 // 0..1 when known, else -1
	Level    Level
}

// printEvents returns a progress callback that writes events to w, one line
// each. Verbose events are printed only when verbose is set.
func printEvents(w io.Writer, verbose bool) func(Event) {
	return func(ev Event) {
		switch ev.Level {
		case LevelVerbose:
			if !verbose {
				return
			}
			fmt.Fprintf(w, "  %s: %s\n", ev.Step, ev.Message)
		case LevelWarning:
			fmt.Fprintf(w, "warning: %s\n", oneLine(ev.Message))
		default:
			if ev.Fraction >= 0 && ev.Fraction <= 1 && ev.Level == LevelProgress {
				fmt.Fprintf(w, "  %s: %s (%d%%)\n", ev.Step, oneLine(ev.Message), int(ev.Fraction*100+0.5))
				return
			}
			fmt.Fprintf(w, "  %s: %s\n", ev.Step, oneLine(ev.Message))
		}
	}
}
