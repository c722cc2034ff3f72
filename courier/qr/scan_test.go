package qr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/courier"
)

// roundTripPixels is the density the round-trip tests render at: the
// minimum recommended for screens (reference qr-airgap.md §3.3).
const roundTripPixels = 4

// Degradations applied in the tests to codes rendered at roundTripPixels.
var degradations = []struct {
	name string
	do   func(*image.Gray) *image.Gray
	jpeg bool
}{
	{"as written", func(g *image.Gray) *image.Gray { return g }, false},
	{"50% scale", func(g *image.Gray) *image.Gray { return shrink(g, 2) }, false},
	{"2.5 px per module", func(g *image.Gray) *image.Gray { return rescale(g, 2.5/roundTripPixels) }, false},
	{"noise", func(g *image.Gray) *image.Gray { return noise(g, 25, 1) }, false},
	{"1 px blur", func(g *image.Gray) *image.Gray { return blur(g, 1) }, false},
	{"rotated 90°", func(g *image.Gray) *image.Gray { return rotate(g, 1) }, false},
	{"JPEG quality 60", func(g *image.Gray) *image.Gray { return g }, true},
}

// noise adds approximately Gaussian noise of standard deviation sigma (of
// 255): the sum of four uniform bytes, centred and scaled.
func noise(g *image.Gray, sigma float64, seed uint64) *image.Gray {
	r := rand.New(rand.NewPCG(seed, 7))
	out := image.NewGray(g.Rect)
	// Four uniform 0..255 values have variance 4·(256²−1)/12 ≈ 21845.
	scale := int(sigma / math.Sqrt(21845) * 256)
	for i, v := range g.Pix {
		u := r.Uint64()
		sum := int(u&255) + int(u>>8&255) + int(u>>16&255) + int(u>>24&255) - 510
		out.Pix[i] = uint8(max(0, min(255, int(v)+sum*scale/256)))
	}
	return out
}

// blur applies a Gaussian blur of sigma pixels (fixed-point, separable).
func blur(g *image.Gray, sigma float64) *image.Gray {
	rad := int(math.Ceil(2 * sigma)) // ±2σ holds 95 % of the weight
	k := make([]int, 2*rad+1)
	fk := make([]float64, len(k))
	sum := 0.0
	for i := range fk {
		x := float64(i - rad)
		fk[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += fk[i]
	}
	for i := range k {
		k[i] = int(fk[i] / sum * 4096)
	}
	w, h := g.Rect.Dx(), g.Rect.Dy()
	tmp := make([]int32, w*h)
	for y := range h {
		row := g.Pix[y*g.Stride:]
		for x := range w {
			v := 0
			for i, kv := range k {
				v += kv * int(row[max(0, min(w-1, x+i-rad))])
			}
			tmp[y*w+x] = int32(v)
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := 0
			for i, kv := range k {
				v += kv * int(tmp[max(0, min(h-1, y+i-rad))*w+x])
			}
			out.Pix[y*w+x] = uint8(max(0, min(255, (v+1<<23)>>24)))
		}
	}
	return out
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.NoCompression} // fast; still a PNG file
	if err := enc.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRoundTripDegraded carries every shared token and key through PNG files
// at each version cap, degrades each image, and decodes the parts in reverse
// order.
func TestRoundTripDegraded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, path := range tokenFiles(t) {
		a := readArtefact(t, path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			for _, cap := range []int{10, 15, 25, 40} {
				frames, err := Encode(a, cap)
				if err != nil {
					t.Fatal(err)
				}
				files := make([][]byte, len(frames))
				images := make([]*image.Gray, len(frames))
				for i, f := range frames {
					if files[i], err = PNG(f, roundTripPixels); err != nil {
						t.Fatal(err)
					}
					if images[i], err = ReadImage(files[i]); err != nil {
						t.Fatal(err)
					}
				}
				for _, d := range degradations {
					var s Scanner
					for i := len(images) - 1; i >= 0; i-- {
						data := files[i]
						if img := d.do(images[i]); d.jpeg {
							data = encodeJPEG(t, img, 60)
						} else if img != images[i] {
							data = encodePNG(t, img)
						}
						if err := s.AddImage(ctx, fmt.Sprintf("part %d", i+1), data); err != nil {
							t.Fatalf("v%d %s: %v", cap, d.name, err)
						}
					}
					m, err := s.Assembler.Message()
					if err != nil {
						t.Errorf("v%d %s: got %v, want the message", cap, d.name, err)
						continue
					}
					if m.Text != a.Text {
						t.Errorf("v%d %s: got %d chars, want the original %d", cap, d.name, len(m.Text), len(a.Text))
					}
				}
			}
		})
	}
}

