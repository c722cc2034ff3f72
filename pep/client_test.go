package pep_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/pep"
	"github.com/azs-courier/azs-courier/pep/pepsim"
	"github.com/azs-courier/azs-courier/pep/psrp"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

const password = "Sim-Passw0rd!"

func startSim(t *testing.T, o pepsim.Options) *pepsim.Server {
	t.Helper()
	o.Password = password
	srv, err := pepsim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// dial opens a client on srv; events are collected into *events.
func dial(t *testing.T, srv *pepsim.Server, events *[]pep.Event, mod ...func(*pep.Options)) *pep.Client {
	t.Helper()
	o := pep.Options{
		Hosts: []string{srv.Addr()}, User: srv.User(), Password: password,
		OperationTimeout: 2 * time.Second, RetryDelay: 0,
		OnEvent: func(e pep.Event) {
			if events != nil {
				*events = append(*events, e)
			}
		},
	}
	for _, m := range mod {
		m(&o)
	}
	c, err := pep.Dial(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func decodeToken(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		t.Fatalf("token is not base64: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("token is not JSON: %v", err)
	}
	return m
}

// closedPort returns a loopback address nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestDialTriesHostsInOrder(t *testing.T) {
	srv := startSim(t, pepsim.Options{})
	dead := closedPort(t)
	var events []pep.Event
	c := dial(t, srv, &events, func(o *pep.Options) { o.Hosts = []string{dead, srv.Addr()} })
	if c.Host() != srv.Addr() {
		t.Errorf("Host() = %s, want %s (the one that answered)", c.Host(), srv.Addr())
	}
	var warned bool
	for _, e := range events {
		warned = warned || (e.Level == "warning" && strings.Contains(e.Message, dead))
	}
	if !warned {
		t.Errorf("no warning about %s among %v", dead, events)
	}
}

func TestDialUnreachable(t *testing.T) {
	dead := closedPort(t)
	_, err := pep.Dial(context.Background(), pep.Options{Hosts: []string{dead}, User: `AZS\CloudAdmin`, Password: "x", RetryDelay: 0})
	var pe *pep.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Advice, "5985") {
		t.Errorf("got %v, want an unreachable-host error with advice", err)
	}
	dead2 := closedPort(t)
	_, err = pep.Dial(context.Background(), pep.Options{Hosts: []string{dead, dead2}, User: `AZS\CloudAdmin`, Password: "x", RetryDelay: 0})
	if err == nil || !strings.Contains(err.Error(), dead) || !strings.Contains(err.Error(), dead2) {
		t.Errorf("two dead hosts: got %v, want both named", err)
	}
	if _, err := pep.Dial(context.Background(), pep.Options{Hosts: []string{dead}, User: "CloudAdmin"}); err == nil || !strings.Contains(err.Error(), `DOMAIN\name`) {
		t.Errorf("user without domain: got %v", err)
	}
}

func TestWrongPasswordNotRetried(t *testing.T) {
	srv := startSim(t, pepsim.Options{})
	_, err := pep.Dial(context.Background(), pep.Options{Hosts: []string{srv.Addr()}, User: srv.User(), Password: "wrong", RetryDelay: 0})
	if !errors.Is(err, wsman.ErrUnauthorized) {
		t.Fatalf("got %v, want ErrUnauthorized", err)
	}
	if !strings.Contains(err.Error(), "CloudAdmin") {
		t.Errorf("error %q gives no advice about the account", err)
	}
	if n := srv.Stats().AuthFailures; n != 1 {
		t.Errorf("%d authentication attempts, want 1 (never retry a wrong password)", n)
	}
}

func TestStampInformation(t *testing.T) {
	srv := startSim(t, pepsim.Options{Nodes: 8, StampVersion: "1.2406.0.8"})
	c := dial(t, srv, nil)
	s, err := c.StampInformation(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.CloudID != srv.CloudID() || s.NumberOfNodes != 8 || s.StampVersion != "1.2406.0.8" || s.Version != pep.MustVersion("1.2406.0.8") {
		t.Errorf("got %+v, want cloud %s, 8 nodes, 1.2406.0.8", s, srv.CloudID())
	}
	if s.AdminResourceManager == "" || len(s.EmergencyConsoleIPs) != 3 {
		t.Errorf("nested fields missing: %+v", s)
	}
}

func TestNewRegistrationTokenGates(t *testing.T) {
	tests := []struct {
		name        string
		stamp       string
		opts        pep.TokenOptions
		wantErr     error
		wantVersion string
		wantUsage   bool
		wantWarning bool
	}{
		{"development on a new stamp", "1.2311.2.23", pep.TokenOptions{BillingModel: "Development", UsageReportingEnabled: true}, nil, "6.0", true, false},
		{"capacity turns usage off", "1.2311.2.23", pep.TokenOptions{BillingModel: "Capacity", AgreementNumber: "EA-1", UsageReportingEnabled: true}, nil, "6.0", false, true},
		{"token version 4.0", "1.2301.2.58", pep.TokenOptions{BillingModel: "Development"}, nil, "4.0", false, false},
		{"no token version before 1.2008.0.49", "1.2002.0.35", pep.TokenOptions{BillingModel: "Development"}, nil, "3.0", false, false},
		{"custom with tag", "1.2008.0.59", pep.TokenOptions{BillingModel: "custom", MsAssetTag: "TAG-7"}, nil, "4.0", false, false},
		{"capacity without agreement", "1.2311.2.23", pep.TokenOptions{BillingModel: "Capacity"}, pep.ErrValidation, "", false, false},
		{"custom without tag", "1.2311.2.23", pep.TokenOptions{BillingModel: "Custom"}, pep.ErrValidation, "", false, false},
		{"custom on an old stamp", "1.1910.0.58", pep.TokenOptions{BillingModel: "Custom", MsAssetTag: "T"}, pep.ErrValidation, "", false, false},
		{"unknown model", "1.2311.2.23", pep.TokenOptions{BillingModel: "PayAsYouUse"}, pep.ErrValidation, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSim(t, pepsim.Options{StampVersion: tt.stamp, Nodes: 2})
			var events []pep.Event
			c := dial(t, srv, &events)
			before := srv.Stats().Messages
			tok, err := c.NewRegistrationToken(context.Background(), tt.opts)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				// Validation happens before New-RegistrationToken runs: at
				// most the stamp query reached the PEP.
				if n := srv.Stats().Messages - before; n > 8 {
					t.Errorf("%d WS-Man messages after a validation error, want only the stamp query", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := decodeToken(t, tok)
			if m["cloudId"] != srv.CloudID() || m["version"] != tt.wantVersion || m["usageReportingEnabled"] != tt.wantUsage {
				t.Errorf("token cloudId=%v version=%v usage=%v; want %s %s %v", m["cloudId"], m["version"], m["usageReportingEnabled"], srv.CloudID(), tt.wantVersion, tt.wantUsage)
			}
			if hw, _ := m["hardwareInfo"].([]any); len(hw) != 2 {
				t.Errorf("token has %d hardware entries, want 2", len(hw))
			}
			var warned, progress bool
			for _, e := range events {
				warned = warned || (e.Level == "warning" && strings.Contains(e.Message, "Disabling Usage Reporting"))
				progress = progress || e.Level == "progress"
			}
			if warned != tt.wantWarning {
				t.Errorf("usage warning = %v, want %v", warned, tt.wantWarning)
			}
			if !progress {
				t.Error("no progress events")
			}
		})
	}
}

func TestRetriesAndFaults(t *testing.T) {
	ctx := context.Background()
	t.Run("dropped connection mid-receive is retried", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{Nodes: 1}) // no Set-RegistrationKeyPair before the token
		var events []pep.Event
		c := dial(t, srv, &events)
		if _, err := c.StampInformation(ctx); err != nil {
			t.Fatal(err)
		}
		srv.SetFaults(pepsim.Faults{DropReceives: 1})
		if _, err := c.NewRegistrationToken(ctx, pep.TokenOptions{BillingModel: "Development"}); err != nil {
			t.Fatal(err)
		}
		var warned bool
		for _, e := range events {
			warned = warned || strings.HasPrefix(e.Message, "Creation of registration token failed:")
		}
		if !warned {
			t.Error("no retry warning")
		}
	})
	t.Run("HTTP 500 fault is retried", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{})
		c := dial(t, srv, nil)
		srv.SetFaults(pepsim.Faults{InternalErrors: 1, InternalErrorAction: "Command"})
		if err := c.NewActivation(ctx, activationKey(srv.CloudID())); err != nil {
			t.Fatal(err)
		}
		if !srv.Activated() {
			t.Error("stamp not activated")
		}
	})
	t.Run("busy is not retried", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{})
		c := dial(t, srv, nil)
		srv.SetFaults(pepsim.Faults{Busy: 1})
		_, err := c.NewRegistrationToken(ctx, pep.TokenOptions{BillingModel: "Development"})
		if !errors.Is(err, pep.ErrBusy) {
			t.Fatalf("got %v, want ErrBusy", err)
		}
		var rec *psrp.ErrorRecord
		if !errors.As(err, &rec) || !strings.Contains(err.Error(), "Get-ActionStatus") {
			t.Errorf("error %q lacks the error record or the advice", err)
		}
	})
	t.Run("repeated TimedOut is polled through", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{})
		c := dial(t, srv, nil)
		srv.SetFaults(pepsim.Faults{TimedOut: 4})
		if _, err := c.StampInformation(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("broken pool", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{Faults: pepsim.Faults{BrokenPool: true}})
		_, err := pep.Dial(ctx, pep.Options{Hosts: []string{srv.Addr()}, User: srv.User(), Password: password, Attempts: 2})
		var se *psrp.StateError
		if !errors.As(err, &se) {
			t.Fatalf("got %v, want a StateError", err)
		}
		if n := srv.OpenShells(); n != 0 {
			t.Errorf("%d shells left open", n)
		}
	})
	t.Run("slow server hits the context deadline", func(t *testing.T) {
		srv := startSim(t, pepsim.Options{})
		c := dial(t, srv, nil)
		srv.SetFaults(pepsim.Faults{Latency: 2 * time.Second})
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := c.StampInformation(short)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want DeadlineExceeded", err)
		}
		srv.SetFaults(pepsim.Faults{})
	})
}

