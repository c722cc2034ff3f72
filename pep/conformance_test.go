package pep_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/pep"
	"github.com/azs-courier/azs-courier/pep/pepsim"
	"github.com/azs-courier/azs-courier/pep/psrp"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

// commands returns the cmdlets srv ran, in order.
func commands(srv *pepsim.Server) []string {
	var out []string
	for _, inv := range srv.Invocations() {
		out = append(out, inv.Command)
	}
	return out
}

// count returns how often srv ran name.
func count(srv *pepsim.Server, name string) int {
	n := 0
	for _, c := range commands(srv) {
		if c == name {
			n++
		}
	}
	return n
}

// TestFinalErrorsNotRetried: what cannot change by waiting is not retried
// (no 3 × 10 s): a certificate that fails verification, a key the stamp
// refuses as foreign, a command the role does not have, and stamp
// information, which the module does not retry either.
func TestFinalErrorsNotRetried(t *testing.T) {
	ctx := context.Background()
	const delay = 2 * time.Second // what a retry would cost here
	t.Run("bad certificate", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{TLS: true})
		var dials atomic.Int32
		start := time.Now()
		_, err := pep.Dial(ctx, pep.Options{Hosts: []string{srv.Addr()}, User: srv.User(), Password: password,
			HTTPS: true, RootCAs: x509.NewCertPool(), RetryDelay: delay,
			Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}})
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("got %v, want a certificate error", err)
		}
		if n := dials.Load(); n != 1 {
			t.Errorf("%d connection attempts, want 1", n)
		}
		if d := time.Since(start); d > delay/2 {
			t.Errorf("failed after %v, want no retry delay", d)
		}
	})
	t.Run("foreign activation key", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{})
		c := dial(t, srv, nil, func(o *pep.Options) { o.RetryDelay = delay })
		start := time.Now()
		if err := c.NewActivation(ctx, activationKey("00000000-0000-0000-0000-000000000001")); err == nil {
			t.Fatal("a foreign key was accepted")
		}
		if n := count(srv, "New-AzureStackActivation"); n != 1 {
			t.Errorf("New-AzureStackActivation ran %d times, want 1", n)
		}
		if d := time.Since(start); d > delay/2 {
			t.Errorf("failed after %v, want no retry delay", d)
		}
	})
	t.Run("command not found", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{WithoutCommands: []string{"New-RegistrationToken"}})
		c := dial(t, srv, nil, func(o *pep.Options) { o.RetryDelay = delay })
		_, err := c.NewRegistrationToken(ctx, pep.TokenOptions{BillingModel: pep.BillingDevelopment})
		var pe *pep.Error
		if !errors.As(err, &pe) || !strings.Contains(pe.Advice, "does not offer") {
			t.Fatalf("got %v, want CommandNotFound with advice", err)
		}
		if n := count(srv, "New-RegistrationToken"); n != 1 {
			t.Errorf("New-RegistrationToken tried %d times, want 1", n)
		}
	})
	t.Run("stamp information", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{})
		c := dial(t, srv, nil, func(o *pep.Options) { o.RetryDelay = delay })
		srv.SetFaults(pepsim.Faults{DropReceives: 1})
		if _, err := c.StampInformation(ctx); err == nil {
			t.Fatal("StampInformation succeeded through a dropped connection")
		}
		if n := count(srv, "Get-AzureStackStampInformation"); n != 1 {
			t.Errorf("Get-AzureStackStampInformation ran %d times, want 1 (the module does not retry it)", n)
		}
	})
	t.Run("busy is still not retried, a dropped connection still is", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{Nodes: 1}) // no Set-RegistrationKeyPair before the token
		c := dial(t, srv, nil)
		if _, err := c.StampInformation(ctx); err != nil {
			t.Fatal(err)
		}
		srv.SetFaults(pepsim.Faults{DropReceives: 1})
		if _, err := c.NewRegistrationToken(ctx, pep.TokenOptions{BillingModel: pep.BillingDevelopment}); err != nil {
			t.Fatalf("token after one dropped connection: %v", err)
		}
		srv.SetFaults(pepsim.Faults{Busy: 1})
		if _, err := c.NewRegistrationToken(ctx, pep.TokenOptions{BillingModel: pep.BillingDevelopment}); !errors.Is(err, pep.ErrBusy) {
			t.Errorf("busy: got %v, want ErrBusy", err)
		}
		if n := count(srv, "New-RegistrationToken"); n != 3 {
			t.Errorf("New-RegistrationToken ran %d times, want 3 (dropped and retried, then busy once)", n)
		}
	})
}

