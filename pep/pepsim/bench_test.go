package pepsim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep"
	"github.com/azs-courier/azs-courier/pep/pepsim"
	"github.com/azs-courier/azs-courier/pep/psrp"
	"github.com/azs-courier/azs-courier/pep/wsman"
)

func benchClient(b *testing.B, srv *pepsim.Server) *pep.Client {
	b.Helper()
	c, err := pep.Dial(context.Background(), pep.Options{Hosts: []string{srv.Addr()}, User: srv.User(), Password: testPassword})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkTokenRoundTrip is the time for a registration token through the
// real client on loopback: open the session (NTLM, pool), read the stamp,
// New-RegistrationToken, Close-PrivilegedEndpoint and Delete. The
// simulator's TokenDelay is zero, so this is protocol and crypto time.
func BenchmarkTokenRoundTrip(b *testing.B) {
	srv := start(b, pepsim.Options{Nodes: 4})
	ctx := context.Background()
	before := srv.Stats()
	n := 0
	for b.Loop() {
		c := benchClient(b, srv)
		tok, err := c.NewRegistrationToken(ctx, pep.TokenOptions{BillingModel: pep.BillingDevelopment})
		if err != nil || tok == "" {
			b.Fatalf("token: %q, %v", tok, err)
		}
		if err := c.Close(ctx); err != nil {
			b.Fatal(err)
		}
		n++
	}
	after := srv.Stats()
	b.ReportMetric(float64(after.Requests-before.Requests)/float64(n), "requests/op")
	b.ReportMetric(float64(after.Messages-before.Messages)/float64(n), "wsman-msgs/op")
	b.ReportMetric(float64(after.BytesIn+after.BytesOut-before.BytesIn-before.BytesOut)/float64(n), "wire-bytes/op")
}

// BenchmarkPEPOperations measures each PEP operation on an open session:
// HTTP requests, WS-Man messages and body bytes as the simulator counted
// them, and the requests masterzen's NewEncryption("ntlm") would need for
// the same WS-Man messages (three handshake legs before each message, as
// TestMasterzenEncryption measures).
func BenchmarkPEPOperations(b *testing.B) {
	key := strings.TrimSpace(string(testutil.ReadShared(b, "tokens", "activation-key-4node.txt")))
	token := func(ctx context.Context, c *pep.Client) error {
		_, err := c.NewRegistrationToken(ctx, pep.TokenOptions{BillingModel: pep.BillingCapacity, AgreementNumber: "EA-1"})
		return err
	}
	ops := []struct {
		name  string
		nodes int
		run   func(ctx context.Context, c *pep.Client) error
	}{
		// On a 4-node stamp the token is preceded by Set-RegistrationKeyPair
		// (two pipelines); on one node it is New-RegistrationToken alone.
		{"token", 4, token},
		{"token-1node", 1, token},
		{"activate", 4, func(ctx context.Context, c *pep.Client) error { return c.NewActivation(ctx, key) }},
		{"deactivate", 4, func(ctx context.Context, c *pep.Client) error { return c.RemoveActivation(ctx) }},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			srv := start(b, pepsim.Options{CloudID: "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7", Nodes: op.nodes})
			ctx := context.Background()
			c := benchClient(b, srv)
			defer c.Close(ctx)
			if strings.HasPrefix(op.name, "token") {
				// The client reads the stamp once per session; keep that
				// out of the token's figures.
				if _, err := c.StampInformation(ctx); err != nil {
					b.Fatal(err)
				}
			}
			before := srv.Stats()
			n := 0
			for b.Loop() {
				if err := op.run(ctx, c); err != nil {
					b.Fatal(err)
				}
				n++
			}
			after := srv.Stats()
			msgs := float64(after.Messages-before.Messages) / float64(n)
			b.ReportMetric(float64(after.Requests-before.Requests)/float64(n), "requests/op")
			b.ReportMetric(msgs, "wsman-msgs/op")
			b.ReportMetric(float64(after.BytesIn+after.BytesOut-before.BytesIn-before.BytesOut)/float64(n), "wire-bytes/op")
			b.ReportMetric(4*msgs, "masterzen-requests/op")
		})
	}
}

// BenchmarkWaitAfterFaultedPipeline measures how long the pool's next
// command waits after a pipeline whose Receive ended in a WS-Man fault in
// the middle of a 30-minute activation (real time): the client signals the
// faulted pipeline ([MS-PSRP] 3.1.5.3.13), the simulator frees the
// runspace, and the next command runs at once. Without the Signal it would
// wait for the rest of the activation.
func BenchmarkWaitAfterFaultedPipeline(b *testing.B) {
	srv := start(b, pepsim.Options{ActivationDelay: 30 * time.Minute})
	tr, err := wsman.NewHTTPTransport(srv.URL(), wsman.HTTPOptions{User: srv.User(), Password: testPassword})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	ctx := context.Background()
	pool, err := psrp.Open(ctx, &wsman.Client{Transport: tr, To: srv.URL()}, psrp.PoolOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close(ctx)
	key := strings.TrimSpace(string(testutil.ReadShared(b, "tokens", "activation-key-4node.txt")))
	activate := psrp.CreatePipeline{Statements: [][]psrp.Command{{{Name: "New-AzureStackActivation", Parameters: []psrp.Parameter{
		{Name: "ActivationKey", Value: psrp.String(key)}, {Name: "TimeoutInSeconds", Value: psrp.Int32(1800)}}}}}}
	stamp := psrp.CreatePipeline{Statements: [][]psrp.Command{{{Name: "Get-AzureStackStampInformation"}}}}
	var wait time.Duration
	n := 0
	for b.Loop() {
		srv.SetFaults(pepsim.Faults{InternalErrors: 1, InternalErrorAction: "Receive"})
		if _, err := pool.Invoke(ctx, activate, psrp.InvokeOptions{}); err == nil {
			b.Fatal("activation went through the fault")
		}
		start := time.Now()
		short, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := pool.Invoke(short, stamp, psrp.InvokeOptions{})
		cancel()
		if err != nil {
			b.Fatalf("next command: %v", err)
		}
		wait += time.Since(start)
		n++
	}
	b.ReportMetric(float64(wait.Microseconds())/1000/float64(n), "next-command-ms")
}
