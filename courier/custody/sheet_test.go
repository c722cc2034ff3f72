package custody_test

import (
	"bytes"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/courier/custody"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

// sheetFor writes a signed token with its manifest and returns the sheet
// for it, as the app fills it in.
func sheetFor(t *testing.T) (custody.Sheet, string) {
	t.Helper()
	dir := t.TempDir()
	id, err := courier.LoadIdentity(filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := courier.Parse(testutil.ReadShared(t, "tokens", "registration-token-4node.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "registration-token.txt")
	m, err := courier.WriteFile(out, a, courier.WriteOptions{Signer: id, Manifest: courier.Manifest{
		Purpose: "registration", Reviewers: []string{"A. Officer", "B. Lead"}, Ticket: "CHG-4711", Media: "KEYS (F:) · serial 1A2B-3C4D",
		StampName: "hub01 (azs.local)"}})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(courier.ManifestPath(out))
	if err != nil {
		t.Fatal(err)
	}
	return custody.Sheet{Kind: "registration token", File: "registration-token.txt", StampName: m.StampName, CloudID: a.CloudID(),
		SHA256: a.SHA256, Signer: courier.GroupHex(id.Fingerprint()) + " (this installation)", Reviewers: m.Reviewers, Ticket: m.Ticket,
		Media: m.Media, CreatedAt: m.CreatedAt, Anchor: "12:" + strings.Repeat("ab", 32), Manifest: string(manifest),
		Printed: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}, string(manifest)
}

// TestSheetReadsBack prints the custody sheet and reads it as a person and
// a scanner would: the text holds the SHA-256 and cloud ID exactly, and the
// QR code, rendered at 300 dpi, decodes to the manifest.
func TestSheetReadsBack(t *testing.T) {
	s, manifest := sheetFor(t)
	var pdf bytes.Buffer
	if err := custody.Write(&pdf, s); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(pdf.Bytes(), []byte("/Type /Page\n")); n != 1 {
		t.Fatalf("%d pages, want 1", n)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "custody.pdf")
	if err := os.WriteFile(in, pdf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext (poppler-utils, installed by make deps) is missing")
	}
	text, err := exec.Command(pdftotext, "-layout", in, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{s.SHA256, s.CloudID, "CHG-4711", "A. Officer, B. Lead", "Released by", "Carried by", "Received by", s.Anchor} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the sheet's text lacks %q", want)
		}
	}
	if out, err := exec.Command("pdftoppm", "-r", "300", "-gray", "-png", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page-1.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("the manifest's QR code does not decode from the printed page: %v", err)
	}
	if res.GetText() != manifest {
		t.Errorf("the QR code holds %.80q…, want the manifest", res.GetText())
	}
	// The manifest it holds still checks: its signature covers what it says.
	if _, err := courier.ParseManifest([]byte(res.GetText())); err != nil {
		t.Errorf("the scanned manifest does not verify: %v", err)
	}
}

func TestSheetRefusesAManifestTooLongToScan(t *testing.T) {
	s, _ := sheetFor(t)
	s.Manifest = strings.Repeat("x", 2400)
	if err := custody.Write(&bytes.Buffer{}, s); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("Write = %v, want too long", err)
	}
}
