package pepsim_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/pep/pepsim"
	"github.com/azs-courier/azs-courier/pep/psrp"
)

// startCommand sends a Command and returns the CommandId.
func (s *session) startCommand(cp psrp.CreatePipeline) (string, int, string) {
	s.t.Helper()
	pid := psrp.NewGUID()
	data := s.frag.Encode(message(s.rpid, pid, cp))
	body := `<rsp:CommandLine CommandId="` + pid.String() + `"><rsp:Command /><rsp:Arguments>` + base64.StdEncoding.EncodeToString(data) + `</rsp:Arguments></rsp:CommandLine>`
	status, reply := s.c.mustPost(envelope(actCommand, s.rpid.String(), "", body, "PT20S"))
	return pid.String(), status, reply
}

func TestFaultDropReceive(t *testing.T) {
	srv, s := openSession(t, pepsim.Options{Faults: pepsim.Faults{DropReceives: 1}})
	id, status, _ := s.startCommand(cmd("Get-AzureStackStampInformation"))
	if status != 200 {
		t.Fatalf("Command: HTTP %d", status)
	}
	attr := ` CommandId="` + id + `"`
	_, _, err := s.c.post(envelope(actReceive, s.rpid.String(), "", `<rsp:Receive><rsp:DesiredStream`+attr+`>stdout</rsp:DesiredStream></rsp:Receive>`, "PT5S"))
	if err == nil {
		t.Fatal("Receive: got a reply, want the connection dropped")
	}
	// The shell and its pipeline survive: a new connection authenticates
	// again and receives the output.
	c2, st := dial(t, srv, `AZS\CloudAdmin`, testPassword)
	if st != 200 {
		t.Fatalf("re-authentication: HTTP %d", st)
	}
	s.c = c2
	var msgs []psrp.Message
	for range 10 {
		ms, done, f := s.receive(id)
		if f != "" {
			t.Fatalf("after reconnecting: fault %q", f)
		}
		msgs = append(msgs, ms...)
		if done {
			break
		}
	}
	if n := count(msgs, psrp.PipelineOutputType); n != 1 || final(t, msgs).State != psrp.PipelineCompleted {
		t.Errorf("after reconnecting: %d outputs, want the output and Completed", n)
	}
	if h := srv.Stats().Handshakes; h != 2 {
		t.Errorf("handshakes: got %d, want 2", h)
	}
}

func TestFaultInternalError(t *testing.T) {
	_, s := openSession(t, pepsim.Options{Faults: pepsim.Faults{InternalErrors: 1, InternalErrorAction: "Command"}})
	_, status, reply := s.startCommand(cmd("Get-AzureStackStampInformation"))
	r := parseReply(t, reply)
	if status != 500 || r.Body.Fault == nil || r.Body.Fault.Subcode != "w:InternalError" {
		t.Fatalf("first Command: HTTP %d fault %+v, want 500 w:InternalError", status, r.Body.Fault)
	}
	if st := final(t, s.invoke(cmd("Get-AzureStackStampInformation"))); st.State != psrp.PipelineCompleted {
		t.Errorf("second Command: state %v, want Completed (the fault fires once)", st.State)
	}
}

// TestNoFaultsByDefault checks that unset faults never fire.
func TestNoFaultsByDefault(t *testing.T) {
	srv, s := openSession(t, pepsim.Options{})
	id, _, _ := s.startCommand(cmd("Get-AzureStackStampInformation"))
	timedOut := 0
	for range 10 {
		_, done, f := s.receive(id)
		if f == "w:TimedOut" {
			timedOut++
			continue
		}
		if f != "" {
			t.Fatalf("fault %s", f)
		}
		if done {
			break
		}
	}
	if timedOut != 0 {
		t.Errorf("without the fault: got %d TimedOut, want 0", timedOut)
	}
	if st := srv.Stats(); st.Handshakes != 1 || st.AuthFailures != 0 || st.Plaintext != 0 {
		t.Errorf("stats %+v: want one handshake, no failures", st)
	}
}

func TestFaultRepeatedTimedOut(t *testing.T) {
	srv, s := openSession(t, pepsim.Options{})
	srv.SetFaults(pepsim.Faults{TimedOut: 3})
	id, _, _ := s.startCommand(cmd("Get-AzureStackStampInformation"))
	var faults []string
	var msgs []psrp.Message
	for range 10 {
		ms, done, f := s.receive(id)
		if f != "" || len(faults) < 3 {
			faults = append(faults, f)
		}
		msgs = append(msgs, ms...)
		if done {
			break
		}
	}
	want := "w:TimedOut,w:TimedOut,w:TimedOut"
	if got := strings.Join(faults, ","); got != want {
		t.Errorf("Receive faults: got %q, want %q", got, want)
	}
	if n := count(msgs, psrp.PipelineOutputType); n != 1 {
		t.Errorf("output after the TimedOut faults: got %d, want 1", n)
	}
}

