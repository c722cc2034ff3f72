package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/azs-courier/azs-courier/app"
)

// uiThread applies changes from goroutines on the UI thread with fyne.Do,
// one at a time: Fyne's test driver runs fyne.Do on the calling goroutine,
// so without the lock two workers could lay out text at once.
type uiThread struct {
	mu    sync.Mutex
	tasks sync.WaitGroup // workers started by taskPanel.run, until their last update is shown
}

// Do runs f on the UI thread.
func (th *uiThread) Do(f func()) {
	th.mu.Lock()
	defer th.mu.Unlock()
	fyne.Do(f)
}

// taskPanel shows a long operation: a progress bar, the PowerShell-level
// messages, a Cancel button, and the error when it fails (reason and fix,
// details expandable). Handlers start work with run and never block.
type taskPanel struct {
	Bar     *widget.ProgressBar
	Spin    *widget.ProgressBarInfinite
	Message *widget.Label
	Elapsed *widget.Label // "1:23 elapsed" while running
	Log     *widget.Label
	Cancel  *widget.Button

	// ConfirmCancel, when set, is asked before Cancel stops the operation:
	// it calls proceed if the user still wants to. Activation and removal
	// set it, since the stamp may finish them on its own.
	ConfirmCancel func(proceed func())
	// Cancelled, when set, is called on the UI thread after an operation
	// was cancelled, to say what became of it.
	Cancelled func()
	// After, when set, is called on the UI thread after every operation
	// (the status line's ledger count).
	After func()

	ErrReason  *widget.Label
	ErrFix     *widget.Label
	ErrDetails *widget.Label
	errBox     *fyne.Container
	logBox     *widget.Accordion
	detailsBox *widget.Accordion
	row        *fyne.Container // Cancel and the time elapsed

	status *fyne.Container // what the operation is doing, its error and fix
	more   *fyne.Container // its messages and the error's details

	th      *uiThread
	mu      sync.Mutex
	cancel  context.CancelFunc
	running bool
	lines   []string
	started time.Time
}

func newTaskPanel(th *uiThread) *taskPanel {
	p := &taskPanel{
		th:         th,
		Bar:        widget.NewProgressBar(),
		Spin:       widget.NewProgressBarInfinite(),
		Message:    widget.NewLabel(""),
		Elapsed:    widget.NewLabel(""),
		Log:        widget.NewLabel(""),
		ErrReason:  widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		ErrFix:     widget.NewLabel(""),
		ErrDetails: widget.NewLabel(""),
	}
	p.Message.Wrapping = fyne.TextWrapWord
	p.Log.Wrapping = fyne.TextWrapWord
	p.ErrReason.Wrapping = fyne.TextWrapWord
	p.ErrFix.Wrapping = fyne.TextWrapWord
	p.ErrDetails.Wrapping = fyne.TextWrapWord
	p.ErrDetails.TextStyle = fyne.TextStyle{Monospace: true}
	p.Cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), p.onCancel)
	p.Spin.Stop()
	// The reason and the fix wrap within the window: the icon sits beside
	// the text, which takes the rest of the width.
	p.errBox = container.NewVBox(
		container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(theme.ErrorIcon())), nil, p.ErrReason),
		p.ErrFix,
	)
	p.detailsBox = widget.NewAccordion(widget.NewAccordionItem("Details of the error", p.ErrDetails))
	p.logBox = widget.NewAccordion(widget.NewAccordionItem("Messages", p.Log))
	p.row = container.NewBorder(nil, nil, p.Cancel, nil, p.Elapsed)
	p.status = container.NewVBox(p.Message, container.NewStack(p.Bar, p.Spin), p.row, p.errBox)
	p.more = container.NewVBox(p.logBox, p.detailsBox)
	p.reset()
	return p
}

// Object returns the panel's widget tree, whole; or use Status and More.
func (p *taskPanel) Object() fyne.CanvasObject { return container.NewVBox(p.status, p.more) }

// Status returns what the operation is doing, its error and its fix, for
// a step's footer where it stays in view; More returns the rest.
func (p *taskPanel) Status() fyne.CanvasObject { return p.status }

// More returns the operation's messages and the error's details, for the
// scrolling part of a step.
func (p *taskPanel) More() fyne.CanvasObject { return p.more }

// showRow shows Cancel and the time elapsed only when either is there.
func (p *taskPanel) showRow() {
	if p.Cancel.Visible() || p.Elapsed.Text != "" {
		p.row.Show()
	} else {
		p.row.Hide()
	}
}

// Reset clears what the last operation left on the panel (its "done", its
// error, its messages): the panel belongs to the artefact or step on
// screen, and shows nothing of another's.
func (p *taskPanel) Reset() {
	if p.Running() {
		return
	}
	p.reset()
}

func (p *taskPanel) reset() {
	p.Bar.Hide()
	p.Spin.Hide()
	p.Cancel.Hide()
	p.logBox.Hide()
	p.errBox.Hide()
	p.detailsBox.Hide()
	p.Message.SetText("")
	p.Elapsed.SetText("")
	p.Message.Hide()
	p.showRow()
}

