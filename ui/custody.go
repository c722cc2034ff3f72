package ui

import (
	"context"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/azs-courier/azs-courier/app"
)

// printCustodySheet writes the custody sheet of the artefact file at path
// beside it (NAME-custody-sheet.pdf), says so in result and opens it to
// print.
func printCustodySheet(u *UI, svc *app.Service, task *taskPanel, path string, result *widget.Label) {
	out := strings.TrimSuffix(path, filepath.Ext(path)) + "-custody-sheet.pdf"
	var res app.CustodySheetResult
	task.run(u.ctx, "Writing the custody sheet", false, func(ctx context.Context, progress func(app.Event)) error {
		var err error
		res, err = svc.CustodySheet(ctx, path, out, true)
		return err
	}, func(err error) {
		if err != nil {
			return
		}
		line := "Custody sheet: " + res.Path
		if res.ReleaseEntry != "" {
			line += " (release entry " + res.ReleaseEntry + ")"
		}
		if t := result.Text; t != "" {
			line = t + "\n" + line
		}
		setShown(result, line)
		if err := openFile(u, res.Path); err != nil {
			task.showError(err)
		}
	})
}

// receiptPanel records, on the receiving side, that an imported file
// arrived and who carried it, and prints its custody sheet.
type receiptPanel struct {
	u    *UI
	svc  *app.Service
	task *taskPanel
	file string

	Carrier *widget.Entry
	Record  *widget.Button
	Sheet   *widget.Button
	Result  *widget.Label
	box     *fyne.Container
}

func newReceiptPanel(u *UI, svc *app.Service) *receiptPanel {
	r := &receiptPanel{u: u, svc: svc, task: newTaskPanel(u.thread), Carrier: widget.NewEntry(), Result: widget.NewLabel("")}
	r.task.After = u.refreshStatus
	r.Result.Wrapping = fyne.TextWrapWord
	r.Carrier.SetPlaceHolder("who carried it across")
	r.Record = widget.NewButtonWithIcon("Record the receipt", theme.ConfirmIcon(), r.onRecord)
	r.Record.Disable()
	r.Carrier.OnChanged = func(s string) {
		if strings.TrimSpace(s) == "" || r.file == "" {
			r.Record.Disable()
		} else {
			r.Record.Enable()
		}
	}
	r.Sheet = widget.NewButtonWithIcon("Print the custody sheet", theme.DocumentPrintIcon(), func() {
		printCustodySheet(r.u, r.svc, r.task, r.file, r.Result)
	})
	r.box = container.NewVBox(
		widget.NewLabelWithStyle("Custody", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		note("Record who carried the file across; the custody ledger pairs it with its release."),
		widget.NewForm(widget.NewFormItem("Carried by", r.Carrier)),
		container.NewHBox(r.Record, r.Sheet), r.Result, r.task.Object())
	return r
}

// SetArtefact shows the panel for v when it was read from a file with its
// manifest, and hides it otherwise.
func (r *receiptPanel) SetArtefact(v *app.ArtefactView) {
	r.task.Reset()
	r.Result.SetText("")
	r.file = ""
	if v == nil || v.File == "" || !v.HasManifest() {
		r.box.Hide()
		return
	}
	r.file = v.File
	r.Carrier.OnChanged(r.Carrier.Text)
	r.box.Show()
}

// Object returns the panel.
func (r *receiptPanel) Object() fyne.CanvasObject { return r.box }

func (r *receiptPanel) onRecord() {
	req := app.ReceiveRequest{Path: r.file, Carrier: r.Carrier.Text}
	r.Record.Disable()
	r.task.run(r.u.ctx, "Recording the receipt", false, func(ctx context.Context, progress func(app.Event)) error {
		_, err := r.svc.Receive(ctx, req)
		return err
	}, func(err error) {
		if err == nil {
			r.Result.SetText("Recorded in the custody ledger: received, carried by " + strings.TrimSpace(req.Carrier) + ".")
		} else {
			r.Record.Enable()
		}
	})
}
