package qr

import (
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkEncode measures frames plus one PNG a part, as WriteDir renders
// them, for each shared artefact at the screen and paper caps.
func BenchmarkEncode(b *testing.B) {
	for _, path := range tokenFiles(b) {
		a := readArtefact(b, path)
		for _, cap := range []int{15, 25} {
			b.Run(fmt.Sprintf("%s/v%d", strings.TrimSuffix(filepath.Base(path), ".txt"), cap), func(b *testing.B) {
				for b.Loop() {
					frames, err := Encode(a, cap)
					if err != nil {
						b.Fatal(err)
					}
					for _, f := range frames {
						if _, err := PNG(f, FilePixelsPerModule); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// BenchmarkDecodeImage measures reading one part's PNG file back: PNG decode
// plus the scanner's chain.
func BenchmarkDecodeImage(b *testing.B) {
	for _, path := range tokenFiles(b) {
		a := readArtefact(b, path)
		frames, err := Encode(a, 25)
		if err != nil {
			b.Fatal(err)
		}
		data, err := PNG(frames[0], FilePixelsPerModule)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(filepath.Base(path), ".txt")+"/v25", func(b *testing.B) {
			for b.Loop() {
				g, err := ReadImage(data)
				if err != nil {
					b.Fatal(err)
				}
				texts, err := Decode(context.Background(), g, nil)
				if err != nil || len(texts) != 1 {
					b.Fatalf("got %d codes, %v", len(texts), err)
				}
			}
		})
	}
}

var qrBenchDir = flag.String("qrbench.dir", "", "write the degraded image set and the bench table into `DIR` (scripts/bench-qr.sh)")

// TestQRBenchTable writes, for scripts/bench-qr.sh, the figures of issues 3
// and 12: parts at caps 15 and 25, encode ms and decode ms per image for each
// shared artefact, and a degraded image set with the frame each image holds
// and our result and time on it: the benchDegradations of every part's PNG,
// and the captureClasses of every part (capture_test.go). It runs only with
// -qrbench.dir.
func TestQRBenchTable(t *testing.T) {
	if *qrBenchDir == "" {
		t.Skip("run by scripts/bench-qr.sh with -qrbench.dir")
	}
	dir := *qrBenchDir
	imgDir := filepath.Join(dir, "degraded")
	if err := os.MkdirAll(imgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var table, set strings.Builder
	fmt.Fprintf(&table, "artefact\tchars\tparts@v15\tparts@v25\tencode_ms@v15\tencode_ms@v25\tdecode_ms_per_image@v25\n")
	ctx := context.Background()
	for _, path := range tokenFiles(t) {
		a := readArtefact(t, path)
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		row := []string{name, fmt.Sprint(len(a.Text))}
		var encMS []string
		var pngs [][]byte
		var frames []Frame
		for _, cap := range []int{15, 25} {
			const runs = 5
			start := time.Now()
			for range runs {
				fr, err := Encode(a, cap)
				if err != nil {
					t.Fatal(err)
				}
				frames, pngs = fr, pngs[:0]
				for _, f := range fr {
					p, err := PNG(f, FilePixelsPerModule)
					if err != nil {
						t.Fatal(err)
					}
					pngs = append(pngs, p)
				}
			}
			row = append(row, fmt.Sprint(len(frames)))
			encMS = append(encMS, fmt.Sprintf("%.1f", ms(time.Since(start))/runs))
		}
		row = append(row, encMS...)
		start := time.Now()
		for _, p := range pngs { // v25, the last cap
			g, err := ReadImage(p)
			if err != nil {
				t.Fatal(err)
			}
			if texts, _ := Decode(ctx, g, nil); len(texts) != 1 {
				t.Errorf("%s: decoded %d codes from one PNG", name, len(texts))
			}
		}
		row = append(row, fmt.Sprintf("%.1f", ms(time.Since(start))/float64(len(pngs))))
		table.WriteString(strings.Join(row, "\t") + "\n")

		// The degraded set: every part at v15 and v25, each degradation.
		for _, cap := range []int{15, 25} {
			fr, _ := Encode(a, cap)
			for _, f := range fr {
				p, _ := PNG(f, FilePixelsPerModule)
				g, _ := ReadImage(p)
				for _, d := range benchDegradations {
					img := d.do(g)
					ext, data := ".png", []byte(nil)
					if d.jpeg {
						ext, data = ".jpg", encodeJPEG(t, img, 60)
					} else {
						data = encodePNG(t, img)
					}
					file := filepath.Join(imgDir, fmt.Sprintf("%s-v%d-%d-%s%s", name, cap, f.Part, d.name, ext))
					if err := os.WriteFile(file, data, 0o644); err != nil {
						t.Fatal(err)
					}
					start := time.Now()
					ok := false
					if g2, err := ReadImage(data); err == nil {
						texts, _ := Decode(ctx, g2, func(s string) bool { return s == f.String() })
						for _, s := range texts {
							ok = ok || s == f.String()
						}
					}
					fmt.Fprintf(&set, "%s\t%s\t%s\t%t\t%.2f\n", file, d.name, f.String(), ok, ms(time.Since(start)))
				}
				// The capture classes: each part rendered afresh and captured.
				sym, err := NewSymbol(f)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range captureClasses() {
					data := c.capture(t, sym, captureSeed(name, cap, f.Part, c.name))
					ext := ".png"
					if c.jpeg > 0 {
						ext = ".jpg"
					}
					file := filepath.Join(imgDir, fmt.Sprintf("%s-v%d-%d-%s%s", name, cap, f.Part, c.name, ext))
					if err := os.WriteFile(file, data, 0o644); err != nil {
						t.Fatal(err)
					}
					start := time.Now()
					ok := decodesTo(ctx, data, f.String())
					fmt.Fprintf(&set, "%s\t%s\t%s\t%t\t%.2f\n", file, c.name, f.String(), ok, ms(time.Since(start)))
				}
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "table.tsv"), []byte(table.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "degraded.tsv"), []byte(set.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// decodesTo reports whether the image file data yields want, stopping at it.
func decodesTo(ctx context.Context, data []byte, want string) bool {
	g, err := ReadImage(data)
	if err != nil {
		return false
	}
	texts, _ := Decode(ctx, g, func(s string) bool { return s == want })
	return slices.Contains(texts, want)
}

// captureSeed is the seed of one captured image: the same on every run.
func captureSeed(artefact string, cap, part int, class string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d/%d/%s", artefact, cap, part, class)
	return h.Sum64()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchDegradations are the test degradations, applied to renders at
// FilePixelsPerModule (the PNGs users carry), plus a harder combination.
var benchDegradations = []struct {
	name string
	do   func(*image.Gray) *image.Gray
	jpeg bool
}{
	{"as-written", func(g *image.Gray) *image.Gray { return g }, false},
	{"50pct-scale", func(g *image.Gray) *image.Gray { return shrink(g, 2) }, false},
	{"2.5px-per-module", func(g *image.Gray) *image.Gray { return rescale(g, 2.5/FilePixelsPerModule) }, false},
	{"noise-25", func(g *image.Gray) *image.Gray { return noise(g, 25, 1) }, false},
	{"blur-1px", func(g *image.Gray) *image.Gray { return blur(g, 1) }, false},
	{"rotated-90", func(g *image.Gray) *image.Gray { return rotate(g, 1) }, false},
	{"jpeg-q60", func(g *image.Gray) *image.Gray { return g }, true},
	{"blur-3px", func(g *image.Gray) *image.Gray { return blur(g, 3) }, false},
	{"50pct+blur-1px+noise-25", func(g *image.Gray) *image.Gray { return noise(blur(shrink(g, 2), 1), 25, 3) }, false},
	{"2.5px+blur+noise+jpeg", func(g *image.Gray) *image.Gray {
		return noise(blur(rescale(g, 2.5/FilePixelsPerModule), 0.6), 12, 5)
	}, true},
}