// TestTimedOutLongPoll checks the real long poll: no output within
// OperationTimeout gives w:TimedOut, not an early or a late reply.
func TestTimedOutLongPoll(t *testing.T) {
	_, s := openSession(t, pepsim.Options{TokenDelay: 3 * time.Second})
	id, _, _ := s.startCommand(cmd("New-RegistrationToken", param("BillingModel", psrp.String("Development"))))
	// Drain the progress records already queued.
	_, _, _ = s.receive(id)
	start := time.Now()
	_, body := s.c.mustPost(envelope(actReceive, s.rpid.String(), "", `<rsp:Receive><rsp:DesiredStream CommandId="`+id+`">stdout</rsp:DesiredStream></rsp:Receive>`, "PT0.2S"))
	took := time.Since(start)
	r := parseReply(t, body)
	if r.Body.Fault == nil || r.Body.Fault.Subcode != "w:TimedOut" {
		t.Fatalf("got %+v, want w:TimedOut", r.Body.Fault)
	}
	if took < 150*time.Millisecond || took > 5*time.Second {
		t.Errorf("TimedOut after %v, want about the 0.2 s OperationTimeout", took)
	}
	s.close() // Delete ends the running pipeline
}

func TestFaultBrokenPool(t *testing.T) {
	srv := start(t, pepsim.Options{Faults: pepsim.Faults{BrokenPool: true}})
	c, _ := dial(t, srv, `AZS\CloudAdmin`, testPassword)
	s, msgs := openPool(t, c)
	st, err := psrp.ParseRunspacePoolState(msgs[len(msgs)-1].XML())
	if err != nil {
		t.Fatal(err)
	}
	if st.State != psrp.PoolBroken || st.Error == nil || st.Error.Message == "" {
		t.Fatalf("pool state %v, error %v: want Broken with an error record", st.State, st.Error)
	}
	_, status, reply := s.startCommand(cmd("Get-AzureStackStampInformation"))
	if status != 500 || parseReply(t, reply).Body.Fault == nil {
		t.Errorf("Command on a broken pool: HTTP %d, want a 500 fault", status)
	}
}

func TestFaultBusy(t *testing.T) {
	_, s := openSession(t, pepsim.Options{Faults: pepsim.Faults{Busy: 1}})
	// Reading stamp information is not an action plan: never busy.
	if st := final(t, s.invoke(cmd("Get-AzureStackStampInformation"))); st.State != psrp.PipelineCompleted {
		t.Fatalf("stamp information: state %v", st.State)
	}
	tok := cmd("New-RegistrationToken", param("BillingModel", psrp.String("Development")))
	st := final(t, s.invoke(tok))
	if st.State != psrp.PipelineFailed || st.Error == nil || st.Error.Message != pepsim.AnotherActionInProgress {
		t.Fatalf("first token: state %v, error %v; want Failed with %q", st.State, st.Error, pepsim.AnotherActionInProgress)
	}
	if st := final(t, s.invoke(tok)); st.State != psrp.PipelineCompleted {
		t.Errorf("second token: state %v (%v), want Completed", st.State, st.Error)
	}
}

func TestFaultLatency(t *testing.T) {
	srv, s := openSession(t, pepsim.Options{})
	srv.SetFaults(pepsim.Faults{Latency: 60 * time.Millisecond})
	start := time.Now()
	s.invoke(cmd("Get-AzureStackStampInformation"))
	if d := time.Since(start); d < 120*time.Millisecond {
		t.Errorf("Command and Receive took %v, want at least 2 × 60ms", d)
	}
}

// TestSignalStop stops a running pipeline with crtl_c and closes it with
// Terminate.
func TestSignalStop(t *testing.T) {
	_, s := openSession(t, pepsim.Options{TokenDelay: 10 * time.Second})
	id, _, _ := s.startCommand(cmd("New-RegistrationToken", param("BillingModel", psrp.String("Development"))))
	signal := func(code string) (int, string) {
		return s.c.mustPost(envelope(actSignal, s.rpid.String(), "", `<rsp:Signal CommandId="`+id+`"><rsp:Code>`+code+`</rsp:Code></rsp:Signal>`, "PT20S"))
	}
	if status, _ := signal("powershell/signal/crtl_c"); status != 200 {
		t.Fatalf("Signal crtl_c: HTTP %d", status)
	}
	var all []psrp.Message
	for range 5 {
		msgs, done, _ := s.receive(id)
		all = append(all, msgs...)
		if done {
			break
		}
	}
	if st := final(t, all); st.State != psrp.PipelineStopped {
		t.Errorf("state after crtl_c: got %v, want Stopped", st.State)
	}
	if status, _ := signal("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/Terminate"); status != 200 {
		t.Fatalf("Signal Terminate: HTTP %d", status)
	}
	if _, _, f := s.receive(id); f != "w:InvalidSelectors" {
		t.Errorf("Receive after Terminate: got %q, want w:InvalidSelectors", f)
	}
}

