package qr

import (
	"fmt"
	"image"
	"math/rand/v2"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// TestFitPlaneMap recovers a known perspective map from noisy points, and an
// affine one from three exact points.
func TestFitPlaneMap(t *testing.T) {
	want := planeMap{2.4, 0.3, 40, -0.2, 2.6, 25, 0.0008, -0.0005, 1}
	r := rand.New(rand.NewPCG(1, 2))
	var from, to []point
	for range 25 {
		p := point{r.Float64() * 100, r.Float64() * 100}
		q := want.at(p)
		from = append(from, p)
		to = append(to, point{q.x + r.NormFloat64()*0.1, q.y + r.NormFloat64()*0.1})
	}
	got, ok := fitPlaneMap(from, to)
	if !ok {
		t.Fatal("no fit for 25 points")
	}
	for _, p := range []point{{0, 0}, {100, 0}, {0, 100}, {100, 100}, {50, 50}} {
		if d := got.at(p).sub(want.at(p)).length(); d > 0.2 {
			t.Errorf("at %v: got %v, want %v (%.2f px off)", p, got.at(p), want.at(p), d)
		}
	}

	affine := planeMap{3, 0.5, 10, -0.5, 3, 20, 0, 0, 1}
	from = []point{{3.5, 3.5}, {73.5, 3.5}, {3.5, 73.5}}
	to = to[:0]
	for _, p := range from {
		to = append(to, affine.at(p))
	}
	got, ok = fitPlaneMap(from, to)
	if !ok {
		t.Fatal("no fit for 3 points")
	}
	if d := got.at(point{73.5, 73.5}).sub(affine.at(point{73.5, 73.5})).length(); d > 1e-9 {
		t.Errorf("affine fit is %g px off at the fourth corner", d)
	}
	if _, ok := fitPlaneMap(from[:2], to[:2]); ok {
		t.Error("fitted a map to 2 points")
	}
	if _, ok := fitPlaneMap([]point{{0, 0}, {1, 1}, {2, 2}}, []point{{0, 0}, {1, 1}, {2, 2}}); ok {
		t.Error("fitted a map to points on a line")
	}
}

// forcedSymbol renders text as a code of the given version at k pixels a
// module and returns it with the map from module to image coordinates.
func forcedSymbol(t *testing.T, text string, version, k int) (*image.Gray, planeMap) {
	t.Helper()
	q, err := qrcode.NewWithForcedVersion(text, version, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	g := renderGray(&Symbol{q: q}, k)
	off := float64(QuietZone * k)
	return g, planeMap{float64(k), 0, off, 0, float64(k), off, 0, 0, 1}
}

// TestReadVersion reads the version blocks of codes whose version the
// finder patterns alone would misjudge.
func TestReadVersion(t *testing.T) {
	for _, v := range []int{7, 15, 25, 40} {
		g, m := forcedSymbol(t, "AGX1", v, 3)
		g = noise(blur(g, 0.8), 20, uint64(v))
		dim := 17 + 4*v
		if got, ok := readVersion(g, m, dim); !ok || got != v {
			t.Errorf("version %d: got %d, %t", v, got, ok)
		}
	}
	g, m := forcedSymbol(t, "AGX1", 5, 3) // no version blocks
	if got, ok := readVersion(g, m, 37); ok {
		t.Errorf("version 5 has no version blocks, read %d", got)
	}
}

// finderCentres returns where the finder centres of a code of dim modules
// are under m.
func finderCentres(m planeMap, dim int) (tl, tr, bl point) {
	d := float64(dim) - 3.5
	return m.at(point{3.5, 3.5}), m.at(point{d, 3.5}), m.at(point{3.5, d})
}

// TestFitGrid reads a code scaled by 1.25 to 2.5 px a module (where gozxing's
// own detector takes it for another version) from finder centres that are
// right, rough, with the wrong module size, or with one false centre in the
// data area, as gozxing reports them.
func TestFitGrid(t *testing.T) {
	text := "AGX1:" + strings.Repeat("0123456789ABCDEFGHJK", 20) // fits version 14 at level M
	for _, tc := range []struct {
		name    string
		version int
		move    func(tl, tr, bl point, px float64) (point, point, point, float64)
	}{
		{"exact", 14, func(tl, tr, bl point, px float64) (point, point, point, float64) { return tl, tr, bl, px }},
		{"rough centres", 14, func(tl, tr, bl point, px float64) (point, point, point, float64) {
			return tl.add(point{0.6 * px, -0.4 * px}), tr.add(point{-0.5 * px, 0.5 * px}), bl.add(point{0.4 * px, 0.6 * px}), px
		}},
		{"module size 12% high", 14, func(tl, tr, bl point, px float64) (point, point, point, float64) { return tl, tr, bl, px * 1.12 }},
		{"module size 8% low, no version blocks", 5, func(tl, tr, bl point, px float64) (point, point, point, float64) {
			return tl, tr, bl, px * 0.92
		}},
		{"false bottom-left", 14, func(tl, tr, bl point, px float64) (point, point, point, float64) {
			return tl, tr, point{(tl.x + tr.x + bl.x) / 3, (tl.y + tr.y + bl.y) / 3}, px
		}},
		{"false top-right", 14, func(tl, tr, bl point, px float64) (point, point, point, float64) {
			return tl, point{(tl.x + tr.x + bl.x) / 3, (tl.y + tr.y + bl.y) / 3}, bl, px
		}},
		{"false top-left", 14, func(tl, tr, bl point, px float64) (point, point, point, float64) {
			return point{(tl.x + tr.x + bl.x) / 3, (tl.y + tr.y + bl.y) / 3}, tr, bl, px
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := text
			if tc.version < 7 {
				want = "AGX1:SMALL"
			}
			g, m := forcedSymbol(t, want, tc.version, 2)
			const scale = 1.25
			g = resampleBilinear(g, scale)
			m = planeMap(mul3([9]float64{scale, 0, 0, 0, scale, 0, 0, 0, 1}, m))
			dim := 17 + 4*tc.version
			tl, tr, bl := finderCentres(m, dim)
			tl, tr, bl, px := tc.move(tl, tr, bl, 2*scale)
			r, ok := fitGrid(g, tl, tr, bl, px)
			if !ok {
				t.Fatal("not read")
			}
			if r.GetText() != want {
				t.Errorf("got %.30q…, want %.30q…", r.GetText(), want)
			}
		})
	}
}

// TestFitGridRejects: without a code under the finder centres, fitGrid
// reads nothing (and gives up early: no finder of good shape).
func TestFitGridRejects(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 300, 300))
	for i := range g.Pix {
		g.Pix[i] = 128
	}
	g = noise(g, 60, 3)
	if r, ok := fitGrid(g, point{30, 30}, point{250, 30}, point{30, 250}, 3); ok {
		t.Errorf("read %q from noise", r.GetText())
	}
}

