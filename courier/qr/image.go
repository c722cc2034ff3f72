package qr

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
)

// Limits on images given to the scanner.
const (
	// MaxImagePixels is the largest image decoded, checked from the header
	// before any pixel is read: a 600-dpi A4 scan has 35 megapixels.
	MaxImagePixels = 50_000_000
	// MaxImageSide is the largest width or height accepted.
	MaxImageSide = 16384
	// downscaleAbove is the side above which photos are shrunk, by a whole
	// factor, before decoding (large images defeat the finder search).
	downscaleAbove = 4000
)

// ErrNotImage is matched by the error for data that is not a PNG or JPEG image.
var ErrNotImage = errors.New("qr: not a PNG or JPEG image")

// isImage reports whether data starts like a PNG or a JPEG file.
func isImage(data []byte) bool {
	return bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF})
}

// ReadImage decodes a PNG or JPEG image into grey levels. It checks the
// dimensions in the header first and refuses images larger than
// MaxImagePixels or MaxImageSide, and reports truncated or corrupt files.
func ReadImage(data []byte) (*image.Gray, error) {
	if !isImage(data) {
		return nil, fmt.Errorf("%w; give image files (.png, .jpg), frame files (.txt) or - for typed frames", ErrNotImage)
	}
	var cfg image.Config
	var err error
	format := "PNG"
	if data[0] == 0xFF {
		format = "JPEG"
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	} else {
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("qr: the %s header is corrupt (%v); export or scan the image again", format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide ||
		int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, fmt.Errorf("qr: the image is %d×%d pixels, larger than the limit of %d megapixels and %d pixels a side; scan at 300–600 dpi or crop the image",
			cfg.Width, cfg.Height, MaxImagePixels/1_000_000, MaxImageSide)
	}
	var img image.Image
	if format == "JPEG" {
		img, err = jpeg.Decode(bytes.NewReader(data))
	} else {
		img, err = png.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("qr: the %s image is truncated or corrupt (%v); copy or export the image again", format, err)
	}
	return toGray(img), nil
}

// toGray converts img to grey levels, compositing transparency on white.
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.Gray:
		return m
	case *image.YCbCr:
		g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
		for y := 0; y < b.Dy(); y++ {
			off := m.YOffset(b.Min.X, b.Min.Y+y)
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], m.Y[off:off+b.Dx()])
		}
		return g
	}
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, gg, bb, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			lum := (299*r + 587*gg + 114*bb) / 1000 // 0..0xffff, premultiplied
			g.Pix[y*g.Stride+x] = uint8((lum + (0xffff - a)) >> 8)
		}
	}
	return g
}

// shrink reduces g by the whole factor f, averaging each f×f block.
func shrink(g *image.Gray, f int) *image.Gray {
	w, h := g.Rect.Dx()/f, g.Rect.Dy()/f
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			sum := 0
			for dy := range f {
				row := g.Pix[(y*f+dy)*g.Stride+x*f:]
				for dx := range f {
					sum += int(row[dx])
				}
			}
			out.Pix[y*out.Stride+x] = uint8(sum / (f * f))
		}
	}
	return out
}

// rescale resizes g by s with bilinear interpolation.
func rescale(g *image.Gray, s float64) *image.Gray {
	sw, sh := g.Rect.Dx(), g.Rect.Dy()
	w, h := max(1, int(float64(sw)*s+0.5)), max(1, int(float64(sh)*s+0.5))
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		fy := (float64(y)+0.5)/s - 0.5
		y0 := max(0, min(sh-1, int(fy)))
		y1 := min(sh-1, y0+1)
		wy := max(0, min(1, fy-float64(y0)))
		for x := range w {
			fx := (float64(x)+0.5)/s - 0.5
			x0 := max(0, min(sw-1, int(fx)))
			x1 := min(sw-1, x0+1)
			wx := max(0, min(1, fx-float64(x0)))
			p := func(x, y int) float64 { return float64(g.Pix[y*g.Stride+x]) }
			v := (p(x0, y0)*(1-wx)+p(x1, y0)*wx)*(1-wy) + (p(x0, y1)*(1-wx)+p(x1, y1)*wx)*wy
			out.Pix[y*out.Stride+x] = uint8(v + 0.5)
		}
	}
	return out
}

