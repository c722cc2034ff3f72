package azuresim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/azs-courier/azs-courier/internal/loopbackca"
)

// Default identities of the simulated tenant.
const (
	DefaultTenantID       = "8c4f7a51-2d3e-4b6a-9f10-5e7d3c2b1a09"
	DefaultClientID       = "3f2b9c1e-7a4d-4e8b-b5c6-0d1e2f3a4b5c"
	DefaultClientSecret   = "azuresim-secret-not-for-production"
	DefaultSubscriptionID = "dd8597b4-8739-4467-8b10-f8679f62bfbf"
	// DefaultUser is the user a device-code sign-in signs in.
	DefaultUser = "operator@contoso.example"
)

// Subscription is a subscription the simulated tenant has.
type Subscription struct {
	ID   string
	Name string
	// State is the subscription state ARM reports (Enabled, Warned, PastDue,
	// Disabled, Deleted); empty means Enabled.
	State string
}

// Faults are failures to inject. The zero value injects nothing. Counters
// apply to the next N ARM requests (not to the authority) and count down.
type Faults struct {
	// ExpiredToken answers every ARM request 401 ExpiredAuthenticationToken.
	ExpiredToken bool
	// DenyLocks answers lock writes and deletes 403 AuthorizationFailed, as
	// for a user without Microsoft.Authorization/locks/* (e.g. Contributor).
	// Unlike Options.Permissions it leaves .../permissions unchanged, as a
	// deny assignment would.
	DenyLocks bool
	// Throttle answers the next Throttle ARM requests 429 with Retry-After.
	Throttle int
	// RetryAfter is the delay the 429 asks for (default 1 s). It is sent as
	// Retry-After in whole seconds and, exactly, as retry-after-ms.
	RetryAfter time.Duration
	// ServerErrors answers the next ServerErrors ARM requests 500.
	ServerErrors int
	// ResetConnections closes the connection of the next ResetConnections
	// ARM requests without an answer.
	ResetConnections int
	// CloudIDTaken answers registration PUTs 409: the cloud ID is already
	// registered (as when another subscription holds it).
	CloudIDTaken bool
	// KeyCloudID, when set, is put in activation keys instead of the
	// registration's cloud ID, as if Azure answered for another stamp.
	KeyCloudID string
}

