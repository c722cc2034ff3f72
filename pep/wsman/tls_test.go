package wsman

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHTTPSBasic runs the HTTPS transport against a TLS server that wants
// Basic credentials: it verifies the server against the given CA pool,
// sends the envelope unsealed inside TLS, and refuses an unknown CA.
func TestHTTPSBasic(t *testing.T) {
	var gotAuth, gotType string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != `AZS\CloudAdmin` || pass != "pw" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		gotAuth, gotType = "basic", r.Header.Get("Content-Type")
		b, _ := io.ReadAll(r.Body)
		env, _ := ParseEnvelope(b)
		w.Header().Set("Content-Type", soapContentType)
		io.WriteString(w, `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:RelatesTo>`+env.MessageID+`</a:RelatesTo></s:Header><s:Body/></s:Envelope>`)
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	tr, err := NewHTTPTransport(srv.URL+"/wsman", HTTPOptions{User: `AZS\CloudAdmin`, Password: "pw", Auth: AuthBasic, RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Transport: tr, To: srv.URL + "/wsman"}
	if _, err := c.Invoke(context.Background(), Request{Action: ActionDelete, ShellID: "S"}); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "basic" || !strings.HasPrefix(gotType, "application/soap+xml") {
		t.Errorf("server saw auth %q, content type %q; want Basic and plain SOAP inside TLS", gotAuth, gotType)
	}

	wrong, _ := NewHTTPTransport(srv.URL+"/wsman", HTTPOptions{User: `AZS\CloudAdmin`, Password: "pw", Auth: AuthBasic, RootCAs: x509.NewCertPool()})
	if _, err := wrong.RoundTrip(context.Background(), []byte("<x/>")); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("unknown CA: got %v, want a TLS verification error", err)
	}
	bad, _ := NewHTTPTransport(srv.URL+"/wsman", HTTPOptions{User: `AZS\CloudAdmin`, Password: "no", Auth: AuthBasic, RootCAs: pool})
	if _, err := bad.RoundTrip(context.Background(), []byte("<x/>")); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong password: got %v, want ErrUnauthorized", err)
	}
}
