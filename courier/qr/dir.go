package qr

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

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
	// Logger receives what is worth showing with --verbose (leftovers of an
	// interrupted run removed, temporary folders that could not be); nil
	// discards it.
	Logger *slog.Logger
	// Commit, when set, is called with the number of parts and whether the
	// sheet is among them once every file is written, before any is put
	// in place; an error from it (the custody ledger could not record the
	// codes) removes them and is returned.
	Commit func(parts int, sheet bool) error
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
// rendered first. A folder that does not exist yet (or is empty) is staged
// beside it — written whole, synced and renamed into place — so a crash
// never leaves part of a set; leftovers of an interrupted run are removed.
// Into a folder that already holds files, each file is written to a
// temporary name and renamed, frames.txt last. Existing files are not
// replaced unless opts.Force is set; on failure the files written so far are
// removed. The pep and azure workflows call this for their --qr DIR output.
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
		if err := WriteSheet(&b, frames, SheetHeader{CloudID: a.CloudID(), SHA256: a.SHA256, Created: time.Now()}); err != nil {
			return nil, err
		}
		res.Sheet = filepath.Join(dir, SheetName(a.Kind, frames[0].ID))
		files = append(files, file{res.Sheet, b.Bytes()})
	}

	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	commit := func() error {
		if opts.Commit == nil {
			return nil
		}
		return opts.Commit(len(frames), opts.Sheet)
	}
	dir = filepath.Clean(dir)
	courier.RemoveLeftovers(dir, log)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) || err == nil && st.IsDir() && isEmptyDir(dir):
		if err := writeStaged(dir, files, commit, log); err != nil {
			return nil, err
		}
		return res, nil
	case err != nil:
		return nil, fmt.Errorf("qr: %w", err)
	case !st.IsDir():
		return nil, fmt.Errorf("qr: %s is a file, not a folder; choose a folder for the codes", dir)
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
	// frames.txt, which names every part, goes in last.
	slices.SortStableFunc(files, func(a, b file) int {
		return cmp.Compare(boolInt(filepath.Base(a.path) == FramesFile), boolInt(filepath.Base(b.path) == FramesFile))
	})
	if err := commit(); err != nil {
		return nil, err
	}
	var written []string
	for _, f := range files {
		if err := courier.WriteFileAtomic(f.path, f.data, true); err != nil {
			for _, p := range written {
				os.Remove(p)
			}
			return nil, fmt.Errorf("qr: %w", err)
		}
		written = append(written, f.path)
	}
	return res, nil
}

type file struct {
	path string
	data []byte
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isEmptyDir(dir string) bool {
	ents, err := os.ReadDir(dir)
	return err == nil && len(ents) == 0
}

// writeStaged writes files, all under dir, into a new folder beside dir,
// syncs them, calls commit and renames the folder to dir (replacing it when
// it is an empty folder), so that dir appears whole or not at all.
func writeStaged(dir string, files []file, commit func() error, log *slog.Logger) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return courier.WriteError(courier.NearestFolder(parent), err)
	}
	staging := courier.NewTempName(dir)
	if err := os.Mkdir(staging, 0o777); err != nil {
		return courier.WriteError(parent, err)
	}
	fail := func(err error) error {
		if rerr := courier.RemoveAll(staging); rerr != nil {
			log.Debug("could not remove a temporary folder", "path", staging, "err", rerr)
		}
		return err
	}
	for _, f := range files {
		if err := writeSynced(filepath.Join(staging, filepath.Base(f.path)), f.data); err != nil {
			return fail(courier.WriteError(parent, fmt.Errorf("write %s: %w", f.path, err)))
		}
	}
	if err := courier.SyncDir(staging); err != nil {
		return fail(fmt.Errorf("qr: sync %s: %w", staging, err))
	}
	if err := commit(); err != nil {
		return fail(err)
	}
	if isEmptyDir(dir) {
		if err := os.Remove(dir); err != nil {
			return fail(fmt.Errorf("qr: replace the empty folder %s: %w", dir, err))
		}
	}
	if err := os.Rename(staging, dir); err != nil {
		return fail(fmt.Errorf("qr: put the folder %s in place: %w", dir, err))
	}
	if err := courier.SyncDir(parent); err != nil {
		return fmt.Errorf("qr: sync folder %s: %w", parent, err)
	}
	return nil
}

// writeSynced creates path (mode 0666 less the umask) with data and syncs it.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