// TestBlankProgressNoEvent: a progress record whose status is blank (the
// "Preparing modules for first use." record PowerShell sends with a
// single space) produces no event, so no empty line is printed.
func TestBlankProgressNoEvent(t *testing.T) {
	srv := startSim(t, pepsim.Options{})
	var events []pep.Event
	c := dial(t, srv, &events)
	if _, err := c.NewRegistrationToken(context.Background(), pep.TokenOptions{BillingModel: pep.BillingDevelopment}); err != nil {
		t.Fatal(err)
	}
	progress := 0
	for _, e := range events {
		if strings.TrimSpace(e.Message) == "" {
			t.Errorf("event with a blank message: %+v", e)
		}
		if e.Level == "progress" {
			progress++
		}
	}
	if progress == 0 {
		t.Error("no progress events at all")
	}
}

// TestSetRegistrationKeyPair follows the module (azure-registration.md
// §3.16): on stamps newer than 1.2209.0.23 with more than one node the
// token is preceded by Set-RegistrationKeyPair, retried 3 × 10 s with the
// module's warning; elsewhere it is skipped with the module's log line.
func TestSetRegistrationKeyPair(t *testing.T) {
	tests := []struct {
		name, stamp string
		nodes       int
		wantCalls   []string
		wantInfo    string
	}{
		{"multi-node HCI stamp", "1.2311.2.23", 4,
			[]string{"Get-AzureStackStampInformation", "Set-RegistrationKeyPair", "New-RegistrationToken"}, "Setting Registration key pair"},
		{"one node", "1.2311.2.23", 1,
			[]string{"Get-AzureStackStampInformation", "New-RegistrationToken"}, "Set-RegistrationKeyPair PEP is not supported for onenode, skipping"},
		{"gate build itself", "1.2209.0.23", 4,
			[]string{"Get-AzureStackStampInformation", "New-RegistrationToken"}, "Set-RegistrationKeyPair PEP is not supported for build version 1.2209.0.23, skipping"},
		{"older build", "1.2108.2.65", 4,
			[]string{"Get-AzureStackStampInformation", "New-RegistrationToken"}, "Set-RegistrationKeyPair PEP is not supported for build version 1.2108.2.65, skipping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSim(t, pepsim.Options{StampVersion: tt.stamp, Nodes: tt.nodes})
			var events []pep.Event
			c := dial(t, srv, &events)
			if _, err := c.NewRegistrationToken(context.Background(), pep.TokenOptions{BillingModel: pep.BillingDevelopment}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(commands(srv), ", "); got != strings.Join(tt.wantCalls, ", ") {
				t.Errorf("commands %s, want %s", got, strings.Join(tt.wantCalls, ", "))
			}
			var info, result bool
			for _, e := range events {
				info = info || (e.Level == "info" && e.Message == tt.wantInfo)
				result = result || (e.Level == "info" && strings.HasPrefix(e.Message, "Result {") && strings.Contains(e.Message, `"KeyPairId"`))
			}
			if !info {
				t.Errorf("no info event %q among %v", tt.wantInfo, events)
			}
			if want := len(tt.wantCalls) == 3; result != want {
				t.Errorf("result event logged = %v, want %v", result, want)
			}
		})
	}
	t.Run("retried like the module", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{Faults: pepsim.Faults{CommandErrors: 1, CommandErrorName: "Set-RegistrationKeyPair"}})
		var events []pep.Event
		c := dial(t, srv, &events)
		if _, err := c.NewRegistrationToken(context.Background(), pep.TokenOptions{BillingModel: pep.BillingDevelopment}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(commands(srv), ", "); got != "Get-AzureStackStampInformation, Set-RegistrationKeyPair, Set-RegistrationKeyPair, New-RegistrationToken" {
			t.Errorf("commands %s, want the key pair twice before the token", got)
		}
		var warned bool
		for _, e := range events {
			warned = warned || (e.Level == "warning" && strings.HasPrefix(e.Message, "Error while invoking Set-RegistrationKeyPair:"))
		}
		if !warned {
			t.Errorf("no retry warning among %v", events)
		}
	})
}

