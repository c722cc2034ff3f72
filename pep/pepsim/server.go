// Package pepsim is a simulated Azure Stack Hub privileged endpoint (PEP): a
// real WS-Management server on loopback that speaks WinRM's NTLM
// authentication and message encryption, the WinRS shell operations and
// PSRP, with the JEA behaviour of the PrivilegedEndpoint configuration. The
// PEP client in package pep talks to it unchanged; tests, the training mode
// and `azs-courier pep-simulator` use it.
//
// The simulator holds one stamp (cloud ID, version, nodes) and its
// activation state in memory. Faults (wrong password, dropped connections,
// WS-Man faults, TimedOut, a broken pool, "another action is in progress",
// slowness) are switched on through [Faults]; unset faults never fire.
//
// Package pepsim must never import app, ui, courier, azure, pep (the client)
// or Fyne; it reuses only the PSRP encoding of pep/psrp.
package pepsim

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/azs-courier/azs-courier/internal/loopbackca"
)

// ResourceURI is the ResourceURI of the PEP's PowerShell session
// configuration; every request must carry it.
const ResourceURI = "http://schemas.microsoft.com/powershell/PrivilegedEndpoint"

// Defaults of [Options].
const (
	DefaultUser         = `AZS\CloudAdmin`
	DefaultStampVersion = "1.2311.2.23"
	DefaultNodes        = 4
	DefaultCloudID      = "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7"
)

// Options configure a [Server]. The zero value works: a 4-node stamp on
// 127.0.0.1:0 accepting AZS\CloudAdmin with an empty password.
type Options struct {
	// Addr is the listen address; "" means "127.0.0.1:0".
	Addr string
	// TLS serves HTTPS (WinRM's 5986 listener) with a certificate from a
	// throwaway CA; see [Server.CertPool]. Over TLS, NTLM authenticates and
	// bodies may travel unsealed, as WinRM allows on HTTPS. The listener
	// behaves as CbtHardeningLevel=Strict: an NTLM AUTHENTICATE must carry
	// the channel bindings of the TLS connection ([MS-NLMP] 3.1.5.1.2).
	TLS bool
	// User is the PEP account, DOMAIN\name; "" means DefaultUser.
	User string
	// Password is the account's password.
	Password string

	// CloudID, StampVersion and Nodes describe the stamp; empty values take
	// the defaults above.
	CloudID      string
	StampVersion string
	Nodes        int
	// TranscriptsUser and TranscriptsPassword are the share account
	// Close-PrivilegedEndpoint -TranscriptsPathDestination -Credential
	// accepts; an empty TranscriptsUser accepts any.
	TranscriptsUser     string
	TranscriptsPassword string
	// RequestPublicKey makes the server ask for the client's public key
	// (PUBLIC_KEY_REQUEST, the server-initiated session key transfer of
	// [MS-PSRP] 4.1.6) as soon as a pool is open, as a server does before it
	// has secure data to exchange. Without it the client starts the
	// exchange itself before it sends a SecureString (4.1.5).
	RequestPublicKey bool

	// WithoutCommands are commands of the PEP role this stamp does not
	// expose (an older or trimmed role): calling one fails with
	// CommandNotFoundException, as PowerShell reports it.
	WithoutCommands []string
	// RegionName and DomainFQDN are reported by
	// Get-AzureStackStampInformation; defaults "local" and "azs.local".
	RegionName string
	DomainFQDN string

	// TokenDelay is how long New-RegistrationToken works (spread over its
	// progress records); ActivationDelay likewise for
	// New-AzureStackActivation and Remove-AzureStackActivation.
	TokenDelay      time.Duration
	ActivationDelay time.Duration

	// TimeScale speeds the simulation up: simulated seconds per real
	// second (0 or 1: real time). It scales TokenDelay, ActivationDelay,
	// the cmdlets' progress pacing and the Receive long poll (a client's
	// PT20S OperationTimeout lasts 20 ms at 1000). [Invocation] times are
	// simulated time. The HTTP Date header and NTLM timestamps keep Now.
	TimeScale float64
	// ClockSkew shifts the HTTP Date header of every response from Now,
	// as a PEP whose clock is off would send it.
	ClockSkew time.Duration

	// Faults injects failures; see [Faults].
	Faults Faults

	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand supplies challenges and IDs; nil means crypto/rand.
	Rand io.Reader
}

