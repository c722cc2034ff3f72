package pepsim_test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bodgit/ntlmssp"

	"github.com/azs-courier/azs-courier/pep/pepsim"
	"github.com/azs-courier/azs-courier/pep/psrp"
)

const testPassword = "Sim-Passw0rd!"

// start runs a simulator for one test.
func start(t testing.TB, opts pepsim.Options) *pepsim.Server {
	t.Helper()
	if opts.Password == "" {
		opts.Password = testPassword
	}
	srv, err := pepsim.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// sealedClient is an independent WinRM client for the tests: bodgit's NTLM
// client authenticates and seals (nothing of pep/wsman is used); the MIME
// framing is written here from [MS-WSMV] 2.2.9.1. bodgit's own http
// package is not used for sealed bodies: its line-based MIME rewriting
// corrupts binary payloads that contain CRLF or header-like lines.
type sealedClient struct {
	t    testing.TB
	url  string
	http *http.Client
	ntlm *ntlmssp.Client
}

// dial authenticates with an empty POST, as pypsrp and masterzen do, and
// returns the status of that POST.
func dial(t testing.TB, srv *pepsim.Server, user, password string) (*sealedClient, int) {
	t.Helper()
	domain, name, _ := strings.Cut(user, `\`)
	nc, err := ntlmssp.NewClient(ntlmssp.SetUserInfo(name, password), ntlmssp.SetDomain(domain),
		ntlmssp.SetWorkstation("TESTPC"), ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1}}
	t.Cleanup(hc.CloseIdleConnections)
	sc := &sealedClient{t: t, url: srv.URL(), http: hc, ntlm: nc}
	var token []byte
	for leg := range 2 {
		out, err := nc.Authenticate(token, nil)
		if err != nil {
			t.Fatalf("NTLM leg %d: %v", leg, err)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL(), nil)
		req.Header.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(out))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("NTLM leg %d: %v", leg, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if leg == 1 || resp.StatusCode != http.StatusUnauthorized {
			return sc, resp.StatusCode
		}
		h := resp.Header.Get("WWW-Authenticate")
		b64, ok := strings.CutPrefix(h, "Negotiate ")
		if !ok {
			t.Fatalf("no Negotiate challenge: %q", h)
		}
		if token, err = base64.StdEncoding.DecodeString(b64); err != nil {
			t.Fatal(err)
		}
	}
	panic("unreachable")
}

const (
	boundary     = "--Encrypted Boundary"
	protocolType = "application/HTTP-SPNEGO-session-encrypted"
)

// post seals one envelope, sends it and returns the HTTP status and the
// unsealed reply.
func (c *sealedClient) post(envelope string) (int, string, error) {
	sess := c.ntlm.SecuritySession()
	sealed, sig, err := sess.Wrap([]byte(envelope))
	if err != nil {
		return 0, "", err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\r\n\tContent-Type: %s\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d\r\n%s\r\n\tContent-Type: application/octet-stream\r\n",
		boundary, protocolType, len(envelope), boundary)
	b.Write([]byte{byte(len(sig)), 0, 0, 0})
	b.Write(sig)
	b.Write(sealed)
	b.WriteString(boundary + "--\r\n")
	req, _ := http.NewRequest(http.MethodPost, c.url, &b)
	req.Header.Set("Content-Type", `multipart/encrypted;protocol="`+protocolType+`";boundary="Encrypted Boundary"`)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/encrypted") {
		return resp.StatusCode, "", fmt.Errorf("HTTP %d reply is not sealed: %q", resp.StatusCode, body)
	}
	const octet = "\tContent-Type: application/octet-stream\r\n"
	i := bytes.Index(body, []byte(octet))
	end := bytes.LastIndex(body, []byte(boundary+"--"))
	if i < 0 || end < 0 || end < i+len(octet)+20 {
		return resp.StatusCode, "", fmt.Errorf("bad sealed reply framing: %q", body)
	}
	p := body[i+len(octet) : end]
	plain, err := sess.Unwrap(p[20:], p[4:20])
	if err != nil {
		return resp.StatusCode, "", fmt.Errorf("unseal reply: %w", err)
	}
	return resp.StatusCode, string(plain), nil
}

func (c *sealedClient) mustPost(envelope string) (int, string) {
	c.t.Helper()
	status, body, err := c.post(envelope)
	if err != nil {
		c.t.Fatalf("post: %v", err)
	}
	return status, body
}

var msgSeq int

// envelope builds a request the way pypsrp does.
func envelope(action, shellID, options, body string, timeout string) string {
	msgSeq++
	var b strings.Builder
	b.WriteString(`<s:Envelope xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:wsmv="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header>`)
	b.WriteString(`<wsa:Action s:mustUnderstand="true">` + action + `</wsa:Action>`)
	b.WriteString(`<wsman:MaxEnvelopeSize s:mustUnderstand="true">153600</wsman:MaxEnvelopeSize>`)
	fmt.Fprintf(&b, `<wsa:MessageID>uuid:00000000-0000-4000-8000-%012d</wsa:MessageID>`, msgSeq)
	b.WriteString(`<wsman:OperationTimeout>` + timeout + `</wsman:OperationTimeout>`)
	b.WriteString(`<wsman:ResourceURI s:mustUnderstand="true">` + pepsim.ResourceURI + `</wsman:ResourceURI>`)
	if options != "" {
		b.WriteString(`<wsman:OptionSet s:mustUnderstand="true">` + options + `</wsman:OptionSet>`)
	}
	if shellID != "" {
		b.WriteString(`<wsman:SelectorSet><wsman:Selector Name="ShellId">` + shellID + `</wsman:Selector></wsman:SelectorSet>`)
	}
	b.WriteString(`</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`)
	return b.String()
}

const (
	actCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actDelete  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actCommand = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	actReceive = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	actSignal  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
	actSend    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
)

func message(rpid, pid psrp.GUID, body psrp.Body) []byte {
	m := psrp.NewMessage(psrp.DestinationServer, rpid, pid, body)
	b, _ := m.MarshalBinary()
	return b
}

// createBody is a Create body with SESSION_CAPABILITY and INIT_RUNSPACEPOOL.
func createBody(rpid psrp.GUID) string {
	var f psrp.Fragmenter
	data := f.Encode(message(rpid, psrp.GUID{}, psrp.DefaultSessionCapability),
		message(rpid, psrp.GUID{}, psrp.InitRunspacePool{MinRunspaces: 1, MaxRunspaces: 1}))
	return `<rsp:Shell ShellId="` + rpid.String() + `"><rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams><creationXml xmlns="http://schemas.microsoft.com/powershell">` +
		base64.StdEncoding.EncodeToString(data) + `</creationXml></rsp:Shell>`
}

const protocolOption = `<wsman:Option MustComply="true" Name="protocolversion">2.3</wsman:Option>`

// reply is the part of a response envelope the tests read.
type reply struct {
	Action  string `xml:"Header>Action"`
	Relates string `xml:"Header>RelatesTo"`
	Body    struct {
		Streams []struct {
			CommandID string `xml:"CommandId,attr"`
			Data      string `xml:",chardata"`
		} `xml:"ReceiveResponse>Stream"`
		CommandState *struct {
			State string `xml:"State,attr"`
		} `xml:"ReceiveResponse>CommandState"`
		ShellID   string `xml:"ResourceCreated>ReferenceParameters>SelectorSet>Selector"`
		CommandID string `xml:"CommandResponse>CommandId"`
		Fault     *struct {
			Subcode string `xml:"Code>Subcode>Value"`
			Reason  string `xml:"Reason>Text"`
			Detail  struct {
				WSManFault struct {
					Code    string `xml:"Code,attr"`
					Message string `xml:"Message"`
				} `xml:"WSManFault"`
			} `xml:"Detail"`
		} `xml:"Fault"`
	} `xml:"Body"`
}

func parseReply(t testing.TB, s string) reply {
	t.Helper()
	var r reply
	if err := xml.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("reply is not XML: %v\n%s", err, s)
	}
	return r
}

// session is an open runspace pool driven by hand.
type session struct {
	t      testing.TB
	c      *sealedClient
	rpid   psrp.GUID
	defrag psrp.Defragmenter
	frag   psrp.Fragmenter
}

// openPool creates a shell and receives until RUNSPACEPOOL_STATE arrives.
func openPool(t testing.TB, c *sealedClient) (*session, []psrp.Message) {
	t.Helper()
	s := &session{t: t, c: c, rpid: psrp.NewGUID()}
	s.frag.Fragment(nil) // object IDs 1 and 2 went into creationXml
	s.frag.Fragment(nil)
	status, body := c.mustPost(envelope(actCreate, "", protocolOption, createBody(s.rpid), "PT20S"))
	if status != 200 {
		t.Fatalf("Create: HTTP %d\n%s", status, body)
	}
	if got := parseReply(t, body).Body.ShellID; got != s.rpid.String() {
		t.Fatalf("Create: ShellId %q, want %q", got, s.rpid)
	}
	var msgs []psrp.Message
	for range 10 {
		ms, _, f := s.receive("")
		if f != "" {
			t.Fatalf("pool Receive: fault %s", f)
		}
		msgs = append(msgs, ms...)
		for _, m := range ms {
			if m.Type == psrp.RunspacePoolStateType {
				return s, msgs
			}
		}
	}
	t.Fatal("no RUNSPACEPOOL_STATE after 10 Receives")
	return nil, nil
}

// receive does one Receive for the pool ("") or a pipeline; it returns the
// messages, whether the command is done, and the fault subcode if any.
func (s *session) receive(cmdID string) ([]psrp.Message, bool, string) {
	s.t.Helper()
	attr := ""
	if cmdID != "" {
		attr = ` CommandId="` + cmdID + `"`
	}
	_, body := s.c.mustPost(envelope(actReceive, s.rpid.String(), `<wsman:Option Name="WSMAN_CMDSHELL_OPTION_KEEPALIVE">True</wsman:Option>`,
		`<rsp:Receive><rsp:DesiredStream`+attr+`>stdout</rsp:DesiredStream></rsp:Receive>`, "PT5S"))
	r := parseReply(s.t, body)
	if r.Body.Fault != nil {
		return nil, false, r.Body.Fault.Subcode
	}
	var msgs []psrp.Message
	for _, st := range r.Body.Streams {
		data, err := base64.StdEncoding.DecodeString(st.Data)
		if err != nil {
			s.t.Fatalf("stream is not base64: %v", err)
		}
		raws, err := s.defrag.AddData(data)
		if err != nil {
			s.t.Fatalf("fragments: %v", err)
		}
		for _, raw := range raws {
			var m psrp.Message
			if err := m.UnmarshalBinary(raw); err != nil {
				s.t.Fatalf("message: %v", err)
			}
			msgs = append(msgs, m)
		}
	}
	done := r.Body.CommandState != nil && strings.HasSuffix(r.Body.CommandState.State, "/Done")
	return msgs, done, ""
}

// invoke runs one pipeline to completion and returns all its messages.
func (s *session) invoke(cp psrp.CreatePipeline) []psrp.Message {
	s.t.Helper()
	pid := psrp.NewGUID()
	data := s.frag.Encode(message(s.rpid, pid, cp))
	body := `<rsp:CommandLine CommandId="` + pid.String() + `"><rsp:Command /><rsp:Arguments>` + base64.StdEncoding.EncodeToString(data) + `</rsp:Arguments></rsp:CommandLine>`
	status, rb := s.c.mustPost(envelope(actCommand, s.rpid.String(), "", body, "PT20S"))
	if status != 200 {
		s.t.Fatalf("Command: HTTP %d\n%s", status, rb)
	}
	var all []psrp.Message
	for range 50 {
		ms, done, f := s.receive(pid.String())
		if f != "" {
			if f == "w:TimedOut" {
				continue
			}
			s.t.Fatalf("Receive: fault %s", f)
		}
		all = append(all, ms...)
		if done {
			return all
		}
	}
	s.t.Fatal("pipeline not done after 50 Receives")
	return nil
}

func (s *session) close() {
	s.t.Helper()
	status, body := s.c.mustPost(envelope(actDelete, s.rpid.String(), "", "", "PT20S"))
	if status != 200 {
		s.t.Fatalf("Delete: HTTP %d\n%s", status, body)
	}
}

func cmd(name string, params ...psrp.Parameter) psrp.CreatePipeline {
	return psrp.CreatePipeline{NoInput: true, Statements: [][]psrp.Command{{{Name: name, Parameters: params}}}}
}

func param(name string, v psrp.Value) psrp.Parameter { return psrp.Parameter{Name: name, Value: v} }

// final returns the PIPELINE_STATE of a pipeline's messages.
func final(t testing.TB, msgs []psrp.Message) psrp.PipelineState {
	t.Helper()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Type == psrp.PipelineStateType {
			st, err := psrp.ParsePipelineState(msgs[i].XML())
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
	}
	t.Fatal("no PIPELINE_STATE")
	return psrp.PipelineState{}
}

func outputs(t testing.TB, msgs []psrp.Message) []psrp.Value {
	t.Helper()
	var out []psrp.Value
	for _, m := range msgs {
		if m.Type == psrp.PipelineOutputType {
			v, err := psrp.UnmarshalCLIXML(m.XML())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
	}
	return out
}

func count(msgs []psrp.Message, typ psrp.MessageType) int {
	n := 0
	for _, m := range msgs {
		if m.Type == typ {
			n++
		}
	}
	return n
}