// page lays codes out on an A4-sized page at 150 dpi (1240×1754), in the
// grid that gives the most whole pixels per module (at most 6).
func page(t testing.TB, frames []Frame) *image.Gray {
	t.Helper()
	const w, h = 1240, 1754
	syms := make([]*Symbol, len(frames))
	for i, f := range frames {
		s, err := NewSymbol(f)
		if err != nil {
			t.Fatal(err)
		}
		syms[i] = s
	}
	size := syms[0].Size()
	bestK, bestCols := 0, 1
	for cols := 1; cols <= len(frames); cols++ {
		rows := (len(frames) + cols - 1) / cols
		if k := min(w/cols, h/rows) / size; k > bestK {
			bestK, bestCols = k, cols
		}
	}
	if bestK < 2 {
		t.Fatalf("%d codes of %d modules do not fit one page", len(frames), size)
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for i := range out.Pix {
		out.Pix[i] = 255
	}
	k := min(bestK, 6)
	cellW, cellH := w/bestCols, h/((len(frames)+bestCols-1)/bestCols)
	for i, s := range syms {
		x0, y0 := (i%bestCols)*cellW, (i/bestCols)*cellH
		for r, row := range s.Bitmap() {
			for c, dark := range row {
				if !dark {
					continue
				}
				for dy := range k {
					line := out.Pix[(y0+r*k+dy)*out.Stride+x0+c*k:]
					for dx := range k {
						line[dx] = 0
					}
				}
			}
		}
	}
	return out
}

// TestPage decodes all parts of each message from one A4-sized page image.
func TestPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, path := range tokenFiles(t) {
		a := readArtefact(t, path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			for _, cap := range []int{10, 15, 25, 40} {
				frames, err := Encode(a, cap)
				if err != nil {
					t.Fatal(err)
				}
				img := noise(blur(page(t, frames), 0.7), 10, 3)
				var s Scanner
				if err := s.AddImage(ctx, "page", encodeJPEG(t, img, 85)); err != nil {
					t.Fatal(err)
				}
				m, err := s.Assembler.Message()
				if err != nil {
					t.Errorf("v%d, %d parts on one page: got %v, want the message", cap, len(frames), err)
					continue
				}
				if m.Text != a.Text {
					t.Errorf("v%d: got %d chars, want %d", cap, len(m.Text), len(a.Text))
				}
			}
		})
	}
}

// TestUnrelatedCodeIgnored puts a Wi-Fi code beside a frame in one image.
func TestUnrelatedCodeIgnored(t *testing.T) {
	frames, err := EncodeText(KindText, "Hello, air gap!", 10)
	if err != nil {
		t.Fatal(err)
	}
	ours, _ := NewSymbol(frames[0])
	wifi := mustQR(t, "WIFI:S:guest;T:WPA;P:secret;;")
	a, b := ours.Image(5), wifi
	img := image.NewGray(image.Rect(0, 0, a.Bounds().Dx()+b.Bounds().Dx()+40, max(a.Bounds().Dy(), b.Bounds().Dy())+40))
	draw.Draw(img, img.Rect, image.White, image.Point{}, draw.Src)
	draw.Draw(img, b.Bounds().Add(image.Pt(10, 20)), b, image.Point{}, draw.Src)
	draw.Draw(img, a.Bounds().Add(image.Pt(30+b.Bounds().Dx(), 20)), a, image.Point{}, draw.Src)
	var s Scanner
	if err := s.AddImage(context.Background(), "mixed.png", encodePNG(t, img)); err != nil {
		t.Fatal(err)
	}
	m, err := s.Assembler.Message()
	if err != nil || m.Text != "Hello, air gap!" {
		t.Errorf("got %v, %v; want the frame's text", m, err)
	}
	if len(s.Ignored) != 1 || !strings.HasPrefix(s.Ignored[0], "WIFI:") {
		t.Errorf("got ignored %q, want the Wi-Fi code", s.Ignored)
	}
}