// Options configure a Server. The zero value is usable.
type Options struct {
	// Addr is the listen address; default 127.0.0.1:0.
	Addr          string
	TenantID      string
	ClientID      string
	ClientSecret  string
	Subscriptions []Subscription
	// ProviderRegisteringPolls is how many provider reads answer
	// "Registering" after a register call before "Registered".
	ProviderRegisteringPolls int
	// ProviderRegistered starts Microsoft.AzureStack Registered in every
	// subscription; by default it is NotRegistered, as in a subscription that
	// never registered an Azure Stack Hub.
	ProviderRegistered bool
	// Permissions are the caller's role assignments at subscription scope,
	// one Permission each. Nil means one Owner assignment; an empty, non-nil
	// slice means none. ARM requests whose action they do not grant are
	// answered 403 AuthorizationFailed, and
	// .../providers/Microsoft.Authorization/permissions lists them.
	Permissions []Permission
	// ResourceGroupPermissions are further assignments at resource-group
	// scope, keyed by resource group name (case-insensitive).
	ResourceGroupPermissions map[string][]Permission
	// Locations are the names of the regions the subscriptions offer
	// (GET /subscriptions/{id}/locations, and where resource groups may be
	// made); nil means DefaultLocations.
	Locations []string
	// Latency delays every answer.
	Latency time.Duration
	// TokenLifetime of issued access tokens; default 1 h.
	TokenLifetime time.Duration
	// DeviceCodeManual requires a visit to /devicelogin?code=USERCODE to
	// approve a device code; by default it is approved after one pending poll.
	DeviceCodeManual bool
	Faults           Faults
	// Now is the clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// DefaultLocations are the regions a simulated subscription offers unless
// Options.Locations says otherwise: the module's default resource-group
// locations of the three clouds and a few others.
func DefaultLocations() []string {
	return []string{"westcentralus", "westus", "eastus", "westeurope", "northeurope", "usgovvirginia", "chinaeast"}
}

// Request is a request the simulator received.
type Request struct {
	// Seq numbers requests in the order they arrived, from 1.
	Seq int
	// Kind is "arm" or "authority".
	Kind       string
	Method     string
	Path       string
	APIVersion string
	Query      url.Values
	// Body is the request body; for the authority, secrets are redacted.
	Body   []byte
	Status int
	// Fault names the injected fault that answered, if any.
	Fault string
}

// Server is a running simulated Azure.
type Server struct {
	opts     Options
	ca       *loopbackca.CA
	key      *rsa.PrivateKey
	kid      string
	srv      *http.Server
	ln       net.Listener
	url      string
	done     chan struct{}
	logger   *slog.Logger
	mu       sync.Mutex
	seq      int
	faults   Faults
	requests []Request
	perms    []Permission
	rgPerms  map[string][]Permission
	roles    map[string]*roleDef // lower-case role definition ID → custom role
	subs     map[string]*subState
	devices  map[string]*deviceCode
	refresh  map[string]string // refresh token → user oid
	issued   []string          // access and refresh tokens handed out
}

// New starts a simulator. It panics if it cannot listen or make its keys,
// like httptest.NewServer.
func New(o Options) *Server {
	s, err := Start(o)
	if err != nil {
		panic(err)
	}
	return s
}

// Start starts a simulator and returns an error when it cannot.
func Start(o Options) (*Server, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.TenantID == "" {
		o.TenantID = DefaultTenantID
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if len(o.Subscriptions) == 0 {
		o.Subscriptions = []Subscription{{ID: DefaultSubscriptionID, Name: "Azure Stack registration (simulated)"}}
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Locations == nil {
		o.Locations = DefaultLocations()
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ca, err := loopbackca.New(o.Now(), "AzS Courier azuresim test CA")
	if err != nil {
		return nil, fmt.Errorf("azuresim: make test CA: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("azuresim: make signing key: %w", err)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("azuresim: listen on %s: %w", o.Addr, err)
	}
	s := &Server{
		opts: o, ca: ca, key: key, kid: randomHex(16), ln: ln, done: make(chan struct{}),
		logger: logger, faults: o.Faults,
		perms:   clonePermissions(o.Permissions),
		rgPerms: map[string][]Permission{},
		roles:   map[string]*roleDef{},
		subs:    map[string]*subState{},
		devices: map[string]*deviceCode{},
		refresh: map[string]string{},
	}
	for name, p := range o.ResourceGroupPermissions {
		s.rgPerms[name] = clonePermissions(p)
	}
	for _, sub := range o.Subscriptions {
		st := newSubState(sub)
		if o.ProviderRegistered {
			st.providers["microsoft.azurestack"] = &provider{namespace: "Microsoft.AzureStack", state: "Registered"}
		}
		s.subs[strings.ToLower(sub.ID)] = st
	}
	s.url = "https://" + ln.Addr().String()
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serve),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{ca.Cert},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"}, // hijacking (connection resets) needs HTTP/1.1
		},
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(tls.NewListener(ln, s.srv.TLSConfig))
	}()
	return s, nil
}

// URL is the base URL of both the authority and ARM, https://127.0.0.1:port.
func (s *Server) URL() string { return s.url }

// Audience is the ARM token audience the simulator accepts (its URL).
func (s *Server) Audience() string { return s.url }

// TenantID, ClientID and ClientSecret identify the simulated service principal.
func (s *Server) TenantID() string     { return s.opts.TenantID }
func (s *Server) ClientID() string     { return s.opts.ClientID }
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// SubscriptionID returns the first subscription's ID.
func (s *Server) SubscriptionID() string { return s.opts.Subscriptions[0].ID }

// CertPool returns a pool holding the simulator's CA.
func (s *Server) CertPool() *x509.CertPool { return s.ca.Pool.Clone() }

// CAPEM returns the simulator's CA certificate in PEM.
func (s *Server) CAPEM() []byte { return bytes.Clone(s.ca.PEM) }

// PublicKey returns the key that verifies tokens and activation keys the
// simulator signs.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// Close stops the server and waits for it.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	<-s.done
}

// SetFaults replaces the faults to inject.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// SetPermissions replaces the caller's role assignments: at subscription
// scope (nil means Owner, as in Options.Permissions) and per resource group.
func (s *Server) SetPermissions(subscription []Permission, resourceGroups map[string][]Permission) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perms = clonePermissions(subscription)
	s.rgPerms = map[string][]Permission{}
	for name, p := range resourceGroups {
		s.rgPerms[name] = clonePermissions(p)
	}
}

