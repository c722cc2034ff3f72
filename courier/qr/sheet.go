package qr

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

// Sheet layout on A4 portrait, in millimetres.
const (
	sheetWidth, sheetHeight = 210.0, 297.0
	sheetMargin             = 10.0
	sheetCols, sheetRows    = 2, 4
	sheetPerPage            = sheetCols * sheetRows
	sheetGutter             = 4.0
	captionHeight           = 4.5
	headerHeight            = 13.0 // the artefact's identity and the instructions, on every page
	maxModuleMM             = 0.5  // the recommended module size on paper
	minModuleMM             = 0.33 // 4 dots at 300 dpi; smaller is refused
	ptToMM                  = 25.4 / 72
)

// SheetHeader is what the top of every page of a sheet says about the
// artefact, so that a page found alone can be told apart and checked.
type SheetHeader struct {
	CloudID string
	SHA256  string
	Created time.Time
}

// WriteSheet writes a printable A4 PDF of frames to w: a header on every
// page (the kind, cloud ID, date, SHA-256 and what to do with the sheet),
// then 8 codes a page in a 2×4 grid, each captioned "<kind> part i of n ·
// ID" with the frame text below in groups of 5 characters for typing.
// Modules are drawn as vectors, at most 0.5 mm wide. Frames too dense to
// fit a cell with readable modules (about version 18 and above) are refused
// with advice to lower the version cap.
func WriteSheet(w io.Writer, frames []Frame, h SheetHeader) error {
	if len(frames) == 0 {
		return fmt.Errorf("qr: no frames to print")
	}
	cellW := (sheetWidth - 2*sheetMargin - (sheetCols-1)*sheetGutter) / sheetCols
	cellH := (sheetHeight - 2*sheetMargin - headerHeight - (sheetRows-1)*sheetGutter) / sheetRows

	type cell struct {
		sym            *Symbol
		lines          []string
		fontPt, module float64
	}
	cells := make([]cell, len(frames))
	for i, f := range frames {
		sym, err := NewSymbol(f)
		if err != nil {
			return err
		}
		c, ok := cell{sym: sym}, false
		// The largest text size that leaves modules of at least 0.4 mm, or
		// failing that the smallest text with modules of at least minModuleMM.
		for _, pt := range []float64{6.5, 6, 5.5, 5, 4.5} {
			lines := groupLines(f.String(), cellW, pt)
			textH := float64(len(lines)) * pt * ptToMM * 1.15
			module := math.Min(maxModuleMM, (cellH-captionHeight-textH-1)/float64(sym.Size()))
			if module >= 0.4 || (pt == 4.5 && module >= minModuleMM) {
				c.lines, c.fontPt, c.module, ok = lines, pt, module, true
				break
			}
		}
		if !ok {
			return fmt.Errorf("qr: part %d/%d (QR version %d) is too dense for a printed sheet of 8 codes with their text; lower the QR version cap to 20 or less for a sheet", f.Part, f.Parts, sym.Version())
		}
		cells[i] = c
	}

	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(time.Unix(0, 0).UTC()) // reproducible output
	pdf.SetCatalogSort(true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetTitle(fmt.Sprintf("AzS Courier %s %s", KindName(frames[0].Kind), frames[0].ID), true)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252 for the core fonts: "·"
	pages := (len(frames) + sheetPerPage - 1) / sheetPerPage
	for i, f := range frames {
		if i%sheetPerPage == 0 {
			pdf.AddPage()
			writeHeader(pdf, tr, frames[0], h, i/sheetPerPage+1, pages)
		}
		c := cells[i]
		slot := i % sheetPerPage
		x := sheetMargin + float64(slot%sheetCols)*(cellW+sheetGutter)
		y := sheetMargin + headerHeight + float64(slot/sheetCols)*(cellH+sheetGutter)

		pdf.SetFont("Helvetica", "B", 9)
		pdf.SetXY(x, y)
		pdf.CellFormat(cellW, captionHeight, tr(Caption(f)), "", 0, "C", false, 0, "")
		y += captionHeight

		side := c.module * float64(c.sym.Size())
		drawModules(pdf, c.sym.Bitmap(), x+(cellW-side)/2, y, c.module)
		y += side + 1

		pdf.SetFont("Courier", "", c.fontPt)
		lh := c.fontPt * ptToMM * 1.15
		for _, line := range c.lines {
			pdf.SetXY(x, y)
			pdf.CellFormat(cellW, lh, line, "", 0, "C", false, 0, "")
			y += lh
		}
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("qr: build the PDF sheet: %w", err)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("qr: write the PDF sheet: %w", err)
	}
	return nil
}

// writeHeader writes the page header: the artefact, its hash in groups of
// four, and what to do with the sheet.
func writeHeader(pdf *fpdf.Fpdf, tr func(string) string, f Frame, h SheetHeader, page, pages int) {
	w := sheetWidth - 2*sheetMargin
	x, y := sheetMargin, sheetMargin
	title := fmt.Sprintf("AzS Courier · %s", KindName(f.Kind))
	if h.CloudID != "" {
		title += " · cloud ID " + h.CloudID
	}
	if !h.Created.IsZero() {
		title += " · " + h.Created.UTC().Format("2006-01-02 15:04 UTC")
	}
	pdf.SetFont("Helvetica", "B", 9)
	pdf.SetXY(x, y)
	pdf.CellFormat(w, 4, tr(title), "", 0, "L", false, 0, "")
	pdf.SetXY(x, y)
	pdf.CellFormat(w, 4, fmt.Sprintf("page %d of %d", page, pages), "", 0, "R", false, 0, "")
	if h.SHA256 != "" {
		pdf.SetFont("Courier", "", 7.5)
		pdf.SetXY(x, y+4.2)
		pdf.CellFormat(w, 3.6, "SHA-256 "+groupsOf(h.SHA256, 4), "", 0, "L", false, 0, "")
	}
	pdf.SetFont("Helvetica", "", 7)
	pdf.SetXY(x, y+8)
	pdf.CellFormat(w, 3.5, tr(fmt.Sprintf("Scan every code in any order with AzS Courier (import, QR images), or type the text under each; the SHA-256 it shows must be the one above. Message %s.", f.ID)), "", 0, "L", false, 0, "")
}

// groupsOf returns s in groups of n characters separated by spaces.
func groupsOf(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+n, len(s))])
	}
	return b.String()
}