func mustQR(t testing.TB, text string) image.Image {
	t.Helper()
	img, err := qrImage(text, 5)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestBadImages(t *testing.T) {
	frames, _ := EncodeText(KindText, "Hello, air gap!", 10)
	good, err := PNG(frames[0], 4)
	if err != nil {
		t.Fatal(err)
	}
	huge := func() []byte {
		var b bytes.Buffer
		// A valid PNG header and IHDR for 20000×20000; the pixels never come.
		png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
		p := b.Bytes()[:33]
		p = append([]byte{}, p...)
		put := func(off int, v uint32) {
			p[off], p[off+1], p[off+2], p[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		}
		put(16, 20000)
		put(20, 20000)
		put(29, crc32.ChecksumIEEE(p[12:29]))
		return p
	}()
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not an image", []byte{0, 1, 2, 3, 0xff, 0xfe}, "not a PNG or JPEG image"},
		{"truncated PNG", good[:len(good)/2], "truncated"},
		{"20000×20000", huge, "20000×20000"},
		{"text that is no frame", []byte("WIFI:S:guest;T:WPA;P:secret;;\n"), "not an AGX1 frame"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Scanner
			err := s.AddInput(context.Background(), "input", tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
			if errors.Is(err, courier.ErrIntegrity) {
				t.Errorf("got an integrity error for bad input: %v", err)
			}
		})
	}
}

func TestSplitFramesTyped(t *testing.T) {
	frames, _ := EncodeText(KindKey, strings.Repeat("typed from paper ", 30), 10)
	var typed strings.Builder
	for _, f := range frames {
		// As printed on the sheet: groups of 5, several lines a frame, lower case.
		for _, line := range groupLines(f.String(), 90, 6) {
			typed.WriteString(strings.ToLower(line) + "\n")
		}
		typed.WriteString("\n")
	}
	got, err := SplitFrames(typed.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(frames) {
		t.Fatalf("got %d frames, want %d", len(got), len(frames))
	}
	for i := range got {
		if got[i] != frames[i].String() {
			t.Errorf("frame %d: got %.40q, want %.40q", i+1, got[i], frames[i].String())
		}
	}
}

// TestLargePhotoDownscaled puts one code at 24 px a module into a
// 4500×4500 photo, which the scanner shrinks by a whole factor first.
func TestLargePhotoDownscaled(t *testing.T) {
	frames, err := EncodeText(KindText, strings.Repeat("large photo ", 12), 10)
	if err != nil || len(frames) != 1 {
		t.Fatalf("got %d frames, %v; want 1", len(frames), err)
	}
	sym, _ := NewSymbol(frames[0])
	const side, k = 4500, 24
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	x0, y0 := 1300, 1700
	for r, row := range sym.Bitmap() {
		for c, dark := range row {
			v := uint8(255)
			if dark {
				v = 20
			}
			for dy := range k {
				line := img.Pix[(y0+r*k+dy)*img.Stride+x0+c*k:]
				for dx := range k {
					line[dx] = v
				}
			}
		}
	}
	var s Scanner
	if err := s.AddImage(context.Background(), "photo.jpg", encodeJPEG(t, noise(img, 8, 9), 80)); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Assembler.Message(); err != nil || m.Text != strings.Repeat("large photo ", 12) {
		t.Errorf("got %v, want the frame's text", err)
	}
}

// TestNoisyBlurredCapture: at 3 px a module with a 1-px blur and heavy
// noise the plain chain fails on most codes; the smoothing pass reads them.
func TestNoisyBlurredCapture(t *testing.T) {
	a := readArtefact(t, tokenFiles(t)[1]) // the 1-node key
	frames, err := Encode(a, 15)
	if err != nil {
		t.Fatal(err)
	}
	var s Scanner
	for _, f := range frames {
		p, err := PNG(f, 6)
		if err != nil {
			t.Fatal(err)
		}
		g, err := ReadImage(p)
		if err != nil {
			t.Fatal(err)
		}
		img := noise(blur(shrink(g, 2), 1), 25, uint64(f.Part))
		if err := s.AddImage(context.Background(), fmt.Sprintf("part %d", f.Part), encodePNG(t, img)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Assembler.Message(); err != nil {
		t.Errorf("got %v, want all %d parts read", err, len(frames))
	}
}
