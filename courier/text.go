package courier

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Encodings reported in Artefact.Encoding: how the bytes a user brought were
// encoded before they were turned into text.
const (
	EncodingASCII      = "ascii"
	EncodingUTF8       = "utf-8"
	EncodingUTF8BOM    = "utf-8-bom"
	EncodingUTF16LEBOM = "utf-16le-bom"
	EncodingUTF16BEBOM = "utf-16be-bom"
	EncodingUTF16LE    = "utf-16le"
	EncodingUTF16BE    = "utf-16be"
)

// decodeText turns the bytes of a file or paste into a Go string and names the
// encoding it found. UTF-16 is recognised by its BOM, or without one when every
// second byte of an even-length input is zero (a BOM-less file written by some
// .NET tools); anything else must be valid UTF-8.
func decodeText(data []byte) (text, encoding string, err error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
		if !utf8.Valid(data) {
			return "", "", binaryError()
		}
		return string(data), EncodingUTF8BOM, nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		s, err := decodeUTF16(data[2:], false)
		return s, EncodingUTF16LEBOM, err
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		s, err := decodeUTF16(data[2:], true)
		return s, EncodingUTF16BEBOM, err
	}
	if bytes.IndexByte(data, 0) >= 0 {
		if be, ok := looksUTF16(data); ok {
			s, err := decodeUTF16(data, be)
			if be {
				return s, EncodingUTF16BE, err
			}
			return s, EncodingUTF16LE, err
		}
		return "", "", binaryError()
	}
	if !utf8.Valid(data) {
		return "", "", binaryError()
	}
	for _, b := range data {
		if b >= utf8.RuneSelf {
			return string(data), EncodingUTF8, nil
		}
	}
	return string(data), EncodingASCII, nil
}

// looksUTF16 reports whether data is BOM-less UTF-16 of mostly ASCII text:
// even length, and the zero bytes all on one side of each code unit.
func looksUTF16(data []byte) (bigEndian, ok bool) {
	if len(data)%2 != 0 || len(data) == 0 {
		return false, false
	}
	var evenZero, oddZero int
	for i := 0; i < len(data); i += 2 {
		if data[i] == 0 {
			evenZero++
		}
		if data[i+1] == 0 {
			oddZero++
		}
	}
	units := len(data) / 2
	switch {
	case oddZero == units && evenZero == 0:
		return false, true
	case evenZero == units && oddZero == 0:
		return true, true
	}
	return false, false
}

func decodeUTF16(data []byte, bigEndian bool) (string, error) {
	if len(data)%2 != 0 {
		return "", &InputError{
			Problem: "the UTF-16 text has an odd number of bytes (the file is cut off)",
			Fix:     "copy the file again from its source",
		}
	}
	units := make([]uint16, len(data)/2)
	for i := range units {
		if bigEndian {
			units[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
		} else {
			units[i] = uint16(data[2*i+1])<<8 | uint16(data[2*i])
		}
	}
	runes := utf16.Decode(units)
	for _, r := range runes {
		if r == utf8.RuneError || r == 0 {
			return "", binaryError()
		}
	}
	return string(runes), nil
}

func binaryError() error {
	return &InputError{
		Problem: "the input is binary data, not text",
		Fix:     "give the text file that holds the registration token or activation key",
	}
}

// extractPayload strips what people wrap around an artefact when they paste or
// save it: a PowerShell assignment (`$RegistrationToken = "..."`), surrounding
// quotes, a trailing semicolon, and all white space (line breaks from wrapping,
// spaces from Get-Content joined into a [string]). What remains is the artefact
// text in one piece.
func extractPayload(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "$") {
		if i := strings.IndexByte(s, '='); i > 0 && isIdentifier(strings.TrimSpace(s[1:i])) {
			s = strings.TrimSpace(s[i+1:])
		}
	}
	s = strings.TrimSuffix(s, ";")
	s = strings.TrimSpace(s)
	for _, q := range []struct{ open, close string }{
		{`"`, `"`}, {`'`, `'`}, {"\u201c", "\u201d"}, {"\u2018", "\u2019"}, {"`", "`"},
	} {
		if len(s) >= len(q.open)+len(q.close) && strings.HasPrefix(s, q.open) && strings.HasSuffix(s, q.close) {
			s = s[len(q.open) : len(s)-len(q.close)]
			break
		}
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n', '\v', '\f', '\u00a0', '\u2028', '\u2029', '\ufeff':
			return -1
		}
		return r
	}, s)
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == ':' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
