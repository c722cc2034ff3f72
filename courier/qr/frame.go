package qr

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"

	"github.com/azs-courier/azs-courier/courier"
)

// Magic starts every AGX1 frame.
const Magic = "AGX1"

// Kind letters of the K field.
const (
	KindToken = 'R' // registration token
	KindKey   = 'A' // activation key
	KindText  = 'T' // other text
)

// Transforms in bits 0–1 of the F field, and the DEFLATE flag in bit 2.
const (
	TransformText      = 0 // UTF-8 bytes of the text
	TransformBase64    = 1 // standard base64 with canonical padding
	TransformDotted    = 2 // dotted base64url segments (JWS compact form)
	TransformBase64Raw = 3 // standard base64 without padding
	FlagDeflate        = 4 // raw DEFLATE applied after the transform
)

const (
	transformMask     = 3
	maxParts          = 999
	maxInflated       = courier.MaxSize // no artefact is larger
	idLen, crcLen     = 8, 4
	minVersion        = 1
	maxQRV            = 40
	crockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// crockford is Crockford's base32 alphabet in RFC 4648 bit order, unpadded.
var crockford = base32.NewEncoding(crockfordAlphabet).WithPadding(base32.NoPadding)

// Frame is one AGX1 frame: one part of one message.
type Frame struct {
	Kind  byte   // KindToken, KindKey or KindText
	Flags int    // F: transform in bits 0–1, FlagDeflate in bit 2
	Part  int    // i, from 1
	Parts int    // n, the number of parts of the message
	ID    string // 8 Crockford base32 characters: SHA-256(text)[0:5]
	Data  []byte // this part's slice of the stream
}

// header returns the frame text before ":<CRC>".
func (f Frame) header() string {
	return fmt.Sprintf("%s:%c%d:%d/%d:%s:%s", Magic, f.Kind, f.Flags, f.Part, f.Parts, f.ID, crockford.EncodeToString(f.Data))
}

// String returns the canonical frame text, checksum included. It is the text a
// QR code carries and a line of frames.txt holds.
func (f Frame) String() string {
	h := f.header()
	return h + ":" + crcString(h)
}

// sameMessage reports whether f and g carry the same message header (K, F, n, ID).
func (f Frame) sameMessage(g Frame) bool {
	return f.Kind == g.Kind && f.Flags == g.Flags && f.Parts == g.Parts && f.ID == g.ID
}

// crcString returns the low 20 bits of CRC-32/IEEE of s as 4 Crockford characters.
func crcString(s string) string {
	c := crc32.ChecksumIEEE([]byte(s)) & 0xFFFFF
	var b [crcLen]byte
	for i := crcLen - 1; i >= 0; i-- {
		b[i] = crockfordAlphabet[c&31]
		c >>= 5
	}
	return string(b[:])
}

// messageID returns base32(SHA-256(text)[0:5]).
func messageID(text string) string {
	sum := sha256.Sum256([]byte(text))
	return crockford.EncodeToString(sum[:5])
}

// Normalize applies the typing rules of the AGX1 decoder to s: upper case;
// spaces, tabs, CR, LF and '-' removed; O read as 0, I and L as 1.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case ' ', '\t', '\r', '\n', '-':
			continue
		case 'o', 'O':
			r = '0'
		case 'i', 'I', 'l', 'L':
			r = '1'
		default:
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ErrNotFrame is matched by the error for text that is not an AGX1 frame.
var ErrNotFrame = errors.New("qr: not an AGX1 frame")

// IntegrityError reports frames that fail a check of the format: a checksum
// that differs, a frame of another message, a reassembled text whose ID
// differs. It matches courier.ErrIntegrity.
type IntegrityError struct {
	Problem string
	Fix     string
}

func (e *IntegrityError) Error() string { return "qr: " + e.Problem + "; " + e.Fix }

// Is reports whether target is courier.ErrIntegrity.
func (e *IntegrityError) Is(target error) bool { return target == courier.ErrIntegrity }

// notFrame returns an ErrNotFrame error naming the start of s.
func notFrame(s, why string) error {
	const show = 10
	start := s
	if len(start) > show {
		start = start[:show] + "…"
	}
	return fmt.Errorf("%w (%s, text starts %q); give only frames that start with %s:", ErrNotFrame, why, start, Magic)
}

// ParseFrame normalises s (see [Normalize]), checks its syntax and checksum
// and returns the frame. Text that is not a frame yields an error matching
// [ErrNotFrame]; a frame whose checksum differs yields an *[IntegrityError]
// naming the part.
func ParseFrame(s string) (Frame, error) {
	s = Normalize(s)
	fields := strings.Split(s, ":")
	if len(fields) != 6 || fields[0] != Magic {
		return Frame{}, notFrame(s, "no AGX1 header")
	}
	var f Frame
	kf := fields[1]
	if len(kf) != 2 || !strings.ContainsRune("RAT", rune(kf[0])) || kf[1] < '0' || kf[1] > '7' {
		return Frame{}, notFrame(s, "kind and flags must be one of R, A, T and a digit 0–7")
	}
	f.Kind, f.Flags = kf[0], int(kf[1]-'0')
	in, nn, ok := strings.Cut(fields[2], "/")
	if !ok {
		return Frame{}, notFrame(s, "part field must be i/n")
	}
	var err error
	if f.Part, err = partNumber(in); err != nil {
		return Frame{}, notFrame(s, err.Error())
	}
	if f.Parts, err = partNumber(nn); err != nil {
		return Frame{}, notFrame(s, err.Error())
	}
	if f.Part > f.Parts {
		return Frame{}, notFrame(s, fmt.Sprintf("part %d/%d: parts beyond n are reserved", f.Part, f.Parts))
	}
	f.ID = fields[3]
	if len(f.ID) != idLen || !isCrockford(f.ID) {
		return Frame{}, notFrame(s, "message ID must be 8 base32 characters")
	}
	data, crc := fields[4], fields[5]
	if !isCrockford(data) {
		return Frame{}, notFrame(s, "data must be base32")
	}
	if len(crc) != crcLen || !isCrockford(crc) {
		return Frame{}, notFrame(s, "checksum must be 4 base32 characters")
	}
	if got := crcString(s[:len(s)-crcLen-1]); got != crc {
		return Frame{}, &IntegrityError{
			Problem: fmt.Sprintf("checksum mismatch in part %d/%d", f.Part, f.Parts),
			Fix:     "rescan that part, or retype it and check each group of 5 characters",
		}
	}
	f.Data = decodeCrockford(data)
	return f, nil
}

// partNumber parses i or n: decimal, no leading zeros, 1–999.
func partNumber(s string) (int, error) {
	if s == "" || len(s) > 3 || s[0] == '0' {
		return 0, fmt.Errorf("part numbers must be 1–999 without leading zeros, got %q", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("part numbers must be decimal, got %q", s)
	}
	return n, nil
}

func isCrockford(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(crockfordAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// decodeCrockford reads floor(5·len(s)/8) bytes from the valid base32 text s,
// ignoring the padding bits of the last group.
func decodeCrockford(s string) []byte {
	out := make([]byte, 0, len(s)*5/8)
	var acc uint32
	bits := 0
	for i := 0; i < len(s); i++ {
		acc = acc<<5 | uint32(strings.IndexByte(crockfordAlphabet, s[i]))
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	return out
}

// KindOf returns the frame kind letter for an artefact kind.
func KindOf(k courier.Kind) byte {
	switch k {
	case courier.KindToken:
		return KindToken
	case courier.KindKey:
		return KindKey
	}
	return KindText
}

// KindName returns what a kind letter stands for, as people say it.
func KindName(k byte) string {
	switch k {
	case KindToken:
		return courier.KindToken.Title()
	case KindKey:
		return courier.KindKey.Title()
	}
	return "text"
}

// Encode returns the frames that carry a: the fewest parts whose QR codes
// each fit maxVersion (1–40) at error-correction level M.
func Encode(a *courier.Artefact, maxVersion int) ([]Frame, error) {
	return EncodeText(KindOf(a.Kind), a.Text, maxVersion)
}

// EncodeText returns the frames that carry text as kind (KindToken, KindKey or
// KindText): the text is unwrapped from base64 where that reproduces it
// exactly, DEFLATEd when that makes it shorter, and split into the fewest
// parts whose QR codes each fit maxVersion (1–40) at level M.
func EncodeText(kind byte, text string, maxVersion int) ([]Frame, error) {
	if kind != KindToken && kind != KindKey && kind != KindText {
		return nil, fmt.Errorf("qr: unknown frame kind %q; use R, A or T", kind)
	}
	if maxVersion < minVersion || maxVersion > maxQRV {
		return nil, fmt.Errorf("qr: QR version cap %d is out of range; choose 1 to 40", maxVersion)
	}
	flags, stream := transform(text)
	if z := deflate(stream); len(z) < len(stream) {
		flags |= FlagDeflate
		stream = z
	}
	id := messageID(text)
	capacity := alnumCapacityM[maxVersion]
	for n := 1; n <= maxParts; n++ {
		per := (len(stream) + n - 1) / n
		if n > 1 && per == 0 {
			break
		}
		// Frame length with the widest part number (i as long as n).
		digits := len(strconv.Itoa(n))
		frameLen := len(Magic) + 1 + 2 + 1 + 2*digits + 1 + 1 + idLen + 1 + (per*8+4)/5 + 1 + crcLen
		if frameLen > capacity {
			continue
		}
		frames := make([]Frame, n)
		for i := range frames {
			lo, hi := min(i*per, len(stream)), min((i+1)*per, len(stream))
			frames[i] = Frame{Kind: kind, Flags: flags, Part: i + 1, Parts: n, ID: id, Data: stream[lo:hi]}
		}
		return frames, nil
	}
	return nil, fmt.Errorf("qr: %d bytes need more than %d parts at QR version %d; raise the version cap", len(stream), maxParts, maxVersion)
}

// transform returns the flags and bytes for text (qr-frames.md, Encoding §2).
func transform(text string) (int, []byte) {
	if text != "" && !strings.Contains(text, ".") {
		if len(text)%4 == 0 {
			if b, err := base64.StdEncoding.Strict().DecodeString(text); err == nil && base64.StdEncoding.EncodeToString(b) == text {
				return TransformBase64, b
			}
		} else if !strings.Contains(text, "=") {
			if b, err := base64.RawStdEncoding.Strict().DecodeString(text); err == nil && base64.RawStdEncoding.EncodeToString(b) == text {
				return TransformBase64Raw, b
			}
		}
	}
	if segs := strings.Split(text, "."); len(segs) >= 2 {
		var out []byte
		ok := true
		for _, s := range segs {
			b, err := base64.RawURLEncoding.Strict().DecodeString(s)
			if err != nil || base64.RawURLEncoding.EncodeToString(b) != s {
				ok = false
				break
			}
			out = binary.AppendUvarint(out, uint64(len(b)))
			out = append(out, b...)
		}
		if ok {
			return TransformDotted, out
		}
	}
	return TransformText, []byte(text)
}

// untransform reverses transform.
func untransform(flags int, b []byte) (string, error) {
	switch flags & transformMask {
	case TransformText:
		return string(b), nil
	case TransformBase64:
		return base64.StdEncoding.EncodeToString(b), nil
	case TransformBase64Raw:
		return base64.RawStdEncoding.EncodeToString(b), nil
	}
	var segs []string
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", errors.New("a segment length runs past the end of the data")
		}
		segs = append(segs, base64.RawURLEncoding.EncodeToString(b[k:k+int(n)]))
		b = b[k+int(n):]
	}
	return strings.Join(segs, "."), nil
}

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression) // the level is valid
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// inflate undoes deflate, refusing output larger than courier.MaxSize.
func inflate(b []byte) ([]byte, error) {
	r := flate.NewReader(bytes.NewReader(b))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxInflated+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxInflated {
		return nil, fmt.Errorf("the inflated data exceeds %d bytes", maxInflated)
	}
	return out, nil
}

// alnumCapacityM[v] is the number of alphanumeric characters a QR code of
// version v holds at level M (ISO/IEC 18004 table 7; checked against go-qrcode
// in the tests).
var alnumCapacityM = func() [maxQRV + 1]int {
	// Data codewords per version at level M.
	words := [maxQRV + 1]int{0,
		16, 28, 44, 64, 86, 108, 124, 154, 182, 216,
		254, 290, 334, 365, 415, 453, 507, 563, 627, 669,
		714, 782, 860, 914, 1000, 1062, 1128, 1193, 1267, 1373,
		1455, 1541, 1631, 1725, 1812, 1914, 1992, 2102, 2216, 2334}
	var c [maxQRV + 1]int
	for v := 1; v <= maxQRV; v++ {
		countBits := 9
		switch {
		case v >= 27:
			countBits = 13
		case v >= 10:
			countBits = 11
		}
		bits := words[v]*8 - 4 - countBits
		c[v] = bits / 11 * 2
		if bits%11 >= 6 {
			c[v]++
		}
	}
	return c
}()
