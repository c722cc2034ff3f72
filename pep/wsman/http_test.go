package wsman

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// challengeMessage returns a minimal NTLM CHALLENGE that bodgit/ntlmssp
// accepts: flags with sign, seal, key exchange and NTLMv2 session security,
// and a target info list holding only MsvAvEOL.
func challengeMessage(flags uint32) []byte {
	const headerLen = 56
	targetInfo := []byte{0, 0, 0, 0} // MsvAvEOL
	b := make([]byte, headerLen)
	copy(b, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(b[8:], 2)
	binary.LittleEndian.PutUint32(b[20:], flags)
	copy(b[24:32], "01234567")
	binary.LittleEndian.PutUint16(b[40:], uint16(len(targetInfo)))
	binary.LittleEndian.PutUint16(b[42:], uint16(len(targetInfo)))
	binary.LittleEndian.PutUint32(b[44:], headerLen)
	b[48], b[49] = 10, 0 // version 10.0
	b[55] = 15
	return append(b, targetInfo...)
}

const (
	flagUnicode    = 0x00000001
	flagSign       = 0x00000010
	flagSeal       = 0x00000020
	flagNTLM       = 0x00000200
	flagAlwaysSign = 0x00008000
	flagESS        = 0x00080000
	flagTargetInfo = 0x00800000
	flagVersion    = 0x02000000
	flag128        = 0x20000000
	flagKeyExch    = 0x40000000
	flag56         = 0x80000000
	goodFlags      = flagUnicode | flagSign | flagSeal | flagNTLM | flagAlwaysSign | flagESS | flagTargetInfo | flagVersion | flag128 | flagKeyExch | flag56
)

// TestFailsClosed proves that when the NTLM handshake fails in any way,
// the transport returns an error and the server never receives a request
// body: neither the plain envelope nor anything else.
func TestFailsClosed(t *testing.T) {
	envelope := []byte(`<s:Envelope><s:Body>SECRET-PAYLOAD</s:Body></s:Envelope>`)
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, leg int)
		wantErr error
	}{
		{"200 to NEGOTIATE, no challenge", func(w http.ResponseWriter, r *http.Request, leg int) {}, nil},
		{"401 without challenge", func(w http.ResponseWriter, r *http.Request, leg int) {
			w.Header().Set("WWW-Authenticate", "Basic realm=x")
			w.WriteHeader(401)
		}, nil},
		{"garbage challenge", func(w http.ResponseWriter, r *http.Request, leg int) {
			w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString([]byte("NTLMSSP\x00junk")))
			w.WriteHeader(401)
		}, nil},
		{"wrong password: 401 to AUTHENTICATE", func(w http.ResponseWriter, r *http.Request, leg int) {
			w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(challengeMessage(goodFlags)))
			w.WriteHeader(401)
		}, ErrUnauthorized},
		{"no sealing negotiated", func(w http.ResponseWriter, r *http.Request, leg int) {
			if leg == 0 {
				w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(challengeMessage(goodFlags&^(flagSeal|flagSign|flagAlwaysSign))))
				w.WriteHeader(401)
			}
		}, ErrSeal},
		{"sign without seal", func(w http.ResponseWriter, r *http.Request, leg int) {
			if leg == 0 {
				w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(challengeMessage(goodFlags&^flagSeal)))
				w.WriteHeader(401)
			}
		}, ErrSeal},
		{"connection dropped", func(w http.ResponseWriter, r *http.Request, leg int) {
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var bodies [][]byte
			var contentTypes []string
			legs := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				leg := legs
				legs++
				if len(b) > 0 {
					bodies = append(bodies, b)
					contentTypes = append(contentTypes, r.Header.Get("Content-Type"))
				}
				mu.Unlock()
				tt.handler(w, r, leg)
			}))
			defer srv.Close()
			tr, err := NewHTTPTransport(srv.URL+"/wsman", HTTPOptions{User: `AZS\CloudAdmin`, Password: "pw"})
			if err != nil {
				t.Fatal(err)
			}
			tr.ResponseTimeout = 5 * time.Second
			_, err = tr.RoundTrip(context.Background(), envelope)
			if err == nil {
				t.Fatal("RoundTrip succeeded, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			for i, b := range bodies {
				if bytes.Contains(b, []byte("SECRET-PAYLOAD")) {
					t.Errorf("body %d sent in plain text: %q", i, b)
				}
			}
			if len(bodies) != 0 {
				t.Errorf("server received %d non-empty bodies (%v), want none before authentication", len(bodies), contentTypes)
			}
		})
	}
}

func TestBasicRefusedOverHTTP(t *testing.T) {
	_, err := NewHTTPTransport("http://127.0.0.1:5985/wsman", HTTPOptions{User: "u", Password: "p", Auth: AuthBasic})
	if err == nil || !strings.Contains(err.Error(), "Basic") {
		t.Errorf("got %v, want a refusal of Basic over HTTP", err)
	}
	for _, bad := range []string{"ftp://x/wsman", "::"} {
		if _, err := NewHTTPTransport(bad, HTTPOptions{User: "u"}); err == nil {
			t.Errorf("NewHTTPTransport(%q) succeeded, want error", bad)
		}
	}
}

// TestContextCancel checks that cancelling the context ends a request the
// server never answers.
func TestContextCancel(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	tr, _ := NewHTTPTransport(srv.URL+"/wsman", HTTPOptions{User: "u", Password: "p"})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := tr.RoundTrip(ctx, []byte("<x/>"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("returned after %s, want about 200ms", d)
	}
}

func TestSealedParts(t *testing.T) {
	sig := bytes.Repeat([]byte{1}, 16)
	body := []byte(sealBoundary + "\r\n\tContent-Type: " + sealProtocol + "\r\n\tOriginalContent: type=" + soapContentType + ";Length=3\r\n" +
		sealBoundary + "\r\n\tContent-Type: application/octet-stream\r\n" + "\x10\x00\x00\x00" + string(sig) + "abc" + sealBoundary + "--\r\n")
	n, gotSig, sealed, err := SealedParts(body)
	if err != nil || n != 3 || !bytes.Equal(gotSig, sig) || string(sealed) != "abc" {
		t.Errorf("got %d %x %q %v, want 3, the signature, abc", n, gotSig, sealed, err)
	}
	spaced := bytes.ReplaceAll(body, []byte(sealBoundary), []byte("-- Encrypted Boundary"))
	if _, _, s2, err := SealedParts(spaced); err != nil || string(s2) != "abc" {
		t.Errorf("spaced boundary: %q %v", s2, err)
	}
	for _, cut := range []int{10, 60, len(body) - 30, len(body) - 10} {
		if _, _, _, err := SealedParts(body[:cut]); !errors.Is(err, ErrSeal) {
			t.Errorf("truncated at %d: got %v, want ErrSeal", cut, err)
		}
	}
}
