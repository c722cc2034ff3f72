package qr

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/multi/qrcode"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// Decode returns the text of every QR code found in g, each once. It tries,
// in order (reference qr-airgap.md §4.4, §4.7):
//
//  1. the plain reader, and if it finds nothing: PURE_BARCODE; fitting the
//     module grid to the grey levels on the finder patterns it found
//     (grid.go: codes at a non-integer scale, in perspective, or with a
//     false finder pattern); for modules under 4 pixels (scaled screens,
//     small photos) the same on finder patterns found in a copy enlarged
//     2 or 3 times; rescaling ×0.5…×1.5 and rotation by 90°, 180° and 270°;
//     then all of these but the enlarging again on a smoothed copy for
//     noisy captures (scaling up, rotating and smoothing only for images up
//     to 2000 pixels a side, enlarging only up to 4 megapixels); a frame
//     that fills over half of the image ends the search there;
//  2. the multi reader with TRY_HARDER, for pages and for images that hold
//     unrelated codes too;
//  3. when frames were found but cover under half the image (a page with
//     more codes): tiles of 1×2, 2×2, 2×4 and 3×3 grids, each through the
//     plain reader and rescaling.
//
// Images above 4000 pixels a side are first shrunk by a whole factor. If
// enough is not nil, Decode calls it with each new text and stops as soon as
// it returns true.
func Decode(ctx context.Context, g *image.Gray, enough func(text string) bool) ([]string, error) {
	if side := max(g.Rect.Dx(), g.Rect.Dy()); side > downscaleAbove {
		g = shrink(g, (side+downscaleAbove-1)/downscaleAbove)
	}
	var found []string
	seen := map[string]bool{}
	covered, done := 0.0, false
	add := func(r hit) {
		if !seen[r.text] {
			seen[r.text] = true
			found = append(found, r.text)
			covered += r.cover
			done = done || (enough != nil && enough(r.text))
		}
	}

	r, fs, ok := detect(g, nil)
	if !ok {
		r, ok = chain(ctx, g, fs)
	}
	if ok {
		add(r)
		if done || (r.cover > 0.5 && isFrameText(r.text)) {
			return found, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return found, err
	}
	for _, r := range multiple(g) {
		add(r)
	}
	if err := ctx.Err(); err != nil {
		return found, err
	}
	if done || covered >= 0.5 || !slices.ContainsFunc(found, isFrameText) {
		// Tiles look for the rest of a page; without one frame found, the
		// image is no page of ours and tiles would only cost time.
		return found, nil
	}
	w, h := g.Rect.Dx(), g.Rect.Dy()
	for _, grid := range [][2]int{{1, 2}, {2, 2}, {2, 4}, {3, 3}} {
		cols, rows := grid[0], grid[1]
		if w > h {
			cols, rows = rows, cols
		}
		cw, ch := w/cols, h/rows
		padX, padY := cw/6, ch/6
		for r := range rows {
			for c := range cols {
				if err := ctx.Err(); err != nil {
					return found, err
				}
				tile := crop(g, image.Rect(c*cw-padX, r*ch-padY, (c+1)*cw+padX, (r+1)*ch+padY))
				if hit, ok := tileChain(tile); ok {
					add(hit)
				}
				if done {
					return found, nil
				}
			}
		}
	}
	return found, nil
}

// tileChain is the short chain for page tiles: the steps that rescue most
// codes (§4.4): plain, ×0.5, ×0.8, ×1.5.
func tileChain(g *image.Gray) (hit, bool) {
	if r, ok := plain(g, nil); ok {
		return r, true
	}
	for _, s := range []float64{0.5, 0.8, 1.5} {
		if s > 1 && max(g.Rect.Dx(), g.Rect.Dy()) > smallImage {
			continue
		}
		if r, ok := plain(rescale(g, s), nil); ok {
			return r, true
		}
	}
	return hit{}, false
}

// hit is one decoded code: its text and the share of the image it covers.
type hit struct {
	text  string
	cover float64
}

func isFrameText(s string) bool { return strings.HasPrefix(s, Magic+":") }

var (
	hintsPure      = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}
	hintsTryHarder = map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	chainScales    = []float64{0.5, 0.6, 0.7, 0.8, 0.9, 1.25, 1.5}
)

