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
}{{"Time (UTC)", 160}, {"Step", 130}, {"Kind", 150}, {"SHA-256", 150}, {"Outcome", 360}}

func newHistoryScreen(u *UI, svc *app.Service) *HistoryScreen {
	h := &HistoryScreen{u: u, svc: svc, Result: widget.NewLabel("")}
	h.Result.Wrapping = fyne.TextWrapWord
	h.Table = widget.NewTableWithHeaders(
		func() (int, int) { return len(h.rows), len(historyColumns) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(h.Cell(id.Row, id.Col))
		})
	h.Table.ShowHeaderColumn = false
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
	h.box = container.NewBorder(container.NewVBox(container.NewHBox(h.Verify, h.Export), h.Result), nil, nil, nil, h.Table)
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
		return r.Time.UTC().Format("2006-01-02 15:04:05")
	case 1:
		return r.Step
	case 2:
		return r.Kind
	case 3:
		if len(r.SHA256) > 16 {
			return r.SHA256[:16] + "…"
		}
		return r.SHA256
	case 4:
		return r.Outcome
	}
	return ""
}

// Refresh reloads the ledger.
func (h *HistoryScreen) Refresh() {
	rows, err := h.svc.LedgerRows()
	if err != nil {
		h.Result.SetText(app.Explain(err).Reason)
	}
	h.rows = rows
	h.Table.Refresh()
}

func (h *HistoryScreen) onVerify() {
	h.Refresh()
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
	if err != nil {
		v := app.Explain(err)
		h.Result.SetText("Not exported: " + v.Reason + "; " + v.Fix)
		return
	}
	h.Result.SetText("Exported to " + path)
}
