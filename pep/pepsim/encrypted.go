package pepsim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
)

// WinRM message encryption framing ([MS-WSMV] 2.2.9.1; see
// reference/psrp-winrm.md §4).
const (
	encryptedProtocol    = "application/HTTP-SPNEGO-session-encrypted"
	encryptedBoundary    = "Encrypted Boundary"
	encryptedContentType = `multipart/encrypted;protocol="` + encryptedProtocol + `";boundary="` + encryptedBoundary + `"`
	soapContentType      = "application/soap+xml;charset=UTF-8"
)

var errEncrypted = errors.New("pepsim: bad multipart/encrypted body")

// isEncrypted reports whether a Content-Type announces WinRM's
// SPNEGO session encryption.
func isEncrypted(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "multipart/encrypted" &&
		strings.EqualFold(params["protocol"], encryptedProtocol)
}

// encryptedPayload is one sealed message taken out of its MIME framing.
type encryptedPayload struct {
	Signature []byte
	Sealed    []byte
}

// parseEncrypted takes the signature and sealed bytes out of a WinRM
// multipart/encrypted body. It accepts the variants real peers write: the
// header lines with or without their leading tab and "-- Encrypted
// Boundary" with a space (Exchange). The length of the sealed part comes
// from OriginalContent, never from searching binary data for the boundary.
func parseEncrypted(body []byte) (encryptedPayload, error) {
	rest, ok := cutBoundary(body)
	if !ok {
		return encryptedPayload{}, fmt.Errorf("%w: no opening boundary", errEncrypted)
	}
	headers, rest, ok := bytes.Cut(rest, []byte("--"))
	if !ok {
		return encryptedPayload{}, fmt.Errorf("%w: no second boundary", errEncrypted)
	}
	length := -1
	protocolSeen := false
	for line := range strings.SplitSeq(string(headers), "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-type":
			protocolSeen = strings.EqualFold(value, encryptedProtocol)
		case "originalcontent":
			for p := range strings.SplitSeq(value, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "Length") {
					n, err := strconv.Atoi(v)
					if err != nil || n < 0 {
						return encryptedPayload{}, fmt.Errorf("%w: OriginalContent Length %q", errEncrypted, v)
					}
					length = n
				}
			}
		}
	}
	if !protocolSeen {
		return encryptedPayload{}, fmt.Errorf("%w: first part is not %s", errEncrypted, encryptedProtocol)
	}
	if length < 0 {
		return encryptedPayload{}, fmt.Errorf("%w: OriginalContent has no Length", errEncrypted)
	}
	const octet = "application/octet-stream"
	i := bytes.Index(rest, []byte(octet))
	if i < 0 {
		return encryptedPayload{}, fmt.Errorf("%w: no %s part", errEncrypted, octet)
	}
	rest = rest[i+len(octet):]
	rest = bytes.TrimPrefix(rest, []byte("\r"))
	rest = bytes.TrimPrefix(rest, []byte("\n"))
	if len(rest) < 4 {
		return encryptedPayload{}, fmt.Errorf("%w: truncated before the signature length", errEncrypted)
	}
	sigLen := int(binary.LittleEndian.Uint32(rest))
	rest = rest[4:]
	if sigLen != 16 || len(rest) < sigLen {
		return encryptedPayload{}, fmt.Errorf("%w: signature length %d, want 16", errEncrypted, sigLen)
	}
	sig := rest[:sigLen]
	rest = rest[sigLen:]
	// The sealed part runs to the closing boundary at the end of the body.
	// Windows, pypsrp and masterzen put the plaintext length in
	// OriginalContent; bodgit's http package puts the length of the whole
	// octet-stream part (4 + 16 + sealed). Both are accepted.
	end := bytes.TrimRight(rest, "\r\n")
	cut := -1
	for _, d := range []string{"--" + encryptedBoundary + "--", "-- " + encryptedBoundary + "--"} {
		if bytes.HasSuffix(end, []byte(d)) {
			cut = len(end) - len(d)
		}
	}
	if cut < 0 {
		return encryptedPayload{}, fmt.Errorf("%w: no closing boundary", errEncrypted)
	}
	sealed := bytes.TrimSuffix(end[:cut], []byte("\r\n"))
	if len(sealed) != length && len(sealed)+4+sigLen != length {
		// The CRLF before the boundary belongs to the MIME framing only
		// when the length says so.
		sealed = end[:cut]
	}
	if len(sealed) != length && len(sealed)+4+sigLen != length {
		return encryptedPayload{}, fmt.Errorf("%w: sealed part is %d bytes, OriginalContent says %d", errEncrypted, len(sealed), length)
	}
	return encryptedPayload{Signature: sig, Sealed: sealed}, nil
}

// cutBoundary strips the first boundary line, tolerating "-- Encrypted
// Boundary".
func cutBoundary(b []byte) ([]byte, bool) {
	for _, d := range []string{"--" + encryptedBoundary, "-- " + encryptedBoundary} {
		if i := bytes.Index(b, []byte(d)); i >= 0 {
			rest := b[i+len(d):]
			rest = bytes.TrimPrefix(rest, []byte("\r"))
			return bytes.TrimPrefix(rest, []byte("\n")), true
		}
	}
	return nil, false
}

// formatEncrypted frames a sealed message as WinRM does (the bytes pypsrp
// and masterzen write and expect).
func formatEncrypted(plainLen int, sig, sealed []byte) []byte {
	var b bytes.Buffer
	b.WriteString("--" + encryptedBoundary + "\r\n")
	b.WriteString("\tContent-Type: " + encryptedProtocol + "\r\n")
	fmt.Fprintf(&b, "\tOriginalContent: type=%s;Length=%d\r\n", soapContentType, plainLen)
	b.WriteString("--" + encryptedBoundary + "\r\n")
	b.WriteString("\tContent-Type: application/octet-stream\r\n")
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(sig)))
	b.Write(n[:])
	b.Write(sig)
	b.Write(sealed)
	b.WriteString("--" + encryptedBoundary + "--\r\n")
	return b.Bytes()
}
