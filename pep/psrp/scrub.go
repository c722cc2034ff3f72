package psrp

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"regexp"
)

// payloadElement matches the base64 PSRP payloads of a WS-Man envelope:
// creationXml, rsp:Arguments and rsp:Stream.
var payloadElement = regexp.MustCompile(`(<(?:[A-Za-z0-9_]+:)?(?:creationXml|Arguments|Stream)\b[^>]*>)([^<]*)(</)`)

// ScrubSecureStrings returns envelope with the content of every <SS>
// element inside its PSRP payloads replaced by asterisks of the same
// length, for traces: a SecureString is ciphertext under the session key,
// and a trace keeps none of it. The payloads stay valid base64 PSRP
// fragments (lengths are unchanged), so the trace still decodes. An <SS>
// split across two envelopes (a pipeline larger than one envelope) is
// blanked only in the first; anything that is not a well-formed payload is
// left as it is.
func ScrubSecureStrings(envelope []byte) []byte {
	if !bytes.Contains(envelope, []byte("creationXml")) && !bytes.Contains(envelope, []byte("Arguments")) && !bytes.Contains(envelope, []byte("Stream")) {
		return envelope
	}
	var sc ssScanner
	return payloadElement.ReplaceAllFunc(envelope, func(m []byte) []byte {
		parts := payloadElement.FindSubmatch(m)
		data, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(parts[2]), nil)))
		if err != nil || !sc.scrubFragments(data) {
			return m
		}
		out := append([]byte(nil), parts[1]...)
		out = append(out, base64.StdEncoding.EncodeToString(data)...)
		return append(out, parts[3]...)
	})
}

// ssScanner finds <SS ...>content</SS> across the blobs of consecutive
// fragments and overwrites the content.
type ssScanner struct {
	match   int  // bytes of "<SS" matched so far
	inTag   bool // inside an SS start tag
	slash   bool // the last byte in the tag was '/'
	content bool // inside SS content
	changed bool
}

// scrubFragments blanks SecureString content in the fragments of data in
// place; it reports whether anything changed.
func (sc *ssScanner) scrubFragments(data []byte) bool {
	sc.changed = false
	for off := 0; off+21 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[off+17:]))
		if n < 0 || off+21+n > len(data) {
			break
		}
		blob := data[off+21 : off+21+n]
		if data[off+16]&1 != 0 { // a message starts: skip its 40-byte header
			*sc = ssScanner{changed: sc.changed}
			blob = blob[min(MessageHeaderSize, len(blob)):]
		}
		sc.scan(blob)
		off += 21 + n
	}
	return sc.changed
}

func (sc *ssScanner) scan(b []byte) {
	const open = "<SS"
	for i, c := range b {
		switch {
		case sc.content:
			if c == '<' {
				sc.content = false
			} else {
				b[i] = '*'
				sc.changed = true
			}
		case sc.inTag:
			switch c {
			case '>':
				sc.inTag, sc.content = false, !sc.slash
			case '/':
				sc.slash = true
			default:
				sc.slash = false
			}
		case sc.match == len(open) && (c == ' ' || c == '/'):
			sc.match, sc.inTag, sc.slash = 0, true, c == '/'
		case sc.match == len(open) && c == '>':
			sc.match, sc.content = 0, true
		case sc.match < len(open) && c == open[sc.match]:
			sc.match++
		default:
			sc.match = 0
			if c == open[0] {
				sc.match = 1
			}
		}
	}
}