// Faults are failures the server produces on demand. Counters count down
// one per fault produced; a negative counter never runs out. Unset faults
// never fire.
type Faults struct {
	// DropReceives closes the TCP connection without a reply on the next
	// DropReceives Receive requests for a pipeline (mid-receive).
	DropReceives int
	// InternalErrors answers the next InternalErrors authenticated requests
	// whose WS-Man action ends in InternalErrorAction ("Create", "Command",
	// "Receive", "Send", "Signal", "Delete"; "" means any) with an HTTP 500
	// w:InternalError fault.
	InternalErrors      int
	InternalErrorAction string
	// TimedOut answers the next TimedOut Receive requests with a w:TimedOut
	// fault even when output is waiting.
	TimedOut int
	// AfterCommands holds DropReceives, InternalErrors and TimedOut back
	// until the first AfterCommands pipelines have started, so that a fault
	// can hit a later command (the token, the activation) rather than the
	// stamp information every session starts with.
	AfterCommands int
	// BrokenPool opens runspace pools in the Broken state.
	BrokenPool bool
	// Busy fails the next Busy action-plan cmdlets (New-RegistrationToken,
	// New-AzureStackActivation, Remove-AzureStackActivation) with the PEP's
	// "another action is in progress" error.
	Busy int
	// CommandErrors makes the next CommandErrors invocations of the command
	// named CommandErrorName ("" means any) throw a terminating error
	// after binding: a PEP function failing for a reason that may pass.
	CommandErrors    int
	CommandErrorName string
	// Latency delays every HTTP response.
	Latency time.Duration
	// Stall makes the server stop answering, as a stopped (SIGSTOP) or
	// hung ERCS VM does: connections are accepted and requests read, but
	// no reply is sent until the fault is cleared or the server closes.
	Stall bool
}

// TranscriptCopy is one transcript export Close-PrivilegedEndpoint made:
// the share path and the credential it received, decrypted from the
// PSCredential's SecureString with the pool's session key, for tests to
// check what the client sent.
type TranscriptCopy struct {
	Path     string
	User     string
	Password string
	At       time.Time
}

// Invocation is one command a pipeline ran, as the simulator saw it, for
// tests of what the client asked for and in which order.
type Invocation struct {
	Command string            // the cmdlet's canonical name
	Args    map[string]string // bound parameters; a credential shows only its user name
	// Queued is how long (simulated time) the pipeline waited for the
	// pool's single runspace before it started.
	Queued time.Duration
	// Start and End are simulated times since the server started; End is
	// zero while the command runs.
	Start, End time.Duration
	// Outcome is "Running", "Completed", "Failed: <message>", "Stopped"
	// (crtl_c), "Terminated" (Signal Terminate) or "Closed" (Delete).
	Outcome string
}

// Stats counts what crossed the wire since the server started.
type Stats struct {
	Requests   int   // HTTP requests, including authentication legs
	Handshakes int   // completed NTLM handshakes
	Messages   int   // decrypted WS-Man messages handled
	BytesIn    int64 // request bodies, as sent
	BytesOut   int64 // response bodies, as sent
	// Plaintext counts WS-Man bodies refused because they were not sealed.
	Plaintext int
	// AuthFailures counts rejected AUTHENTICATE messages.
	AuthFailures int
	// Chunked counts requests refused because they came without a
	// Content-Length ([MS-WSMV] 2.2.9.1.1.1).
	Chunked int
	// NoChannelBindings counts AUTHENTICATE messages refused over TLS for
	// missing or wrong channel bindings.
	NoChannelBindings int
	// Connections counts accepted TCP connections.
	Connections int
	// Actions counts the WS-Man messages handled by action (the last part
	// of its URI: Create, Receive, Command, Send, Signal, Delete), and
	// TimedOut the Receives answered with w:TimedOut.
	Actions  map[string]int
	TimedOut int
}

// Session describes a runspace pool as the client opened it, for tests of
// the client's settings.
type Session struct {
	ShellID          string
	Owner            string // DOMAIN\user that authenticated
	Locale           string // w:Locale xml:lang of the Create
	DataLocale       string // p:DataLocale xml:lang of the Create
	ProtocolVersion  string // the protocolversion option
	OperationTimeout string // as sent, e.g. PT20S
	MaxEnvelopeSize  string
	IdleTimeout      string // rsp:IdleTimeOut of the Create, e.g. PT3600S; "" when none was sent
}

// Server is a running simulated PEP. Its methods are safe for concurrent use.
type Server struct {
	opts     Options
	domain   string
	user     string
	listener net.Listener
	http     *http.Server
	url      string
	certPEM  []byte
	bindings []byte // MsvAvChannelBindings a client over TLS must send
	log      *slog.Logger
	ctx      context.Context
	cancel   context.CancelFunc

	started time.Time // real time, for the simulated clock

	mu          sync.Mutex
	faults      Faults
	faultsSet   chan struct{} // closed and replaced by SetFaults
	invs        []*Invocation
	stats       Stats
	shells      map[string]*shell
	activated   bool
	nodes       int    // scale unit nodes now (SetNodes changes Options.Nodes)
	key         string // activation key in force
	keyPairs    int    // Set-RegistrationKeyPair calls
	transcripts []TranscriptCopy
	sessions    []Session
	closed      bool
}

