package pepsim_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/pep/pepsim"
	"github.com/azs-courier/azs-courier/pep/psrp"
)

// TestNTLMInterop authenticates and seals with bodgit/ntlmssp's client, an
// independent NTLM implementation, and runs a whole pipeline through it.
func TestNTLMInterop(t *testing.T) {
	srv := start(t, pepsim.Options{})
	c, status := dial(t, srv, `AZS\CloudAdmin`, testPassword)
	if status != http.StatusOK {
		t.Fatalf("authentication POST: HTTP %d, want 200", status)
	}
	s, _ := openPool(t, c)
	msgs := s.invoke(cmd("Get-AzureStackStampInformation"))
	if st := final(t, msgs); st.State != psrp.PipelineCompleted {
		t.Fatalf("pipeline state %v, want Completed (%v)", st.State, st.Error)
	}
	s.close()
	st := srv.Stats()
	if st.Handshakes != 1 {
		t.Errorf("handshakes: got %d, want 1 (one per connection)", st.Handshakes)
	}
	if st.Plaintext != 0 || st.AuthFailures != 0 {
		t.Errorf("plaintext %d, auth failures %d: want 0 and 0", st.Plaintext, st.AuthFailures)
	}
}

func TestNTLMAccounts(t *testing.T) {
	srv := start(t, pepsim.Options{User: `AZS\CloudAdmin`})
	tests := []struct {
		name, user, password string
		want                 int
	}{
		{"right", `AZS\CloudAdmin`, testPassword, http.StatusOK},
		{"user case-insensitive", `azs\cloudadmin`, testPassword, http.StatusOK},
		{"wrong password", `AZS\CloudAdmin`, "nope", http.StatusUnauthorized},
		{"password case matters", `AZS\CloudAdmin`, strings.ToLower(testPassword), http.StatusUnauthorized},
		{"unknown user", `AZS\AzureStackAdmin`, testPassword, http.StatusUnauthorized},
		{"other domain", `CONTOSO\CloudAdmin`, testPassword, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := dial(t, srv, tt.user, tt.password)
			if got != tt.want {
				t.Errorf("got HTTP %d, want %d", got, tt.want)
			}
		})
	}
}

// TestPlaintextRefused checks that a WS-Man body that is not sealed is
// never served, whether sent before or after authentication.
func TestPlaintextRefused(t *testing.T) {
	srv := start(t, pepsim.Options{})
	body := envelope(actCreate, "", protocolOption, createBody(psrp.NewGUID()), "PT20S")

	// Without any authentication.
	resp, err := http.Post(srv.URL(), "application/soap+xml;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous plain body: got HTTP %d, want 401", resp.StatusCode)
	}

	// Authenticated with an empty POST, then a body the client did not
	// seal on the same connection: the fallback masterzen's NewEncryption
	// takes.
	c, status := dial(t, srv, `AZS\CloudAdmin`, testPassword)
	if status != http.StatusOK {
		t.Fatalf("authenticating POST: got HTTP %d, want 200", status)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL(), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	resp, err = c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("authenticated plain body: got HTTP %d, want 401", resp.StatusCode)
	}
	st := srv.Stats()
	if st.Plaintext != 1 {
		t.Errorf("plaintext bodies refused: got %d, want 1", st.Plaintext)
	}
	if srv.OpenShells() != 0 {
		t.Errorf("open shells: got %d, want 0 (nothing served)", srv.OpenShells())
	}
}

// TestChunkedRefused checks that a request without Content-Length is
// refused ([MS-WSMV] 2.2.9.1.1.1: Content-Length MUST be present).
func TestChunkedRefused(t *testing.T) {
	srv := start(t, pepsim.Options{})
	// A body of unknown length makes net/http send it chunked.
	body := io.MultiReader(strings.NewReader("<s:Envelope/>"))
	resp, err := http.Post(srv.URL(), "application/soap+xml;charset=UTF-8", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusLengthRequired {
		t.Errorf("chunked POST: got HTTP %d, want 411", resp.StatusCode)
	}
	if n := srv.Stats().Chunked; n != 1 {
		t.Errorf("Stats.Chunked = %d, want 1", n)
	}
}
