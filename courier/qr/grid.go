package qr

import (
	"cmp"
	"image"
	"math"
	"slices"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// Reading small codes by fitting the module grid to the grey image.
//
// gozxing's detector takes the version from the finder patterns' apparent
// module size, places the grid by the three finder centres and one
// alignment pattern, and reads modules from a binarised image. At 2–3 pixels
// per module after non-integer scaling, and in small photos, each of these
// goes wrong: the module size is misjudged by a few per cent, which is a
// version or two on a dense code (reference qr-airgap.md §4.4, cause 2);
// one alignment pattern cannot follow a photo's perspective across a
// version-25 code; and binarising merges thin modules. fitGrid starts from
// gozxing's finder centres only. It reads the version from the version
// blocks where it can (else tries the versions near the estimate), then
// finds every finder and alignment pattern of that version by its shape in
// the grey image, refitting a plane projective map after each, and reads
// each module from the grey level at its centre: against one threshold for
// the whole code, then, if that does not decode, against one of its
// neighbourhood (uneven light).

// point is a position in module or image coordinates. Image coordinates put
// pixel x's centre at x+0.5, as gozxing's result points do.
type point struct{ x, y float64 }

func (p point) add(q point) point { return point{p.x + q.x, p.y + q.y} }
func (p point) sub(q point) point { return point{p.x - q.x, p.y - q.y} }
func (p point) length() float64   { return math.Hypot(p.x, p.y) }

// turn returns p turned by 90°, clockwise on screen (y down) for s = 1 and
// anticlockwise for s = −1.
func (p point) turn(s float64) point { return point{-s * p.y, s * p.x} }

// planeMap is a plane projective map, row-major with m[8] = 1, from module
// coordinates (module (c, r) spans [c, c+1) × [r, r+1)) to image coordinates.
type planeMap [9]float64

// at returns the image position of module coordinates p.
func (m planeMap) at(p point) point {
	d := m[6]*p.x + m[7]*p.y + m[8]
	return point{(m[0]*p.x + m[1]*p.y + m[2]) / d, (m[3]*p.x + m[4]*p.y + m[5]) / d}
}

// fitPlaneMap returns the least-squares map taking from[i] to to[i]: affine
// for fewer than six points (too few, or too close to a line, to tell
// perspective from noise), projective from six on. ok is false when the
// points are degenerate.
func fitPlaneMap(from, to []point) (planeMap, bool) {
	if len(from) < 3 || len(from) != len(to) {
		return planeMap{}, false
	}
	// Normalise both sets (centroid at 0, mean distance √2) so the normal
	// equations stay well conditioned with coordinates in the thousands.
	nf, df := normaliser(from)
	nt, dt := normaliser(to)
	unknowns := 6
	if len(from) >= 6 {
		unknowns = 8
	}
	var ata [8][9]float64 // normal equations, augmented
	for i := range from {
		p, q := nf(from[i]), nt(to[i])
		var rows [2][9]float64 // coefficients of h0..h7 and the right side
		rows[0] = [9]float64{p.x, p.y, 1, 0, 0, 0, -q.x * p.x, -q.x * p.y, q.x}
		rows[1] = [9]float64{0, 0, 0, p.x, p.y, 1, -q.y * p.x, -q.y * p.y, q.y}
		for _, r := range rows {
			if unknowns == 6 {
				r[6], r[7] = 0, 0
			}
			for a := range unknowns {
				for b := range unknowns {
					ata[a][b] += r[a] * r[b]
				}
				ata[a][8] += r[a] * r[8]
			}
		}
	}
	h, ok := solve(ata[:unknowns], unknowns)
	if !ok {
		return planeMap{}, false
	}
	n := planeMap{h[0], h[1], h[2], h[3], h[4], h[5], 0, 0, 1}
	if unknowns == 8 {
		n[6], n[7] = h[6], h[7]
	}
	// m = T⁻¹ · n · F, with F and T the normalising similarities.
	f := similarity(df)
	ti := inverseSimilarity(dt)
	return planeMap(mul3(mul3(ti, n), f)), true
}

// normaliser returns the similarity taking ps to centroid 0 and mean
// distance √2, and its parameters (scale, shift x, shift y).
func normaliser(ps []point) (func(point) point, [3]float64) {
	var cx, cy float64
	for _, p := range ps {
		cx, cy = cx+p.x, cy+p.y
	}
	cx, cy = cx/float64(len(ps)), cy/float64(len(ps))
	var d float64
	for _, p := range ps {
		d += math.Hypot(p.x-cx, p.y-cy)
	}
	s := 1.0
	if d > 0 {
		s = math.Sqrt2 * float64(len(ps)) / d
	}
	return func(p point) point { return point{(p.x - cx) * s, (p.y - cy) * s} }, [3]float64{s, -cx * s, -cy * s}
}

// similarity returns the matrix of the map p ↦ d[0]·p + (d[1], d[2]).
func similarity(d [3]float64) [9]float64 {
	return [9]float64{d[0], 0, d[1], 0, d[0], d[2], 0, 0, 1}
}

// inverseSimilarity returns the inverse of similarity(d).
func inverseSimilarity(d [3]float64) [9]float64 {
	return [9]float64{1 / d[0], 0, -d[1] / d[0], 0, 1 / d[0], -d[2] / d[0], 0, 0, 1}
}

// mul3 returns the product of the 3×3 matrices a and b, scaled so that its
// last element is 1.
func mul3(a, b [9]float64) [9]float64 {
	var c [9]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				c[3*i+j] += a[3*i+k] * b[3*k+j]
			}
		}
	}
	for i := range c {
		c[i] /= c[8]
	}
	return c
}

