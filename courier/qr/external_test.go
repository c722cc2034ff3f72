package qr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tool returns the path of an external program used as an independent check.
// It fails the test when the program is missing and CI=true, and skips it
// otherwise.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (Debian package %s; make deps installs it): %v", name, pkg, err)
		}
		t.Skipf("%s not found (Debian package %s): independent check skipped outside CI", name, pkg)
	}
	return p
}

// zbarimg runs zbarimg on files and returns the codes it read, one a line.
func zbarimg(t testing.TB, bin string, files ...string) []string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-q", "--raw", "--nodbus"}, files...)...)
	out, err := cmd.Output()
	if err != nil {
		// Without --nodbus support (older zbar), retry plainly.
		cmd = exec.Command(bin, append([]string{"-q", "--raw"}, files...)...)
		if out, err = cmd.Output(); err != nil {
			t.Fatalf("zbarimg %v: %v", files, err)
		}
	}
	return strings.Fields(string(out))
}

// TestZbarimgReadsOurPNGs writes every shared artefact with WriteDir at each
// version cap and checks that zbarimg reads every PNG as the frame in
// frames.txt.
func TestZbarimgReadsOurPNGs(t *testing.T) {
	t.Parallel()
	bin := tool(t, "zbarimg", "zbar-tools")
	for _, path := range tokenFiles(t) {
		a := readArtefact(t, path)
		for _, cap := range []int{10, 15, 25, 40} {
			dir := t.TempDir()
			res, err := WriteDir(context.Background(), dir, a, DirOptions{MaxVersion: cap})
			if err != nil {
				t.Fatal(err)
			}
			txt, err := os.ReadFile(res.Text)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Fields(string(txt))
			got := zbarimg(t, bin, res.PNGs...)
			if len(got) != len(want) {
				t.Fatalf("%s v%d: zbarimg read %d codes from %d PNGs", filepath.Base(path), cap, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("%s v%d part %d: zbarimg got %.40q…, frames.txt has %.40q…", filepath.Base(path), cap, i+1, got[i], want[i])
				}
			}
		}
	}
}

// TestQrencodeCodesDecode makes codes with qrencode from frames.txt and reads
// them with our scanner.
func TestQrencodeCodesDecode(t *testing.T) {
	t.Parallel()
	bin := tool(t, "qrencode", "qrencode")
	for _, path := range tokenFiles(t) {
		a := readArtefact(t, path)
		for _, cap := range []int{10, 15, 25, 40} {
			dir := t.TempDir()
			res, err := WriteDir(context.Background(), dir, a, DirOptions{MaxVersion: cap})
			if err != nil {
				t.Fatal(err)
			}
			txt, err := os.ReadFile(res.Text)
			if err != nil {
				t.Fatal(err)
			}
			var s Scanner
			for i, line := range strings.Fields(string(txt)) {
				out := filepath.Join(dir, fmt.Sprintf("qrencode-%d.png", i+1))
				cmd := exec.Command(bin, "-l", "M", "-s", "4", "-o", out)
				cmd.Stdin = strings.NewReader(line)
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("qrencode: %v: %s", err, b)
				}
				data, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.AddImage(context.Background(), out, data); err != nil {
					t.Fatal(err)
				}
			}
			m, err := s.Assembler.Message()
			if err != nil || m.Text != a.Text {
				t.Errorf("%s v%d: qrencode codes gave %v, want the artefact", filepath.Base(path), cap, err)
			}
		}
	}
}

func TestWriteDir(t *testing.T) {
	a := readArtefact(t, tokenFiles(t)[1]) // 1-node key
	dir := filepath.Join(t.TempDir(), "codes")
	res, err := WriteDir(context.Background(), dir, a, DirOptions{Sheet: true})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{}
	for _, f := range res.Frames {
		want = append(want, PNGName(a.Kind, f))
	}
	want = append(want, SheetName(a.Kind, res.Frames[0].ID), FramesFile)
	if len(names) != len(want) {
		t.Fatalf("got files %q, want %q", names, want)
	}
	for _, w := range want {
		if _, err := os.Stat(filepath.Join(dir, w)); err != nil {
			t.Errorf("missing %s", w)
		}
	}
	if !strings.HasPrefix(want[0], "activation-key-"+res.Frames[0].ID+"-part-1-of-") {
		t.Errorf("got PNG name %s", want[0])
	}
	var s Scanner
	txt, _ := os.ReadFile(res.Text)
	if err := s.AddText(FramesFile, string(txt)); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Assembler.Message(); err != nil || m.Text != a.Text {
		t.Errorf("frames.txt: got %v, want the key", err)
	}
	if _, err := WriteDir(context.Background(), dir, a, DirOptions{}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second write: got %v, want already exists", err)
	}
	if _, err := WriteDir(context.Background(), dir, a, DirOptions{Force: true}); err != nil {
		t.Errorf("second write with Force: %v", err)
	}
}

// zbarimgSome is zbarimg for files of which some may hold no code (zbarimg
// then exits with status 4): the codes it read, one a line.
func zbarimgSome(t testing.TB, bin string, files ...string) []string {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"-q", "--raw", "--nodbus"}, files...)...).Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 4) {
		t.Fatalf("zbarimg: %v", err)
	}
	return strings.Fields(string(out))
}

// TestCapturesAgainstZbarimg: on the smallest photos and blurred screens
// (2 px/module), our scanner reads at least as many of TestCaptures' sample
// as zbarimg does. (The bench table compares every class on the whole set.)
func TestCapturesAgainstZbarimg(t *testing.T) {
	t.Parallel()
	bin := tool(t, "zbarimg", "zbar-tools")
	frames, name := captureSample(t)
	dir := t.TempDir()
	for _, c := range captureClasses() {
		if c.name != "photo-2px" && c.name != "scale125%-2px+blur+jpeg" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var files []string
			ours := 0
			for i, f := range frames {
				sym, err := NewSymbol(f.Frame)
				if err != nil {
					t.Fatal(err)
				}
				data := c.capture(t, sym, captureSeed(name, f.cap, f.Part, c.name))
				file := filepath.Join(dir, fmt.Sprintf("%s-%d.img", c.name, i))
				if err := os.WriteFile(file, data, 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, file)
				if decodesTo(context.Background(), data, f.String()) {
					ours++
				}
			}
			read := zbarimgSome(t, bin, files...)
			zbar := 0
			for _, f := range frames {
				if slices.Contains(read, f.String()) {
					zbar++
				}
			}
			if ours < zbar {
				t.Errorf("we read %d of %d, zbarimg %d", ours, len(frames), zbar)
			}
		})
	}
}
