package wsman

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/internal/testutil"
)

func sharedRecordings(t testing.TB) map[string]*Recording {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testutil.Shared(t, "psrp"), "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	out := map[string]*Recording{}
	for _, f := range files {
		rec, err := ParseRecording(testutil.ReadShared(t, "psrp", filepath.Base(f)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = rec
	}
	return out
}

func TestParseEveryRecordedEnvelope(t *testing.T) {
	for name, rec := range sharedRecordings(t) {
		for i, x := range rec.Messages {
			req, err := ParseEnvelope([]byte(x.Request))
			if err != nil {
				t.Fatalf("%s #%d request: %v", name, i, err)
			}
			resp, err := ParseEnvelope([]byte(x.Response))
			if err != nil {
				t.Fatalf("%s #%d response: %v", name, i, err)
			}
			if req.Action == "" || req.MessageID == "" {
				t.Errorf("%s #%d: request without Action or MessageID", name, i)
			}
			if resp.RelatesTo != req.MessageID {
				t.Errorf("%s #%d: RelatesTo %s, MessageID %s", name, i, resp.RelatesTo, req.MessageID)
			}
			// pypsrp marks only some fault responses with transport_error.
			if x.TransportError != nil && resp.Fault == nil {
				t.Errorf("%s #%d: transport_error without a fault", name, i)
			}
		}
	}
}

func TestRecordedFaults(t *testing.T) {
	recs := sharedRecordings(t)
	tests := []struct {
		file    string
		code    uint32
		sub     string
		timeout bool
	}{
		{"test_psrp_long_running_cmdlet.yml", CodeTimedOut, "w:TimedOut", true},
		{"test_psrp_receive_failure.yml", CodeInvalidSelectors, "w:InvalidSelectors", false},
	}
	for _, tt := range tests {
		var f *Fault
		for _, x := range recs[tt.file].Messages {
			env, _ := ParseEnvelope([]byte(x.Response))
			if env.Fault != nil {
				f = env.Fault
				break
			}
		}
		if f == nil {
			t.Fatalf("%s: no fault", tt.file)
		}
		if f.WSManCode != tt.code || f.Subcode != tt.sub || f.Machine != "127.0.0.1" || f.TimedOut() != tt.timeout || f.Message == "" {
			t.Errorf("%s: got %+v", tt.file, f)
		}
		if !strings.Contains(f.Error(), tt.sub) {
			t.Errorf("Error() = %q, want the subcode", f.Error())
		}
	}
}

// fixed is a Transport that answers with a fixed body.
type fixed struct {
	body func(req []byte) []byte
	got  [][]byte
}

func (f *fixed) RoundTrip(_ context.Context, b []byte) ([]byte, error) {
	f.got = append(f.got, append([]byte(nil), b...))
	return f.body(b), nil
}

func relatesTo(req []byte) string {
	env, _ := ParseEnvelope(req)
	return env.MessageID
}

func TestInvoke(t *testing.T) {
	recs := sharedRecordings(t)
	long := recs["test_psrp_long_running_cmdlet.yml"].Messages
	var timedOut string
	for _, x := range long {
		if x.TransportError != nil {
			timedOut = x.Response
		}
	}
	answer := func(tmpl string) func([]byte) []byte {
		return func(req []byte) []byte {
			env, _ := ParseEnvelope([]byte(tmpl))
			return []byte(strings.Replace(tmpl, env.RelatesTo, relatesTo(req), 1))
		}
	}
	ctx := context.Background()
	t.Run("TimedOut means no data", func(t *testing.T) {
		c := &Client{Transport: &fixed{body: answer(timedOut)}, To: "http://x/wsman"}
		resp, err := c.Invoke(ctx, Request{Action: ActionReceive, ShellID: "S"})
		if err != nil || !resp.NoData {
			t.Errorf("got %v, %v; want NoData", resp, err)
		}
	})
	t.Run("InvalidSelectors is a Fault", func(t *testing.T) {
		var body string
		for _, x := range recs["test_psrp_receive_failure.yml"].Messages {
			if x.TransportError != nil {
				body = x.Response
			}
		}
		c := &Client{Transport: &fixed{body: answer(body)}, To: "http://x/wsman"}
		_, err := c.Invoke(ctx, Request{Action: ActionReceive, ShellID: "S"})
		var f *Fault
		if !errors.As(err, &f) || f.WSManCode != CodeInvalidSelectors {
			t.Errorf("got %v, want InvalidSelectors fault", err)
		}
	})
	t.Run("RelatesTo mismatch", func(t *testing.T) {
		c := &Client{Transport: &fixed{body: func([]byte) []byte { return []byte(long[0].Response) }}, To: "http://x/wsman"}
		if _, err := c.Invoke(ctx, Request{Action: ActionCreate}); !errors.Is(err, ErrRelatesTo) {
			t.Errorf("got %v, want ErrRelatesTo", err)
		}
	})
	t.Run("Create envelope", func(t *testing.T) {
		tr := &fixed{body: answer(long[0].Response)}
		c := &Client{Transport: tr, To: "http://10.0.0.1:5985/wsman"}
		sh, err := c.CreateShell(ctx, "3C44D114-8061-412A-9519-D25BA6D8977B", []byte("PSRP"))
		if err != nil {
			t.Fatal(err)
		}
		if sh.ID == "" {
			t.Error("no ShellId from the response")
		}
		env, err := ParseEnvelope(tr.got[0])
		if err != nil {
			t.Fatal(err)
		}
		if env.ResourceURI != PrivilegedEndpoint || env.Options["protocolversion"] != "2.3" || env.Action != ActionCreate || env.To != c.To {
			t.Errorf("Create header = %+v", env)
		}
		if len(env.Streams) != 1 || string(env.Streams[0].Data) != "PSRP" || env.ShellID != "3C44D114-8061-412A-9519-D25BA6D8977B" {
			t.Errorf("Create body streams %+v, shell %s", env.Streams, env.ShellID)
		}
		for _, want := range []string{`xml:lang="en-US"`, "DataLocale", "PT20S", "<w:MaxEnvelopeSize env:mustUnderstand=\"true\">153600<", "stdin pr"} {
			if !bytes.Contains(tr.got[0], []byte(want)) {
				t.Errorf("Create envelope lacks %q", want)
			}
		}
	})
	t.Run("shell operations", func(t *testing.T) {
		// Each operation builds the body the PowerShell plugin expects.
		tr := &fixed{body: func(req []byte) []byte {
			return []byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:RelatesTo>` + relatesTo(req) + `</a:RelatesTo></s:Header><s:Body><rsp:CommandResponse xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><rsp:CommandId>C1</rsp:CommandId></rsp:CommandResponse></s:Body></s:Envelope>`)
		}}
		sh := &Shell{Client: &Client{Transport: tr, To: "http://x/wsman"}, ID: "S1"}
		if id, err := sh.Command(ctx, "C1", []byte("frag")); err != nil || id != "C1" {
			t.Fatalf("Command: %q %v", id, err)
		}
		_ = sh.Send(ctx, "C1", "stdin", []byte("more"))
		_, _ = sh.Receive(ctx, "C1")
		_ = sh.Signal(ctx, "C1", SignalTerminate)
		_ = sh.Delete(ctx)
		want := []struct {
			action, cmd, signal, stream string
		}{
			{ActionCommand, "C1", "", "frag"}, {ActionSend, "", "", "more"}, {ActionReceive, "C1", "", ""}, {ActionSignal, "C1", SignalTerminate, ""}, {ActionDelete, "", "", ""},
		}
		for i, w := range want {
			env, err := ParseEnvelope(tr.got[i])
			if err != nil {
				t.Fatal(err)
			}
			if env.Action != w.action || env.ShellID != "S1" || env.CommandID != w.cmd || env.SignalCode != w.signal {
				t.Errorf("request %d: %s shell=%s cmd=%s signal=%s", i, env.Action, env.ShellID, env.CommandID, env.SignalCode)
			}
			if w.stream != "" && (len(env.Streams) != 1 || string(env.Streams[0].Data) != w.stream) {
				t.Errorf("request %d: streams %+v, want %q", i, env.Streams, w.stream)
			}
		}
		if !bytes.Contains(tr.got[1], []byte(`CommandId="C1"`)) || !bytes.Contains(tr.got[1], []byte(`Name="stdin"`)) {
			t.Errorf("Send body: %s", tr.got[1])
		}
	})
}

func TestRecorderRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	const secret = "Pw9x"
	inner := &fixed{body: func(req []byte) []byte { return []byte("<s:Envelope><s:Body>ok</s:Body></s:Envelope>") }}
	r := &Recorder{Next: inner, W: &buf, Redact: []string{secret}}
	leak := base64.StdEncoding.EncodeToString([]byte("-Password " + secret))
	// A base64 payload that contains the secret's letters by chance, but
	// not the secret itself once decoded, is kept intact.
	chance := "AAPw9xAA"
	bodies := []string{
		"<a>1</a>",
		"<a>two: " + secret + "</a>",
		`<s:Envelope><s:Body><rsp:Stream Name="stdin">` + leak + `</rsp:Stream></s:Body></s:Envelope>`,
		`<s:Envelope><s:Body><rsp:Stream Name="stdin">` + chance + `</rsp:Stream></s:Body></s:Envelope>`,
	}
	for _, body := range bodies {
		if _, err := r.RoundTrip(context.Background(), []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := ParseRecording(buf.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	want := []string{"<a>1</a>", redacted, redacted, bodies[3]}
	if len(rec.Messages) != len(want) {
		t.Fatalf("%d exchanges, want %d", len(rec.Messages), len(want))
	}
	for i, w := range want {
		if got := rec.Messages[i].Request; got != w {
			t.Errorf("exchange %d request = %q, want %q", i, got, w)
		}
	}
	if bytes.Contains(buf.Bytes(), []byte("two: "+secret)) || bytes.Contains(buf.Bytes(), []byte(leak)) {
		t.Error("secret written to the trace")
	}
}

func FuzzParseEnvelope(f *testing.F) {
	for _, rec := range sharedRecordings(f) {
		for _, x := range rec.Messages {
			f.Add([]byte(x.Request))
			f.Add([]byte(x.Response))
		}
	}
	f.Add([]byte(`<s:Envelope><s:Body><s:Fault></s:Fault></s:Body></s:Envelope>`))
	f.Add([]byte(`<Envelope><Body><Stream>!!</Stream></Body></Envelope>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := ParseEnvelope(b)
		if err != nil {
			return
		}
		for _, s := range env.Streams {
			// What was decoded must encode back to base64 that decodes the same.
			if _, err := base64.StdEncoding.DecodeString(base64.StdEncoding.EncodeToString(s.Data)); err != nil {
				t.Fatal(err)
			}
		}
		if env.Fault != nil {
			_ = env.Fault.Error()
		}
	})
}

func FuzzSealedParts(f *testing.F) {
	sig := bytes.Repeat([]byte{1}, 16)
	f.Add([]byte(sealBoundary + "\r\n\tContent-Type: " + sealProtocol + "\r\n\tOriginalContent: type=" + soapContentType + ";Length=3\r\n" +
		sealBoundary + "\r\n\tContent-Type: application/octet-stream\r\n" + "\x10\x00\x00\x00" + string(sig) + "abc" + sealBoundary + "--\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, sig, sealed, err := SealedParts(b)
		if err != nil {
			return
		}
		if n < 0 || len(sig) != 16 || len(sealed) > len(b) {
			t.Fatalf("bad parts: %d %d %d", n, len(sig), len(sealed))
		}
	})
}
