package pepsim_test

import (
	"encoding/base64"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/simplexml/dom"
	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/azs-courier/azs-courier/pep/pepsim"
	"github.com/azs-courier/azs-courier/pep/psrp"
)

// masterzenPost sends one message through masterzen's NewEncryption("ntlm")
// transport: a third independent client (its own MIME framing over bodgit's
// sealing, a new handshake per message).
func masterzenPost(t testing.TB, srv *pepsim.Server, password string, msg *soap.SoapMessage) (string, error) {
	t.Helper()
	host, portText, _ := net.SplitHostPort(srv.Addr())
	port, _ := strconv.Atoi(portText)
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	var tr winrm.Transporter
	params := *winrm.DefaultParameters
	params.Timeout = "PT20S"
	params.TransportDecorator = func() winrm.Transporter {
		e, err := winrm.NewEncryption("ntlm")
		if err != nil {
			t.Fatal(err)
		}
		tr = e
		return e
	}
	client, err := winrm.NewClientWithParameters(winrm.NewEndpoint(host, port, false, false, nil, nil, nil, 10*time.Second),
		`AZS\CloudAdmin`, password, &params)
	if err != nil {
		t.Fatal(err)
	}
	return tr.Post(client, msg)
}

// masterzenCreate builds the PSRP Create of psrp-winrm.md §1.5 with
// masterzen's soap package.
func masterzenCreate(srv *pepsim.Server, rpid psrp.GUID) *soap.SoapMessage {
	var f psrp.Fragmenter
	data := f.Encode(message(rpid, psrp.GUID{}, psrp.DefaultSessionCapability),
		message(rpid, psrp.GUID{}, psrp.InitRunspacePool{MinRunspaces: 1, MaxRunspaces: 1}))
	msg := soap.NewMessage()
	msg.Header().To(srv.URL()).ReplyTo("http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous").
		MaxEnvelopeSize(153600).Id("uuid:" + psrp.NewGUID().String()).Locale("en-US").Timeout("PT20S").
		Action("http://schemas.xmlsoap.org/ws/2004/09/transfer/Create").
		ResourceURI(pepsim.ResourceURI).
		AddOption(soap.NewHeaderOption("protocolversion", "2.3")).Build()
	shell := msg.CreateBodyElement("Shell", soap.DOM_NS_WIN_SHELL)
	shell.SetAttr("ShellId", rpid.String())
	msg.CreateElement(shell, "InputStreams", soap.DOM_NS_WIN_SHELL).SetContent("stdin pr")
	msg.CreateElement(shell, "OutputStreams", soap.DOM_NS_WIN_SHELL).SetContent("stdout")
	cx := dom.CreateElement("creationXml")
	cx.SetAttr("xmlns", "http://schemas.microsoft.com/powershell")
	cx.SetContent(base64.StdEncoding.EncodeToString(data))
	shell.AddChild(cx)
	return msg
}

// TestMasterzenEncryption runs masterzen's sealed transport against the
// simulator and counts what it costs per WS-Man message. masterzen's soap
// header builder writes mustUnderstand without the SOAP prefix and no
// MustComply on the protocolversion option; the simulator, as strict as a
// conforming server may be, refuses that envelope with a fault, which still
// travels sealed and so shows what the transport costs.
func TestMasterzenEncryption(t *testing.T) {
	srv := start(t, pepsim.Options{})
	rpid := psrp.NewGUID()
	// masterzen's Encryption returns an HTTP 500 fault as a body, not an
	// error (psrp-winrm.md §1.3).
	body, err := masterzenPost(t, srv, testPassword, masterzenCreate(srv, rpid))
	if err != nil {
		t.Fatalf("masterzen Post: %v", err)
	}
	r := parseReply(t, body)
	if r.Body.Fault == nil || r.Body.Fault.Subcode != "w:SchemaValidationError" || !strings.Contains(r.Body.Fault.Detail.WSManFault.Message, "mustUnderstand") {
		t.Errorf("masterzen's Create: got %.300s, want a SchemaValidationError about mustUnderstand", body)
	}
	st := srv.Stats()
	if st.Requests != 4 || st.Handshakes != 1 || st.Messages != 1 {
		t.Errorf("masterzen, one message: %d requests, %d handshakes, %d messages; want 4, 1, 1", st.Requests, st.Handshakes, st.Messages)
	}

	// With a wrong password masterzen falls back to an unencrypted
	// ClientNTLM post; the simulator must refuse that body too. masterzen
	// shares http.DefaultTransport, whose idle connection is already
	// authenticated (NTLM authenticates connections), so drop it first.
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	if _, err := masterzenPost(t, srv, "wrong", masterzenCreate(srv, psrp.NewGUID())); err == nil {
		t.Error("masterzen with a wrong password: got no error")
	}
	if st := srv.Stats(); st.Messages != 1 {
		t.Errorf("messages served: got %d, want 1 (nothing served from the failed post)", st.Messages)
	}
	if srv.OpenShells() != 0 {
		t.Errorf("open shells: got %d, want 0", srv.OpenShells())
	}
}
