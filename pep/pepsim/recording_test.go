package pepsim_test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep/pepsim"
	"github.com/azs-courier/azs-courier/pep/psrp"
)

// exchange is one request/response pair of a pypsrp recording.
type exchange struct {
	Request        string `yaml:"request"`
	Response       string `yaml:"response"`
	TransportError *struct {
		Code int `yaml:"code"`
	} `yaml:"transport_error"`
}

func recording(t testing.TB, name string) []exchange {
	t.Helper()
	var f struct {
		Messages []exchange `yaml:"messages"`
	}
	if err := yaml.Unmarshal(testutil.ReadShared(t, "psrp", name), &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f.Messages
}

// streamMessages decodes the PSRP messages of a ReceiveResponse.
func streamMessages(t testing.TB, d *psrp.Defragmenter, response string) []psrp.Message {
	t.Helper()
	r := parseReply(t, response)
	var out []psrp.Message
	for _, st := range r.Body.Streams {
		data, err := base64.StdEncoding.DecodeString(st.Data)
		if err != nil {
			t.Fatal(err)
		}
		raws, err := d.AddData(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range raws {
			var m psrp.Message
			if err := m.UnmarshalBinary(raw); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

// xmlShape lists the element paths and attribute names of a document, by
// namespace and local name, ignoring text, prefixes and xmlns attributes.
func xmlShape(t testing.TB, doc string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	var path []string
	set := map[string]bool{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			path = append(path, e.Name.Space+" "+e.Name.Local)
			p := strings.Join(path, "/")
			if e.Name.Local != "ActivityId" { // optional: the 2025 recording's server omits it
				set[p] = true
			}
			for _, a := range e.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				set[p+"@"+a.Name.Local] = true
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func diffShapes(t testing.TB, what string, got, want []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: missing %s", what, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("%s: extra %s", what, g)
		}
	}
}

// forPEP rewrites a recorded request for the PrivilegedEndpoint
// configuration.
func forPEP(req string) string {
	for _, uri := range []string{"http://schemas.microsoft.com/powershell/JEARole", "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"} {
		req = strings.ReplaceAll(req, uri, pepsim.ResourceURI)
	}
	return req
}

// TestReplayOpen sends the recorded Create and Delete requests of pypsrp's
// recordings unchanged (but for the configuration name) and checks that the
// simulator's replies have the recorded layout and its pool messages the
// recorded bytes after the 40-byte header.
func TestReplayOpen(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(testutil.Shared(t, "psrp"), "*.yml"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			rec := recording(t, name)
			// Start at the first Create; test_psrp_small_msg_size.yml
			// first reads the WinRM configuration, which the PEP's JEA
			// endpoint does not serve.
			for len(rec) > 0 && !strings.Contains(rec[0].Request, "transfer/Create<") {
				rec = rec[1:]
			}
			if len(rec) == 0 {
				t.Fatal("no Create in the recording")
			}
			srv := start(t, pepsim.Options{})
			c, _ := dial(t, srv, `AZS\CloudAdmin`, testPassword)

			status, body := c.mustPost(forPEP(rec[0].Request))
			if status != 200 {
				t.Fatalf("Create: HTTP %d\n%s", status, body)
			}
			diffShapes(t, "CreateResponse", xmlShape(t, body), xmlShape(t, rec[0].Response))
			shellID := parseReply(t, body).Body.ShellID

			// The recorded server messages until the pool is opened.
			var want []psrp.Message
			var wd psrp.Defragmenter
			for _, ex := range rec[1:] {
				if !strings.Contains(ex.Request, "/Receive<") {
					break
				}
				want = append(want, streamMessages(t, &wd, ex.Response)...)
				if want[len(want)-1].Type == psrp.RunspacePoolStateType {
					break
				}
			}
			s := &session{t: t, c: c}
			s.rpid, _ = psrp.ParseGUID(shellID)
			var got []psrp.Message
			for len(got) < len(want) {
				ms, _, f := s.receive("")
				if f != "" {
					t.Fatalf("Receive: fault %s", f)
				}
				got = append(got, ms...)
			}
			for i := range want {
				if got[i].Type != want[i].Type {
					t.Fatalf("message %d: got %v, want %v", i, got[i].Type, want[i].Type)
				}
				switch got[i].Type {
				case psrp.SessionCapabilityType, psrp.RunspacePoolStateType:
					if !bytes.Equal(got[i].Data, want[i].Data) {
						t.Errorf("%v data:\ngot  %q\nwant %q", got[i].Type, got[i].Data, want[i].Data)
					}
				}
				if !bytes.HasPrefix(got[i].Data, []byte("\xef\xbb\xbf")) {
					t.Errorf("%v: server data has no byte order mark", got[i].Type)
				}
			}
			last := rec[len(rec)-1]
			for i := len(rec) - 1; i >= 0 && !strings.Contains(last.Request, "transfer/Delete<"); i-- {
				last = rec[i]
			}
			if !strings.Contains(last.Request, "transfer/Delete<") {
				t.Fatalf("no recorded Delete")
			}
			del := strings.ReplaceAll(forPEP(last.Request), rec0ShellID(t, rec[0].Request), shellID)
			status, body = c.mustPost(del)
			if status != 200 {
				t.Fatalf("Delete: HTTP %d\n%s", status, body)
			}
			diffShapes(t, "DeleteResponse", xmlShape(t, body), xmlShape(t, last.Response))
			if srv.OpenShells() != 0 {
				t.Errorf("open shells after Delete: got %d, want 0", srv.OpenShells())
			}
		})
	}
}

func rec0ShellID(t testing.TB, create string) string {
	t.Helper()
	i := strings.Index(create, `ShellId="`)
	if i < 0 {
		t.Fatal("recorded Create has no ShellId")
	}
	return create[i+9 : i+9+36]
}

// recordedState returns the PIPELINE_STATE of exchange i of a recording.
func recordedState(t testing.TB, name string, i int) psrp.Value {
	t.Helper()
	rec := recording(t, name)
	var d psrp.Defragmenter
	for _, m := range streamMessages(t, &d, rec[i].Response) {
		if m.Type == psrp.PipelineStateType {
			v, err := psrp.UnmarshalCLIXML(m.XML())
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("%s #%d has no PIPELINE_STATE", name, i)
	return psrp.Value{}
}

// memberShape lists "Kind N" of an object's members and properties.
func memberShape(v psrp.Value) []string {
	var out []string
	if v.Obj == nil {
		return nil
	}
	for _, m := range v.Obj.Members {
		out = append(out, "MS "+m.Kind+" "+m.Name)
	}
	for _, m := range v.Obj.Props {
		out = append(out, "Props "+m.Kind+" "+m.Name)
	}
	return out
}

// TestScriptsNotAllowedShape compares the simulator's refusal of a script
// with the recorded JEA endpoint's, member by member.
func TestScriptsNotAllowedShape(t *testing.T) {
	const script = `Set-Item -Path WSMan:\localhost\Service\AllowUnencrypted -Value $false`
	want := recordedState(t, "test_psrp_with_jea_configuration.yml", 7)

	srv := start(t, pepsim.Options{})
	c, _ := dial(t, srv, `AZS\CloudAdmin`, testPassword)
	s, _ := openPool(t, c)
	msgs := s.invoke(psrp.CreatePipeline{NoInput: true, Statements: [][]psrp.Command{{{Name: script, IsScript: true}}}})
	var gotMsg psrp.Message
	for _, m := range msgs {
		if m.Type == psrp.PipelineStateType {
			gotMsg = m
		}
	}
	got, err := psrp.UnmarshalCLIXML(gotMsg.XML())
	if err != nil {
		t.Fatal(err)
	}
	if n := count(msgs, psrp.PipelineOutputType) + count(msgs, psrp.ErrorRecordType); n != 0 {
		t.Errorf("got %d output or error records before the failure, want 0", n)
	}

	if g, w := memberShape(got), memberShape(want); !slices.Equal(g, w) {
		t.Errorf("PIPELINE_STATE members:\ngot  %v\nwant %v", g, w)
	}
	gr, _ := got.Member("ExceptionAsErrorRecord")
	wr, _ := want.Member("ExceptionAsErrorRecord")
	if g, w := memberShape(gr), memberShape(wr); !slices.Equal(g, w) {
		t.Errorf("ErrorRecord members:\ngot  %v\nwant %v", g, w)
	}
	if !slices.Equal(gr.Obj.TypeNames, wr.Obj.TypeNames) {
		t.Errorf("ErrorRecord types: got %v, want %v", gr.Obj.TypeNames, wr.Obj.TypeNames)
	}
	ge, _ := gr.Member("Exception")
	we, _ := wr.Member("Exception")
	if g, w := memberShape(ge), memberShape(we); !slices.Equal(g, w) {
		t.Errorf("Exception properties:\ngot  %v\nwant %v", g, w)
	}
	if !slices.Equal(ge.Obj.TypeNames, we.Obj.TypeNames) {
		t.Errorf("Exception types: got %v, want %v", ge.Obj.TypeNames, we.Obj.TypeNames)
	}
	for _, field := range []string{"PipelineState"} {
		if g, w := got.MemberStr(field), want.MemberStr(field); g != w {
			t.Errorf("%s: got %q, want %q", field, g, w)
		}
	}
	for _, field := range []string{"FullyQualifiedErrorId", "TargetObject", "ErrorCategory_Category", "ErrorCategory_Activity",
		"ErrorCategory_Reason", "ErrorCategory_TargetName", "ErrorCategory_TargetType", "ErrorCategory_Message", "SerializeExtendedInfo"} {
		if g, w := gr.MemberStr(field), wr.MemberStr(field); g != w {
			t.Errorf("%s: got %q, want %q", field, g, w)
		}
	}
	if g, w := gr.Str(), wr.Str(); g != w {
		t.Errorf("ToString: got %q, want %q", g, w)
	}
	if g, w := ge.MemberStr("Message"), we.MemberStr("Message"); g != w {
		t.Errorf("Exception.Message: got %q, want %q", g, w)
	}
}

// TestFaultShapes compares the simulator's WS-Man faults with recorded
// ones: TimedOut on a long poll, InvalidSelectors for an unknown command.
func TestFaultShapes(t *testing.T) {
	timedOut := recording(t, "test_psrp_long_running_cmdlet.yml")[5]
	invalid := recording(t, "test_psrp_receive_failure.yml")[3]

	srv := start(t, pepsim.Options{Faults: pepsim.Faults{TimedOut: 1}})
	c, _ := dial(t, srv, `AZS\CloudAdmin`, testPassword)
	s := &session{t: t, c: c, rpid: psrp.NewGUID()}
	status, _ := c.mustPost(envelope(actCreate, "", protocolOption, createBody(s.rpid), "PT20S"))
	if status != 200 {
		t.Fatalf("Create: HTTP %d", status)
	}
	recv := func(cmdAttr string) (int, string) {
		return c.mustPost(envelope(actReceive, s.rpid.String(), "", `<rsp:Receive><rsp:DesiredStream`+cmdAttr+`>stdout</rsp:DesiredStream></rsp:Receive>`, "PT5S"))
	}
	tests := []struct {
		name    string
		attr    string
		want    exchange
		subcode string
		code    string
	}{
		{"TimedOut", "", timedOut, "w:TimedOut", "2150858793"},
		{"InvalidSelectors", ` CommandId="` + psrp.NewGUID().String() + `"`, invalid, "w:InvalidSelectors", "2150858843"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := recv(tt.attr)
			if status != 500 || tt.want.TransportError == nil || tt.want.TransportError.Code != 500 {
				t.Errorf("HTTP status: got %d, want 500 as recorded", status)
			}
			diffShapes(t, tt.name, xmlShape(t, body), xmlShape(t, tt.want.Response))
			r := parseReply(t, body)
			if r.Body.Fault == nil || r.Body.Fault.Subcode != tt.subcode || r.Body.Fault.Detail.WSManFault.Code != tt.code {
				t.Errorf("fault: got %+v, want %s %s", r.Body.Fault, tt.subcode, tt.code)
			}
			w := parseReply(t, tt.want.Response)
			if r.Body.Fault.Reason != w.Body.Fault.Reason {
				t.Errorf("reason: got %q, want %q", r.Body.Fault.Reason, w.Body.Fault.Reason)
			}
		})
	}
}

// TestReceiveShape runs a pipeline and compares its ReceiveResponse with
// the recorded one (streams with CommandId, CommandState Done, ExitCode).
func TestReceiveShape(t *testing.T) {
	rec := recording(t, "test_psrp_with_jea_configuration.yml")
	srv := start(t, pepsim.Options{})
	c, _ := dial(t, srv, `AZS\CloudAdmin`, testPassword)
	s, _ := openPool(t, c)
	pid := psrp.NewGUID()
	data := s.frag.Encode(message(s.rpid, pid, cmd("Get-AzureStackStampInformation")))
	status, body := c.mustPost(envelope(actCommand, s.rpid.String(), "", `<rsp:CommandLine CommandId="`+pid.String()+`"><rsp:Command /><rsp:Arguments>`+base64.StdEncoding.EncodeToString(data)+`</rsp:Arguments></rsp:CommandLine>`, "PT20S"))
	if status != 200 {
		t.Fatalf("Command: HTTP %d", status)
	}
	diffShapes(t, "CommandResponse", xmlShape(t, body), xmlShape(t, rec[4].Response))
	// The output and the final state may come in one Receive, as recorded,
	// or in two when the pipeline is caught between them: compare the
	// union of the replies until CommandState Done.
	union := map[string]bool{}
	for range 10 {
		status, body = c.mustPost(envelope(actReceive, s.rpid.String(), "", `<rsp:Receive><rsp:DesiredStream CommandId="`+pid.String()+`">stdout</rsp:DesiredStream></rsp:Receive>`, "PT5S"))
		if status != 200 {
			t.Fatalf("Receive: HTTP %d", status)
		}
		for _, p := range xmlShape(t, body) {
			union[p] = true
		}
		if st := parseReply(t, body).Body.CommandState; st != nil {
			break
		}
	}
	var got []string
	for p := range union {
		got = append(got, p)
	}
	slices.Sort(got)
	diffShapes(t, "ReceiveResponse", got, xmlShape(t, rec[5].Response))
}

// TestReplayPipelinesRefused sends every recorded Command and Send of the
// shared recordings unchanged but for the configuration and ShellId. None
// of them runs a PEP command, so the JEA endpoint must refuse each pipeline
// the JEA way (scripts: ScriptsNotAllowed; other commands:
// CommandNotFoundException), whatever the GUID byte order, fragmenting or
// pipeline input of the recording.
func TestReplayPipelinesRefused(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(testutil.Shared(t, "psrp"), "*.yml"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	cmdID := regexp.MustCompile(`CommandId="([0-9A-Fa-f-]{36})"`)
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			rec := recording(t, name)
			for len(rec) > 0 && !strings.Contains(rec[0].Request, "transfer/Create<") {
				rec = rec[1:]
			}
			srv := start(t, pepsim.Options{})
			c, _ := dial(t, srv, `AZS\CloudAdmin`, testPassword)
			status, body := c.mustPost(forPEP(rec[0].Request))
			if status != 200 {
				t.Fatalf("Create: HTTP %d", status)
			}
			recorded := rec0ShellID(t, rec[0].Request)
			s := &session{t: t, c: c}
			s.rpid, _ = psrp.ParseGUID(parseReply(t, body).Body.ShellID)
			for {
				ms, _, f := s.receive("")
				if f != "" {
					t.Fatalf("pool Receive: %s", f)
				}
				if len(ms) > 0 && ms[len(ms)-1].Type == psrp.RunspacePoolStateType {
					break
				}
			}
			started, finished := map[string]bool{}, map[string]bool{}
			invocations, refused := 0, 0
			for _, ex := range rec[1:] {
				req := strings.ReplaceAll(forPEP(ex.Request), recorded, s.rpid.String())
				isCommand := strings.Contains(req, "/shell/Command<")
				isSend := strings.Contains(req, "/shell/Send<")
				isReceive := strings.Contains(req, "/shell/Receive<")
				isSignal := strings.Contains(req, "/shell/Signal<")
				switch {
				case isSignal:
					if status, body := c.mustPost(req); status != 200 {
						t.Fatalf("recorded Signal: HTTP %d\n%.3000s", status, body)
					}
				case isCommand || isSend:
					status, body := c.mustPost(req)
					if status != 200 {
						t.Fatalf("recorded %s: HTTP %d\n%.3000s", map[bool]string{true: "Command", false: "Send"}[isCommand], status, body)
					}
					if isCommand {
						id := strings.ToUpper(cmdID.FindStringSubmatch(req)[1])
						started[id], finished[id] = true, false // pypsrp re-invokes with the same CommandId
						invocations++
					}
				case isReceive:
					m := cmdID.FindStringSubmatch(req)
					if m == nil || finished[strings.ToUpper(m[1])] || !started[strings.ToUpper(m[1])] {
						continue // pool Receives, done pipelines, receive_failure's unknown command
					}
					id := strings.ToUpper(m[1])
					finished[id] = true
					refused++
					var msgs []psrp.Message
					for range 20 {
						ms, done, f := s.receive(id)
						if f != "" && f != "w:TimedOut" {
							t.Fatalf("Receive %s: %s", id, f)
						}
						msgs = append(msgs, ms...)
						if done {
							break
						}
					}
					st := final(t, msgs)
					if st.State != psrp.PipelineFailed || st.Error == nil ||
						(st.Error.FullyQualifiedErrorID != "ScriptsNotAllowed" && st.Error.FullyQualifiedErrorID != "CommandNotFoundException") {
						t.Errorf("pipeline %s: state %v, error %v; want Failed with ScriptsNotAllowed or CommandNotFoundException", id, st.State, st.Error)
					}
				}
			}
			hasCommand := slices.ContainsFunc(rec, func(ex exchange) bool { return strings.Contains(ex.Request, "/shell/Command<") })
			if hasCommand && len(started) == 0 {
				t.Error("the recording has Commands but none was replayed")
			}
			t.Logf("%d pipelines replayed and refused", refused)
			if refused != invocations {
				t.Errorf("pipelines: %d started, %d refused; want all", invocations, refused)
			}
		})
	}
}
