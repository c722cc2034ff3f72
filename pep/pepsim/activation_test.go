package pepsim_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/internal/testutil"
	"github.com/azs-courier/azs-courier/pep"
	"github.com/azs-courier/azs-courier/pep/pepsim"
)

// activationRun is what one long activation through the real client
// showed.
type activationRun struct {
	took     time.Duration // real time of NewActivation
	stats    pepsim.Stats
	invs     []pepsim.Invocation
	progress []time.Duration // real times of the progress events, from the start
	faultAt  time.Duration   // real time the fault was switched on
	scale    float64
}

// runActivation runs New-AzureStackActivation lasting d (simulated) on a
// simulator at scale, through pep.Client with its default settings but
// retryDelay, and switches on one WS-Man fault for a Receive once the
// activation reports half its progress.
func runActivation(t testing.TB, d time.Duration, scale float64, retryDelay time.Duration) activationRun {
	t.Helper()
	srv := start(t, pepsim.Options{ActivationDelay: d, TimeScale: scale})
	run := activationRun{scale: scale}
	var mu sync.Mutex
	var begin time.Time
	faulted := false
	c, err := pep.Dial(context.Background(), pep.Options{
		Hosts: []string{srv.Addr()}, User: srv.User(), Password: testPassword, RetryDelay: retryDelay,
		OnEvent: func(e pep.Event) {
			mu.Lock()
			defer mu.Unlock()
			if e.Step != "activate" || e.Level != "progress" || begin.IsZero() {
				return
			}
			run.progress = append(run.progress, time.Since(begin))
			if !faulted && e.Fraction >= 0.5 {
				faulted = true
				run.faultAt = time.Since(begin)
				srv.SetFaults(pepsim.Faults{InternalErrors: 1, InternalErrorAction: "Receive"})
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The shared 4-node key is for the simulator's default cloud ID.
	key := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "activation-key-4node.txt")))
	mu.Lock()
	begin = time.Now()
	mu.Unlock()
	err = c.NewActivation(context.Background(), key)
	run.took = time.Since(begin)
	if err != nil {
		t.Fatalf("activation: %v", err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !srv.Activated() {
		t.Fatal("not activated")
	}
	run.stats, run.invs = srv.Stats(), srv.Invocations()
	return run
}

// check asserts what a long activation must show: one connection and one
// NTLM handshake throughout, no request beyond the protocol's, progress in
// every stretch, and the faulted pipeline signalled so that the retry
// started at once.
func (r activationRun) check(t testing.TB, d time.Duration) {
	t.Helper()
	st := r.stats
	if st.Connections != 1 || st.Handshakes != 1 {
		t.Errorf("%d connections, %d handshakes; want 1 and 1", st.Connections, st.Handshakes)
	}
	if st.Requests != st.Messages+2 {
		t.Errorf("%d HTTP requests for %d WS-Man messages, want messages + 2 (one handshake)", st.Requests, st.Messages)
	}
	// Create, the pool's Receives, two activations (the faulted one and its
	// retry) and Close-PrivilegedEndpoint, each Command'ed and Signalled
	// once, Delete.
	want := map[string]int{"Create": 1, "Command": 3, "Signal": 3, "Delete": 1}
	for a, n := range want {
		if st.Actions[a] != n {
			t.Errorf("%d %s requests, want %d (all: %v)", st.Actions[a], a, n, st.Actions)
		}
	}
	if st.Actions["Send"] != 0 {
		t.Errorf("%d Send requests, want none", st.Actions["Send"])
	}
	// Every Receive either waits a whole OperationTimeout or brings
	// output: at most one per 20 s of activation and one per progress
	// record, plus a few to open the pool and end each pipeline.
	maxReceives := 2*int(d/(20*time.Second)) + len(r.progress) + 12
	if st.Actions["Receive"] > maxReceives {
		t.Errorf("%d Receives, want at most %d", st.Actions["Receive"], maxReceives)
	}
	if len(r.invs) != 3 || r.invs[0].Outcome != "Terminated" || r.invs[1].Outcome != "Completed" || r.invs[2].Command != "Close-PrivilegedEndpoint" {
		t.Fatalf("invocations %+v, want the faulted activation Terminated, its retry Completed, then Close-PrivilegedEndpoint", r.invs)
	}
	// The retry did not wait for the faulted pipeline's runspace.
	if q := r.real(r.invs[1].Queued); q > time.Second {
		t.Errorf("the retry queued %v for the runspace, want under 1 s (the faulted pipeline signalled)", q)
	}
	if gap := r.real(r.invs[1].Start - r.invs[0].End); gap > time.Second+r.retryAllowance() {
		t.Errorf("%v from the faulted pipeline's end to the retry's start", gap)
	}
	// Progress throughout: no simulated ten minutes without an event (it
	// comes every 30 simulated seconds).
	window := r.real(10 * time.Minute)
	last := time.Duration(0)
	for _, p := range append(r.progress, r.took) {
		if p-last > window {
			t.Errorf("no progress between %v and %v (real), more than ten simulated minutes", last, p)
		}
		last = p
	}
}

func (r activationRun) real(sim time.Duration) time.Duration {
	return time.Duration(float64(sim) / r.scale)
}

// retryAllowance is the client's retry delay in the real run.
func (r activationRun) retryAllowance() time.Duration {
	if r.scale == 1 {
		return 10 * time.Second
	}
	return 0
}

func (r activationRun) String() string {
	st := r.stats
	return fmt.Sprintf("took %v real (%v simulated); %d connection(s), %d handshake(s), %d HTTP requests, %d WS-Man messages %v, %d TimedOut Receives; %d progress events; fault at %v; faulted pipeline %s after %v; retry queued %v, started %v after the fault's pipeline ended",
		r.took.Round(time.Millisecond), time.Duration(float64(r.took)*r.scale).Round(time.Second), st.Connections, st.Handshakes, st.Requests, st.Messages, st.Actions, st.TimedOut,
		len(r.progress), r.faultAt.Round(time.Millisecond), r.invs[0].Outcome, r.real(r.invs[0].End-r.invs[0].Start).Round(time.Millisecond),
		r.real(r.invs[1].Queued).Round(time.Millisecond), r.real(r.invs[1].Start-r.invs[0].End).Round(time.Millisecond))
}

// TestLongActivation runs a 30-minute activation (at 1000× speed, 1.8 s
// a run) with a WS-Man fault on a Receive half way: one connection, no
// stray requests, progress throughout, and the faulted pipeline signalled
// so that the pool runs the retry at once.
func TestLongActivation(t *testing.T) {
	const d = 30 * time.Minute
	r := runActivation(t, d, 1000, 0)
	t.Log(r)
	r.check(t, d)
}

// TestLongActivationRealTime is TestLongActivation in real time, with the
// client's defaults (20 s OperationTimeout, 10 s between retries); it
// runs only when PEP_LONG_RUN gives the activation's length, e.g.
// PEP_LONG_RUN=8m (the fault half way makes the whole run 1.5 × that).
func TestLongActivationRealTime(t *testing.T) {
	v := os.Getenv("PEP_LONG_RUN")
	if v == "" {
		t.Skip("set PEP_LONG_RUN=8m to run an activation of that length in real time")
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("PEP_LONG_RUN=%q: %v", v, err)
	}
	r := runActivation(t, d, 1, -1)
	t.Log(r)
	r.check(t, d)
}