// bitmap wraps grey pixels for gozxing without copying them.
func bitmap(g *image.Gray) (*gozxing.BinaryBitmap, error) {
	src, err := gozxing.NewPlanarYUVLuminanceSource(g.Pix, g.Stride, g.Rect.Dy(), 0, 0, g.Rect.Dx(), g.Rect.Dy(), false)
	if err != nil {
		return nil, err
	}
	return gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(src))
}

// plain runs the single QR reader once with hints.
func plain(g *image.Gray, hints map[gozxing.DecodeHintType]any) (hit, bool) {
	r, _, ok := detect(g, hints)
	return r, ok
}

// finderSet is where gozxing found the three finder patterns of a code, in
// image coordinates, and the module size they suggest.
type finderSet struct {
	tl, tr, bl point
	moduleSize float64
}

// detect is plain that also tells, when the code could not be read, where
// its finder patterns are (nil if they were not found): the same steps as
// gozxing's QRCodeReader, kept apart so that the finder patterns are not
// lost when the version or the modules are misread.
func detect(g *image.Gray, hints map[gozxing.DecodeHintType]any) (hit, *finderSet, bool) {
	if g.Rect.Dx() < 21 || g.Rect.Dy() < 21 {
		return hit{}, nil, false
	}
	bmp, err := bitmap(g)
	if err != nil {
		return hit{}, nil, false
	}
	if _, ok := hints[gozxing.DecodeHintType_PURE_BARCODE]; ok {
		r, err := zxqr.NewQRCodeReader().Decode(bmp, hints)
		if err != nil {
			return hit{}, nil, false
		}
		// PURE_BARCODE reads the grid spanned by the outermost dark pixels,
		// so it succeeds only where they all belong to one code: there is
		// nothing else in the image to look for (and no result points to
		// measure the code by).
		return hit{text: r.GetText(), cover: 1}, nil, true
	}
	bm, err := bmp.GetBlackMatrix()
	if err != nil {
		return hit{}, nil, false
	}
	info, err := detector.NewFinderPatternFinder(bm, nil).Find(hints)
	if err != nil {
		return hit{}, nil, false
	}
	fs := newFinderSet(info, 1)
	det, err := detector.NewDetector(bm).ProcessFinderPatternInfo(info)
	if err != nil {
		return hit{}, fs, false
	}
	res, err := decoder.NewDecoder().Decode(det.GetBits(), hints)
	if err != nil {
		return hit{}, fs, false
	}
	pts := det.GetPoints()
	if meta, ok := res.GetOther().(*decoder.QRCodeDecoderMetaData); ok {
		meta.ApplyMirroredCorrection(pts)
	}
	r := gozxing.NewResult(res.GetText(), res.GetRawBytes(), pts, gozxing.BarcodeFormat_QR_CODE)
	return hit{text: r.GetText(), cover: coverage(r, g)}, fs, true
}

// newFinderSet converts gozxing's finder patterns, found in an image scale
// times the size of the one meant.
func newFinderSet(info *detector.FinderPatternInfo, scale float64) *finderSet {
	p := func(f *detector.FinderPattern) point { return point{f.GetX() / scale, f.GetY() / scale} }
	ms := (info.GetTopLeft().GetEstimatedModuleSize() + info.GetTopRight().GetEstimatedModuleSize() +
		info.GetBottomLeft().GetEstimatedModuleSize()) / 3 / scale
	return &finderSet{tl: p(info.GetTopLeft()), tr: p(info.GetTopRight()), bl: p(info.GetBottomLeft()), moduleSize: ms}
}

// fitted reads the code whose finder patterns are fs by fitting its grid
// to g (grid.go).
func fitted(g *image.Gray, fs *finderSet) (hit, bool) {
	if fs == nil {
		return hit{}, false
	}
	r, ok := fitGrid(g, fs.tl, fs.tr, fs.bl, fs.moduleSize)
	if !ok {
		return hit{}, false
	}
	return hit{text: r.GetText(), cover: coverage(r, g)}, true
}

// smallImage is the largest side for which the chain enlarges, rotates and
// smooths an image: small modules, noise and the finder mix-ups rotation
// cures are problems of small captures, and these steps cost most on large
// ones (where the multi reader, which finds codes in any orientation, runs
// next anyway).
const smallImage = 2000