// Running reports whether an operation is under way.
func (p *taskPanel) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

func (p *taskPanel) onCancel() {
	if p.ConfirmCancel != nil {
		p.ConfirmCancel(p.stop)
		return
	}
	p.stop()
}

// stop cancels a running operation without asking (the window closes, or
// the user confirmed).
func (p *taskPanel) stop() {
	p.mu.Lock()
	c := p.cancel
	p.mu.Unlock()
	if c != nil {
		c()
		p.Message.SetText("Cancelling…")
		p.Cancel.Disable()
	}
}

// run starts work in a goroutine with a context the Cancel button cancels.
// Progress events and the end are applied on the UI thread with fyne.Do:
// done gets the error (nil on success) after the panel shows it.
func (p *taskPanel) run(parent context.Context, title string, cancellable bool, work func(ctx context.Context, progress func(app.Event)) error, done func(error)) {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(parent)
	p.running, p.cancel, p.lines, p.started = true, cancel, nil, time.Now()
	p.mu.Unlock()

	p.reset()
	p.Message.SetText(title + "…")
	p.Message.Show()
	p.Bar.SetValue(0)
	// The fraction is unknown until the stamp reports one: an
	// indeterminate bar, not a bar stuck at 0 %.
	p.Spin.Show()
	p.Spin.Start()
	p.Log.SetText("")
	if cancellable {
		p.Cancel.Enable()
		p.Cancel.Show()
	}
	p.showRow()
	progress := func(ev app.Event) {
		p.th.Do(func() { p.apply(ev) })
	}
	ticking := make(chan struct{})
	p.th.tasks.Add(2)
	go func() {
		defer p.th.tasks.Done()
		p.tick(ticking)
	}()
	go func() {
		defer p.th.tasks.Done()
		err := work(ctx, progress)
		cancelled := ctx.Err() != nil // by the Cancel button or the window
		cancel()
		close(ticking)
		p.th.Do(func() {
			p.mu.Lock()
			p.running, p.cancel = false, nil
			took := time.Since(p.started)
			p.mu.Unlock()
			p.Spin.Stop()
			p.Spin.Hide()
			p.Cancel.Hide()
			p.Elapsed.SetText("")
			if took >= 2*time.Second {
				p.Elapsed.SetText("took " + elapsed(took))
			}
			p.showRow()
			switch {
			case err != nil && (cancelled || errors.Is(err, context.Canceled)):
				// Whatever the transport said when its connection was cut,
				// the user cancelled: say that.
				p.Bar.Hide()
				p.Message.SetText(title + ": cancelled")
				if p.Cancelled != nil {
					p.Cancelled()
				}
			case err != nil:
				p.Bar.Hide()
				p.Message.SetText(title + ": failed")
				p.showError(err)
			default:
				// One line says it: a full bar would only take room from
				// the step above.
				p.Message.SetText(title + ": done")
				p.Bar.SetValue(1)
				p.Bar.Hide()
			}
			if done != nil {
				done(err)
			}
			if p.After != nil {
				p.After()
			}
		})
	}()
}

// tick shows the time elapsed once a second until done is closed.
func (p *taskPanel) tick(done chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			p.th.Do(func() {
				p.mu.Lock()
				running, since := p.running, time.Since(p.started)
				p.mu.Unlock()
				if running {
					p.Elapsed.SetText(elapsed(since) + " elapsed")
					p.showRow()
				}
			})
		}
	}
}

// elapsed writes a duration as m:ss, or h:mm:ss.
func elapsed(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// apply shows one progress event.
func (p *taskPanel) apply(ev app.Event) {
	if ev.Level == app.LevelVerbose {
		return
	}
	msg := strings.TrimSpace(ev.Message)
	if msg == "" {
		return
	}
	if ev.Level == app.LevelWarning {
		msg = "Warning: " + msg
	}
	p.Message.SetText(msg)
	if ev.Fraction >= 0 && ev.Fraction <= 1 && ev.Level == app.LevelProgress {
		p.Spin.Stop()
		p.Spin.Hide()
		p.Bar.Show()
		p.Bar.SetValue(ev.Fraction)
	}
	p.lines = append(p.lines, msg)
	if len(p.lines) > 200 {
		p.lines = p.lines[len(p.lines)-200:]
	}
	p.Log.SetText(strings.Join(p.lines, "\n"))
	p.logBox.Show()
}

// showError shows err's reason, fix and details.
func (p *taskPanel) showError(err error) {
	v := app.Explain(err)
	p.ErrReason.SetText(v.Reason)
	fix := v.Fix
	if v.Integrity {
		fix = "Integrity check failed. " + fix
	}
	p.ErrFix.SetText(fix)
	p.ErrDetails.SetText(v.Details)
	p.errBox.Show()
	p.detailsBox.Show()
}

// ErrorText returns the error shown, reason and fix, or "".
func (p *taskPanel) ErrorText() string {
	if !p.errBox.Visible() {
		return ""
	}
	return strings.TrimSpace(p.ErrReason.Text + "; " + p.ErrFix.Text)
}
