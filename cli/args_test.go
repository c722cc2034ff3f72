package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMatchFold(t *testing.T) {
	for _, tt := range []struct {
		pattern, name string
		want          bool
	}{
		{"*.png", "part-1.png", true},
		{"*.png", "PART-1.PNG", true},
		{"*.PNG", "part-1.png", true},
		{"*.png", "part-1.png.courier.json", false},
		{"part-?-of-3.png", "part-2-of-3.png", true},
		{"part-?-of-3.png", "part-12-of-3.png", false},
		{"*-part-*", "activation-key-ABC-part-1-of-2.png", true},
		{"*", "", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"[1].png", "[1].png", true}, // brackets are plain, as in cmd
		{"[1].png", "1.png", false},
		{"ü*.png", "Über.png", true},
	} {
		if got := matchFold(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matchFold(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

// qrFolder makes a folder as qr encode and the GUI export leave it, with
// the artefact, its manifest and a leftover temporary file beside the codes.
func qrFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"key-ABC-part-2-of-3.png", "key-ABC-part-1-of-3.PNG", "key-ABC-part-3-of-3.png", "frames.txt",
		"photo.JPG", "activation-key.txt", "activation-key.txt.courier.json", "frames.txt.azs-tmp-0a1b2c", "notes.md"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func names(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, filepath.Base(p))
	}
	return out
}

func TestExpandInputsWindowsPatterns(t *testing.T) {
	dir := qrFolder(t)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"pattern", []string{filepath.Join(dir, "*.png")}, []string{"key-ABC-part-1-of-3.PNG", "key-ABC-part-2-of-3.png", "key-ABC-part-3-of-3.png"}},
		{"question mark", []string{filepath.Join(dir, "key-ABC-part-?-of-3.png")}, []string{"key-ABC-part-1-of-3.PNG", "key-ABC-part-2-of-3.png", "key-ABC-part-3-of-3.png"}},
		{"folder", []string{dir}, []string{"frames.txt", "key-ABC-part-1-of-3.PNG", "key-ABC-part-2-of-3.png", "key-ABC-part-3-of-3.png", "photo.JPG"}},
		{"stdin and a file stay", []string{"-", filepath.Join(dir, "frames.txt")}, []string{"-", "frames.txt"}},
		{"pattern matching a folder", []string{filepath.Join(filepath.Dir(dir), filepath.Base(dir)[:3]+"*")}, nil}, // checked below
	}
	for _, tt := range tests[:4] {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expandInputs(tt.args, true)
			if err != nil {
				t.Fatal(err)
			}
			if g := names(got); !slices.Equal(g, tt.want) {
				t.Errorf("got %v, want %v", g, tt.want)
			}
		})
	}
	t.Run("relative pattern", func(t *testing.T) {
		t.Chdir(dir)
		got, err := expandInputs([]string{"*-of-3.png"}, true)
		if err != nil || len(got) != 3 || got[0] != "key-ABC-part-1-of-3.PNG" {
			t.Errorf("got %v, %v; want the three parts, relative", got, err)
		}
	})
	t.Run("a pattern that matches nothing is an error naming it", func(t *testing.T) {
		_, err := expandInputs([]string{filepath.Join(dir, "*.gif")}, true)
		if err == nil || !strings.Contains(err.Error(), "*.gif") || !strings.Contains(err.Error(), "no file matches") {
			t.Errorf("got %v, want an error naming the pattern", err)
		}
	})
	t.Run("a pattern in a missing folder", func(t *testing.T) {
		_, err := expandInputs([]string{filepath.Join(dir, "nope", "*.png")}, true)
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("got %v, want the folder named as missing", err)
		}
	})
}

func TestExpandInputsUnix(t *testing.T) {
	dir := qrFolder(t)
	// The shell expands patterns; one left as it is is a file name.
	got, err := expandInputs([]string{filepath.Join(dir, "*.png")}, false)
	if err != nil || len(got) != 1 || filepath.Base(got[0]) != "*.png" {
		t.Errorf("got %v, %v; want the pattern passed on as a name", got, err)
	}
	// A folder is read on every platform.
	got, err = expandInputs([]string{dir}, false)
	if err != nil || len(got) != 5 {
		t.Errorf("folder: got %v, %v; want its 5 QR inputs", names(got), err)
	}
	// An empty folder says what it lacks.
	empty := t.TempDir()
	if _, err := expandInputs([]string{empty}, false); err == nil || !strings.Contains(err.Error(), "holds no QR images") {
		t.Errorf("empty folder: got %v", err)
	}
}

func TestSingleFile(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"activation-key.txt", "registration-token-1.txt", "registration-token-2.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		path      string
		wildcards bool
		want      string // the file, or words of the error
		fails     bool
	}{
		{filepath.Join(dir, "ACTIVATION*.TXT"), true, filepath.Join(dir, "activation-key.txt"), false},
		{filepath.Join(dir, "registration-token-*.txt"), true, "matches 2 files (registration-token-1.txt, registration-token-2.txt); name the one file", true},
		{filepath.Join(dir, "nothing-*.txt"), true, "no file matches", true},
		{filepath.Join(dir, "activation*.txt"), false, filepath.Join(dir, "activation*.txt"), false}, // Unix: the shell's business
		{"-", true, "-", false},
	} {
		got, err := singleFile("--key", tt.path, tt.wildcards)
		switch {
		case tt.fails && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "--key ") && !strings.HasPrefix(err.Error(), "no file")):
			t.Errorf("singleFile(%q) = %q, %v; want an error with %q", tt.path, got, err, tt.want)
		case !tt.fails && (err != nil || got != tt.want):
			t.Errorf("singleFile(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
}

// TestQuotedArg: on Windows, "E:\codes\" reaches the program as E:\codes"
// followed by the rest of the line; the error says to drop the backslash.
func TestQuotedArg(t *testing.T) {
	args := []string{"qr", "encode", "token.txt", "--out", `E:\token qr" --force`}
	err := quotedArg(args, true)
	if err == nil || !strings.Contains(err.Error(), `("E:\token qr")`) || strings.Contains(err.Error(), "\n") {
		t.Errorf("quotedArg = %v, want one line suggesting \"E:\\token qr\"", err)
	}
	if err := quotedArg(args, false); err != nil {
		t.Errorf("quotedArg off Windows = %v, want nil", err)
	}
	if err := quotedArg([]string{"inspect", `E:\token.txt`}, true); err != nil {
		t.Errorf("quotedArg without quotes = %v", err)
	}
}
