package app

import (
	"fmt"
	"strings"
	"unicode"
)

// Printable returns s as it is safe to show on a terminal or in a window:
// control characters (escape sequences, CR, LF, BEL, C1 controls) and the
// Unicode controls that reorder or hide text (bidi overrides and isolates,
// zero-width marks) are written as \u001b-style escapes, so that a decoded
// field can neither clear the screen, fake a line of output ("SHA-256 OK"),
// nor show its characters in another order.
func Printable(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafeRune(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// PrintableLines is Printable for text of several lines, such as a JSON
// document: new lines and tabs stay, everything else Printable escapes is
// escaped. encoding/json writes control characters in strings as \u
// escapes already, but not C1 controls, bidi overrides or zero-width marks.
func PrintableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		parts := strings.Split(l, "\t")
		for j, p := range parts {
			parts[j] = Printable(p)
		}
		lines[i] = strings.Join(parts, "\t")
	}
	return strings.Join(lines, "\n")
}

// unsafeRune reports a rune Printable escapes.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u061c', r == '\u200b', r == '\u200c', r == '\u200d', r == '\u200e', r == '\u200f',
		r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u2028', r == '\u2029', r == '\ufeff':
		return true
	}
	return false
}