// TestEnlarge checks the fixed-point enlargement against rescale.
func TestEnlarge(t *testing.T) {
	g := noise(image.NewGray(image.Rect(0, 0, 37, 23)), 70, 5)
	for k := 2; k <= 3; k++ {
		got, want := enlarge(g, k), rescale(g, float64(k))
		if got.Rect != want.Rect {
			t.Fatalf("×%d: got %v, want %v", k, got.Rect, want.Rect)
		}
		worst := 0
		for i := range got.Pix {
			worst = max(worst, abs(int(got.Pix[i])-int(want.Pix[i])))
		}
		if worst > 1 {
			t.Errorf("×%d: differs from rescale by up to %d grey levels", k, worst)
		}
	}
}

// TestDecodeSmallPhoto: the whole chain on a photo at 2 px a module, where
// the finder patterns are only found in the enlarged copy.
func TestDecodeSmallPhoto(t *testing.T) {
	frames, err := EncodeText(KindText, strings.Repeat("small photo ", 40), 15)
	if err != nil || len(frames) != 1 {
		t.Fatalf("got %d frames, %v; want 1", len(frames), err)
	}
	sym, _ := NewSymbol(frames[0])
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			g := photo(renderGray(sym, FilePixelsPerModule), FilePixelsPerModule, 2, seed)
			var s Scanner
			if err := s.AddImage(t.Context(), "photo.jpg", encodeJPEG(t, g, 85)); err != nil {
				t.Fatal(err)
			}
			if m, err := s.Assembler.Message(); err != nil || m.Text != strings.Repeat("small photo ", 40) {
				t.Errorf("got %v, want the text", err)
			}
		})
	}
}
