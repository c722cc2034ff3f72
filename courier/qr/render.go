package qr

import (
	"bytes"
	"fmt"
	"image"
	"image/png"

	qrcode "github.com/skip2/go-qrcode"
)

// QuietZone is the width of the light border around every code, in modules.
const QuietZone = 4

// FilePixelsPerModule is the density of the PNG files [WriteDir] writes:
// whole pixels per module, enough for any reader even after a viewer shrinks
// the image by half.
const FilePixelsPerModule = 6

// Symbol is the QR code of one frame at level M.
type Symbol struct {
	q *qrcode.QRCode
}

// NewSymbol encodes f as a QR code at error-correction level M. Every frame
// is QR alphanumeric text, so the version follows from the frame length.
func NewSymbol(f Frame) (*Symbol, error) {
	q, err := qrcode.New(f.String(), qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr: encode part %d/%d as a QR code: %w", f.Part, f.Parts, err)
	}
	return &Symbol{q: q}, nil
}

// Version returns the QR version, 1–40.
func (s *Symbol) Version() int { return s.q.VersionNumber }

// Size returns the width of the code in modules, quiet zone included.
func (s *Symbol) Size() int { return 17 + 4*s.q.VersionNumber + 2*QuietZone }

// Bitmap returns the modules, quiet zone included: true is dark.
func (s *Symbol) Bitmap() [][]bool { return s.q.Bitmap() }

// Image returns the code with k whole pixels per module (k ≥ 1) and the quiet
// zone: a square of Size()·k pixels. Never resample it by a non-integer
// factor; readers fail on uneven modules (reference qr-airgap.md §4.3).
func (s *Symbol) Image(k int) image.Image {
	return s.q.Image(-max(k, 1))
}

// Image returns the code of f as large as fits a size×size pixel square on
// screen, with the largest whole number of pixels per module (at least 1).
// The image may be smaller than size; centre it. The GUI shows frames with it.
func Image(f Frame, size int) (image.Image, error) {
	s, err := NewSymbol(f)
	if err != nil {
		return nil, err
	}
	return s.Image(size / s.Size()), nil
}

// PNG returns the code of f as a PNG with pixelsPerModule whole pixels per
// module and the quiet zone.
func PNG(f Frame, pixelsPerModule int) ([]byte, error) {
	s, err := NewSymbol(f)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(&buf, s.Image(pixelsPerModule)); err != nil {
		return nil, fmt.Errorf("qr: write PNG of part %d/%d: %w", f.Part, f.Parts, err)
	}
	return buf.Bytes(), nil
}

// TextBitmap returns the modules of a plain QR code of text at level M,
// quiet zone included: true is dark.
func TextBitmap(text string) ([][]bool, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr: encode %d bytes as a QR code: %w", len(text), err)
	}
	return q.Bitmap(), nil
}

// TextPNG returns a plain QR code of text (not an AGX1 frame: a public key
// file, a manifest on a custody sheet) at level M as a PNG with
// pixelsPerModule whole pixels per module and the quiet zone.
func TextPNG(text string, pixelsPerModule int) ([]byte, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr: encode %d bytes as a QR code: %w", len(text), err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, q.Image(-max(pixelsPerModule, 1))); err != nil {
		return nil, fmt.Errorf("qr: write PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// Sequence shows the frames of a message in a loop, for a camera to catch.
// It holds no clock: the caller owns the timer and asks for the frame of each
// tick, so the display rate can change, pause or step without losing place.
type Sequence struct {
	frames []Frame
}

// NewSequence returns a sequence over frames, in part order as given.
func NewSequence(frames []Frame) *Sequence {
	return &Sequence{frames: append([]Frame(nil), frames...)}
}

// Len returns the number of frames in one loop.
func (s *Sequence) Len() int { return len(s.frames) }

// At returns the frame to show at tick n: frame n mod Len(), counting back
// for negative n. It panics on an empty sequence.
func (s *Sequence) At(tick int) Frame {
	n := len(s.frames)
	return s.frames[((tick%n)+n)%n]
}

// Part returns the frame with part number i (1-based), to hold one part on
// screen; ok is false when there is none.
func (s *Sequence) Part(i int) (f Frame, ok bool) {
	for _, f := range s.frames {
		if f.Part == i {
			return f, true
		}
	}
	return Frame{}, false
}

// qrImage renders any text as a QR code at level M; tests use it for
// unrelated codes.
func qrImage(text string, k int) (image.Image, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	return q.Image(-k), nil
}