// chain runs the steps of chainSteps until one decodes; then, for noisy
// captures, the plain reader and the same steps on a smoothed copy (a 3×3
// mean recovers noisy, slightly blurred codes the other steps miss). fs is
// where the plain reader found finder patterns, or nil.
func chain(ctx context.Context, g *image.Gray, fs *finderSet) (hit, bool) {
	if r, ok := chainSteps(ctx, g, fs, true); ok {
		return r, true
	}
	if ctx.Err() != nil || max(g.Rect.Dx(), g.Rect.Dy()) > smallImage {
		return hit{}, false
	}
	s := smooth(g)
	r, sfs, ok := detect(s, nil)
	if ok {
		return r, true
	}
	return chainSteps(ctx, s, sfs, false)
}

// chainSteps tries, cheapest and likeliest first: PURE_BARCODE, the grid
// fit on the finder patterns found (grid.go: a misjudged version at a
// non-integer scale), the grid fit on an enlarged copy when modules are
// small, then the rescales and the rotations.
func chainSteps(ctx context.Context, g *image.Gray, fs *finderSet, enlarging bool) (hit, bool) {
	if r, ok := plain(g, hintsPure); ok {
		return r, true
	}
	if r, ok := fitted(g, fs); ok {
		return r, true
	}
	if enlarging {
		if r, ok := enlarged(g, fs); ok {
			return r, true
		}
	}
	large := max(g.Rect.Dx(), g.Rect.Dy()) > smallImage
	for _, s := range chainScales {
		if ctx.Err() != nil {
			return hit{}, false
		}
		if s > 1 && large {
			continue
		}
		if r, ok := plain(rescale(g, s), nil); ok {
			return r, true
		}
	}
	for q := 1; q <= 3 && !large; q++ {
		if ctx.Err() != nil {
			return hit{}, false
		}
		if r, ok := plain(rotate(g, q), nil); ok {
			return r, true
		}
	}
	return hit{}, false
}

// Enlarging for small modules.
const (
	// smallModule is the module size, in pixels, below which finder
	// patterns are looked for again in an enlarged copy: at 2–3 pixels a
	// module, thresholding at whole pixels misplaces every edge by up to a
	// third of a module.
	smallModule = 4.0
	// enlargedPixels bounds the enlarged copy.
	enlargedPixels = 4_000_000
)

// enlarged looks for the finder patterns of a code with small modules in a
// copy enlarged 2 or 3 times (bilinear: edges fall between pixels there, so
// the 1:1:3:1:1 runs come out right), and fits the grid on them. With
// finder patterns already found (fs), only the part of g around them is
// enlarged; without, or when they make no code's triangle, the whole of g.
func enlarged(g *image.Gray, fs *finderSet) (hit, bool) {
	if fs != nil && fs.moduleSize >= smallModule {
		return hit{}, false
	}
	k := 3
	if fs != nil && fs.moduleSize >= 2.5 {
		k = 2
	}
	area := g
	if fs != nil && codeTriangle(fs.tl, fs.tr, fs.bl) {
		area = aroundCode(g, fs)
	}
	for k > 1 && k*k*area.Rect.Dx()*area.Rect.Dy() > enlargedPixels {
		k--
	}
	if k < 2 {
		return hit{}, false
	}
	big := enlarge(area, k)
	bmp, err := bitmap(big)
	if err != nil {
		return hit{}, false
	}
	bm, err := bmp.GetBlackMatrix()
	if err != nil {
		return hit{}, false
	}
	info, err := detector.NewFinderPatternFinder(bm, nil).Find(nil)
	if err != nil {
		return hit{}, false
	}
	r, ok := fitted(area, newFinderSet(info, float64(k)))
	if ok {
		r.cover = r.cover * float64(area.Rect.Dx()*area.Rect.Dy()) / float64(g.Rect.Dx()*g.Rect.Dy())
	}
	return r, ok
}

// aroundCode returns a copy of the part of g that holds the code whose
// finder patterns are fs, quiet zone and some slack for perspective
// included.
func aroundCode(g *image.Gray, fs *finderSet) *image.Gray {
	br := fs.tr.add(fs.bl).sub(fs.tl)
	minX, maxX := min(fs.tl.x, fs.tr.x, fs.bl.x, br.x), max(fs.tl.x, fs.tr.x, fs.bl.x, br.x)
	minY, maxY := min(fs.tl.y, fs.tr.y, fs.bl.y, br.y), max(fs.tl.y, fs.tr.y, fs.bl.y, br.y)
	pad := 10*fs.moduleSize + 0.1*max(maxX-minX, maxY-minY)
	r := image.Rect(int(minX-pad), int(minY-pad), int(maxX+pad)+1, int(maxY+pad)+1).Intersect(g.Rect)
	return crop(g, r)
}

