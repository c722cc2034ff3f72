package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/azs-courier/azs-courier/app"
)

// Exit statuses of the CLI (design.md).
const (
	ExitOK        = 0 // success
	ExitFailed    = 1 // the operation failed
	ExitUsage     = 2 // the command line was wrong
	ExitIntegrity = 3 // an integrity or identity check failed
)

// UsageError reports a command line that cannot be run as given. Main maps it
// to exit status 2.
type UsageError struct {
	Err     error
	Command string // the command path, for the help hint
}

func (e *UsageError) Error() string {
	if e.Command == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%v; run '%s --help' for usage", e.Err, e.Command)
}

func (e *UsageError) Unwrap() error { return e.Err }

// usageErrorf returns a *UsageError for cmd.
func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...), Command: cmd.CommandPath()}
}

// ExitCode maps an error returned by a command to the process exit status:
// usage errors 2, integrity and identity checks 3, anything else 1.
func ExitCode(err error) int {
	var ue *UsageError
	var pe *app.PolicyError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &pe) && pe.Missing:
		return ExitUsage
	case errors.Is(err, app.ErrIntegrity):
		return ExitIntegrity
	}
	return ExitFailed
}

// Main runs the command line args (without the program name) and returns the
// exit status. With no arguments it opens the GUI. Errors are printed as one
// line on env.IO.ErrOut; --verbose adds the chain of causes.
func Main(ctx context.Context, args []string, env *Env) int {
	if len(args) == 0 {
		args = []string{"gui"}
	}
	root := newRootCmd(env)
	root.SetArgs(args)
	var cmd *cobra.Command
	err := quotedArg(args, windowsQuotes)
	if err != nil {
		cmd, _, _ = root.Find(args)
		err = &UsageError{Err: err}
	} else {
		cmd, err = execute(ctx, root, args)
	}
	if err == nil {
		return ExitOK
	}
	if cmd != nil {
		var ue *UsageError
		if errors.As(err, &ue) && ue.Command == "" {
			ue.Command = cmd.CommandPath()
		}
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = interrupted(err)
	}
	fmt.Fprintf(env.IO.ErrOut, "azs-courier: %s\n", app.OneLine(err.Error()))
	if verbose, _ := root.PersistentFlags().GetBool("verbose"); verbose {
		for _, c := range app.Causes(err) {
			fmt.Fprintf(env.IO.ErrOut, "  because: %s\n", c)
		}
	}
	return ExitCode(err)
}

// stopGrace is how long a command has to wind up after Ctrl-C or SIGTERM
// (close a PEP session, remove temporary files) before Main returns
// without it.
const stopGrace = time.Second

// mainThread marks a command (the GUI) that must run on the caller's
// goroutine: the windowing system wants the main thread.
const mainThread = "main-thread"

// execute runs root under ctx. When ctx is cancelled (Ctrl-C, SIGTERM), the
// command gets stopGrace to return; one blocked where no context reaches
// (a read of standard input) is then left behind, and the run ends as
// interrupted all the same. A command marked mainThread runs on this
// goroutine, and ends on cancellation by itself.
func execute(ctx context.Context, root *cobra.Command, args []string) (*cobra.Command, error) {
	if c, _, err := root.Find(args); err == nil && c.Annotations[mainThread] == "true" {
		return root.ExecuteContextC(ctx)
	}
	type result struct {
		cmd *cobra.Command
		err error
	}
	done := make(chan result, 1)
	go func() {
		cmd, err := root.ExecuteContextC(ctx)
		done <- result{cmd, err}
	}()
	select {
	case r := <-done:
		return r.cmd, r.err
	case <-ctx.Done():
	}
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case r := <-done:
		return r.cmd, r.err
	case <-t.C:
		return nil, interrupted(ctx.Err())
	}
}

// interruptedError is a run stopped by Ctrl-C or SIGTERM: its message says
// so instead of "context canceled", which stays in the causes; msg, when
// set, also says what became of the operation.
type interruptedError struct {
	err error
	msg string
}

func (e *interruptedError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return "cancelled by the user (Ctrl-C or a stop signal) before the command finished; run it again to do the rest"
}

func (e *interruptedError) Unwrap() error { return e.err }

func interrupted(err error) error {
	var ie *interruptedError
	if errors.As(err, &ie) {
		return err
	}
	return &interruptedError{err: err}
}
