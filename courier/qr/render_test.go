package qr

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestPNGWholePixelsAndQuietZone(t *testing.T) {
	frames, err := EncodeText(KindText, "whole pixels per module", 10)
	if err != nil {
		t.Fatal(err)
	}
	sym, _ := NewSymbol(frames[0])
	bm := sym.Bitmap()
	for _, k := range []int{1, 3, 6} {
		data, err := PNG(frames[0], k)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := img.Bounds().Dx(), sym.Size()*k; got != want || img.Bounds().Dy() != want {
			t.Fatalf("k=%d: got %v, want %d×%d", k, img.Bounds(), want, want)
		}
		g := toGray(img)
		for y := range g.Rect.Dy() {
			for x := range g.Rect.Dx() {
				dark := g.Pix[y*g.Stride+x] < 128
				if dark != bm[y/k][x/k] {
					t.Fatalf("k=%d: pixel (%d,%d) dark=%v, module (%d,%d) dark=%v", k, x, y, dark, x/k, y/k, bm[y/k][x/k])
				}
				inQuiet := x/k < QuietZone || y/k < QuietZone || x/k >= sym.Size()-QuietZone || y/k >= sym.Size()-QuietZone
				if inQuiet && dark {
					t.Fatalf("k=%d: dark pixel (%d,%d) in the quiet zone", k, x, y)
				}
			}
		}
	}
}

func TestImageFitsScreenArea(t *testing.T) {
	frames, _ := EncodeText(KindText, strings.Repeat("screen ", 40), 15)
	sym, _ := NewSymbol(frames[0])
	for _, size := range []int{sym.Size() - 1, 500, 777, 1080} {
		img, err := Image(frames[0], size)
		if err != nil {
			t.Fatal(err)
		}
		w := img.Bounds().Dx()
		wantK := max(1, size/sym.Size())
		if w != wantK*sym.Size() {
			t.Errorf("size %d: got %d px wide, want %d (%d px a module)", size, w, wantK*sym.Size(), wantK)
		}
		texts, err := Decode(context.Background(), toGray(img), nil)
		if err != nil || len(texts) != 1 || texts[0] != frames[0].String() {
			t.Errorf("size %d: decoded %q, %v; want the frame", size, texts, err)
		}
	}
}

func TestSequence(t *testing.T) {
	var text strings.Builder
	for i := range 100 {
		fmt.Fprintf(&text, "%08x", uint32(i)*2654435761)
	}
	frames, _ := EncodeText(KindText, text.String(), 5)
	s := NewSequence(frames)
	n := s.Len()
	if n != len(frames) || n < 2 {
		t.Fatalf("got Len %d, want %d (≥ 2)", n, len(frames))
	}
	for _, tick := range []int{0, 1, n - 1, n, 2*n + 1, -1, -n - 1} {
		want := ((tick % n) + n) % n
		if got := s.At(tick); got.Part != want+1 {
			t.Errorf("At(%d): got part %d, want %d", tick, got.Part, want+1)
		}
	}
	if f, ok := s.Part(2); !ok || f.Part != 2 {
		t.Errorf("Part(2): got %d, %v", f.Part, ok)
	}
	if _, ok := s.Part(n + 1); ok {
		t.Errorf("Part(%d): got ok, want none", n+1)
	}
}

func TestSheet(t *testing.T) {
	t.Parallel()
	a := readArtefact(t, tokenFiles(t)[0]) // the 16-node key: 15 parts at v15, two pages
	frames, err := Encode(a, 15)
	if err != nil {
		t.Fatal(err)
	}
	var pdf bytes.Buffer
	if err := WriteSheet(&pdf, frames, SheetHeader{CloudID: a.CloudID(), SHA256: a.SHA256}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF-")) {
		t.Fatalf("got %.10q, want a PDF", pdf.Bytes())
	}
	wantPages := (len(frames) + 7) / 8
	if got := bytes.Count(pdf.Bytes(), []byte("/Type /Page\n")); got != wantPages {
		t.Errorf("got %d pages, want %d", got, wantPages)
	}
	dense, _ := Encode(a, 25)
	if err := WriteSheet(&bytes.Buffer{}, dense, SheetHeader{}); err == nil || !strings.Contains(err.Error(), "too dense") {
		t.Errorf("v25 sheet: got %v, want a too-dense error", err)
	}

	// Print and scan: rasterise a one-page sheet at 300 dpi and read it back.
	a = readArtefact(t, tokenFiles(t)[1]) // the 1-node key: 4 parts at v15
	if frames, err = Encode(a, 15); err != nil {
		t.Fatal(err)
	}
	pdf.Reset()
	if err := WriteSheet(&pdf, frames, SheetHeader{CloudID: a.CloudID(), SHA256: a.SHA256}); err != nil {
		t.Fatal(err)
	}
	wantPages = 1
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Skip("pdftoppm (poppler-utils) not installed: the sheet was not read back")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "sheet.pdf")
	if err := os.WriteFile(in, pdf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pdftoppm, "-r", "300", "-gray", "-png", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if len(pages) != wantPages {
		t.Fatalf("got %d page images, want %d", len(pages), wantPages)
	}
	var s Scanner
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddImage(context.Background(), p, data); err != nil {
			t.Fatal(err)
		}
	}
	m, err := s.Assembler.Message()
	if err != nil || m.Text != a.Text {
		t.Errorf("sheet scanned at 300 dpi: got %v, want the key back", err)
	}
	// The typing text under each code is the frame itself.
	lines := groupLines(frames[0].String(), 90, 6)
	if got := Normalize(strings.Join(lines, "\n")); got != frames[0].String() {
		t.Errorf("typing text: got %.30q, want the frame", got)
	}
}