// TestClockSkew compares the local clock with the PEP's Date header when
// connecting: more than 5 minutes apart is a warning event.
func TestClockSkew(t *testing.T) {
	for _, tt := range []struct {
		skew time.Duration
		warn bool
	}{{7 * time.Minute, true}, {-6 * time.Minute, true}, {2 * time.Minute, false}, {0, false}} {
		srv := startSim(t, pepsim.Options{ClockSkew: tt.skew})
		var mu sync.Mutex
		var events []pep.Event
		c := dial(t, srv, nil, func(o *pep.Options) {
			o.OnEvent = func(e pep.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
		})
		if got := c.ClockSkew(); (got - tt.skew).Abs() > 2*time.Second {
			t.Errorf("skew %v: ClockSkew() = %v", tt.skew, got)
		}
		warned := false
		for _, e := range events {
			warned = warned || (e.Level == "warning" && strings.Contains(e.Message, "clock"))
		}
		if warned != tt.warn {
			t.Errorf("skew %v: warning = %v, want %v (events %v)", tt.skew, warned, tt.warn, events)
		}
	}
}

// TestStoppedPEP: a PEP that stops answering (a stopped VM: connections
// are accepted, nothing comes back) fails the operation within the idle
// timeout with "the PEP stopped answering", is not retried, and Close does
// not wait for it again.
func TestStoppedPEP(t *testing.T) {
	ctx := context.Background()
	fast := func(o *pep.Options) {
		o.OperationTimeout = 300 * time.Millisecond
		o.IdleTimeout = 300 * time.Millisecond
		o.RetryDelay = time.Second
	}
	t.Run("mid-session", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{})
		c := dial(t, srv, nil, fast)
		srv.SetFaults(pepsim.Faults{Stall: true})
		start := time.Now()
		_, err := c.StampInformation(ctx)
		took := time.Since(start)
		if !errors.Is(err, pep.ErrStopped) || !strings.Contains(err.Error(), "the PEP stopped answering") {
			t.Fatalf("got %v, want ErrStopped", err)
		}
		var pe *pep.Error
		if !errors.As(err, &pe) || pe.Advice == "" {
			t.Errorf("no advice in %v", err)
		}
		if took > 4*time.Second {
			t.Errorf("failed after %v, want about the 0.6 s the PEP may stay silent and as long for the Signal", took)
		}
		start = time.Now()
		_ = c.Close(ctx)
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("Close after the PEP stopped took %v", d)
		}
	})
	t.Run("when connecting", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{Faults: pepsim.Faults{Stall: true}})
		o := pep.Options{Hosts: []string{srv.Addr()}, User: srv.User(), Password: password}
		fast(&o)
		start := time.Now()
		_, err := pep.Dial(ctx, o)
		if !errors.Is(err, pep.ErrStopped) {
			t.Errorf("got %v, want ErrStopped", err)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("failed after %v, want one attempt, no retries", d)
		}
	})
}

// TestEndlessTimedOut: a PEP that answers every Receive with w:TimedOut
// is polled until the context's deadline, then the call ends with a clear
// error, not never.
func TestEndlessTimedOut(t *testing.T) {
	srv := startSim(t, pepsim.Options{})
	c := dial(t, srv, nil, func(o *pep.Options) { o.OperationTimeout = 100 * time.Millisecond })
	srv.SetFaults(pepsim.Faults{TimedOut: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.StampInformation(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("ended after %v, want at the 700 ms deadline", d)
	}
	var pe *pep.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Advice, "time") {
		t.Errorf("error %v has no advice about the time limit", err)
	}
	srv.SetFaults(pepsim.Faults{})
}

// TestTranscripts: Close-PrivilegedEndpoint -TranscriptsPathDestination
// -Credential with the PSRP session key exchange. The simulator decrypts
// the credential it received and records it with the path; the password
// appears nowhere in the trace (SecureStrings blanked) or the log.
func TestTranscripts(t *testing.T) {
	const sharePassword = "Share-Pa55!w0rd"
	export := pep.TranscriptExport{Path: `\\fileserver\pep-transcripts\2026`, User: `AZS\ShareUser`, Password: sharePassword}
	for _, tt := range []struct {
		name          string
		serverAsksKey bool
	}{{"client-initiated key exchange", false}, {"server-initiated key exchange", true}} {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSim(t, pepsim.Options{TranscriptsUser: export.User, TranscriptsPassword: sharePassword, RequestPublicKey: tt.serverAsksKey})
			var trace, logs bytes.Buffer
			c := dial(t, srv, nil, func(o *pep.Options) {
				o.Trace = &trace
				o.Transcripts = &export
				o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			if _, err := c.StampInformation(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := srv.Transcripts()
			if len(got) != 1 || got[0].Path != export.Path || got[0].User != export.User || got[0].Password != sharePassword {
				t.Fatalf("simulator received %+v, want %s as %s with the password", got, export.Path, export.User)
			}
			if srv.OpenShells() != 0 {
				t.Error("session not deleted")
			}
			for what, b := range map[string][]byte{"trace": trace.Bytes(), "log": logs.Bytes()} {
				for _, secret := range []string{sharePassword, password} {
					if bytes.Contains(b, []byte(secret)) {
						t.Errorf("the %s holds a password", what)
					}
				}
			}
			msgs := traceMessages(t, trace.Bytes())
			var keys, blanked int
			for _, m := range msgs {
				if m.Type == "PUBLIC_KEY" {
					keys++
				}
				j, _ := json.Marshal(m.Value)
				if bytes.Contains(j, []byte(`"Password"`)) {
					if !regexp.MustCompile(`"Password":"\*+"`).Match(j) {
						t.Errorf("SecureString not blanked in the trace: %s", j)
					}
					blanked++
				}
			}
			if keys != 1 || blanked != 1 {
				t.Errorf("trace has %d PUBLIC_KEY and %d blanked SecureStrings, want 1 and 1", keys, blanked)
			}
		})
	}
	t.Run("failed export", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{TranscriptsUser: export.User, TranscriptsPassword: "another"})
		c := dial(t, srv, nil)
		err := c.CloseWithTranscripts(context.Background(), export)
		if !errors.Is(err, pep.ErrTranscripts) || !strings.Contains(err.Error(), "Access is denied") {
			t.Errorf("got %v, want ErrTranscripts with the PEP's reason", err)
		}
		if strings.Contains(err.Error(), sharePassword) {
			t.Error("the error holds the password")
		}
		if srv.OpenShells() != 0 || len(srv.Transcripts()) != 0 {
			t.Errorf("after a failed export: %d shells open, %d exports; want 0, 0", srv.OpenShells(), len(srv.Transcripts()))
		}
	})
	t.Run("not a share path", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{})
		c := dial(t, srv, nil)
		bad := export
		bad.Path = `C:\transcripts`
		err := c.CloseWithTranscripts(context.Background(), bad)
		if !errors.Is(err, pep.ErrTranscripts) || !errors.Is(err, pep.ErrValidation) {
			t.Errorf("got %v, want ErrTranscripts and ErrValidation", err)
		}
		if srv.OpenShells() != 0 || count(srv, "Close-PrivilegedEndpoint") != 0 {
			t.Error("the session was not closed, or the bad path reached the PEP")
		}
	})
}

