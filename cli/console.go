package cli

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// codePages are the single-byte code pages of Windows consoles (OEM) and
// of Windows itself (ANSI) that output can be converted to.
var codePages = map[uint32]*charmap.Charmap{
	437: charmap.CodePage437, 850: charmap.CodePage850, 852: charmap.CodePage852, 855: charmap.CodePage855,
	858: charmap.CodePage858, 860: charmap.CodePage860, 862: charmap.CodePage862, 863: charmap.CodePage863,
	865: charmap.CodePage865, 866: charmap.CodePage866, 1250: charmap.Windows1250, 1251: charmap.Windows1251,
	1252: charmap.Windows1252, 1253: charmap.Windows1253, 1254: charmap.Windows1254, 1255: charmap.Windows1255,
	1256: charmap.Windows1256, 1257: charmap.Windows1257, 1258: charmap.Windows1258,
}

// asciiFallback spells the characters our messages use in ASCII, for code
// pages that lack them (CP 437 has no "…", "—" or "✓").
var asciiFallback = map[rune]string{
	'…': "...", '—': "-", '–': "-", '≤': "<=", '≥': ">=", '→': "->", '←': "<-", '✓': "OK", '✗': "x",
	'•': "*", '‘': "'", '’': "'", '“': `"`, '”': `"`, '×': "x", '\u00a0': " ",
}

// codePageWriter converts the UTF-8 written to it for a Windows console or
// pipe on a code page other than UTF-8. With raw set (a pipe or file, which
// PowerShell 5.1 and cmd read in that code page) it writes the code page's
// bytes: each character the code page has is kept, the others are spelled
// in ASCII (asciiFallback) or become "?". Otherwise (a console, where Go
// writes UTF-16 and the console shows any character its font has) every
// character is kept but the symbols of our own messages the code page
// lacks, which are spelled in ASCII: a raster font of that code page has
// no glyph for them, while names in any script are the user's own text.
type codePageWriter struct {
	w     io.Writer
	cm    *charmap.Charmap // nil: ASCII only
	raw   bool
	carry []byte // an incomplete UTF-8 sequence from the last Write
}

// newCodePageWriter returns w converting for code page cp, or w itself
// for UTF-8 (65001).
func newCodePageWriter(w io.Writer, cp uint32, raw bool) io.Writer {
	if cp == 65001 {
		return w
	}
	return &codePageWriter{w: w, cm: codePages[cp], raw: raw}
}

func (c *codePageWriter) Write(p []byte) (int, error) {
	data := append(c.carry, p...)
	c.carry = nil
	out := make([]byte, 0, len(data))
	for len(data) > 0 {
		if !utf8.FullRune(data) {
			c.carry = append([]byte(nil), data...)
			break
		}
		r, size := utf8.DecodeRune(data)
		data = data[size:]
		out = c.appendRune(out, r)
	}
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *codePageWriter) appendRune(out []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		return append(out, byte(r))
	}
	b, inPage := byte(0), false
	if c.cm != nil && r != utf8.RuneError {
		b, inPage = c.cm.EncodeRune(r)
	}
	switch {
	case inPage && c.raw:
		return append(out, b)
	case inPage:
		return utf8.AppendRune(out, r)
	}
	if s, ok := asciiFallback[r]; ok {
		return append(out, s...)
	}
	if !c.raw && r != utf8.RuneError {
		return utf8.AppendRune(out, r)
	}
	return append(out, '?')
}

// decodeInput returns a line read from standard input as UTF-8. A leading
// byte-order mark (PowerShell 5.1 with $OutputEncoding set to UTF-8 sends
// one) is dropped; bytes that are not UTF-8 are read in code page cp, the
// console's input code page on Windows, where cmd's "type file |" and
// older tools pipe that code page's bytes.
func decodeInput(b []byte, cp uint32) string {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if utf8.Valid(b) {
		return string(b)
	}
	if cm := codePages[cp]; cm != nil {
		if s, err := cm.NewDecoder().Bytes(b); err == nil {
			return string(s)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
