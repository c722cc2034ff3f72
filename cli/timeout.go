package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// Deadlines of the commands that talk to the PEP or Azure, from the work
// they do: reading the stamp's information is quick; New-RegistrationToken
// reads every node's hardware; New-AzureStackActivation runs with the
// module's -TimeoutInSeconds 1800, plus a margin. --timeout overrides them.
const (
	timeoutStamp      = 2 * time.Minute
	timeoutToken      = 10 * time.Minute
	timeoutActivation = 35 * time.Minute
	timeoutAzure      = 10 * time.Minute
)

// addTimeoutFlag adds --timeout to cmd with the command's default.
func addTimeoutFlag(cmd *cobra.Command, d *time.Duration, def time.Duration) {
	cmd.Flags().DurationVar(d, "timeout", def, "give up after `DURATION` (e.g. 45m); the default suits the operation")
}

// operation says what a command does to the stamp or Azure, for the
// message when it runs out of time or is cancelled.
type operation struct {
	what  string // "the activation"
	state string // what became of it, and how to find out
	more  string // a longer --timeout to suggest
}

var (
	opStamp = operation{"reading the stamp's information", "nothing was changed on the stamp", "5m"}
	opToken = operation{"making the registration token",
		"nothing was written; the stamp may still finish the token and keep none of it: run token again", "20m"}
	opActivate = operation{"the activation",
		"the stamp may finish it on its own: wait some minutes, then check the stamp's activation in the administrator portal (Region management) before activating again; the custody ledger has the step", "60m"}
	opDeactivate = operation{"removing the activation",
		"the stamp may finish it on its own: wait some minutes, then check the stamp's activation in the administrator portal (Region management) before trying again; the custody ledger has the step", "60m"}
	opRenew = operation{"the renewal",
		"the stamp may still finish removing its activation on its own; run renew again, which resumes where it stopped ('azs-courier stamps' shows how far it came)", "60m"}
	opAzure = operation{"the Azure request",
		"Azure may have finished it: run the command again, which checks what is there first", "20m"}
)

// withDeadline runs body under a context that ends after d, and turns the
// end of that time, or a cancellation by the user, into a message that
// says what became of op.
func withDeadline(ctx context.Context, d time.Duration, op operation, body func(ctx context.Context) error) error {
	if d <= 0 {
		return fmt.Errorf("--timeout %v: give a positive duration such as %s", d, op.more)
	}
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := body(cctx)
	// A context derived inside body with the same deadline may end a
	// moment before cctx's own timer fires: the time is what counts.
	deadline, _ := cctx.Deadline()
	timedOut := cctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) && !time.Now().Before(deadline)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return &interruptedError{err: err, msg: fmt.Sprintf("%s was cancelled by the user; %s", capitalise(op.what), op.state)}
	case timedOut && ctx.Err() == nil:
		return &timeoutError{err: err, msg: fmt.Sprintf("%s did not finish within %v; %s; allow more time with --timeout %s", op.what, d, op.state, op.more)}
	}
	return err
}

// timeoutError is a command that ran out of its --timeout.
type timeoutError struct {
	err error
	msg string
}

func (e *timeoutError) Error() string { return e.msg }
func (e *timeoutError) Unwrap() error { return e.err }
