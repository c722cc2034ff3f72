package pepsim_test

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"

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
