package qr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/azs-courier/azs-courier/courier"
)

// Default version caps (reference qr-frames.md, Rendering).
const (
	ScreenVersion = 15 // on screen and in files: a laptop webcam reads it
	PaperVersion  = 20 // the densest that fits 8 codes and their text on A4
)

// FramesFile is the name of the text file of frames, one a line.
const FramesFile = "frames.txt"

// DirOptions says what WriteDir writes. The zero value writes frames.txt and
// one PNG a part at version ≤ ScreenVersion.
type DirOptions struct {
	MaxVersion      int  // QR version cap, 1–40; 0 means ScreenVersion
	PixelsPerModule int  // PNG density; 0 means FilePixelsPerModule
	Sheet           bool // also write the A4 PDF sheet
	Force           bool // replace files of the same names
}

// DirResult lists what WriteDir wrote.
type DirResult struct {
	Frames []Frame
	Text   string   // path of frames.txt
	PNGs   []string // one a part, in part order
	Sheet  string   // path of the PDF sheet, if written
}

// PNGName returns the file name of a part's PNG: <kind>-<ID>-part-i-of-n.png.
func PNGName(kind courier.Kind, f Frame) string {
	return fmt.Sprintf("%s-%s-part-%d-of-%d.png", kindFileName(kind), f.ID, f.Part, f.Parts)
}

// SheetName returns the file name of the PDF sheet: <kind>-<ID>-sheet.pdf.
func SheetName(kind courier.Kind, id string) string {
	return fmt.Sprintf("%s-%s-sheet.pdf", kindFileName(kind), id)
}

func kindFileName(k courier.Kind) string {
	if k == "" {
		return "text"
	}
	return string(k)
}

// WriteDir writes a as AGX1 frames into dir, creating it if needed:
// frames.txt (one frame a line), <kind>-<ID>-part-i-of-n.png for each part,
// and with opts.Sheet the A4 sheet <kind>-<ID>-sheet.pdf. Everything is
// rendered first; each file is then written to a temporary name and renamed.
// Existing files are not replaced unless opts.Force is set; on failure the
// files written so far are removed. The pep and azure workflows call this for
// their --qr DIR output.
func WriteDir(ctx context.Context, dir string, a *courier.Artefact, opts DirOptions) (*DirResult, error) {
	if opts.MaxVersion == 0 {
		opts.MaxVersion = ScreenVersion
	}
	if opts.PixelsPerModule == 0 {
		opts.PixelsPerModule = FilePixelsPerModule
	}
	frames, err := Encode(a, opts.MaxVersion)
	if err != nil {
		return nil, err
	}
	type file struct {
		path string
		data []byte
	}
	var files []file
	var text strings.Builder
	res := &DirResult{Frames: frames, Text: filepath.Join(dir, FramesFile)}
	for _, f := range frames {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := PNG(f, opts.PixelsPerModule)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, PNGName(a.Kind, f))
		files = append(files, file{p, data})
		res.PNGs = append(res.PNGs, p)
		text.WriteString(f.String() + "\n")
	}
	files = append(files, file{res.Text, []byte(text.String())})
	if opts.Sheet {
		var b bytes.Buffer
		if err := WriteSheet(&b, frames); err != nil {
			return nil, err
		}
		res.Sheet = filepath.Join(dir, SheetName(a.Kind, frames[0].ID))
		files = append(files, file{res.Sheet, b.Bytes()})
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("qr: create the folder for the codes: %w", err)
	}
	if !opts.Force {
		for _, f := range files {
			if _, err := os.Lstat(f.path); err == nil {
				return nil, fmt.Errorf("qr: %s already exists; choose an empty folder or replace the files", f.path)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("qr: %w", err)
			}
		}
	}
	var written []string
	for _, f := range files {
		if err := writeAtomic(f.path, f.data); err != nil {
			for _, p := range written {
				os.Remove(p)
			}
			return nil, fmt.Errorf("qr: write %s: %w", f.path, err)
		}
		written = append(written, f.path)
	}
	return res, nil
}

// writeAtomic writes data to a temporary file beside path, syncs it and
// renames it into place.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