// TestBadRequests checks the SOAP faults for malformed or misdirected
// requests.
func TestBadRequests(t *testing.T) {
	srv := start(t, pepsim.Options{})
	c, _ := dial(t, srv, `AZS\CloudAdmin`, testPassword)
	rpid := psrp.NewGUID()
	tests := []struct {
		name, body, subcode string
	}{
		{"not XML", "<s:Envelope", "w:SchemaValidationError"},
		{"cmd shell", strings.Replace(envelope(actCreate, "", protocolOption, createBody(rpid), "PT20S"), pepsim.ResourceURI, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd", 1), "w:DestinationUnreachable"},
		{"no protocolversion", envelope(actCreate, "", "", createBody(rpid), "PT20S"), "w:InvalidParameter"},
		// [MS-PSRP] 3.1.5.3.1: the option MUST carry MustComply=True.
		{"protocolversion without MustComply", envelope(actCreate, "", `<wsman:Option Name="protocolversion">2.3</wsman:Option>`, createBody(rpid), "PT20S"), "w:InvalidParameter"},
		// masterzen's soap package writes mustUnderstand unqualified.
		{"unqualified mustUnderstand", strings.ReplaceAll(envelope(actCreate, "", protocolOption, createBody(rpid), "PT20S"), "s:mustUnderstand", "mustUnderstand"), "w:SchemaValidationError"},
		{"unknown shell", envelope(actReceive, psrp.NewGUID().String(), "", `<rsp:Receive><rsp:DesiredStream>stdout</rsp:DesiredStream></rsp:Receive>`, "PT1S"), "w:InvalidSelectors"},
		{"unknown action", envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", "", "", "", "PT1S"), "a:ActionNotSupported"},
		{"bad timeout", envelope(actReceive, rpid.String(), "", `<rsp:Receive><rsp:DesiredStream>stdout</rsp:DesiredStream></rsp:Receive>`, "20 seconds"), "w:InvalidParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := c.mustPost(tt.body)
			r := parseReply(t, body)
			if status != 500 || r.Body.Fault == nil || r.Body.Fault.Subcode != tt.subcode {
				t.Errorf("got HTTP %d fault %+v, want 500 %s", status, r.Body.Fault, tt.subcode)
			}
		})
	}
}

// TestSingleRunspace checks that the pool's one runspace stays busy while a
// pipeline runs: a second pipeline waits (its Receives time out) until the
// first is signalled, then runs at once.
func TestSingleRunspace(t *testing.T) {
	srv, s := openSession(t, pepsim.Options{TokenDelay: time.Hour, TimeScale: 100})
	long, _, _ := s.startCommand(cmd("New-RegistrationToken", param("BillingModel", psrp.String("Development"))))
	next, _, _ := s.startCommand(cmd("Get-AzureStackStampInformation"))
	for range 2 {
		if msgs, _, f := s.receive(next); f != "w:TimedOut" || len(msgs) != 0 {
			t.Fatalf("second pipeline while the first runs: fault %q, %d messages; want w:TimedOut", f, len(msgs))
		}
	}
	status, _ := s.c.mustPost(envelope(actSignal, s.rpid.String(), "", `<rsp:Signal CommandId="`+long+`"><rsp:Code>`+signalTerminate+`</rsp:Code></rsp:Signal>`, "PT20S"))
	if status != 200 {
		t.Fatalf("Signal: HTTP %d", status)
	}
	var msgs []psrp.Message
	for range 5 {
		ms, done, f := s.receive(next)
		if f != "" {
			t.Fatalf("after the Signal: fault %s", f)
		}
		msgs = append(msgs, ms...)
		if done {
			break
		}
	}
	if final(t, msgs).State != psrp.PipelineCompleted {
		t.Errorf("second pipeline after the Signal: not Completed")
	}
	invs := srv.Invocations()
	if len(invs) != 2 || invs[0].Outcome != "Terminated" || invs[1].Outcome != "Completed" {
		t.Fatalf("invocations %+v, want the token Terminated, then the stamp Completed", invs)
	}
	if invs[1].Queued < 5*time.Second { // it waited through two PT5S Receives
		t.Errorf("second pipeline queued %v, want it to have waited for the first", invs[1].Queued)
	}
}

const signalTerminate = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/Terminate"
