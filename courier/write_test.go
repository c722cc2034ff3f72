package courier

import (
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
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
