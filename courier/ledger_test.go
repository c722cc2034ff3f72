package courier_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/courier"
)

func newLedger(t testing.TB, n int) (*courier.Ledger, []string) {
	t.Helper()
	l := courier.OpenLedger(filepath.Join(t.TempDir(), "cfg", courier.LedgerFile))
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		e, err := l.Append(courier.Entry{Time: start.Add(time.Duration(i) * time.Minute), Step: "write",
			Kind: courier.KindToken, SHA256: strings.Repeat("ab", 32), File: "t.txt", Outcome: "ok"})
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != i+1 {
			t.Fatalf("seq: got %d, want %d", e.Seq, i+1)
		}
	}
	data, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	return l, strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestLedgerVerifyIntact(t *testing.T) {
	l, _ := newLedger(t, 5)
	n, err := l.Verify()
	if err != nil || n != 5 {
		t.Fatalf("Verify: %d, %v; want 5 entries intact", n, err)
	}
	empty := courier.OpenLedger(filepath.Join(t.TempDir(), "none.jsonl"))
	if n, err := empty.Verify(); n != 0 || err != nil {
		t.Fatalf("missing ledger: %d, %v", n, err)
	}
}

func TestLedgerVerifyFindsTampering(t *testing.T) {
	cases := []struct {
		name     string
		tamper   func(lines []string) []string
		wantLine int
	}{
		{"edit outcome", func(l []string) []string {
			l[2] = strings.Replace(l[2], `"outcome":"ok"`, `"outcome":"OK"`, 1)
			return l
		}, 3},
		{"edit hash too", func(l []string) []string {
			l[1] = strings.Replace(l[1], `"step":"write"`, `"step":"check"`, 1)
			return l
		}, 2},
		{"delete middle entry", func(l []string) []string { return append(l[:2:2], l[3:]...) }, 3},
		{"delete first entry", func(l []string) []string { return l[1:] }, 1},
		{"swap two entries", func(l []string) []string { l[1], l[2] = l[2], l[1]; return l }, 2},
		{"insert a copy", func(l []string) []string { return append(l[:3:3], append([]string{l[2]}, l[3:]...)...) }, 4},
		{"garbage line", func(l []string) []string { l[3] = "{oops\n"; return l }, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, lines := newLedger(t, 5)
			if err := os.WriteFile(l.Path(), []byte(strings.Join(c.tamper(lines), "")), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := l.Verify()
			var be *courier.BreakError
			if !errors.As(err, &be) || !errors.Is(err, courier.ErrIntegrity) {
				t.Fatalf("got %v, want a BreakError", err)
			}
			if be.Line != c.wantLine {
				t.Errorf("broken at line %d, want %d (%s)", be.Line, c.wantLine, be.Reason)
			}
		})
	}
}

func TestLedgerAppendContinuesChain(t *testing.T) {
	l, _ := newLedger(t, 2)
	// A second handle (another process) continues the same chain.
	l2 := courier.OpenLedger(l.Path())
	e, err := l2.Append(courier.Entry{Step: "inspect", Outcome: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := l.Entries()
	if err != nil || len(entries) != 3 || e.Prev != entries[1].Hash || e.Seq != 3 {
		t.Fatalf("entries %d, err %v, prev %q", len(entries), err, e.Prev)
	}
}