// activationKey builds a JWS-shaped key for cloudID.
func activationKey(cloudID string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"kid":"k","alg":"RS256"}`)) + "." + enc([]byte(`{"cloudId":"`+cloudID+`"}`)) + "." + enc(bytes.Repeat([]byte{7}, 256))
}

func TestActivationLifecycle(t *testing.T) {
	ctx := context.Background()
	srv := startSim(t, pepsim.Options{})
	c := dial(t, srv, nil)
	err := c.NewActivation(ctx, activationKey("00000000-0000-0000-0000-000000000001"))
	var rec *psrp.ErrorRecord
	if !errors.As(err, &rec) || !strings.Contains(rec.Message, "cloud ID") {
		t.Errorf("foreign key: got %v, want the PEP's rejection", err)
	}
	if err := c.NewActivation(ctx, activationKey(srv.CloudID())); err != nil {
		t.Fatal(err)
	}
	if !srv.Activated() {
		t.Fatal("not activated")
	}
	if err := c.RemoveActivation(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.Activated() {
		t.Error("still activated after RemoveActivation")
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := srv.OpenShells(); n != 0 {
		t.Errorf("%d shells open after Close, want 0", n)
	}
	if err := c.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.StampInformation(ctx); err == nil {
		t.Error("StampInformation after Close succeeded")
	}
}

func TestTraceHasNoPassword(t *testing.T) {
	srv := startSim(t, pepsim.Options{})
	var trace bytes.Buffer
	c := dial(t, srv, nil, func(o *pep.Options) { o.Trace = &trace })
	if _, err := c.NewRegistrationToken(context.Background(), pep.TokenOptions{BillingModel: "Development"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(trace.Bytes(), []byte(password)) || bytes.Contains(bytes.ToLower(trace.Bytes()), []byte("authorization")) {
		t.Error("trace holds the password or an Authorization header")
	}
	rec, err := wsman.ParseRecording(trace.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Messages) < 6 {
		t.Errorf("trace has %d exchanges, want the whole session", len(rec.Messages))
	}
	if !bytes.Contains(trace.Bytes(), []byte("/wsman/1/windows/shell/Command")) {
		t.Error("trace has no Command request")
	}
}

func TestTraceFromContext(t *testing.T) {
	srv := startSim(t, pepsim.Options{})
	var trace bytes.Buffer
	ctx := pep.WithTrace(context.Background(), &trace)
	c, err := pep.Dial(ctx, pep.Options{Hosts: []string{srv.Addr()}, User: srv.User(), Password: password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StampInformation(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Close(context.Background())
	if !bytes.Contains(trace.Bytes(), []byte("/windows/shell/Command")) {
		t.Errorf("trace from the context recorded nothing useful: %d bytes", trace.Len())
	}
	if _, err := wsman.ParseRecording(trace.Bytes()); err != nil {
		t.Error(err)
	}
}

func TestOneHandshakePerConnection(t *testing.T) {
	srv := startSim(t, pepsim.Options{})
	c := dial(t, srv, nil)
	ctx := context.Background()
	if _, err := c.NewRegistrationToken(ctx, pep.TokenOptions{BillingModel: "Development"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st.Handshakes != 1 {
		t.Errorf("%d handshakes, want 1", st.Handshakes)
	}
	if st.Requests > st.Messages+3 {
		t.Errorf("%d HTTP requests for %d WS-Man messages, want at most messages + 3", st.Requests, st.Messages)
	}
	if st.Plaintext != 0 {
		t.Errorf("%d plain-text bodies", st.Plaintext)
	}
}