// New starts a simulated PEP listening on opts.Addr. It panics if it cannot
// listen, as httptest.NewServer does; use [Start] to get the error.
func New(opts Options) *Server {
	s, err := Start(opts)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is [New] returning the listen error instead of panicking.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.User == "" {
		opts.User = DefaultUser
	}
	if opts.CloudID == "" {
		opts.CloudID = DefaultCloudID
	}
	if opts.StampVersion == "" {
		opts.StampVersion = DefaultStampVersion
	}
	if opts.Nodes <= 0 {
		opts.Nodes = DefaultNodes
	}
	if opts.RegionName == "" {
		opts.RegionName = "local"
	}
	if opts.DomainFQDN == "" {
		opts.DomainFQDN = "azs.local"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if _, err := parseVersion(opts.StampVersion); err != nil {
		return nil, fmt.Errorf("pepsim: stamp version %q: %w", opts.StampVersion, err)
	}
	domain, user, ok := strings.Cut(opts.User, `\`)
	if !ok || domain == "" || user == "" {
		return nil, fmt.Errorf(`pepsim: user %q is not DOMAIN\name`, opts.User)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("pepsim: listen on %s: %w", opts.Addr, err)
	}
	scheme := "http"
	var certPEM, bindings []byte
	if opts.TLS {
		ca, err := loopbackca.New(opts.Now(), "AZS-ERCS01 (pepsim) test CA")
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("pepsim: certificate: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{ca.Cert}, MinVersion: tls.VersionTLS12})
		scheme, certPEM = "https", ca.PEM
		if bindings, err = channelBindingHash(ca.Cert.Certificate[0]); err != nil {
			ln.Close()
			return nil, fmt.Errorf("pepsim: certificate: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:     opts,
		domain:   domain,
		user:     user,
		listener: ln,
		url:      scheme + "://" + ln.Addr().String() + "/wsman",
		certPEM:  certPEM,
		bindings: bindings,
		log:      log,
		ctx:      ctx,
		cancel:   cancel,
		faults:   opts.Faults,
		shells:   make(map[string]*shell),
		started:  time.Now(),

		faultsSet: make(chan struct{}),
	}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			s.mu.Lock()
			s.stats.Connections++
			s.mu.Unlock()
			return context.WithValue(ctx, connKey{}, &connState{conn: c})
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// URL returns the WS-Man endpoint, http://127.0.0.1:port/wsman (https
// with Options.TLS).
func (s *Server) URL() string { return s.url }

// Addr returns the listen address, host:port, as the client's --pep flag
// takes it.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Close stops the server, ends running pipelines and closes every
// connection. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	_ = s.http.Close()
}

// SetFaults replaces the fault configuration.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	close(s.faultsSet)
	s.faultsSet = make(chan struct{})
}

// Transcripts returns the transcript exports made so far, oldest first.
func (s *Server) Transcripts() []TranscriptCopy {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TranscriptCopy(nil), s.transcripts...)
}

// Invocations returns every command run so far, in the order they
// started.
func (s *Server) Invocations() []Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Invocation, len(s.invs))
	for i, v := range s.invs {
		out[i] = *v
		out[i].Args = maps.Clone(v.Args)
	}
	return out
}

// scale is TimeScale, 1 when unset.
func (s *Server) scale() float64 {
	if s.opts.TimeScale > 0 {
		return s.opts.TimeScale
	}
	return 1
}

// realTime converts a simulated duration to the real time it takes.
func (s *Server) realTime(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.scale())
}

// simNow is the simulated time since the server started.
func (s *Server) simNow() time.Duration {
	return time.Duration(float64(time.Since(s.started)) * s.scale())
}

// sleep waits the simulated duration d, or until ctx ends.
func (s *Server) sleep(ctx context.Context, d time.Duration) error {
	return sleep(ctx, s.realTime(d))
}

// Stats returns the traffic counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Actions = maps.Clone(s.stats.Actions)
	return st
}

// CloudID returns the stamp's cloud ID.
func (s *Server) CloudID() string { return s.opts.CloudID }

// StampVersion returns the stamp's version.
func (s *Server) StampVersion() string { return s.opts.StampVersion }

// Nodes returns the number of scale-unit nodes.
func (s *Server) Nodes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nodes == 0 {
		return s.opts.Nodes
	}
	return s.nodes
}

// SetNodes changes the stamp's node count, as adding or removing scale unit
// nodes does: later stamp information and tokens report n nodes.
func (s *Server) SetNodes(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes = n
}

// User returns the account the server accepts, DOMAIN\name.
func (s *Server) User() string { return s.opts.User }

// Activated reports whether an activation key is in force.
func (s *Server) Activated() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.activated
}

// ActivationKey returns the activation key in force, or "".
func (s *Server) ActivationKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// Sessions returns every runspace pool created so far, oldest first.
func (s *Server) Sessions() []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Session(nil), s.sessions...)
}

// OpenShells returns the number of runspace pools not yet deleted.
func (s *Server) OpenShells() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.shells)
}

// take decrements a fault counter and reports whether the fault fires.
func take(n *int) bool {
	switch {
	case *n == 0:
		return false
	case *n > 0:
		*n--
	}
	return true
}

func (s *Server) newID() string {
	var b [16]byte
	if _, err := io.ReadFull(s.opts.Rand, b[:]); err != nil {
		panic(fmt.Sprintf("pepsim: randomness: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

var errClosed = errors.New("pepsim: server closed")