// enlarge scales g up by the whole factor k with bilinear interpolation,
// in fixed point: the fast path of rescale for small modules.
func enlarge(g *image.Gray, k int) *image.Gray {
	sw, sh := g.Rect.Dx(), g.Rect.Dy()
	w, h := sw*k, sh*k
	// Output pixel i sits at source position (i+0.5)/k − 0.5: between
	// source pixels i/k−1 and i/k, or i/k and i/k+1, with a weight that
	// repeats every k pixels. taps[i] is the left pixel, wts[i] the right
	// one's weight in 1/256.
	taps := make([]int, max(w, h))
	wts := make([]int, max(w, h))
	for i := range taps {
		f := (float64(i)+0.5)/float64(k) - 0.5
		t := int(math.Floor(f))
		taps[i], wts[i] = t, int(math.Round((f-float64(t))*256))
	}
	clamp := func(x, n int) int { return max(0, min(n-1, x)) }
	// Rows first into 16-bit values (pixel × 256), then columns.
	tmp := make([]uint16, w*sh)
	for y := range sh {
		row := g.Pix[y*g.Stride : y*g.Stride+sw]
		out := tmp[y*w : (y+1)*w]
		for x := range w {
			a, b := int(row[clamp(taps[x], sw)]), int(row[clamp(taps[x]+1, sw)])
			out[x] = uint16(a*(256-wts[x]) + b*wts[x])
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		r0 := tmp[clamp(taps[y], sh)*w:][:w]
		r1 := tmp[clamp(taps[y]+1, sh)*w:][:w]
		wy := wts[y]
		line := out.Pix[y*out.Stride : y*out.Stride+w]
		for x := range w {
			line[x] = uint8((int(r0[x])*(256-wy) + int(r1[x])*wy + 1<<15) >> 16)
		}
	}
	return out
}

// rotate turns g clockwise by quarter·90°.
func rotate(g *image.Gray, quarter int) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	var out *image.Gray
	if quarter%2 == 1 {
		out = image.NewGray(image.Rect(0, 0, h, w))
	} else {
		out = image.NewGray(image.Rect(0, 0, w, h))
	}
	for y := range h {
		for x := range w {
			v := g.Pix[y*g.Stride+x]
			switch quarter % 4 {
			case 1:
				out.Pix[x*out.Stride+(h-1-y)] = v
			case 2:
				out.Pix[(h-1-y)*out.Stride+(w-1-x)] = v
			case 3:
				out.Pix[(w-1-x)*out.Stride+y] = v
			default:
				out.Pix[y*out.Stride+x] = v
			}
		}
	}
	return out
}

// crop returns a copy of the part r of g.
func crop(g *image.Gray, r image.Rectangle) *image.Gray {
	r = r.Intersect(g.Rect)
	out := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		copy(out.Pix[y*out.Stride:y*out.Stride+r.Dx()], g.Pix[(r.Min.Y+y)*g.Stride+r.Min.X:])
	}
	return out
}

// smooth returns g under a 3×3 mean filter, which averages out sensor and
// JPEG noise.
func smooth(g *image.Gray) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		y0, y1 := max(0, y-1), min(h-1, y+1)
		for x := range w {
			x0, x1 := max(0, x-1), min(w-1, x+1)
			sum := 0
			for yy := y0; yy <= y1; yy++ {
				row := g.Pix[yy*g.Stride:]
				for xx := x0; xx <= x1; xx++ {
					sum += int(row[xx])
				}
			}
			out.Pix[y*out.Stride+x] = uint8(sum / ((y1 - y0 + 1) * (x1 - x0 + 1)))
		}
	}
	return out
}
