package app

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
// and how far it has got. The CLI prints events on standard error; the GUI
// turns them into widget updates.
type Event struct {
	Step     string  // e.g. "token", "activate"
	Message  string  // what is happening, for people
	Fraction float64 // 0..1 when known, else -1
	Level    Level
}

func orDiscard(f func(Event)) func(Event) {
	if f == nil {
		return func(Event) {}
	}
	return f
}