// Caption returns the line printed above a code: "<kind> part i of n · ID".
func Caption(f Frame) string {
	return fmt.Sprintf("%s part %d of %d · %s", KindName(f.Kind), f.Part, f.Parts, f.ID)
}

// Groups returns s in groups of 5 characters separated by spaces, the form
// printed for typing.
func Groups(s string) string { return groupsOf(s, 5) }

// groupLines splits s into lines of whole 5-character groups that fit width
// millimetres of Courier at pt points.
func groupLines(s string, width, pt float64) []string {
	charW := 0.6 * pt * ptToMM
	perLine := max(1, int((width/charW+1)/6))
	groups := strings.Fields(Groups(s))
	var lines []string
	for i := 0; i < len(groups); i += perLine {
		lines = append(lines, strings.Join(groups[i:min(i+perLine, len(groups))], " "))
	}
	return lines
}

// DrawBitmap draws the dark modules of a QR code's bitmap bm (quiet zone
// included, as Symbol.Bitmap and TextBitmap return it) on pdf at (x, y)
// with module millimetres a module, one horizontal run a rectangle.
func DrawBitmap(pdf *fpdf.Fpdf, bm [][]bool, x, y, module float64) {
	drawModules(pdf, bm, x, y, module)
}

// drawModules draws the dark modules of bm at (x, y), one horizontal run a
// rectangle.
func drawModules(pdf *fpdf.Fpdf, bm [][]bool, x, y, module float64) {
	pdf.SetFillColor(0, 0, 0)
	for r, row := range bm {
		for c := 0; c < len(row); {
			if !row[c] {
				c++
				continue
			}
			start := c
			for c < len(row) && row[c] {
				c++
			}
			pdf.Rect(x+float64(start)*module, y+float64(r)*module, float64(c-start)*module, module, "F")
		}
	}
}
