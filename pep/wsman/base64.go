package wsman

import (
	"encoding/base64"
	"strings"
)

// decodeBase64 decodes standard base64, ignoring whitespace that XML
// writers may insert.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}