func clonePermissions(p []Permission) []Permission {
	if p == nil {
		return nil
	}
	out := make([]Permission, len(p))
	for i, x := range p {
		out[i] = Permission{Actions: append([]string(nil), x.Actions...), NotActions: append([]string(nil), x.NotActions...)}
	}
	return out
}

// Requests returns the requests received so far, in the order they arrived.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestLog returns the ARM requests received so far, in the order they
// arrived, each as "METHOD /path" (no query), e.g. "DELETE
// /subscriptions/…/locks/RegistrationResourceLock", so that a test can check
// the order of the documented steps.
func (s *Server) RequestLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.requests {
		if r.Kind == "arm" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// IssuedTokens returns every access and refresh token the authority handed
// out, so that tests can check none of them leaks into output or files.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// recorder captures the status an answer was given.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if d := s.opts.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	kind := "arm"
	if isAuthorityPath(r.URL.Path) {
		kind = "authority"
	}
	rec := Request{Kind: kind, Method: r.Method, Path: r.URL.Path, APIVersion: r.URL.Query().Get("api-version"),
		Query: r.URL.Query(), Body: body}
	if kind == "authority" {
		rec.Body = redactForm(body)
	}
	rw := &recorder{ResponseWriter: w}
	// The request is logged as it arrives, so that the log keeps the order in
	// which a client sent its requests even if their answers overlap.
	seq := s.record(rec)
	if kind == "arm" {
		if fault := s.takeFault(); fault != "" {
			s.answerFault(rw, fault)
			s.finish(seq, rw.status, fault)
			return
		}
		s.serveARM(rw, r, body)
	} else {
		s.serveAuthority(rw, r, body)
	}
	s.finish(seq, rw.status, "")
	s.logger.Debug("azuresim", "kind", kind, "method", r.Method, "path", r.URL.Path, "status", rw.status)
}

// record logs a request as it arrives and returns its sequence number.
func (s *Server) record(r Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	r.Seq = s.seq
	s.requests = append(s.requests, r)
	return r.Seq
}

// finish fills in the answer of request seq, unless the log was reset since.
func (s *Server) finish(seq, status int, fault string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.requests) - 1; i >= 0; i-- {
		if s.requests[i].Seq == seq {
			s.requests[i].Status, s.requests[i].Fault = status, fault
			return
		}
	}
}

// takeFault returns the counted fault to inject into this ARM request.
func (s *Server) takeFault() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.faults.ResetConnections > 0:
		s.faults.ResetConnections--
		return "reset"
	case s.faults.Throttle > 0:
		s.faults.Throttle--
		return "throttle"
	case s.faults.ServerErrors > 0:
		s.faults.ServerErrors--
		return "server-error"
	}
	return ""
}

func (s *Server) currentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

func (s *Server) answerFault(w *recorder, fault string) {
	switch fault {
	case "reset":
		hj, ok := w.ResponseWriter.(http.Hijacker)
		if !ok {
			armError(w, http.StatusInternalServerError, "InternalServerError", "connection reset not possible")
			return
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			if tc, ok := conn.(*tls.Conn); ok {
				if nc, ok := tc.NetConn().(*net.TCPConn); ok {
					_ = nc.SetLinger(0) // RST, not FIN
				}
			}
			_ = conn.Close()
		}
		w.status = -1
	case "throttle":
		d := s.currentFaults().RetryAfter
		if d <= 0 {
			d = time.Second
		}
		secs := int((d + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		w.Header().Set("retry-after-ms", fmt.Sprint(d.Milliseconds()))
		armError(w, http.StatusTooManyRequests, "TooManyRequests",
			fmt.Sprintf("The request is being throttled as the limit has been reached for operation type. Retry after %d seconds.", secs))
	case "server-error":
		armError(w, http.StatusInternalServerError, "InternalServerError",
			"Encountered internal server error. Diagnostic information: timestamp '"+s.opts.Now().UTC().Format("20060102T150405Z")+"'.")
	}
}

// armError writes an ARM error body {"error":{"code","message"}}.
func armError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("x-ms-failure-cause", "gateway")
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func redactForm(body []byte) []byte {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil
	}
	for _, k := range []string{"client_secret", "refresh_token", "device_code", "client_assertion"} {
		if v.Has(k) {
			v.Set(k, "REDACTED")
		}
	}
	return []byte(v.Encode())
}

var errNotJSON = errors.New("not a JSON object")
