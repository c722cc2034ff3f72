// Package custody writes the custody sheet: one printed A4 page per
// artefact that crosses the air gap, naming what it is, who released it
// and under which review, with lines for the people who release, carry and
// receive it to sign.
package custody

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/courier/qr"
)

// Sheet is what a custody sheet shows.
type Sheet struct {
	Kind             string // "registration token", "activation key"
	File             string // the artefact's file name
	StampName        string
	CloudID          string
	RegistrationName string
	SHA256           string
	Signer           string // fingerprint in groups, and the name when known
	Reviewers        []string
	Ticket           string
	Media            string
	CreatedAt        time.Time
	Anchor           string // the release's ledger entry, COUNT:HASH
	Manifest         string // the manifest's JSON, printed as a QR code
	Printed          time.Time
}

// Page layout in millimetres.
const (
	pageW, margin = 210.0, 15.0
	labelW        = 45.0
	rowH          = 6.0
	qrSide        = 62.0 // the manifest's QR code at most
	minModule     = 0.33 // 4 dots at 300 dpi
)

// Write writes the sheet as a one-page A4 PDF to w. The manifest's QR code
// is drawn as vectors no smaller than 0.33 mm a module; a manifest too long
// for that is an error.
func Write(w io.Writer, s Sheet) error {
	bm, err := qr.TextBitmap(s.Manifest)
	module := 0.0
	if err == nil {
		module = min(0.5, qrSide/float64(len(bm)))
	}
	if module < minModule {
		return fmt.Errorf("custody sheet: the manifest (%d bytes) is too long for a readable QR code on the page; shorten the purpose or the reviewers' names", len(s.Manifest))
	}

	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(time.Unix(0, 0).UTC()) // reproducible output
	pdf.SetCatalogSort(true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetTitle("AzS Courier custody sheet "+s.SHA256[:min(16, len(s.SHA256))], true)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252 for the core fonts
	pdf.AddPage()
	x, y := margin, margin
	textW := pageW - 2*margin

	pdf.SetFont("Helvetica", "B", 16)
	pdf.SetXY(x, y)
	pdf.CellFormat(textW, 8, tr("Custody sheet · "+s.Kind), "", 0, "L", false, 0, "")
	y += 9
	pdf.SetFont("Helvetica", "", 9)
	pdf.SetXY(x, y)
	pdf.MultiCell(textW, 4.2, tr("One item crossing the air gap. Check the SHA-256 against what AzS Courier shows when it reads the file, then sign below in turn. Keep this sheet with the site's transfer records."), "", "L", false)
	y = pdf.GetY() + 3

	// The manifest's QR code on the right, the fields on the left.
	side := module * float64(len(bm))
	qrX := pageW - margin - side
	qr.DrawBitmap(pdf, bm, qrX, y, module)
	pdf.SetFont("Helvetica", "", 7)
	pdf.SetXY(qrX, y+side+0.5)
	pdf.CellFormat(side, 3, "the manifest (JSON) as a QR code", "", 0, "C", false, 0, "")

	fieldW := qrX - x - 4
	rows := []struct{ label, value string }{
		{"Kind", s.Kind},
		{"File", s.File},
		{"Stamp", s.StampName},
		{"Cloud ID", s.CloudID},
		{"Registration", s.RegistrationName},
		{"Created (UTC)", utc(s.CreatedAt)},
		{"Signed by", s.Signer},
		{"Reviewed by", strings.Join(s.Reviewers, ", ")},
		{"Change ticket", s.Ticket},
		{"Medium", s.Media},
		{"Ledger entry", s.Anchor},
	}
	for _, r := range rows {
		value := r.value
		if value == "" {
			value = "—"
		}
		pdf.SetFont("Helvetica", "B", 9)
		pdf.SetXY(x, y)
		pdf.CellFormat(labelW, rowH, tr(r.label), "", 0, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 9)
		if r.label == "Ledger entry" || r.label == "Cloud ID" {
			pdf.SetFont("Courier", "", 7.5)
		}
		pdf.SetXY(x+labelW, y)
		pdf.MultiCell(fieldW-labelW, rowH/1.5, tr(value), "", "L", false)
		y = max(y+rowH, pdf.GetY()+1)
	}
	y = max(y, pdf.GetY()) + 2
	if y < margin+18+side+6 {
		y = margin + 18 + side + 6
	}

	// The hash: in groups of four to read aloud, and whole for copying.
	pdf.SetFont("Helvetica", "B", 10)
	pdf.SetXY(x, y)
	pdf.CellFormat(textW, 6, "SHA-256", "", 0, "L", false, 0, "")
	y += 6
	pdf.SetFont("Courier", "B", 13)
	groups := strings.Fields(courier.GroupHex(s.SHA256))
	for i := 0; i < len(groups); i += 8 {
		pdf.SetXY(x, y)
		pdf.CellFormat(textW, 6.5, strings.Join(groups[i:min(i+8, len(groups))], "  "), "", 0, "L", false, 0, "")
		y += 6.5
	}
	pdf.SetFont("Courier", "", 8)
	pdf.SetXY(x, y+1)
	pdf.CellFormat(textW, 4, s.SHA256, "", 0, "L", false, 0, "")
	y += 9

	// Signatures.
	pdf.SetFont("Helvetica", "B", 10)
	pdf.SetXY(x, y)
	pdf.CellFormat(textW, 6, "Custody", "", 0, "L", false, 0, "")
	y += 7
	colW := []float64{32, 50, 58, textW - 140}
	heads := []string{"", "Name", "Signature", "Date and time (UTC)"}
	pdf.SetFont("Helvetica", "", 8)
	cx := x
	for i, h := range heads {
		pdf.SetXY(cx, y)
		pdf.CellFormat(colW[i], 5, h, "", 0, "L", false, 0, "")
		cx += colW[i]
	}
	y += 5
	pdf.SetDrawColor(0, 0, 0)
	pdf.SetLineWidth(0.3)
	for _, role := range []string{"Released by", "Carried by", "Received by"} {
		pdf.SetFont("Helvetica", "B", 10)
		pdf.SetXY(x, y)
		pdf.CellFormat(colW[0], 14, role, "", 0, "L", false, 0, "")
		cx := x + colW[0]
		for _, w := range colW[1:] {
			pdf.Line(cx+1, y+11, cx+w-3, y+11)
			cx += w
		}
		y += 16
	}

	pdf.SetFont("Helvetica", "", 7.5)
	pdf.SetXY(x, 297-margin-8)
	footer := fmt.Sprintf("Printed %s by AzS Courier. Check later: azs-courier ledger verify --anchor %s on the releasing machine; azs-courier custody receive FILE --carrier NAME on the receiving one.", utc(s.Printed), orDash(s.Anchor))
	pdf.MultiCell(textW, 3.5, tr(footer), "", "L", false)

	if err := pdf.Error(); err != nil {
		return fmt.Errorf("custody sheet: build the PDF: %w", err)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("custody sheet: write the PDF: %w", err)
	}
	return nil
}

func utc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
