package wsman

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bodgit/ntlmssp"
)

// Sealed-message framing of WinRM's NTLM message encryption (identical in
// masterzen/winrm encryption.go, pypsrp encryption.py and bodgit's http
// package).
const (
	sealBoundary    = "--Encrypted Boundary"
	sealProtocol    = "application/HTTP-SPNEGO-session-encrypted"
	sealContentType = `multipart/encrypted;protocol="` + sealProtocol + `";boundary="Encrypted Boundary"`
	soapContentType = "application/soap+xml;charset=UTF-8"
)

// ErrSeal reports a sealed message that cannot be opened or a session that
// cannot seal; the transport never falls back to plain text.
var ErrSeal = errors.New("wsman: NTLM message encryption failed")

// seal wraps a SOAP envelope in the multipart/encrypted body.
func seal(s *ntlmssp.SecuritySession, envelope []byte) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: no security session (the server did not negotiate sealing)", ErrSeal)
	}
	sealed, sig, err := s.Wrap(envelope)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	if len(sig) != 16 || (bytes.Equal(sealed, envelope) && len(envelope) > 0) {
		return nil, fmt.Errorf("%w: session signs but does not seal", ErrSeal)
	}
	var b bytes.Buffer
	b.WriteString(sealBoundary + "\r\n")
	b.WriteString("\tContent-Type: " + sealProtocol + "\r\n")
	b.WriteString("\tOriginalContent: type=" + soapContentType + ";Length=" + strconv.Itoa(len(envelope)) + "\r\n")
	b.WriteString(sealBoundary + "\r\n")
	b.WriteString("\tContent-Type: application/octet-stream\r\n")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(sig)))
	b.Write(sig)
	b.Write(sealed)
	b.WriteString(sealBoundary + "--\r\n")
	return b.Bytes(), nil
}

// SealedParts splits a multipart/encrypted body into the declared plain
// length, the signature and the sealed bytes. It tolerates the
// "-- Encrypted Boundary" spelling some servers use.
func SealedParts(body []byte) (length int, sig, sealed []byte, err error) {
	b := bytes.ReplaceAll(body, []byte("-- Encrypted Boundary"), []byte(sealBoundary))
	i := bytes.Index(b, []byte("Length="))
	if i < 0 {
		return 0, nil, nil, fmt.Errorf("%w: no OriginalContent length", ErrSeal)
	}
	rest := b[i+len("Length="):]
	end := bytes.IndexAny(rest, "\r\n;")
	if end < 0 {
		return 0, nil, nil, fmt.Errorf("%w: unterminated OriginalContent", ErrSeal)
	}
	length, err = strconv.Atoi(strings.TrimSpace(string(rest[:end])))
	if err != nil || length < 0 {
		return 0, nil, nil, fmt.Errorf("%w: bad OriginalContent length %q", ErrSeal, rest[:end])
	}
	const octet = "application/octet-stream\r\n"
	j := bytes.Index(rest, []byte(octet))
	if j < 0 {
		return 0, nil, nil, fmt.Errorf("%w: no octet-stream part", ErrSeal)
	}
	payload := rest[j+len(octet):]
	k := bytes.LastIndex(payload, []byte(sealBoundary+"--"))
	if k < 0 {
		return 0, nil, nil, fmt.Errorf("%w: no closing boundary", ErrSeal)
	}
	payload = payload[:k]
	if len(payload) < 4 {
		return 0, nil, nil, fmt.Errorf("%w: truncated payload", ErrSeal)
	}
	// An NTLM signature is 16 bytes: version, checksum, sequence number.
	n := binary.LittleEndian.Uint32(payload[:4])
	if n != 16 || len(payload) < 4+16 {
		return 0, nil, nil, fmt.Errorf("%w: signature of %d bytes, want 16", ErrSeal, n)
	}
	return length, payload[4 : 4+n], payload[4+n:], nil
}

// unseal opens a multipart/encrypted response body.
func unseal(s *ntlmssp.SecuritySession, body []byte) ([]byte, error) {
	length, sig, sealed, err := SealedParts(body)
	if err != nil {
		return nil, err
	}
	plain, err := s.Unwrap(sealed, sig)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	if len(plain) != length {
		return nil, fmt.Errorf("%w: decrypted %d bytes, header says %d", ErrSeal, len(plain), length)
	}
	return plain, nil
}

// splitUser splits DOMAIN\user or user@domain.
func splitUser(s string) (user, domain string) {
	if d, u, ok := strings.Cut(s, `\`); ok {
		return u, d
	}
	if u, d, ok := strings.Cut(s, "@"); ok {
		return u, d
	}
	return s, ""
}