// solve solves the n×n system a (augmented with the right side in column
// 8) by Gaussian elimination with partial pivoting.
func solve(a [][9]float64, n int) ([8]float64, bool) {
	var x [8]float64
	for col := range n {
		p := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[p][col]) {
				p = r
			}
		}
		if math.Abs(a[p][col]) < 1e-12 {
			return x, false
		}
		a[col], a[p] = a[p], a[col]
		for r := col + 1; r < n; r++ {
			f := a[r][col] / a[col][col]
			for c := col; c < n; c++ {
				a[r][c] -= f * a[col][c]
			}
			a[r][8] -= f * a[col][8]
		}
	}
	for r := n - 1; r >= 0; r-- {
		s := a[r][8]
		for c := r + 1; c < n; c++ {
			s -= a[r][c] * x[c]
		}
		x[r] = s / a[r][r]
	}
	return x, true
}

// grey samples g at image position p with bilinear interpolation, the edge
// pixels extended beyond the image.
func grey(g *image.Gray, p point) float64 {
	x, y := p.x-0.5, p.y-0.5
	w, h := g.Rect.Dx(), g.Rect.Dy()
	fx0, fy0 := math.Floor(x), math.Floor(y)
	fx, fy := x-fx0, y-fy0
	x0, y0 := int(fx0), int(fy0)
	x1, y1 := x0+1, y0+1
	if x0 < 0 || x1 >= w {
		x0, x1 = max(0, min(w-1, x0)), max(0, min(w-1, x1))
	}
	if y0 < 0 || y1 >= h {
		y0, y1 = max(0, min(h-1, y0)), max(0, min(h-1, y1))
	}
	r0, r1 := y0*g.Stride, y1*g.Stride
	a, b := float64(g.Pix[r0+x0]), float64(g.Pix[r0+x1])
	c, d := float64(g.Pix[r1+x0]), float64(g.Pix[r1+x1])
	return a + (b-a)*fx + (c-a)*fy + (a-b-c+d)*fx*fy
}

// local is the map near one point, taken as affine: the image position of
// module coordinates c + (dx, dy) is o + dx·ex + dy·ey.
type local struct{ o, ex, ey point }

// near returns m near module position c as an affine map.
func (m planeMap) near(c point) local {
	o := m.at(c)
	l, r := m.at(point{c.x - 1, c.y}), m.at(point{c.x + 1, c.y})
	u, d := m.at(point{c.x, c.y - 1}), m.at(point{c.x, c.y + 1})
	return local{o, point{(r.x - l.x) / 2, (r.y - l.y) / 2}, point{(d.x - u.x) / 2, (d.y - u.y) / 2}}
}