// multiple runs the multi reader with TRY_HARDER.
func multiple(g *image.Gray) []hit {
	bmp, err := bitmap(g)
	if err != nil {
		return nil
	}
	rs, _ := qrcode.NewQRCodeMultiReader().DecodeMultiple(bmp, hintsTryHarder)
	out := make([]hit, 0, len(rs))
	for _, r := range rs {
		out = append(out, hit{text: r.GetText(), cover: coverage(r, g)})
	}
	return out
}

// coverage estimates the share of g that the code of r covers, quiet zone
// included, from the distance between its finder patterns.
func coverage(r *gozxing.Result, g *image.Gray) float64 {
	pts := r.GetResultPoints()
	if len(pts) < 3 {
		return 0
	}
	// Points 1 and 2 are the top-left and top-right finder centres, 7 modules
	// less than the symbol apart. Frames tell their version by their length.
	dist := math.Hypot(pts[2].GetX()-pts[1].GetX(), pts[2].GetY()-pts[1].GetY())
	modules := 57.0 // version 10 when the version is unknown
	if isFrameText(r.GetText()) {
		modules = float64(17 + 4*versionFor(len(r.GetText())))
	}
	side := dist * (modules + 2*QuietZone) / (modules - 7)
	return side * side / float64(g.Rect.Dx()*g.Rect.Dy())
}

// versionFor returns the smallest version whose capacity at level M holds n
// alphanumeric characters.
func versionFor(n int) int {
	for v := 1; v <= maxQRV; v++ {
		if alnumCapacityM[v] >= n {
			return v
		}
	}
	return maxQRV
}

// Scanner feeds the frames found in images, frame files and typed text into
// one Assembler, keeping count of unrelated codes.
type Scanner struct {
	Assembler Assembler
	Frames    int      // frames accepted, duplicates included
	Ignored   []string // QR codes in images whose text is not an AGX1 frame
}

// AddInput reads one input: a PNG or JPEG image, or text holding frames
// (one a line, or one frame typed over several lines). name is used in
// errors only.
func (s *Scanner) AddInput(ctx context.Context, name string, data []byte) error {
	if isImage(data) {
		return s.AddImage(ctx, name, data)
	}
	if !utf8.Valid(data) || strings.ContainsRune(string(data), 0) {
		return fmt.Errorf("%s: %w; give image files (.png, .jpg), frame files (.txt) or - for typed frames", name, ErrNotImage)
	}
	return s.AddText(name, string(data))
}

// AddImage decodes the QR codes in a PNG or JPEG image and adds its frames.
// Codes with other content are skipped and counted in Ignored.
func (s *Scanner) AddImage(ctx context.Context, name string, data []byte) error {
	g, err := ReadImage(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var addErr error
	_, err = Decode(ctx, g, func(t string) bool {
		if !isFrameText(Normalize(t)) {
			s.Ignored = append(s.Ignored, t)
			return false
		}
		if _, addErr = s.Assembler.AddText(t); addErr != nil {
			return true
		}
		s.Frames++
		return s.Assembler.Complete()
	})
	if addErr != nil {
		return fmt.Errorf("%s: %w", name, addErr)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// AddText adds the frames in text: one frame a line, or a frame typed over
// several lines in groups (a line that starts with AGX1: begins a frame,
// other lines continue it). Blank lines are skipped; anything else is an
// error.
func (s *Scanner) AddText(name string, text string) error {
	frames, err := SplitFrames(text)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for i, f := range frames {
		if _, err := s.Assembler.AddText(f); err != nil {
			return fmt.Errorf("%s: frame %d: %w", name, i+1, err)
		}
		s.Frames++
	}
	return nil
}

// SplitFrames splits text into frames: a line that starts with AGX1: (after
// [Normalize]) begins a frame, and other non-blank lines continue it.
func SplitFrames(text string) ([]string, error) {
	var frames []string
	for line := range strings.Lines(text) {
		n := Normalize(line)
		switch {
		case n == "":
		case strings.HasPrefix(n, Magic+":"):
			frames = append(frames, n)
		case len(frames) == 0:
			return nil, notFrame(n, "no AGX1 header")
		default:
			frames[len(frames)-1] += n
		}
	}
	if len(frames) == 0 {
		return nil, errors.New("qr: no frames in the text; give frames that start with AGX1:, one a line")
	}
	return frames, nil
}
