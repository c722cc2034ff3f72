package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/azs-courier/azs-courier/app"
)

// IO holds the streams a command reads and writes. Commands never touch
// os.Stdin, os.Stdout or os.Stderr directly.
type IO struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Data is Out as it is, for what programs read (ledger export, JSON
	// lines): never converted to a console code page, which would change
	// the bytes of an exported record.
	Data   io.Writer
	InTTY  bool // In is an interactive terminal
	OutTTY bool // Out is an interactive terminal
}

// SystemIO returns the process's standard streams. Where the console cannot
// show UTF-8 (a Windows console or pipe on an OEM code page), Out and ErrOut
// convert what is written to that code page.
func SystemIO() *IO {
	return &IO{
		In:     os.Stdin,
		Out:    consoleWriter(os.Stdout),
		ErrOut: consoleWriter(os.Stderr),
		Data:   os.Stdout,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
	}
}

// TestIO returns IO over buffers, for tests: what to feed as input, and what
// the command wrote to Out and ErrOut.
func TestIO() (ios *IO, in, out, errOut *bytes.Buffer) {
	in, out, errOut = new(bytes.Buffer), new(bytes.Buffer), new(bytes.Buffer)
	return &IO{In: in, Out: out, ErrOut: errOut, Data: out}, in, out, errOut
}

// Prompter asks the person at the terminal. Implementations must not echo
// passwords.
type Prompter interface {
	// Password asks for a secret without echoing it.
	Password(prompt string) (string, error)
	// Confirm asks a yes/no question; the default answer is no.
	Confirm(prompt string) (bool, error)
}

// ErrNoTerminal is returned by a Prompter that has no terminal to ask on.
var ErrNoTerminal = errors.New("cli: no terminal to ask on")

// Env is what commands get from the outside world: the streams, a prompter,
// the environment variables, the use cases' environment and the GUI.
type Env struct {
	IO       *IO
	Prompter Prompter
	Getenv   func(string) string
	// App is the environment of the use cases (clock, configuration folder,
	// user, machine, build).
	App *app.Env
	// RunGUI opens the GUI; main supplies it so that cli need not import
	// the GUI toolkit.
	RunGUI func(ctx context.Context, opts app.GUIOptions) error
}

// SystemEnv returns the Env of a real run over the use cases' environment
// a; warnings of the use cases go to standard error.
func SystemEnv(a *app.Env) *Env {
	ios := SystemIO()
	e := &Env{IO: ios, Prompter: &termPrompter{io: ios}, Getenv: os.Getenv, App: a}
	a.Warn = func(msg string) { fmt.Fprintf(ios.ErrOut, "warning: %s\n", app.OneLine(msg)) }
	return e
}

// source returns what a path argument names: a file, or standard input
// for "-".
func (e *Env) source(path string) app.Source {
	if path == "-" {
		return app.StreamSource("standard input", e.IO.In)
	}
	return app.FileSource(path)
}

// readArtefact reads the one artefact a command was given as path to flag
// (or as its argument when flag is ""): the file, standard input for "-",
// or on Windows the one file a pattern matches.
func (e *Env) readArtefact(ctx context.Context, flag, path string, want app.ArtefactKind, step string) (*app.ArtefactView, error) {
	if flag == "" {
		flag = "the file"
	}
	p, err := singleFile(flag, path, expandWildcards)
	if err != nil {
		return nil, err
	}
	return e.service().ReadArtefact(ctx, e.source(p), want, step)
}

// data returns the stream for machine-readable output.
func (s *IO) data() io.Writer {
	if s.Data != nil {
		return s.Data
	}
	return s.Out
}

// service returns the use cases.
func (e *Env) service() *app.Service { return app.NewService(e.App) }

func (e *Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

// setVerbose sends the use cases' detail to ErrOut.
func (e *Env) setVerbose() {
	e.App.Logger = slog.New(&detailHandler{w: e.IO.ErrOut})
}

// detailHandler writes log records as indented "detail:" lines, for
// --verbose.
type detailHandler struct {
	w     io.Writer
	attrs []slog.Attr
}

func (h *detailHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *detailHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("  detail: ")
	b.WriteString(app.OneLine(r.Message))
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%s", a.Key, app.OneLine(a.Value.String()))
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *detailHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &detailHandler{w: h.w, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}

func (h *detailHandler) WithGroup(string) slog.Handler { return h }

// termPrompter asks on the process's terminal.
type termPrompter struct{ io *IO }

func (p *termPrompter) Password(prompt string) (string, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", ErrNoTerminal
	}
	fmt.Fprint(p.io.ErrOut, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(p.io.ErrOut)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}

func (p *termPrompter) Confirm(prompt string) (bool, error) {
	if !p.io.InTTY {
		return false, ErrNoTerminal
	}
	fmt.Fprintf(p.io.ErrOut, "%s [y/N] ", prompt)
	line, err := bufio.NewReader(p.io.In).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	line = strings.ToLower(strings.TrimSpace(line))
	return line == "y" || line == "yes", nil
}
