package wsman_test

import (
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"github.com/azs-courier/azs-courier/pep/pepsim"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

// TestAsWinrmTransporter plugs the sealed HTTP transport into masterzen's
// winrm.Client through Parameters.TransportDecorator. masterzen's own
// CreateShell asks for a cmd shell, which the PEP refuses with a WS-Man
// fault: the fault arriving, decrypted, proves the request went through
// our NTLM handshake and sealing, and that no body went out in plain text.
func TestAsWinrmTransporter(t *testing.T) {
	const password = "Sim-Passw0rd!"
	srv, err := pepsim.Start(pepsim.Options{Password: password})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tr, err := wsman.NewHTTPTransport(srv.URL(), wsman.HTTPOptions{User: srv.User(), Password: password})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	params := *winrm.DefaultParameters
	params.TransportDecorator = func() winrm.Transporter { return tr }
	host, port := splitHostPort(t, srv.Addr())
	client, err := winrm.NewClientWithParameters(winrm.NewEndpoint(host, port, false, false, nil, nil, nil, 10*time.Second), srv.User(), password, &params)
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.CreateShell()
	var f *wsman.Fault
	if !errors.As(err, &f) {
		t.Fatalf("got %v, want the PEP's WS-Man fault for a cmd shell", err)
	}
	st := srv.Stats()
	if st.Handshakes != 1 || st.Plaintext != 0 || st.Messages != 1 {
		t.Errorf("server stats %+v, want 1 handshake, 1 sealed message, no plain text", st)
	}
}

func splitHostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return h, port
}
