package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/azs-courier/azs-courier/app"
)

// HistoryScreen shows the custody ledger as a table (time, step, artefact
// hash, outcome), verifies its chain and exports it.
type HistoryScreen struct {
	u   *UI
	svc *app.Service

	Table  *widget.Table
	Verify *widget.Button
	Export *widget.Button
	Result *widget.Label
	rows   []app.LedgerRow
	box    fyne.CanvasObject
}

var historyColumns = []struct {
	title string
	width float32
}{{"#", 40}, {"Time", 250}, {"Step", 120}, {"Kind", 140}, {"Outcome", 300}, {"Cloud ID", 290}, {"User", 110}, {"Machine", 110}, {"SHA-256", 520}}

func newHistoryScreen(u *UI, svc *app.Service) *HistoryScreen {
	h := &HistoryScreen{u: u, svc: svc, Result: widget.NewLabel("")}
	h.Result.Wrapping = fyne.TextWrapWord
	h.Result.Hide() // until there is something to say
	h.Table = widget.NewTableWithHeaders(
		func() (int, int) { return len(h.rows), len(historyColumns) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(h.Cell(id.Row, id.Col))
		})
	h.Table.ShowHeaderColumn = false
	h.Table.OnSelected = func(id widget.TableCellID) {
		h.Table.UnselectAll()
		h.ShowDetails(id.Row)
	}
	h.Table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	h.Table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(historyColumns[id.Col].title)
		}
	}
	for i, c := range historyColumns {
		h.Table.SetColumnWidth(i, c.width)
	}
	h.Verify = widget.NewButtonWithIcon("Verify chain", theme.ConfirmIcon(), h.onVerify)
	h.Export = widget.NewButtonWithIcon("Export CSV…", theme.DocumentSaveIcon(), h.onExport)
	h.box = container.NewBorder(container.NewVBox(container.NewHBox(h.Verify, h.Export), h.Result,
		note("Select a row to see the whole entry.")), nil, nil, nil, h.Table)
	h.Refresh()
	return h
}

// Object returns the screen's widget tree.
func (h *HistoryScreen) Object() fyne.CanvasObject { return h.box }

// Rows returns the number of ledger entries shown.
func (h *HistoryScreen) Rows() int { return len(h.rows) }

// Cell returns the text of a table cell.
func (h *HistoryScreen) Cell(row, col int) string {
	if row < 0 || row >= len(h.rows) {
		return ""
	}
	r := h.rows[row]
	switch col {
	case 0:
		return fmt.Sprint(r.Seq)
	case 1:
		return app.FormatTimeSeconds(r.Time)
	case 2:
		return r.Step
	case 3:
		return r.Kind
	case 4:
		return r.Outcome
	case 5:
		return r.CloudID
	case 6:
		return r.User
	case 7:
		return r.Machine
	case 8:
		return r.SHA256
	}
	return ""
}

// Details returns every field of entry row, as its details dialog shows
// them.
func (h *HistoryScreen) Details(row int) [][2]string {
	if row < 0 || row >= len(h.rows) {
		return nil
	}
	r := h.rows[row]
	fields := [][2]string{
		{"Entry", fmt.Sprint(r.Seq)}, {"Time", app.FormatTimeSeconds(r.Time)}, {"Step", r.Step}, {"Kind", r.Kind},
		{"SHA-256", app.GroupHash(r.SHA256)}, {"Cloud ID", r.CloudID}, {"File", r.File}, {"Outcome", r.Outcome},
		{"Detail", r.Detail}, {"User", r.User}, {"Machine", r.Machine},
	}
	var out [][2]string
	for _, f := range fields {
		if f[1] != "" {
			out = append(out, [2]string{f[0], app.Printable(f[1])})
		}
	}
	return out
}

// ShowDetails opens a dialog with every field of entry row.
func (h *HistoryScreen) ShowDetails(row int) {
	form := widget.NewForm()
	for _, f := range h.Details(row) {
		l := widget.NewLabel(f[1])
		l.Wrapping = fyne.TextWrapBreak
		form.Append(f[0], l)
	}
	d := dialog.NewCustom(fmt.Sprintf("Custody ledger entry %d", h.rows[row].Seq), "Close", container.NewVScroll(form), h.u.win)
	d.Resize(fyne.NewSize(640, 480))
	d.Show()
}

// Refresh reloads the ledger.
func (h *HistoryScreen) Refresh() {
	rows, err := h.svc.LedgerRows()
	if err != nil {
		h.Result.SetText(app.Explain(err).Reason)
		h.Result.Show()
	}
	h.rows = rows
	h.Table.Refresh()
}

func (h *HistoryScreen) onVerify() {
	h.Refresh()
	h.Result.Show()
	st := h.svc.LedgerStatus()
	if st.Intact {
		h.Result.SetText(fmt.Sprintf("Chain verified: %d entries, none edited, removed or reordered (%s).", st.Entries, st.Path))
	} else {
		h.Result.SetText("The ledger's chain is BROKEN: " + st.Problem)
	}
	h.u.refreshStatus()
}

func (h *HistoryScreen) onExport() {
	dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			return
		}
		h.ExportTo(dir.Path())
	}, h.u.win)
}

// ExportTo writes the verified ledger as CSV into dir.
func (h *HistoryScreen) ExportTo(dir string) {
	path, err := h.svc.ExportLedger(dir)
	h.Result.Show()
	if err != nil {
		v := app.Explain(err)
		h.Result.SetText("Not exported: " + v.Reason + "; " + v.Fix)
		return
	}
	h.Result.SetText("Exported to " + path)
}