// traceMessages decodes a --trace recording into its PSRP messages.
func traceMessages(t *testing.T, b []byte) []psrp.TraceMessage {
	t.Helper()
	rec, err := wsman.ParseRecording(b)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := psrp.DecodeRecording(rec)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestHostileHeaders: a server on the WinRM port that answers 401 with
// header lines without end fails Dial at once with an error naming the
// host, without retries.
func TestHostileHeaders(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				_, _ = c.Read(make([]byte, 4096))
				_, _ = c.Write([]byte("HTTP/1.1 401 Unauthorized\r\n"))
				line := []byte("WWW-Authenticate: Negotiate " + strings.Repeat("A", 64) + "\r\n")
				for range 1 << 20 {
					if _, err := c.Write(line); err != nil {
						return
					}
				}
			}()
		}
	}()
	start := time.Now()
	_, err = pep.Dial(context.Background(), pep.Options{Hosts: []string{ln.Addr().String()}, User: `AZS\CloudAdmin`, Password: "x", RetryDelay: time.Second})
	var pe *pep.Error
	if !errors.As(err, &pe) || !errors.Is(err, wsman.ErrResponseTooLarge) || !strings.Contains(err.Error(), ln.Addr().String()) || !strings.Contains(pe.Advice, "WinRM") {
		t.Errorf("got %v, want ErrResponseTooLarge naming the host, with advice", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1 (not retried)", n)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("failed after %v", d)
	}
}

// TestTraceAcrossReconnect: when a retry opens a new session, the trace
// goes on as one recording.
func TestTraceAcrossReconnect(t *testing.T) {
	srv := startSim(t, pepsim.Options{Nodes: 1})
	var trace bytes.Buffer
	c := dial(t, srv, nil, func(o *pep.Options) { o.Trace = &trace })
	// A Command cut short by its deadline leaves the pool unusable (the
	// pipeline may be running); the next retried command reopens it.
	srv.SetFaults(pepsim.Faults{Latency: 300 * time.Millisecond})
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.StampInformation(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
	srv.SetFaults(pepsim.Faults{})
	if _, err := c.NewRegistrationToken(context.Background(), pep.TokenOptions{BillingModel: pep.BillingDevelopment}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Sessions()); n < 2 {
		t.Fatalf("%d sessions, want a reconnect", n)
	}
	if n := bytes.Count(trace.Bytes(), []byte("messages:")); n != 1 {
		t.Errorf("trace has %d 'messages:' headers, want 1", n)
	}
	if _, err := wsman.ParseRecording(trace.Bytes()); err != nil {
		t.Error(err)
	}
}
