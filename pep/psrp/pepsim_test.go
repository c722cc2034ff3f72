package psrp_test

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/pep/pepsim"
	"github.com/azs-courier/azs-courier/pep/psrp"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

const password = "Sim-Passw0rd!"

// dial starts a simulator and returns a WS-Man client to it over the real
// NTLM-sealed HTTP transport.
func dial(t *testing.T, opts pepsim.Options) (*pepsim.Server, *wsman.Client, *wsman.HTTPTransport) {
	t.Helper()
	opts.Password = password
	srv, err := pepsim.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	tr, err := wsman.NewHTTPTransport(srv.URL(), wsman.HTTPOptions{User: srv.User(), Password: password})
	if err != nil {
		t.Fatal(err)
	}
	tr.Stats = &wsman.Stats{}
	t.Cleanup(func() { tr.Close() })
	return srv, &wsman.Client{Transport: tr, To: srv.URL(), OperationTimeout: 2 * time.Second}, tr
}

func stampInfo() psrp.CreatePipeline {
	return psrp.CreatePipeline{Statements: [][]psrp.Command{{{Name: "Get-AzureStackStampInformation"}}}}
}

func TestPoolAgainstSimulator(t *testing.T) {
	srv, c, tr := dial(t, pepsim.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := psrp.Open(ctx, c, psrp.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pool.ServerCapability.ProtocolVersion == "" {
		t.Error("no server SESSION_CAPABILITY recorded")
	}
	res, err := pool.Invoke(ctx, stampInfo(), psrp.InvokeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output) != 1 || res.State != psrp.PipelineCompleted {
		t.Fatalf("got %d outputs, state %v; want 1, Completed", len(res.Output), res.State)
	}
	if got := res.Output[0].MemberStr("CloudID"); got != srv.CloudID() {
		t.Errorf("CloudID = %q, want %q", got, srv.CloudID())
	}

	// A script is refused the way the JEA endpoint refuses it.
	script := psrp.CreatePipeline{Statements: [][]psrp.Command{{{Name: "Get-AzureStackStampInformation | Select-Object CloudID", IsScript: true}}}}
	_, err = pool.Invoke(ctx, script, psrp.InvokeOptions{})
	var rec *psrp.ErrorRecord
	if !errors.As(err, &rec) || rec.FullyQualifiedErrorID != "ScriptsNotAllowed" {
		t.Errorf("script: got %v, want ScriptsNotAllowed", err)
	}
	unknown := psrp.CreatePipeline{Statements: [][]psrp.Command{{{Name: "Get-ChildItem"}}}}
	_, err = pool.Invoke(ctx, unknown, psrp.InvokeOptions{})
	if !errors.As(err, &rec) || rec.FullyQualifiedErrorID == "" {
		t.Errorf("unknown command: got %v, want an error record", err)
	}
	if err := pool.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := srv.OpenShells(); n != 0 {
		t.Errorf("%d shells left open, want 0", n)
	}
	_, hs, _, _ := tr.Stats.Snapshot()
	st := srv.Stats()
	if hs != 1 || st.Handshakes != 1 {
		t.Errorf("handshakes: client %d, server %d; want 1 (one connection)", hs, st.Handshakes)
	}
	if st.Plaintext != 0 {
		t.Errorf("server saw %d plain-text bodies, want 0", st.Plaintext)
	}
}

func TestPoolBroken(t *testing.T) {
	srv, c, _ := dial(t, pepsim.Options{Faults: pepsim.Faults{BrokenPool: true}})
	_, err := psrp.Open(context.Background(), c, psrp.PoolOptions{})
	var se *psrp.StateError
	if !errors.As(err, &se) || se.State != "Broken" {
		t.Fatalf("got %v, want a Broken StateError", err)
	}
	if n := srv.OpenShells(); n != 0 {
		t.Errorf("%d shells left open after a broken pool, want 0", n)
	}
}

func TestPipelineTimedOutRepolls(t *testing.T) {
	_, c, _ := dial(t, pepsim.Options{Faults: pepsim.Faults{TimedOut: 3}})
	ctx := context.Background()
	pool, err := psrp.Open(ctx, c, psrp.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close(ctx)
	res, err := pool.Invoke(ctx, stampInfo(), psrp.InvokeOptions{})
	if err != nil || len(res.Output) != 1 {
		t.Fatalf("got %v, %v; want one output after TimedOut re-polls", res, err)
	}
}

func TestPipelineRecordsAndCancel(t *testing.T) {
	_, c, _ := dial(t, pepsim.Options{TokenDelay: 300 * time.Millisecond})
	ctx := context.Background()
	pool, err := psrp.Open(ctx, c, psrp.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close(ctx)
	token := psrp.CreatePipeline{Statements: [][]psrp.Command{{{Name: "New-RegistrationToken", Parameters: []psrp.Parameter{
		{Name: "BillingModel", Value: psrp.String("Development")},
	}}}}}
	var records []psrp.Record
	res, err := pool.Invoke(ctx, token, psrp.InvokeOptions{OnRecord: func(r psrp.Record) { records = append(records, r) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Output) != 1 || res.Output[0].Str() == "" {
		t.Errorf("token output = %v, want one string", res.Output)
	}
	var progress int
	for _, r := range records {
		if r.Type == psrp.ProgressRecordType {
			progress++
		}
	}
	if progress == 0 {
		t.Errorf("no progress records among %d records", len(records))
	}

	// Cancelling mid-pipeline returns promptly with the context's error.
	slow, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, c2, _ := dial(t, pepsim.Options{TokenDelay: 5 * time.Second})
	pool2, err := psrp.Open(ctx, c2, psrp.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool2.Close(ctx)
	start := time.Now()
	_, err = pool2.Invoke(slow, token, psrp.InvokeOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancel took %s", d)
	}
}

// activation is New-AzureStackActivation with a key for cloudID.
func activation(cloudID string) psrp.CreatePipeline {
	enc := base64.RawURLEncoding.EncodeToString
	key := enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"cloudId":"`+cloudID+`"}`)) + "." + enc([]byte("signature"))
	return psrp.CreatePipeline{Statements: [][]psrp.Command{{{Name: "New-AzureStackActivation", Parameters: []psrp.Parameter{
		{Name: "ActivationKey", Value: psrp.String(key)}, {Name: "TimeoutInSeconds", Value: psrp.Int32(1800)},
	}}}}}
}

// TestSignalAfterFailedReceive: when a Receive for a running pipeline ends
// in a WS-Man fault or a transport error, the client signals that
// pipeline before anything else ([MS-PSRP] 3.1.5.3.13), so the pool's one
// runspace is free for the next command at once instead of after the rest
// of a 30-minute activation.
func TestSignalAfterFailedReceive(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault pepsim.Faults
	}{
		{"WS-Man fault", pepsim.Faults{InternalErrors: 1, InternalErrorAction: "Receive"}},
		{"dropped connection", pepsim.Faults{DropReceives: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// 30 simulated minutes last 18 s.
			srv, c, _ := dial(t, pepsim.Options{ActivationDelay: 30 * time.Minute, TimeScale: 100})
			ctx := context.Background()
			pool, err := psrp.Open(ctx, c, psrp.PoolOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close(ctx)
			srv.SetFaults(tt.fault)
			if _, err := pool.Invoke(ctx, activation(srv.CloudID()), psrp.InvokeOptions{}); err == nil {
				t.Fatal("activation succeeded through the fault")
			}
			if err := pool.Err(); err != nil {
				t.Fatalf("pool unusable after the signalled pipeline: %v", err)
			}
			start := time.Now()
			short, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			res, err := pool.Invoke(short, stampInfo(), psrp.InvokeOptions{})
			took := time.Since(start)
			if err != nil || len(res.Output) != 1 {
				t.Fatalf("next command after the fault: %v (after %v)", err, took)
			}
			if took > time.Second {
				t.Errorf("next command took %v, want under 1 s", took)
			}
			invs := srv.Invocations()
			if len(invs) != 2 || invs[0].Outcome != "Terminated" {
				t.Errorf("invocations %+v, want the activation Terminated by the client's Signal", invs)
			}
		})
	}
}