// at returns the image position of module coordinates c + (dx, dy).
func (l local) at(dx, dy float64) point {
	return point{l.o.x + dx*l.ex.x + dy*l.ey.x, l.o.y + dx*l.ex.y + dy*l.ey.y}
}

// shape is a square pattern of dark and light modules around a centre
// module: a finder pattern with the light ring around it (9×9: the
// separator inside the code, the quiet zone outside) or an alignment
// pattern (5×5).
type shape int

const (
	finderShape    shape = 4 // half width in modules
	alignmentShape shape = 2
)

// dark reports whether the module at Chebyshev distance d from the centre
// is dark.
func (s shape) dark(d int) bool {
	if s == finderShape {
		return d <= 1 || d == 3
	}
	return d != 1
}

// contrast returns mean light minus mean dark grey level of the pattern
// whose centre module's centre is at offset (dx, dy) modules from l's
// origin, and that difference as a share of the range of the levels sampled
// (near 1 for a sharp pattern, near 0 where the pattern is not).
func (s shape) contrast(g *image.Gray, l local, dx, dy float64) (float64, float64) {
	var dark, light float64
	var nd, nl int
	lo, hi := 255.0, 0.0
	k := int(s)
	for j := -k; j <= k; j++ {
		for i := -k; i <= k; i++ {
			v := grey(g, l.at(dx+float64(i), dy+float64(j)))
			lo, hi = min(lo, v), max(hi, v)
			if s.dark(max(abs(i), abs(j))) {
				dark, nd = dark+v, nd+1
			} else {
				light, nl = light+v, nl+1
			}
		}
	}
	c := light/float64(nl) - dark/float64(nd)
	return c, c / max(hi-lo, 1)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// locate searches within radius modules of c (module coordinates under m)
// for the best match of s, in steps of one module, a half and an eighth
// around the best so far, and returns its centre, contrast and quality
// (see contrast).
func (s shape) locate(g *image.Gray, m planeMap, c point, radius float64) (point, float64, float64) {
	l := m.near(c)
	bx, by, best, quality := 0.0, 0.0, math.Inf(-1), 0.0
	search := func(cx, cy, r, step float64) {
		for dy := -r; dy <= r+1e-9; dy += step {
			for dx := -r; dx <= r+1e-9; dx += step {
				if v, q := s.contrast(g, l, cx+dx, cy+dy); v > best {
					bx, by, best, quality = cx+dx, cy+dy, v, q
				}
			}
		}
	}
	if radius > 1 {
		search(0, 0, math.Round(radius), 1)
		search(bx, by, 0.5, 0.5)
	} else {
		search(0, 0, radius, 0.5)
	}
	search(bx, by, 0.25, 0.125)
	return point{c.x + bx, c.y + by}, best, quality
}

// fitGrid reads the code whose finder patterns gozxing found at tl, tr and
// bl (image coordinates of g, in gozxing's order: bl − tl is tr − tl turned
// by +90°), moduleSize pixels a module. When the three make no code's
// triangle, one of them is a false pattern in the data area (reference
// qr-airgap.md §4.4, cause 1), and fitGrid tries completing each pair.
func fitGrid(g *image.Gray, tl, tr, bl point, moduleSize float64) (*gozxing.Result, bool) {
	if moduleSize <= 0 {
		return nil, false
	}
	if codeTriangle(tl, tr, bl) {
		return fitTriangle(g, tl, tr, bl, moduleSize)
	}
	for _, c := range completions(g, tl, tr, bl, moduleSize) {
		if r, ok := fitTriangle(g, c[0], c[1], c[2], moduleSize); ok {
			return r, true
		}
	}
	return nil, false
}

// codeTriangle reports whether finder centres make a nearly isosceles right
// triangle, as those of a code do even in a photo at an angle.
func codeTriangle(tl, tr, bl point) bool {
	a, b := tr.sub(tl).length(), bl.sub(tl).length()
	if a == 0 || b == 0 || min(a, b) < 0.8*max(a, b) {
		return false
	}
	cos := ((tr.x-tl.x)*(bl.x-tl.x) + (tr.y-tl.y)*(bl.y-tl.y)) / (a * b)
	return math.Abs(cos) <= 0.25
}

// completions returns, for each pair of the three finder centres taken as
// true, the triangle a code would make with them: the third centre put
// where the pair says and then found by its shape nearby (perspective can
// move it several modules), in both senses (the code may be mirrored).
func completions(g *image.Gray, tl, tr, bl point, moduleSize float64) [][3]point {
	var out [][3]point
	for _, s := range []float64{1, -1} {
		// With the turn by 90° in sense s, a code has bl − tl = turn(tr − tl);
		// on the diagonal, bl − tr = turn(u) − u for u = tr − tl.
		d := bl.sub(tr)
		u := point{(-d.x + s*d.y) / 2, (-s*d.x - d.y) / 2}
		for _, h := range []struct {
			c     [3]point // tl, tr, bl
			guess int      // the one searched for
			side  float64  // distance of tl to tr, in pixels
		}{
			{[3]point{tl, tr, tl.add(tr.sub(tl).turn(s))}, 2, tr.sub(tl).length()},
			{[3]point{tl, tl.sub(bl.sub(tl).turn(s)), bl}, 1, bl.sub(tl).length()},
			{[3]point{tr.sub(u), tr, bl}, 0, d.length() / math.Sqrt2},
		} {
			dim := int(math.Round(h.side/moduleSize)) + 7
			e := float64(dim) - 3.5
			mod := [3]point{{3.5, 3.5}, {e, 3.5}, {3.5, e}}
			m, ok := fitPlaneMap(mod[:], h.c[:])
			if !ok {
				continue
			}
			trusted := true
			for i := range 3 {
				if i != h.guess {
					_, _, q := finderShape.locate(g, m, mod[i], 1)
					trusted = trusted && q >= minFinderQuality
				}
			}
			if !trusted {
				continue
			}
			found, _, q := finderShape.locate(g, m, mod[h.guess], 2+0.05*float64(dim))
			if q < minFinderQuality {
				continue
			}
			h.c[h.guess] = m.at(found)
			if codeTriangle(h.c[0], h.c[1], h.c[2]) {
				out = append(out, h.c)
			}
		}
	}
	return out
}

// fitTriangle reads the code whose finder centres are tl, tr and bl,
// trying the versions whose size is within 9 modules (two versions either
// way) of the estimate from moduleSize, nearest first.
func fitTriangle(g *image.Gray, tl, tr, bl point, moduleSize float64) (*gozxing.Result, bool) {
	est := (tr.sub(tl).length()+bl.sub(tl).length())/2/moduleSize + 7 // dimension
	var versions []int
	for v := 1; v <= 40; v++ {
		if d := float64(17 + 4*v); math.Abs(d-est) <= 9 {
			versions = append(versions, v)
		}
	}
	slices.SortFunc(versions, func(a, b int) int {
		return cmp.Compare(math.Abs(float64(17+4*a)-est), math.Abs(float64(17+4*b)-est))
	})
	if len(versions) == 0 {
		return nil, false
	}
	// Version information, where the code has it, settles the version. Its
	// blocks sit beside the finders at a fixed number of modules whatever
	// the version, but how many pixels that is depends on the version, so
	// it is read under the likeliest few.
	tried := 0
	for _, v := range versions {
		if v < 7 || tried == 3 {
			continue
		}
		tried++
		if m, ok := finderMap(g, tl, tr, bl, 17+4*v); ok {
			if read, ok := readVersion(g, m, 17+4*v); ok {
				versions = []int{read}
				break
			}
		}
	}
	for _, v := range versions {
		if r, ok := fitVersion(g, tl, tr, bl, v); ok {
			return r, true
		}
	}
	return nil, false
}

// minFinderQuality is the least quality (see shape.contrast) of a finder
// pattern: a false one in the data area (reference qr-airgap.md §4.4,
// cause 1) or in noise matches the 1:1:3:1:1 runs across its centre but
// seldom the whole square with its light surround. Measured: real ones
// 0.55–0.85 even in the 2 px/module photos of the tests; in noise and text
// under 0.25.
const minFinderQuality = 0.4

// finderMap returns the map that puts the three finder centres of a code of
// dim modules at tl, tr and bl, after finding each finder by its shape.
func finderMap(g *image.Gray, tl, tr, bl point, dim int) (planeMap, bool) {
	d := float64(dim) - 3.5
	mod := []point{{3.5, 3.5}, {d, 3.5}, {3.5, d}}
	img := []point{tl, tr, bl}
	m, ok := fitPlaneMap(mod, img)
	if !ok {
		return m, false
	}
	var contrast [3]float64
	for i := range mod {
		c, v, q := finderShape.locate(g, m, mod[i], 1)
		if q < minFinderQuality {
			return m, false
		}
		img[i], contrast[i] = m.at(c), v
	}
	if hi := max(contrast[0], contrast[1], contrast[2]); min(contrast[0], contrast[1], contrast[2]) < hi/2 {
		return m, false
	}
	return fitPlaneMap(mod, img)
}

// readVersion reads the two version blocks of a code of dim modules under
// m and returns the version either gives.
func readVersion(g *image.Gray, m planeMap, dim int) (int, bool) {
	// The top-right block: 6 rows by 3 columns left of the finder; the
	// bottom-left one is its transpose. Bit 17 comes first.
	var vals [2][18]float64
	for row := range 6 {
		for col := range 3 {
			i := 17 - (row*3 + col)
			x := float64(dim-9-col) + 0.5
			y := float64(5-row) + 0.5
			vals[0][i] = grey(g, m.at(point{x, y}))
			vals[1][i] = grey(g, m.at(point{y, x}))
		}
	}
	// Threshold between the finder's dark core and its light ring.
	dark := grey(g, m.at(point{3.5, 3.5}))
	light := (grey(g, m.at(point{3.5, 1.5})) + grey(g, m.at(point{1.5, 3.5})) +
		grey(g, m.at(point{5.5, 3.5})) + grey(g, m.at(point{3.5, 5.5}))) / 4
	t := (dark + light) / 2
	for _, block := range vals {
		bits := 0
		for i := 17; i >= 0; i-- {
			bits <<= 1
			if block[i] < t {
				bits |= 1
			}
		}
		if v, err := decoder.Version_decodeVersionInformation(bits); err == nil {
			return v.GetVersionNumber(), true
		}
	}
	return 0, false
}

// fitVersion fits the grid of version v and decodes it.
func fitVersion(g *image.Gray, tl, tr, bl point, v int) (*gozxing.Result, bool) {
	ver, err := decoder.Version_GetVersionForNumber(v)
	if err != nil {
		return nil, false
	}
	dim := ver.GetDimensionForVersion()
	m, ok := finderMap(g, tl, tr, bl, dim)
	if !ok {
		return nil, false
	}
	d := float64(dim) - 3.5
	mod := []point{{3.5, 3.5}, {d, 3.5}, {3.5, d}}
	img := []point{m.at(mod[0]), m.at(mod[1]), m.at(mod[2])}
	minContrast, _ := finderShape.contrast(g, m.near(mod[0]), 0, 0)
	minContrast *= 0.3

	// Alignment patterns, nearest the top-left first, each found near where
	// the map so far puts it.
	centres := ver.GetAlignmentPatternCenters()
	var todo []point
	last := len(centres) - 1
	for i, cy := range centres {
		for j, cx := range centres {
			if i == 0 && (j == 0 || j == last) || j == 0 && i == last {
				continue // under a finder pattern
			}
			todo = append(todo, point{float64(cx) + 0.5, float64(cy) + 0.5})
		}
	}
	slices.SortFunc(todo, func(a, b point) int { return cmp.Compare(a.x+a.y, b.x+b.y) })
	for i, c := range todo {
		// Two modules around where the finders alone put the first ones;
		// one once a few more points pin the map down.
		radius := 1.0
		if i < 3 {
			radius = 2
		}
		found, score, _ := alignmentShape.locate(g, m, c, radius)
		if score < minContrast {
			continue
		}
		mod, img = append(mod, c), append(img, m.at(found))
		if next, ok := fitPlaneMap(mod, img); ok {
			m = next
		}
	}
	return readGrid(g, m, dim)
}

// readGrid samples the modules of a code of dim modules under m and decodes
// them, thresholding each module against one level for the whole code,
// then, if that fails, against the modules within 6 of it.
func readGrid(g *image.Gray, m planeMap, dim int) (*gozxing.Result, bool) {
	vals := make([]float64, dim*dim)
	for r := range dim {
		for c := range dim {
			vals[r*dim+c] = grey(g, m.at(point{float64(c) + 0.5, float64(r) + 0.5}))
		}
	}
	t := twoMeans(vals)
	for _, local := range []bool{false, true} {
		bits, err := gozxing.NewSquareBitMatrix(dim)
		if err != nil {
			return nil, false
		}
		var thr []float64
		if local {
			thr = localThresholds(vals, dim, t, 6)
		}
		for i, v := range vals {
			if local && v < thr[i] || !local && v < t {
				bits.Set(i%dim, i/dim)
			}
		}
		res, err := decoder.NewDecoder().Decode(bits, nil)
		if err != nil {
			continue
		}
		d := float64(dim) - 3.5
		var pts []gozxing.ResultPoint
		for _, p := range []point{{3.5, d}, {3.5, 3.5}, {d, 3.5}} { // bottom left, top left, top right
			q := m.at(p)
			pts = append(pts, gozxing.NewResultPoint(q.x, q.y))
		}
		if meta, ok := res.GetOther().(*decoder.QRCodeDecoderMetaData); ok {
			meta.ApplyMirroredCorrection(pts)
		}
		return gozxing.NewResult(res.GetText(), res.GetRawBytes(), pts, gozxing.BarcodeFormat_QR_CODE), true
	}
	return nil, false
}

// twoMeans returns the threshold halfway between the means of the values
// (grey levels, 0–255) below and above it.
func twoMeans(vals []float64) float64 {
	var hist [256]float64
	for _, v := range vals {
		hist[uint8(v)]++
	}
	t := 128
	for range 8 {
		var lo, hi, nlo, nhi float64
		for i, n := range hist {
			if i < t {
				lo, nlo = lo+float64(i)*n, nlo+n
			} else {
				hi, nhi = hi+float64(i)*n, nhi+n
			}
		}
		if nlo == 0 || nhi == 0 {
			break
		}
		next := int((lo/nlo+hi/nhi)/2 + 0.5)
		if next == t {
			break
		}
		t = next
	}
	return float64(t)
}

// localThresholds returns, for each module, the threshold halfway between
// the means of the dark and light modules (by t) within r modules of it;
// where one kind is missing nearby, t.
func localThresholds(vals []float64, dim int, t float64, r int) []float64 {
	// Summed-area tables of the dark and light sums and counts.
	n := dim + 1
	var ds, dn, ls, ln = make([]float64, n*n), make([]int32, n*n), make([]float64, n*n), make([]int32, n*n)
	for y := range dim {
		var rds, rls float64
		var rdn, rln int32
		for x := range dim {
			if v := vals[y*dim+x]; v < t {
				rds, rdn = rds+v, rdn+1
			} else {
				rls, rln = rls+v, rln+1
			}
			i, up := (y+1)*n+x+1, y*n+x+1
			ds[i], dn[i], ls[i], ln[i] = ds[up]+rds, dn[up]+rdn, ls[up]+rls, ln[up]+rln
		}
	}
	out := make([]float64, dim*dim)
	for y := range dim {
		y0, y1 := max(0, y-r)*n, min(dim, y+r+1)*n
		for x := range dim {
			x0, x1 := max(0, x-r), min(dim, x+r+1)
			a, b, c, d := y1+x1, y0+x1, y1+x0, y0+x0
			nd, nl := dn[a]-dn[b]-dn[c]+dn[d], ln[a]-ln[b]-ln[c]+ln[d]
			if nd == 0 || nl == 0 {
				out[y*dim+x] = t
				continue
			}
			out[y*dim+x] = ((ds[a]-ds[b]-ds[c]+ds[d])/float64(nd) + (ls[a]-ls[b]-ls[c]+ls[d])/float64(nl)) / 2
		}
	}
	return out
}
