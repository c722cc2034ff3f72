package courier_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/courier"
)

func newLedger(t testing.TB, n int) (*courier.Ledger, []string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cfg")
	l := courier.OpenLedger(filepath.Join(dir, courier.LedgerFile), filepath.Join(dir, courier.IdentityFile))
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
	chk, err := l.Verify(nil)
	if err != nil || chk.Entries != 5 || chk.Head.Count != 5 || len(chk.Signer) != 32 {
		t.Fatalf("Verify: %+v, %v; want 5 entries intact, signed", chk, err)
	}
	dir := t.TempDir()
	empty := courier.OpenLedger(filepath.Join(dir, "none.jsonl"), filepath.Join(dir, "key.pem"))
	if chk, err := empty.Verify(nil); chk.Entries != 0 || err != nil {
		t.Fatalf("missing ledger: %+v, %v", chk, err)
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
			_, err := l.Verify(nil)
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
	l2 := courier.OpenLedger(l.Path(), filepath.Join(filepath.Dir(l.Path()), courier.IdentityFile))
	e, err := l2.Append(courier.Entry{Step: "inspect", Outcome: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := l.Entries()
	if err != nil || len(entries) != 3 || e.Prev != entries[1].Hash || e.Seq != 3 {
		t.Fatalf("entries %d, err %v, prev %q", len(entries), err, e.Prev)
	}
}

// rechain rewrites lines with their chain recomputed, as someone without
// the signing key would after editing an entry: seq, prev and hash all
// consistent, the signatures kept from the original entries.
func rechain(t *testing.T, lines []string, edit func(e map[string]any, i int)) string {
	t.Helper()
	var out strings.Builder
	prev := ""
	for i, line := range lines {
		var e courier.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		b, _ := json.Marshal(e)
		json.Unmarshal(b, &m)
		edit(m, i)
		b, _ = json.Marshal(m)
		json.Unmarshal(b, &e)
		e.Prev, e.Hash = prev, ""
		sig := e.Sig
		e.Sig = ""
		b, _ = json.Marshal(e)
		sum := sha256.Sum256(b)
		e.Hash, e.Sig = hex.EncodeToString(sum[:]), sig
		prev = e.Hash
		b, _ = json.Marshal(e)
		out.Write(append(b, '\n'))
	}
	return out.String()
}

func TestLedgerVerifyFindsARechainedLedger(t *testing.T) {
	for _, tt := range []struct {
		name     string
		edit     func(e map[string]any, i int)
		wantLine int
	}{
		{"edited outcome", func(e map[string]any, i int) {
			if i == 2 {
				e["outcome"] = "failed: nothing happened"
			}
		}, 3},
		{"signatures removed", func(e map[string]any, i int) { e["sig"] = "" }, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, lines := newLedger(t, 5)
			if err := os.WriteFile(l.Path(), []byte(rechain(t, lines, tt.edit)), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := l.Verify(nil)
			var be *courier.BreakError
			if !errors.As(err, &be) || be.Line != tt.wantLine || !errors.Is(err, courier.ErrIntegrity) {
				t.Fatalf("Verify = %v, want a break at line %d", err, tt.wantLine)
			}
		})
	}
	// Entries signed with another installation's key: named as such.
	_, lines := newLedger(t, 2)
	dir := t.TempDir()
	other := courier.OpenLedger(filepath.Join(dir, courier.LedgerFile), filepath.Join(dir, courier.IdentityFile))
	if err := os.WriteFile(other.Path(), []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := courier.LoadIdentity(filepath.Join(filepath.Dir(other.Path()), courier.IdentityFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Verify(nil); err == nil || !strings.Contains(err.Error(), "not this installation's") {
		t.Errorf("a ledger signed by another key: %v", err)
	}
}

func TestLedgerAnchor(t *testing.T) {
	l, lines := newLedger(t, 5)
	chk, err := l.Verify(nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := courier.ParseAnchor(chk.Head.String())
	if err != nil || a != chk.Head {
		t.Fatalf("ParseAnchor(%q) = %v, %v", chk.Head, a, err)
	}
	// Written in groups, in upper case: the same anchor.
	grouped := fmt.Sprintf("%d: %s", a.Count, strings.ToUpper(courier.GroupHex(a.Hash)))
	if b, err := courier.ParseAnchor(grouped); err != nil || b != a {
		t.Errorf("ParseAnchor(%q) = %v, %v", grouped, b, err)
	}
	// More entries later: the anchor still holds.
	if _, err := l.Append(courier.Entry{Step: "inspect", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Verify(&a); err != nil {
		t.Errorf("anchor after one more entry: %v", err)
	}
	for _, tt := range []struct {
		name   string
		tamper func()
		found  string
	}{
		{"truncated by one line", func() { write(t, l.Path(), strings.Join(lines[:4], "")) }, "only 4 entries"},
		{"emptied", func() { write(t, l.Path(), "") }, "empty"},
		{"replaced by a new ledger signed with the same key", func() {
			os.Remove(l.Path())
			for range 6 {
				if _, err := l.Append(courier.Entry{Step: "write", Outcome: "ok", Detail: "a new ledger"}); err != nil {
					t.Fatal(err)
				}
			}
		}, "entry 5 has the hash"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.tamper()
			_, err := l.Verify(&a)
			var ae *courier.AnchorError
			if !errors.As(err, &ae) || !errors.Is(err, courier.ErrIntegrity) || !strings.Contains(err.Error(), tt.found) {
				t.Errorf("Verify(anchor) = %v, want an AnchorError saying %q", err, tt.found)
			}
		})
	}
	for _, bad := range []string{"", "5", "5:abc", "0:" + a.Hash, "x:" + a.Hash, "5:" + a.Hash + "00"} {
		if _, err := courier.ParseAnchor(bad); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", bad)
		}
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestLedgerTornLine: an append cut short (a crash, a full disk) leaves a
// torn last line; Verify reports it as a tear, not tampering, and the next
// Append moves it to a quarantine file and records that.
func TestLedgerTornLine(t *testing.T) {
	l, lines := newLedger(t, 3)
	torn := lines[2][:57]
	write(t, l.Path(), lines[0]+lines[1]+torn)
	chk, err := l.Verify(nil)
	if err != nil || chk.Entries != 2 || chk.Tear == nil || chk.Tear.Length != len(torn) {
		t.Fatalf("Verify of a torn ledger = %+v, %v; want 2 entries and a tear of %d bytes", chk, err, len(torn))
	}
	e, err := l.Append(courier.Entry{Step: "inspect", Outcome: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 4 {
		t.Errorf("the new entry is number %d, want 4 (after the recovered entry)", e.Seq)
	}
	chk, err = l.Verify(nil)
	if err != nil || chk.Entries != 4 || chk.Tear != nil || len(chk.Recovered) != 1 || chk.Recovered[0] != 3 {
		t.Fatalf("after recovery: %+v, %v; want 4 entries, entry 3 recovered", chk, err)
	}
	entries, _ := l.Entries()
	q, _ := filepath.Glob(l.Path() + ".torn-*")
	if len(q) != 1 {
		t.Fatalf("quarantine files %v, want one", q)
	}
	if got, _ := os.ReadFile(q[0]); string(got) != torn {
		t.Errorf("quarantined %q, want the torn bytes %q", got, torn)
	}
	sum := sha256.Sum256([]byte(torn))
	if d := entries[2].Detail; entries[2].Step != "recovered" || !strings.Contains(d, hex.EncodeToString(sum[:])) || !strings.Contains(d, filepath.Base(q[0])) {
		t.Errorf("recovered entry %+v does not name the bytes' hash and the file", entries[2])
	}
}

// TestLedgerRefusesLongLines: a line over 1 MiB is no entry; Verify names it.
func TestLedgerRefusesLongLines(t *testing.T) {
	l, lines := newLedger(t, 2)
	write(t, l.Path(), lines[0]+strings.Repeat("x", courier.MaxLedgerLine+1)+"\n"+lines[1])
	_, err := l.Verify(nil)
	var be *courier.BreakError
	if !errors.As(err, &be) || be.Line != 2 || !strings.Contains(be.Reason, "longer than 1 MiB") {
		t.Errorf("Verify = %v, want line 2 longer than 1 MiB", err)
	}
	if _, err := l.Append(courier.Entry{Step: "x", Detail: strings.Repeat("d", courier.MaxLedgerLine)}); err == nil {
		t.Error("an entry over 1 MiB was appended")
	}
}

// TestLedgerFailsClosed: every reason an entry cannot be written is an
// error of Append and Check, never a silent skip.
func TestLedgerFailsClosed(t *testing.T) {
	t.Run("lock held", func(t *testing.T) {
		l, _ := newLedger(t, 1)
		l.SetLockWait(100 * time.Millisecond)
		holder := courier.OpenLedger(l.Path(), filepath.Join(filepath.Dir(l.Path()), courier.IdentityFile))
		unlock := courier.HoldLock(t, holder.Path())
		defer unlock()
		_, err := l.Append(courier.Entry{Step: "x", Outcome: "ok"})
		var le *courier.LedgerError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), "another azs-courier process") {
			t.Errorf("Append with the lock held = %v", err)
		}
		if err := l.Check(); err == nil {
			t.Error("Check with the lock held: no error")
		}
	})
	t.Run("damaged signing key", func(t *testing.T) {
		l, _ := newLedger(t, 1)
		key := filepath.Join(filepath.Dir(l.Path()), courier.IdentityFile)
		write(t, key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
		_, err := l.Append(courier.Entry{Step: "x", Outcome: "ok"})
		if err == nil || !strings.Contains(err.Error(), "damaged") {
			t.Errorf("Append with a damaged key = %v", err)
		}
		if got, _ := os.ReadFile(key); !strings.Contains(string(got), "AAAA") {
			t.Error("the damaged key was replaced")
		}
	})
	t.Run("read-only folder", func(t *testing.T) {
		if os.Getuid() == 0 {
			t.Skip("root writes anywhere")
		}
		l, _ := newLedger(t, 1)
		dir := filepath.Dir(l.Path())
		os.Chmod(l.Path(), 0o400)
		os.Chmod(dir, 0o500)
		defer os.Chmod(dir, 0o700)
		if _, err := l.Append(courier.Entry{Step: "x", Outcome: "ok"}); err == nil {
			t.Error("Append to a read-only ledger: no error")
		}
	})
}

// TestLedgerLongLastEntry: an entry longer than the first window Append
// reads of the tail still chains the next one.
func TestLedgerLongLastEntry(t *testing.T) {
	l, _ := newLedger(t, 1)
	if _, err := l.Append(courier.Entry{Step: "x", Outcome: "ok", Detail: strings.Repeat("d", 300<<10)}); err != nil {
		t.Fatal(err)
	}
	e, err := l.Append(courier.Entry{Step: "y", Outcome: "ok"})
	if err != nil || e.Seq != 3 {
		t.Fatalf("Append after a 300 KB entry: %+v, %v", e, err)
	}
	if chk, err := l.Verify(nil); err != nil || chk.Entries != 3 {
		t.Errorf("Verify: %+v, %v", chk, err)
	}
}
