package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/azure/azuresim"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

// fillLedger records n inspections of a token and returns the ledger's path.
func fillLedger(t *testing.T, n int) string {
	t.Helper()
	tok := testutil.Shared(t, "tokens", "registration-token-1node.txt")
	for range n {
		if r := runCLI(t, runOpts{}, "inspect", tok); r.Code != 0 {
			t.Fatalf("inspect: exit %d: %s", r.Code, r.Stderr)
		}
	}
	return filepath.Join(configDir(t), "custody-ledger.jsonl")
}

func ledgerLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
}

// TestLedgerAnchorFindsATruncatedLedger: the anchor printed by 'ledger
// anchor' finds a ledger cut short by one line, which the chain alone
// cannot (what is left is a valid chain).
func TestLedgerAnchorFindsATruncatedLedger(t *testing.T) {
	ledger := fillLedger(t, 3)
	r := runCLI(t, runOpts{}, "ledger", "anchor")
	if r.Code != 0 {
		t.Fatalf("ledger anchor: exit %d: %s", r.Code, r.Stderr)
	}
	anchor := strings.SplitN(r.Stdout, "\n", 2)[0]
	if !strings.HasPrefix(anchor, "4:") || len(anchor) != 2+64 {
		t.Fatalf("ledger anchor printed %q first, want 4:HASH (the anchor entry is the 4th)", anchor)
	}
	if r = runCLI(t, runOpts{}, "ledger", "verify", "--anchor", anchor); r.Code != 0 || !strings.Contains(r.Stdout, "anchored entry 4 is still there") {
		t.Fatalf("verify --anchor on the intact ledger: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	lines := ledgerLines(t, ledger)
	if err := os.WriteFile(ledger, []byte(strings.Join(lines[:len(lines)-1], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	// The chain of what is left is intact…
	if r = runCLI(t, runOpts{}, "ledger", "verify"); r.Code != 0 {
		t.Fatalf("verify without the anchor: exit %d, the chain of 3 entries is intact: %s", r.Code, r.Stderr)
	}
	// …but the anchor is gone.
	r = runCLI(t, runOpts{}, "ledger", "verify", "--anchor", anchor)
	if r.Code != 3 {
		t.Fatalf("verify --anchor on the truncated ledger: exit %d, want 3\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	assertOneLineError(t, r, "anchored entry 4", "only 3 entries", "cut short")
	if r = runCLI(t, runOpts{}, "ledger", "verify", "--anchor", "4:abc"); r.Code != 2 {
		t.Errorf("a malformed anchor: exit %d, want 2", r.Code)
	}
}

// TestLedgerRechainedIsFound edits an entry and recomputes the whole chain
// (sequence, previous hashes, hashes), as someone without the installation
// key would: verify fails at the edited entry, naming the signature.
func TestLedgerRechainedIsFound(t *testing.T) {
	ledger := fillLedger(t, 4)
	var out strings.Builder
	prev := ""
	for i, line := range ledgerLines(t, ledger) {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			e["outcome"] = "failed: the token was not checked"
		}
		e["prev"], e["hash"] = prev, ""
		sig := e["sig"]
		e["sig"] = ""
		// The hash covers the entry with hash and sig empty, fields in the
		// order the program writes them: re-encode through its struct order.
		h := sha256.Sum256(entryJSON(t, e))
		e["hash"], e["sig"] = hex.EncodeToString(h[:]), sig
		prev = e["hash"].(string)
		out.Write(entryJSON(t, e))
		out.WriteByte('\n')
	}
	if err := os.WriteFile(ledger, []byte(out.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, runOpts{}, "ledger", "verify")
	if r.Code != 3 {
		t.Fatalf("verify of a re-chained ledger: exit %d, want 3\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	assertOneLineError(t, r, "line 2", "signature does not hold")
}

// entryJSON encodes a ledger entry read as a map in the field order of the
// program's Entry struct, as the hash needs.
func entryJSON(t *testing.T, e map[string]any) []byte {
	t.Helper()
	order := []string{"seq", "time", "step", "kind", "sha256", "cloudId", "file", "outcome", "detail", "user", "machine", "app", "prev", "hash", "signer", "sig"}
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for _, k := range order {
		v, ok := e[k]
		if !ok {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		kj, _ := json.Marshal(k)
		vj, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(kj)
		b.WriteByte(':')
		b.Write(vj)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// TestLedgerTornLineIsRecovered: a crash in the middle of an append leaves
// a torn last line; verify calls it a tear, not tampering, and the next
// step sets it aside in a file beside the ledger and records that.
func TestLedgerTornLineIsRecovered(t *testing.T) {
	ledger := fillLedger(t, 2)
	lines := ledgerLines(t, ledger)
	torn := lines[1][:len(lines[1])/2]
	if err := os.WriteFile(ledger, []byte(lines[0]+torn), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, runOpts{}, "ledger", "verify")
	if r.Code != 0 || !strings.Contains(r.Stdout, "1 entry,") || !strings.Contains(r.Stdout, "the last line is torn") {
		t.Fatalf("verify with a torn last line: exit %d, want 0 and the tear named\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	fillLedger(t, 1)
	r = runCLI(t, runOpts{}, "ledger", "verify")
	if r.Code != 0 || !strings.Contains(r.Stdout, "3 entries") || !strings.Contains(r.Stdout, "entry 2 records a torn line set aside") {
		t.Fatalf("verify after the next step: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	q, _ := filepath.Glob(ledger + ".torn-*")
	if len(q) != 1 {
		t.Fatalf("quarantine files %v, want one", q)
	}
	if got, _ := os.ReadFile(q[0]); string(got) != torn {
		t.Errorf("the quarantine file holds %q, want the torn bytes", got)
	}
}

// TestExportFailsWithAReadOnlyLedger: when the ledger's folder is read-only,
// writing an artefact fails (exit 1, naming the ledger) and leaves nothing.
func TestExportFailsWithAReadOnlyLedger(t *testing.T) {
	cfg := readOnlyFolder(t, "config")
	tok := testutil.Shared(t, "tokens", "registration-token-1node.txt")
	outDir := t.TempDir()
	out := filepath.Join(outDir, "registration-token.txt")
	env := []string{"AZS_COURIER_CONFIG_DIR=" + cfg}
	for _, args := range [][]string{
		{"inspect", tok, "--write-canonical", out},
		{"qr", "encode", tok, "--out", filepath.Join(outDir, "qr")},
	} {
		r := runCLI(t, runOpts{Env: env}, args...)
		if r.Code != 1 {
			t.Fatalf("%s: exit %d, want 1; stderr %q", args[0], r.Code, r.Stderr)
		}
		assertOneLineError(t, r, "custody ledger", cfg, "read-only")
		if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
			t.Errorf("%s left %d file(s) behind", args[0], len(ents))
		}
	}
}

// TestSignedTokenCrossesTheGap carries a token from the disconnected side's
// installation to the connected side's: the release review is recorded and
// held to the site policy, the connected side accepts the signed token only
// once it trusts the signer and names it, and a manifest edited and
// re-hashed without the key is refused with exit 3.
func TestSignedTokenCrossesTheGap(t *testing.T) {
	sim, flags := azSim(t, azuresim.Options{})
	sp := azEnv(sim)
	tok := testutil.Shared(t, "tokens", "registration-token-1node.txt")
	media := t.TempDir()
	out := filepath.Join(media, "registration-token.txt")
	pub := filepath.Join(media, "site-a.pub")

	// The disconnected side: a policy of two reviewers and a ticket.
	writePolicy(t, configDir(t), `{"minReviewers": 2, "requireTicket": true}`)
	r := runCLI(t, runOpts{}, "inspect", tok, "--write-canonical", out, "--reviewer", "A. Officer", "--ticket", "CHG-1")
	if r.Code != 2 {
		t.Fatalf("one reviewer where the policy wants two: exit %d, want 2\n%s", r.Code, r.Stderr)
	}
	assertOneLineError(t, r, "minReviewers 2", "only 1 is named", "--reviewer")
	if ents, _ := os.ReadDir(media); len(ents) != 0 {
		t.Fatalf("a refused release left %d file(s)", len(ents))
	}
	r = runCLI(t, runOpts{}, "inspect", tok, "--write-canonical", out, "--reviewer", "A. Officer", "--reviewer", "B. Lead", "--ticket", "CHG-1")
	if r.Code != 0 {
		t.Fatalf("release with two reviewers: exit %d\n%s", r.Code, r.Stderr)
	}
	if r = runCLI(t, runOpts{}, "identity", "--export", pub); r.Code != 0 {
		t.Fatalf("identity --export: exit %d: %s", r.Code, r.Stderr)
	}
	site := runCLI(t, runOpts{}, "identity", "--json")
	var id struct{ Fingerprint string }
	if err := json.Unmarshal([]byte(site.Stdout), &id); err != nil || len(id.Fingerprint) != 39 {
		t.Fatalf("identity --json: %q (%v)", site.Stdout, err)
	}

	// The connected side: another installation, requiring a trusted signer.
	connected := filepath.Join(t.TempDir(), "connected-config")
	writePolicy(t, connected, `{"requireTrustedSigner": true}`)
	cs := runOpts{Env: append([]string{"AZS_COURIER_CONFIG_DIR=" + connected}, sp.Env...)}
	r = runCLI(t, cs, "inspect", out)
	if r.Code != 0 || !strings.Contains(r.Stdout, "an unknown installation ("+id.Fingerprint+")") || !strings.Contains(r.Stdout, "A. Officer, B. Lead") {
		t.Fatalf("inspect on the connected side: exit %d, want the unknown signer and the reviewers named\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = azRun(t, cs, flags, "register", "--token", out, "--name", "hub01", "--auth", "environment")
	if r.Code != 1 {
		t.Fatalf("register with an untrusted signer: exit %d, want 1\n%s", r.Code, r.Stderr)
	}
	assertOneLineError(t, r, "requireTrustedSigner", id.Fingerprint, "trust add")
	if n := len(sim.Registrations()); n != 0 {
		t.Fatalf("the refused token was registered (%d registrations)", n)
	}
	if r = runCLI(t, cs, "trust", "add", pub, "--name", "Site A operator workstation"); r.Code != 0 {
		t.Fatalf("trust add: exit %d: %s", r.Code, r.Stderr)
	}
	r = azRun(t, cs, flags, "register", "--token", out, "--name", "hub01", "--auth", "environment")
	azWant(t, r, 0, "registered hub01")
	data, _ := os.ReadFile(filepath.Join(connected, "custody-ledger.jsonl"))
	if !strings.Contains(string(data), "signed by Site A operator workstation ("+id.Fingerprint+")") {
		t.Errorf("the connected side's ledger does not name the trusted signer")
	}

	// The token swapped and its manifest re-hashed to match, without the key.
	other := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-4node.txt")))
	if err := os.WriteFile(out, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	mdata, _ := os.ReadFile(out + ".courier.json")
	json.Unmarshal(mdata, &m)
	sum := sha256.Sum256([]byte(other))
	m["sha256"], m["length"], m["cloudId"] = hex.EncodeToString(sum[:]), len(other), "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7"
	mdata, _ = json.MarshalIndent(m, "", "  ")
	os.WriteFile(out+".courier.json", mdata, 0o644)
	r = azRun(t, cs, flags, "register", "--token", out, "--name", "hub02", "--auth", "environment")
	if r.Code != 3 {
		t.Fatalf("register of a re-hashed manifest: exit %d, want 3\n%s", r.Code, r.Stderr)
	}
	assertOneLineError(t, r, "signature that does not hold")
}

func writePolicy(t *testing.T, dir, policy string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policy.json"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCustodySheetAndReceipt prints the custody sheet of a released token
// and reads it back (text and the manifest's QR code), then records its
// arrival on the receiving installation, paired with the release entry.
func TestCustodySheetAndReceipt(t *testing.T) {
	tok := testutil.Shared(t, "tokens", "registration-token-4node.txt")
	media := t.TempDir()
	out := filepath.Join(media, "registration-token.txt")
	if r := runCLI(t, runOpts{}, "inspect", tok, "--write-canonical", out, "--reviewer", "A. Officer", "--ticket", "CHG-7", "--media", "KEYS 1A2B-3C4D"); r.Code != 0 {
		t.Fatalf("release: exit %d: %s", r.Code, r.Stderr)
	}
	sheet := filepath.Join(t.TempDir(), "custody.pdf")
	r := runCLI(t, runOpts{}, "custody", "sheet", out, "--out", sheet)
	if r.Code != 0 {
		t.Fatalf("custody sheet: exit %d: %s", r.Code, r.Stderr)
	}
	i := strings.Index(r.Stdout, "release entry ")
	if i < 0 {
		t.Fatalf("custody sheet does not name the release entry: %q", r.Stdout)
	}
	release := strings.TrimSuffix(strings.Fields(r.Stdout[i+len("release entry "):])[0], ")")
	text, err := exec.Command("pdftotext", "-layout", sheet, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-4node.txt")))))
	for _, want := range []string{hex.EncodeToString(sum[:]), "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7", "CHG-7", "KEYS 1A2B-3C4D", release} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the sheet's text lacks %q", want)
		}
	}
	png := filepath.Join(t.TempDir(), "page")
	if out, err := exec.Command("pdftoppm", "-r", "300", "-gray", "-png", "-singlefile", sheet, png).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	scanned, err := exec.Command("zbarimg", "-q", "--raw", png+".png").Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	manifest, _ := os.ReadFile(out + ".courier.json")
	if strings.TrimSpace(string(scanned)) != strings.TrimSpace(string(manifest)) {
		t.Errorf("the sheet's QR code holds %.80q…, want the manifest", scanned)
	}

	receiving := runOpts{Env: []string{"AZS_COURIER_CONFIG_DIR=" + filepath.Join(t.TempDir(), "receiving")}}
	r = runCLI(t, receiving, "custody", "receive", out, "--carrier", "C. Courier", "--release-entry", release)
	if r.Code != 0 || !strings.Contains(r.Stdout, "carried by C. Courier") {
		t.Fatalf("custody receive: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = runCLI(t, receiving, "ledger", "show", "--json")
	if !strings.Contains(r.Stdout, `"step":"received"`) || !strings.Contains(r.Stdout, "carried by C. Courier") || !strings.Contains(r.Stdout, "release entry "+release) {
		t.Errorf("the receiving ledger lacks the receipt paired with %s:\n%s", release, r.Stdout)
	}
}
