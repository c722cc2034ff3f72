package cli

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

func shaHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// outFileUTF16 is what Windows PowerShell's Out-File makes of text wrapped at
// 64 characters: UTF-16LE with a BOM and CRLF line ends.
func outFileUTF16(text string) []byte {
	var lines []string
	for len(text) > 64 {
		lines = append(lines, text[:64])
		text = text[64:]
	}
	s := strings.Join(append(lines, text), "\r\n") + "\r\n"
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestInspectJSON(t *testing.T) {
	path := testutil.Shared(t, "tokens", "registration-token-4node.txt")
	text := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-4node.txt")))
	utf16Path := filepath.Join(t.TempDir(), "token-utf16.txt")
	if err := os.WriteFile(utf16Path, outFileUTF16(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, path, enc string }{
		{"shared vector", path, "ascii"},
		{"UTF-16LE BOM CRLF wrapped 64", utf16Path, "utf-16le-bom"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env, _, out, errOut := testEnv(t)
			if code := run(t, env, "inspect", c.path, "--json"); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got map[string]any
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			want := map[string]any{
				"kind": "registration-token", "cloudId": "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7",
				"nodes": 4.0, "sha256": shaHex(text), "length": float64(len(text)), "encoding": c.enc,
				"billingModel": "Capacity", "version": "4.0", "agreementNumber": "EA-1234567",
				"usageReportingEnabled": false, "marketplaceSyndicationEnabled": false,
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: got %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestInspectKeyJSONFields(t *testing.T) {
	env, _, out, _ := testEnv(t)
	if code := run(t, env, "inspect", testutil.Shared(t, "tokens", "activation-key-1node.txt"), "--json"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got map[string]any
	json.Unmarshal(out.Bytes(), &got)
	for k, v := range map[string]any{"kind": "activation-key", "subscriptionId": "dd8597b4-8739-4467-8b10-f8679f62bfbf",
		"resourceGroupName": "azurestack", "registrationName": "azs-registration", "expires": "9999-12-30T23:59:59.9999999Z",
		"cloudId": "cd613e30-d8f1-4adf-91b7-584a2265b1f5", "nodes": 1.0} {
		if got[k] != v {
			t.Errorf("%s: got %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["agreementNumber"]; ok {
		t.Error("a key summary carries the token-only agreementNumber")
	}
}

func TestInspectHumanAndStdin(t *testing.T) {
	env, in, out, errOut := testEnv(t)
	in.Write([]byte(`$RegistrationToken = "` + strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-1node.txt"))) + `"`))
	if code := run(t, env, "inspect", "-"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range []string{"Registration token", "cd613e30-d8f1-4adf-91b7-584a2265b1f5", "Capacity", "EA-1234567", "1 (HUB-N01)", "Manifest"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestInspectBadInputExit1NothingWritten(t *testing.T) {
	dir := t.TempDir()
	token := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-4node.txt")))
	key := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "activation-key-4node.txt")))
	files := map[string][]byte{
		"truncated.txt": []byte(token[:1001]),
		"two-parts.txt": []byte(key[:strings.LastIndex(key, ".")]),
		"junk.bin":      {0x00, 0x01, 0xff, 0xfe, 0x80, 0x00, 0x13},
		"empty.txt":     {},
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			os.WriteFile(p, data, 0o644)
			env, _, out, errOut := testEnv(t)
			outFile := filepath.Join(dir, "out-"+name)
			if code := run(t, env, "inspect", p, "--write-canonical", outFile); code != ExitFailed {
				t.Fatalf("exit %d, want 1; stderr %s", code, errOut)
			}
			assertOneLineError(t, errOut.String(), ";")
			if out.Len() != 0 {
				t.Errorf("stdout not empty: %s", out)
			}
			if _, err := os.Stat(outFile); err == nil {
				t.Error("an output file was written")
			}
		})
	}
	t.Run("50 MB file", func(t *testing.T) {
		p := filepath.Join(dir, "big.txt")
		f, _ := os.Create(p)
		f.Truncate(50 << 20)
		f.Close()
		env, _, _, errOut := testEnv(t)
		if code := run(t, env, "inspect", p); code != ExitFailed {
			t.Fatalf("exit %d, want 1", code)
		}
		assertOneLineError(t, errOut.String(), "50 MiB")
	})
}

func TestWriteCanonicalManifestAndLedger(t *testing.T) {
	dir := t.TempDir()
	text := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-4node.txt")))
	src := filepath.Join(dir, "from-windows.txt")
	os.WriteFile(src, outFileUTF16(text), 0o644)
	out := filepath.Join(dir, "registration-token.txt")
	env, _, stdout, errOut := testEnv(t)

	if code := run(t, env, "inspect", src, "--write-canonical", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(out); string(b) != text {
		t.Fatal("the canonical file is not the token's text")
	}
	if !strings.Contains(stdout.String(), "Wrote") {
		t.Errorf("no word of the write: %s", stdout)
	}
	var m map[string]any
	mb, _ := os.ReadFile(out + ".courier.json")
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	for _, k := range []string{"sha256", "cloudId", "createdAt", "user", "machine", "appVersion", "appSha256", "purpose", "nextStep"} {
		if s, _ := m[k].(string); s == "" {
			t.Errorf("manifest lacks %s: %s", k, mb)
		}
	}
	if m["sha256"] != shaHex(text) || !strings.Contains(m["nextStep"].(string), "register") {
		t.Errorf("manifest sha256 %v / nextStep %v", m["sha256"], m["nextStep"])
	}
	// No overwrite without --force.
	errOut.Reset()
	if code := run(t, env, "inspect", testutil.Shared(t, "tokens", "registration-token-1node.txt"), "--write-canonical", out); code != ExitFailed {
		t.Fatalf("overwrite without --force: exit %d", code)
	}
	assertOneLineError(t, errOut.String(), "--force")
	if b, _ := os.ReadFile(out); string(b) != text {
		t.Fatal("the refused write changed the file")
	}
	// Tamper with the file: reading it is an integrity failure naming both hashes.
	other := strings.TrimSpace(string(testutil.ReadShared(t, "tokens", "registration-token-1node.txt")))
	os.WriteFile(out, []byte(other), 0o644)
	errOut.Reset()
	if code := run(t, env, "inspect", out); code != ExitIntegrity {
		t.Fatalf("tampered file: exit %d, want 3", code)
	}
	assertOneLineError(t, errOut.String(), shaHex(text), shaHex(other))

	// The ledger saw all of it: inspect, write, refused write, failed check.
	entries, err := env.App.Ledger().Entries()
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range entries {
		steps = append(steps, e.Step+":"+strings.SplitN(e.Outcome, ":", 2)[0])
	}
	want := "inspect:ok write:ok inspect:ok write:failed inspect:integrity check failed"
	if got := strings.Join(steps, " "); got != want {
		t.Errorf("ledger steps:\n got %s\nwant %s", got, want)
	}
	if entries[1].SHA256 != shaHex(text) || entries[1].User != "operator" || entries[1].Machine != "ws01" {
		t.Errorf("write entry: %+v", entries[1])
	}
}

func TestLedgerCommands(t *testing.T) {
	env, _, out, errOut := testEnv(t)
	vec := testutil.Shared(t, "tokens", "activation-key-4node.txt")
	for i := 0; i < 3; i++ {
		if code := run(t, env, "inspect", vec); code != 0 {
			t.Fatal(errOut)
		}
	}
	out.Reset()
	if code := run(t, env, "ledger", "verify"); code != 0 || !strings.Contains(out.String(), "3 entries") {
		t.Fatalf("verify: exit %d, %s %s", code, out, errOut)
	}
	out.Reset()
	if code := run(t, env, "ledger", "show"); code != 0 || strings.Count(out.String(), "inspect") != 3 {
		t.Fatalf("show: exit %d\n%s", code, out)
	}
	exp := filepath.Join(t.TempDir(), "custody.csv")
	if code := run(t, env, "ledger", "export", "--out", exp); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	csv, _ := os.ReadFile(exp)
	if lines := strings.Count(string(csv), "\n"); lines != 4 {
		t.Errorf("export has %d lines, want header + 3", lines)
	}
	// Edit the second entry: verify and export fail with exit 3 at line 2.
	path := env.App.Ledger().Path()
	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	lines[1] = strings.Replace(lines[1], `"outcome":"ok"`, `"outcome":"ok "`, 1)
	os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600)
	errOut.Reset()
	if code := run(t, env, "ledger", "verify"); code != ExitIntegrity {
		t.Fatalf("verify after edit: exit %d", code)
	}
	assertOneLineError(t, errOut.String(), "line 2")
	errOut.Reset()
	if code := run(t, env, "ledger", "export"); code != ExitIntegrity {
		t.Fatalf("export after edit: exit %d", code)
	}
}

// TestVerboseReportsLeftovers: with --verbose the temporary files of an
// interrupted run that a write removes are reported, not dropped silently.
func TestVerboseReportsLeftovers(t *testing.T) {
	env, _, _, errOut := testEnv(t)
	out := filepath.Join(t.TempDir(), "registration-token.txt")
	leftover := out + ".azs-tmp-0a1b2c3d4e5f"
	if err := os.WriteFile(leftover, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	tok := testutil.Shared(t, "tokens", "registration-token-1node.txt")
	if code := run(t, env, "inspect", tok, "--write-canonical", out, "--verbose"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut.String(), "detail: removed a leftover of an interrupted run path="+leftover) {
		t.Errorf("--verbose does not report the leftover:\n%s", errOut)
	}
	if _, err := os.Stat(leftover); err == nil {
		t.Error("the leftover is still there")
	}
}
