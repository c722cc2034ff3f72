package courier_test

import (
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
