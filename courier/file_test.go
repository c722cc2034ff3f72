package courier_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/internal/testutil"
)

func readVector(t *testing.T, name string) *courier.Artefact {
	t.Helper()
	a, err := courier.Parse(testutil.ReadShared(t, "tokens", name))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestWriteFileCanonicalWithManifest(t *testing.T) {
	dir := t.TempDir()
	a, err := courier.Parse(utf16Bytes(wrap(readVector(t, "registration-token-4node.txt").Text, 64, "\r\n"), false, true))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "registration-token.txt")
	created := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	m, err := courier.WriteFile(out, a, courier.WriteOptions{Manifest: courier.Manifest{CreatedAt: created, User: "op", Machine: "ws1", Purpose: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != a.Text {
		t.Errorf("file is not the canonical text (len %d, want %d)", len(data), len(a.Text))
	}
	for i, b := range data {
		if b > 0x7e || b < 0x20 {
			t.Fatalf("byte %d is %#x: not one line of printable ASCII", i, b)
		}
	}
	if sha(string(data)) != m.SHA256 || m.SHA256 != a.SHA256 {
		t.Errorf("manifest sha256 %s, file sha256 %s, artefact %s", m.SHA256, sha(string(data)), a.SHA256)
	}
	if m.Kind != courier.KindToken || m.CloudID != "b8a1abcd-1a69-46c7-8da4-f9fc3c6da5d7" || m.Length != len(a.Text) || m.File != "registration-token.txt" || !m.CreatedAt.Equal(created) {
		t.Errorf("manifest fields: %+v", m)
	}
	got, gm, err := courier.ReadFile(out)
	if err != nil {
		t.Fatalf("ReadFile of what was written: %v", err)
	}
	if gm == nil || gm.SHA256 != a.SHA256 || got.SHA256 != a.SHA256 {
		t.Errorf("read back: manifest %+v, sha %s", gm, got.SHA256)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want the file and its manifest only", names)
	}
}

func TestWriteFileNeverOverwritesWithoutForce(t *testing.T) {
	dir := t.TempDir()
	a := readVector(t, "activation-key-1node.txt")
	b := readVector(t, "activation-key-4node.txt")
	out := filepath.Join(dir, "key.txt")
	if _, err := courier.WriteFile(out, a, courier.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := courier.WriteFile(out, b, courier.WriteOptions{})
	var ee *courier.ExistsError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second write: got %v, want ExistsError mentioning --force", err)
	}
	if got, _, _ := courier.ReadFile(out); got.SHA256 != a.SHA256 {
		t.Fatal("the first file was changed by a refused write")
	}
	// A manifest left alone is what an interrupted write leaves (the
	// manifest goes in place just before its artefact): it is replaced, and
	// so are the temporary files beside it.
	os.Remove(out)
	leftover := out + courier.TempMarker + "0a1b2c"
	os.WriteFile(leftover, []byte("half"), 0o644)
	if _, err := courier.WriteFile(out, b, courier.WriteOptions{}); err != nil {
		t.Fatalf("write over a lone manifest: %v", err)
	}
	if got, m, err := courier.ReadFile(out); err != nil || got.SHA256 != b.SHA256 || m == nil || m.SHA256 != b.SHA256 {
		t.Fatalf("after the write: %v, manifest %v, %v", got, m, err)
	}
	if _, err := os.Stat(leftover); err == nil {
		t.Error("the leftover temporary file is still there")
	}
	if _, err := courier.WriteFile(out, a, courier.WriteOptions{Force: true}); err != nil {
		t.Fatalf("forced write: %v", err)
	}
	if got, _, err := courier.ReadFile(out); err != nil || got.SHA256 != a.SHA256 {
		t.Fatalf("after forced write: %v %v", got, err)
	}
}

func TestWriteFileIntoMissingFolderLeavesNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "no-such-folder", "key.txt")
	if _, err := courier.WriteFile(out, readVector(t, "activation-key-1node.txt"), courier.WriteOptions{}); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was left: %v", err)
	}
}

