package courier

import (
	"encoding/base64"
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/azs-courier/azs-courier/internal/testutil"
)

func TestWriteErrorNamesThePlace(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"permission", &fs.PathError{Op: "open", Path: filepath.Join(dir, "t.txt"+TempMarker+"0a"), Err: fs.ErrPermission},
			dir + " is write-protected or read-only; choose another folder or remove the write protection"},
		{"other", errors.New("boom"), "boom"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := writeError(dir, tt.err)
			if got.Error() != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if strings.Contains(got.Error(), TempMarker) {
				t.Errorf("the message shows the temporary file: %q", got)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("the cause is lost: %v", got)
			}
		})
	}
}

func TestTempFilesHaveNoLeadingDot(t *testing.T) {
	dir := t.TempDir()
	f, err := createTemp(filepath.Join(dir, "registration-token.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base := filepath.Base(f.Name())
	if strings.HasPrefix(base, ".") || !IsTemp(base) || !strings.HasPrefix(base, "registration-token.txt"+TempMarker) {
		t.Errorf("temporary file %q: want registration-token.txt%s…, no leading dot", base, TempMarker)
	}
}

func TestReadRegularRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, path, want string
	}{
		{"device", "/dev/zero", "not a regular file (a device)"},
		{"folder", dir, "is a folder"},
		{"missing", filepath.Join(dir, "nope.txt"), "does not exist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.path == "/dev/zero" && runtime.GOOS == "windows" {
				t.Skip("no /dev/zero on Windows")
			}
			if _, err := ReadRegular(tt.path, 1<<20); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// TestHostileNodeListBoundedMemory: a 1 MiB token of a quarter of a million
// empty hardwareInfo entries is refused, and parsing it allocates about
// what the input takes; it used to take 192 MB and be accepted.
func TestHostileNodeListBoundedMemory(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"cloudId":"cd613e30-d8f1-4adf-91b7-584a2265b1f5","hardwareInfo":[`)
	for b.Len() < 760<<10 {
		b.WriteString("{},")
	}
	b.WriteString(`{}]}`)
	data := []byte(base64.StdEncoding.EncodeToString([]byte(b.String())))
	if len(data) > MaxSize {
		t.Fatalf("the hostile token is %d bytes, over MaxSize", len(data))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Parse(data)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "more than 16 hardware nodes") {
		t.Errorf("got %v, want a refusal naming the node limit", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("parsing allocated %d MiB for a %d KiB input", alloc>>20, len(data)>>10)
	}
}

// TestManifestPickedByMistake: opening the manifest instead of the artefact
// says so and names the file to open.
func TestManifestPickedByMistake(t *testing.T) {
	a, err := Parse(testutil.ReadShared(t, "tokens", "activation-key-1node.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "activation-key.txt")
	if _, err := WriteFile(out, a, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, _, err = ReadFile(ManifestPath(out))
	if err == nil || !strings.Contains(err.Error(), "activation-key.txt.courier.json is the manifest of activation-key.txt") ||
		!strings.Contains(err.Error(), "open activation-key.txt beside it") {
		t.Errorf("got %v", err)
	}
}
