//go:build unix

package pepsim_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/pep"
	"github.com/azs-courier/azs-courier/pep/pepsim"
)

// TestHelperSimulator is not a test: BenchmarkStoppedPEP runs the test
// binary with PEPSIM_HELPER=1 to get a simulator in a process of its own,
// which it can stop with SIGSTOP as an ERCS VM freezes.
func TestHelperSimulator(t *testing.T) {
	if os.Getenv("PEPSIM_HELPER") != "1" {
		t.Skip("helper process for BenchmarkStoppedPEP")
	}
	srv, err := pepsim.Start(pepsim.Options{Password: testPassword})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("addr", srv.Addr())
	select {} // until killed
}

// stoppablePEP starts the helper simulator process and returns its address
// and process.
func stoppablePEP(b *testing.B) (string, *os.Process) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSimulator$")
	cmd.Env = append(os.Environ(), "PEPSIM_HELPER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "addr ")
	if err != nil || !ok {
		b.Fatalf("helper simulator: %q, %v", line, err)
	}
	return addr, cmd.Process
}

// BenchmarkStoppedPEP measures how long the client, with its default
// timeouts (20 s OperationTimeout, 10 s idle), takes to fail against a PEP
// whose process is stopped with SIGSTOP: when connecting (TCP is accepted
// by the kernel, nothing answers) and in the middle of a session. Target:
// under 60 s. It runs only with PEP_BENCH_STOPPED=1 (scripts/bench-pep.sh
// sets it): each case takes half a minute.
func BenchmarkStoppedPEP(b *testing.B) {
	if os.Getenv("PEP_BENCH_STOPPED") != "1" {
		b.Skip("set PEP_BENCH_STOPPED=1: each case waits for the client's timeouts (about 30 s)")
	}
	opts := func(addr string) pep.Options {
		return pep.Options{Hosts: []string{addr}, User: pepsim.DefaultUser, Password: testPassword}
	}
	b.Run("connect", func(b *testing.B) {
		var fail time.Duration
		for b.Loop() {
			addr, proc := stoppablePEP(b)
			if err := proc.Signal(syscall.SIGSTOP); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			_, err := pep.Dial(context.Background(), opts(addr))
			fail += time.Since(start)
			if !errors.Is(err, pep.ErrStopped) {
				b.Fatalf("got %v, want ErrStopped", err)
			}
		}
		b.ReportMetric(fail.Seconds()/float64(b.N), "s-to-fail")
	})
	b.Run("mid-session", func(b *testing.B) {
		var fail, closed time.Duration
		for b.Loop() {
			addr, proc := stoppablePEP(b)
			c, err := pep.Dial(context.Background(), opts(addr))
			if err != nil {
				b.Fatal(err)
			}
			if err := proc.Signal(syscall.SIGSTOP); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			_, err = c.StampInformation(context.Background())
			fail += time.Since(start)
			if !errors.Is(err, pep.ErrStopped) {
				b.Fatalf("got %v, want ErrStopped", err)
			}
			_ = c.Close(context.Background())
			closed += time.Since(start)
		}
		b.ReportMetric(fail.Seconds()/float64(b.N), "s-to-fail")
		b.ReportMetric(closed.Seconds()/float64(b.N), "s-to-closed")
	})
}
