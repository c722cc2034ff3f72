package pepsim_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/bodgit/ntlmssp"

	"github.com/azs-courier/azs-courier/pep"
	"github.com/azs-courier/azs-courier/pep/pepsim"
)

// TestHTTPS runs the real client over the simulator's HTTPS listener:
// certificate verification against the simulator's certificate, NTLM
// inside TLS, unsealed bodies.
func TestHTTPS(t *testing.T) {
	srv := start(t, pepsim.Options{TLS: true, Nodes: 2})
	if !strings.HasPrefix(srv.URL(), "https://") || srv.CertPool() == nil {
		t.Fatalf("URL %s, pool %v: want https and a certificate", srv.URL(), srv.CertPool())
	}
	ctx := context.Background()
	opts := pep.Options{Hosts: []string{srv.Addr()}, User: srv.User(), Password: testPassword, HTTPS: true, RootCAs: srv.CertPool()}
	c, err := pep.Dial(ctx, opts)
	if err != nil {
		t.Fatalf("Dial over HTTPS: %v", err)
	}
	tok, err := c.NewRegistrationToken(ctx, pep.TokenOptions{BillingModel: pep.BillingDevelopment})
	if err != nil || tok == "" {
		t.Fatalf("token over HTTPS: %q, %v", tok, err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st.Handshakes != 1 || st.Plaintext != 0 {
		t.Errorf("stats %+v: want one NTLM handshake and no refused bodies", st)
	}

	// A client that does not trust the certificate stops at TLS.
	opts.RootCAs = x509.NewCertPool()
	opts.Attempts = 1
	if _, err := pep.Dial(ctx, opts); err == nil {
		t.Error("Dial with an untrusted certificate succeeded")
	}
	if got := srv.Stats().Requests; got != st.Requests {
		t.Errorf("requests after a refused TLS handshake: got %d, want %d", got, st.Requests)
	}
}

// TestHTTPSChannelBindingsRequired checks that the TLS listener refuses an
// NTLM AUTHENTICATE without the channel bindings of its certificate, as
// WinRM does with CbtHardeningLevel=Strict, and accepts it with them.
func TestHTTPSChannelBindingsRequired(t *testing.T) {
	srv := start(t, pepsim.Options{TLS: true})
	for _, tt := range []struct {
		name     string
		bindings func(cs *tls.ConnectionState) *ntlmssp.ChannelBindings
		want     int
	}{
		{"none", func(*tls.ConnectionState) *ntlmssp.ChannelBindings { return nil }, http.StatusUnauthorized},
		{"another certificate", func(*tls.ConnectionState) *ntlmssp.ChannelBindings {
			sum := sha256.Sum256([]byte("not the certificate"))
			return &ntlmssp.ChannelBindings{ApplicationData: append([]byte("tls-server-end-point:"), sum[:]...)}
		}, http.StatusUnauthorized},
		{"tls-server-end-point", func(cs *tls.ConnectionState) *ntlmssp.ChannelBindings {
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			return &ntlmssp.ChannelBindings{ApplicationData: append([]byte("tls-server-end-point:"), sum[:]...)}
		}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nc, _ := ntlmssp.NewClient(ntlmssp.SetUserInfo("CloudAdmin", testPassword), ntlmssp.SetDomain("AZS"), ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
			hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool()}, MaxConnsPerHost: 1}}
			defer hc.CloseIdleConnections()
			var token []byte
			var status int
			var lastTLS *tls.ConnectionState
			for leg := range 2 {
				var cb *ntlmssp.ChannelBindings
				if leg == 1 {
					cb = tt.bindings(lastTLS)
				}
				out, err := nc.Authenticate(token, cb)
				if err != nil {
					t.Fatal(err)
				}
				req, _ := http.NewRequest(http.MethodPost, srv.URL(), nil)
				req.Header.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(out))
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				lastTLS, status = resp.TLS, resp.StatusCode
				tok, _ := strings.CutPrefix(resp.Header.Get("WWW-Authenticate"), "Negotiate ")
				token, _ = base64.StdEncoding.DecodeString(tok)
			}
			if status != tt.want {
				t.Errorf("AUTHENTICATE with %s channel bindings: HTTP %d, want %d", tt.name, status, tt.want)
			}
		})
	}
	if n := srv.Stats().NoChannelBindings; n != 2 {
		t.Errorf("Stats.NoChannelBindings = %d, want 2", n)
	}
}