func TestReadFileManifestMismatch(t *testing.T) {
	dir := t.TempDir()
	a := readVector(t, "registration-token-1node.txt")
	other := readVector(t, "registration-token-4node.txt")
	out := filepath.Join(dir, "token.txt")
	if _, err := courier.WriteFile(out, a, courier.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Someone swaps the token but keeps the manifest.
	if err := os.WriteFile(out, []byte(other.Text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := courier.ReadFile(out)
	var me *courier.MismatchError
	if !errors.As(err, &me) || !errors.Is(err, courier.ErrIntegrity) {
		t.Fatalf("got %v, want a MismatchError matching ErrIntegrity", err)
	}
	if !strings.Contains(err.Error(), a.SHA256) || !strings.Contains(err.Error(), other.SHA256) {
		t.Errorf("error %q does not name both hashes", err)
	}
	// A damaged manifest is named, not ignored.
	os.WriteFile(courier.ManifestPath(out), []byte("{not json"), 0o644)
	if _, _, err := courier.ReadFile(out); err == nil || !strings.Contains(err.Error(), "not a valid azs-courier manifest") {
		t.Errorf("damaged manifest: got %v", err)
	}
}

// editManifest rewrites the JSON of out's manifest with edit.
func editManifest(t *testing.T, out string, edit func(m map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(courier.ManifestPath(out))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	data, _ = json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(courier.ManifestPath(out), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSignedManifest(t *testing.T) {
	dir := t.TempDir()
	id, err := courier.LoadIdentity(filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	a := readVector(t, "registration-token-1node.txt")
	other := readVector(t, "registration-token-4node.txt")
	write := func(t *testing.T) string {
		out := filepath.Join(t.TempDir(), "token.txt")
		_, err := courier.WriteFile(out, a, courier.WriteOptions{Signer: id, Manifest: courier.Manifest{
			Purpose: "registration", Reviewers: []string{"A. Officer", "B. Lead"}, Ticket: "CHG-1", Media: "KEYS 1A2B-3C4D"}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Run("reads back signed", func(t *testing.T) {
		out := write(t)
		_, m, err := courier.ReadFile(out)
		if err != nil || !m.Signed() || m.Signer != id.Fingerprint() || len(m.Reviewers) != 2 || m.Ticket != "CHG-1" {
			t.Fatalf("ReadFile = %+v, %v; want the signed manifest with its review", m, err)
		}
	})
	for _, tt := range []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"a field edited", func(m map[string]any) { m["ticket"] = "CHG-2" }, "signature that does not hold"},
		{"a reviewer added", func(m map[string]any) { m["reviewers"] = []any{"A. Officer", "B. Lead", "C. Extra"} }, "signature that does not hold"},
		{"a field a newer version would add", func(m map[string]any) { m["approvedBy"] = "someone" }, "signature that does not hold"},
		{"another signer's fingerprint", func(m map[string]any) { m["signer"] = strings.Repeat("A", 32) }, "fingerprint does not match"},
		{"a format this version does not know", func(m map[string]any) { m["format"] = "azs-courier/manifest/v9" }, "does not know"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := write(t)
			editManifest(t, out, tt.edit)
			_, _, err := courier.ReadFile(out)
			var me *courier.ManifestError
			if !errors.As(err, &me) || !errors.Is(err, courier.ErrIntegrity) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadFile = %v, want a ManifestError saying %q", err, tt.want)
			}
		})
	}
	// The artefact swapped and the manifest's hash updated to match, without
	// the key: the signature gives it away.
	t.Run("artefact swapped and re-hashed", func(t *testing.T) {
		out := write(t)
		os.WriteFile(out, []byte(other.Text), 0o644)
		editManifest(t, out, func(m map[string]any) {
			m["sha256"], m["length"], m["cloudId"] = other.SHA256, len(other.Text), other.CloudID()
		})
		if _, _, err := courier.ReadFile(out); !errors.Is(err, courier.ErrIntegrity) || !strings.Contains(err.Error(), "signature") {
			t.Errorf("ReadFile = %v, want the signature to fail", err)
		}
	})
	// Indentation and field order do not matter to the signature.
	t.Run("reformatted", func(t *testing.T) {
		out := write(t)
		data, _ := os.ReadFile(courier.ManifestPath(out))
		var m map[string]json.RawMessage
		json.Unmarshal(data, &m)
		compact, _ := json.Marshal(m)
		os.WriteFile(courier.ManifestPath(out), compact, 0o644)
		if _, _, err := courier.ReadFile(out); err != nil {
			t.Errorf("a compacted, reordered manifest: %v", err)
		}
	})
}

func TestManifestCheckedWhole(t *testing.T) {
	a := readVector(t, "registration-token-1node.txt")
	for _, tt := range []struct {
		name string
		edit func(m map[string]any)
		want string // "" means accepted
	}{
		{"hash in upper case (Get-FileHash)", func(m map[string]any) { m["sha256"] = strings.ToUpper(m["sha256"].(string)) }, ""},
		{"a purpose of 70 KB", func(m map[string]any) { m["purpose"] = strings.Repeat("renewal ", 70<<10/8) }, ""},
		{"wrong length", func(m map[string]any) { m["length"] = 12 }, "length"},
		{"wrong cloud ID", func(m map[string]any) { m["cloudId"] = "00000000-0000-0000-0000-000000000000" }, "cloud ID"},
		{"wrong kind", func(m map[string]any) { m["kind"] = "activation-key" }, "kind"},
		{"no format", func(m map[string]any) { delete(m, "format") }, "not a valid"},
		{"not a manifest", func(m map[string]any) { delete(m, "sha256") }, "not a valid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "token.txt")
			if _, err := courier.WriteFile(out, a, courier.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			editManifest(t, out, tt.edit)
			_, _, err := courier.ReadFile(out)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("ReadFile = %v, want it accepted", err)
			case tt.want != "" && (!errors.Is(err, courier.ErrIntegrity) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("ReadFile = %v, want an integrity error naming %q", err, tt.want)
			}
		})
	}
}
