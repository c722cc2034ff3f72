package pepsim

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxBody caps a request body; WinRM's MaxEnvelopeSize is far below it.
const maxBody = 8 << 20

type connKey struct{}

// connState is the NTLM security context of one TCP connection. WinRM binds
// the context to the connection: a new connection must authenticate again.
type connState struct {
	conn net.Conn

	mu       sync.Mutex
	acceptor *ntlmAcceptor
	scheme   string // "Negotiate" or "NTLM", as the client chose
	session  *ntlmSession
	identity string
}

// errDrop makes ServeHTTP close the connection without a reply.
var errDrop = errors.New("pepsim: drop connection")

// ServeHTTP implements WinRM's HTTP listener: NTLM over the Negotiate (or
// NTLM) scheme, then sealed multipart/encrypted WS-Man messages only, as a
// server with AllowUnencrypted=false requires.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cs, _ := r.Context().Value(connKey{}).(*connState)
	w.Header().Set("Date", s.opts.Now().Add(s.opts.ClockSkew).UTC().Format(http.TimeFormat))
	if len(r.TransferEncoding) > 0 || r.ContentLength < 0 {
		// [MS-WSMV] 2.2.9.1.1.1: Content-Length MUST be present.
		s.mu.Lock()
		s.stats.Requests++
		s.stats.Chunked++
		s.mu.Unlock()
		s.log.Debug("pepsim: refused a request without Content-Length", "remote", r.RemoteAddr)
		http.Error(w, "WS-Management requests must carry Content-Length", http.StatusLengthRequired)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	s.mu.Lock()
	s.stats.Requests++
	s.stats.BytesIn += int64(len(body))
	latency := s.faults.Latency
	s.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	if !s.waitUnstalled(r.Context()) {
		return
	}
	switch {
	case err != nil:
		http.Error(w, "cannot read the request body", http.StatusBadRequest)
		return
	case len(body) > maxBody:
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	case r.URL.Path != "/wsman":
		http.NotFound(w, r)
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "WS-Management takes POST", http.StatusMethodNotAllowed)
		return
	case cs == nil:
		http.Error(w, "no connection state", http.StatusInternalServerError)
		return
	}

	cs.mu.Lock()
	defer cs.mu.Unlock()
	if auth := r.Header.Get("Authorization"); auth != "" {
		if done := s.authenticate(w, cs, auth); done {
			return
		}
	}
	if cs.session == nil {
		s.unauthorized(w, cs, "")
		return
	}
	if len(body) == 0 {
		// The empty POST that pypsrp and masterzen send to authenticate
		// before the first sealed message.
		w.WriteHeader(http.StatusOK)
		return
	}
	if r.TLS != nil && !isEncrypted(r.Header.Get("Content-Type")) {
		// HTTPS: TLS protects the body, WinRM takes it unsealed.
		s.mu.Lock()
		s.stats.Messages++
		s.mu.Unlock()
		status, reply, err := s.handleWSMan(r.Context(), cs, body)
		if errors.Is(err, errDrop) {
			s.drop(w)
			return
		}
		if err != nil {
			return
		}
		s.mu.Lock()
		s.stats.BytesOut += int64(len(reply))
		s.mu.Unlock()
		w.Header().Set("Content-Type", soapContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(reply)))
		w.WriteHeader(status)
		_, _ = w.Write(reply)
		return
	}
	if !isEncrypted(r.Header.Get("Content-Type")) {
		// AllowUnencrypted=false: a plain-text body is refused and the
		// security context dropped.
		s.mu.Lock()
		s.stats.Plaintext++
		s.mu.Unlock()
		s.log.Debug("pepsim: refused an unencrypted body", "remote", r.RemoteAddr)
		cs.session = nil
		s.unauthorized(w, cs, "")
		return
	}
	payload, err := parseEncrypted(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	plain, err := cs.session.Unseal(payload.Signature, payload.Sealed)
	if err != nil {
		// A broken signature ends the context, as SSPI would.
		cs.session = nil
		s.unauthorized(w, cs, "")
		return
	}
	s.mu.Lock()
	s.stats.Messages++
	s.mu.Unlock()

	status, reply, err := s.handleWSMan(r.Context(), cs, plain)
	if errors.Is(err, errDrop) {
		s.drop(w)
		return
	}
	if err != nil { // the request's context ended: nobody is listening
		return
	}
	sig, sealed := cs.session.Seal(reply)
	out := formatEncrypted(len(reply), sig, sealed)
	s.mu.Lock()
	s.stats.BytesOut += int64(len(out))
	s.mu.Unlock()
	w.Header().Set("Content-Type", encryptedContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// waitUnstalled holds a request while Faults.Stall is set; it reports
// false if the client or the server went away meanwhile.
func (s *Server) waitUnstalled(ctx context.Context) bool {
	for {
		s.mu.Lock()
		stall, changed := s.faults.Stall, s.faultsSet
		s.mu.Unlock()
		if !stall {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		case <-s.ctx.Done():
			return false
		}
	}
}

// authenticate runs one leg of the NTLM handshake. It reports whether it
// wrote the response (a challenge or a refusal); after a successful
// AUTHENTICATE the request goes on to be served.
func (s *Server) authenticate(w http.ResponseWriter, cs *connState, header string) bool {
	scheme, token, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Negotiate") && !strings.EqualFold(scheme, "NTLM") {
		s.unauthorized(w, cs, "")
		return true
	}
	msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || len(msg) < 12 {
		s.unauthorized(w, cs, "")
		return true
	}
	cs.scheme = scheme
	switch binary.LittleEndian.Uint32(msg[8:12]) {
	case ntlmNegotiateType:
		cs.session = nil
		cs.acceptor = &ntlmAcceptor{user: s.user, domain: s.domain, password: s.opts.Password,
			computer: "AZS-ERCS01", now: s.opts.Now}
		if s.opts.TLS {
			cs.acceptor.bindings = s.bindings
		}
		var challenge [8]byte
		if _, err := io.ReadFull(s.opts.Rand, challenge[:]); err != nil {
			http.Error(w, "no randomness", http.StatusInternalServerError)
			return true
		}
		out, err := cs.acceptor.Challenge(msg, challenge)
		if err != nil {
			cs.acceptor = nil
			s.unauthorized(w, cs, "")
			return true
		}
		s.unauthorized(w, cs, base64.StdEncoding.EncodeToString(out))
		return true
	case ntlmAuthenticateType:
		if cs.acceptor == nil {
			s.unauthorized(w, cs, "")
			return true
		}
		id, err := cs.acceptor.Authenticate(msg)
		cs.acceptor = nil
		if err != nil {
			s.mu.Lock()
			s.stats.AuthFailures++
			if errors.Is(err, errChannelBindings) {
				s.stats.NoChannelBindings++
			}
			s.mu.Unlock()
			s.log.Debug("pepsim: authentication failed", "err", err)
			cs.session = nil
			s.unauthorized(w, cs, "")
			return true
		}
		s.mu.Lock()
		s.stats.Handshakes++
		s.mu.Unlock()
		cs.session = id.Session
		cs.identity = id.Domain + `\` + id.User
		return false
	default:
		s.unauthorized(w, cs, "")
		return true
	}
}

// unauthorized writes a 401 with the Negotiate challenge (or the bare
// scheme to start over), closing nothing: the handshake continues on the
// same connection.
func (s *Server) unauthorized(w http.ResponseWriter, cs *connState, token string) {
	scheme := "Negotiate"
	if cs != nil && cs.scheme != "" && token != "" {
		scheme = cs.scheme
	}
	if token != "" {
		w.Header().Set("WWW-Authenticate", scheme+" "+token)
	} else {
		w.Header().Add("WWW-Authenticate", "Negotiate")
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}

// drop closes the connection without writing a response.
func (s *Server) drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	c, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = c.Close()
}
