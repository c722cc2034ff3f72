package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/azs-courier/azs-courier/internal/testutil"
)

// TestInspectAsAUserWould drives the built binary through the foundation's
// Must show: the 4-node token's fields, the same hash from a Windows
// PowerShell copy, the canonical write with manifest, the ledger.
func TestInspectAsAUserWould(t *testing.T) {
	vec := testutil.Shared(t, "tokens", "registration-token-4node.txt")
	text := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-4node.txt")))
	sum := sha256.Sum256([]byte(text))
	want := hex.EncodeToString(sum[:])

	r := runCLI(t, runOpts{}, "inspect", vec, "--json")
	if r.Code != 0 {
		t.Fatalf("inspect: exit %d: %s", r.Code, r.Stderr)
	}
	var s struct {
		CloudID string `json:"cloudId"`
		Nodes   int    `json:"nodes"`
		SHA256  string `json:"sha256"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, r.Stdout)
	}
	if s.CloudID != "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7" || s.Nodes != 4 || s.SHA256 != want {
		t.Fatalf("got %+v, want cloud b8a1abcd-…, 4 nodes, sha %s", s, want)
	}

	// The same token as Windows PowerShell's Out-File leaves it, wrapped at 64.
	dir := t.TempDir()
	var lines []string
	for rest := text; rest != ""; {
		n := min(64, len(rest))
		lines = append(lines, rest[:n])
		rest = rest[n:]
	}
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(strings.Join(lines, "\r\n") + "\r\n")) {
		b = append(b, byte(u), byte(u>>8))
	}
	ps := filepath.Join(dir, "token-ps51.txt")
	os.WriteFile(ps, b, 0o644)
	out := filepath.Join(dir, "registration-token.txt")
	r = runCLI(t, runOpts{}, "inspect", ps, "--json", "--write-canonical", out)
	if r.Code != 0 || !strings.Contains(r.Stdout, want) || !strings.Contains(r.Stdout, `"encoding": "utf-16le-bom"`) {
		t.Fatalf("inspect of the UTF-16 copy: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if got, _ := os.ReadFile(out); string(got) != text {
		t.Fatal("the canonical file differs from the token text")
	}
	if _, err := os.Stat(out + ".courier.json"); err != nil {
		t.Fatalf("no manifest: %v", err)
	}

	// Swap the file behind the manifest's back: exit 3 naming both hashes.
	other := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-1node.txt")))
	os.WriteFile(out, []byte(other), 0o644)
	r = runCLI(t, runOpts{}, "inspect", out)
	if r.Code != 3 {
		t.Fatalf("tampered: exit %d, want 3: %s", r.Code, r.Stderr)
	}
	sum2 := sha256.Sum256([]byte(other))
	assertOneLineError(t, r, want, hex.EncodeToString(sum2[:]))

	// Bad input: one line, exit 1.
	r = runCLI(t, runOpts{Stdin: text[:500]}, "inspect", "-")
	if r.Code != 1 {
		t.Fatalf("truncated paste: exit %d, want 1", r.Code)
	}
	assertOneLineError(t, r, "copy")

	// The ledger recorded every check and write, and verifies.
	r = runCLI(t, runOpts{}, "ledger", "verify")
	if r.Code != 0 || !strings.Contains(r.Stdout, "5 entries") {
		t.Fatalf("ledger verify: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	ledger := filepath.Join(configDir(t), "custody-ledger.jsonl")
	data, _ := os.ReadFile(ledger)
	ls := strings.SplitAfter(string(data), "\n")
	os.WriteFile(ledger, []byte(strings.Join(append(ls[:1:1], ls[2:]...), "")), 0o600) // delete entry 2
	r = runCLI(t, runOpts{}, "ledger", "verify")
	if r.Code != 3 {
		t.Fatalf("ledger verify after deleting an entry: exit %d, want 3", r.Code)
	}
	assertOneLineError(t, r, "line 2")
}

func TestUsageAndVersion(t *testing.T) {
	r := runCLI(t, runOpts{}, "inspect")
	if r.Code != 2 {
		t.Fatalf("inspect without a file: exit %d, want 2", r.Code)
	}
	assertOneLineError(t, r, "--help")
	r = runCLI(t, runOpts{}, "version", "--json")
	if r.Code != 0 || !strings.Contains(r.Stdout, `"modules"`) || !strings.Contains(r.Stdout, "fyne.io/fyne/v2") {
		t.Fatalf("version --json: exit %d\n%s", r.Code, r.Stdout)
	}
	r = runCLI(t, runOpts{}, "completion", "bash")
	if r.Code != 0 || !strings.Contains(r.Stdout, "azs-courier") {
		t.Fatalf("completion bash: exit %d", r.Code)
	}
}
