package courier

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// TempMarker is in the name of every temporary file and folder written
// next to an output before it is renamed into place:
// "<name>.azs-tmp-<random>". It has no leading dot, so that Windows tools do
// not mark it hidden (the attribute would survive the rename).
const TempMarker = ".azs-tmp-"

// ReadOnlyError reports a folder or drive that cannot be written to.
type ReadOnlyError struct {
	Place string // the drive (E:\, a mount point) or the folder
	Err   error
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("%s is write-protected or read-only; choose another folder or remove the write protection", e.Place)
}

func (e *ReadOnlyError) Unwrap() error { return e.Err }

// DiskFullError reports a drive with no room left for an output.
type DiskFullError struct {
	Place string
	Err   error
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("%s is full; free some space on it or choose another drive", e.Place)
}

func (e *DiskFullError) Unwrap() error { return e.Err }

// MissingFolderError reports an output whose folder does not exist.
type MissingFolderError struct {
	Place string
	Err   error
}

func (e *MissingFolderError) Error() string {
	return fmt.Sprintf("the folder %s does not exist; create it, or choose another folder or drive", e.Place)
}

func (e *MissingFolderError) Unwrap() error { return e.Err }

// WriteError turns a failure to write into dir into a message that names
// the drive or folder and the fix, rather than a temporary file's name:
// a *ReadOnlyError, a *DiskFullError, or a missing folder. Other errors are
// returned as they are.
func WriteError(dir string, err error) error { return writeError(dir, err) }

// writeError: see WriteError.
func writeError(dir string, err error) error {
	var ro *ReadOnlyError
	var full *DiskFullError
	var missing *MissingFolderError
	if errors.As(err, &ro) || errors.As(err, &full) || errors.As(err, &missing) {
		return err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &MissingFolderError{Place: dir, Err: err}
	case isReadOnlyVolume(err):
		return &ReadOnlyError{Place: volumeRoot(dir), Err: err}
	case errors.Is(err, fs.ErrPermission):
		return &ReadOnlyError{Place: dir, Err: err}
	case isDiskFull(err):
		return &DiskFullError{Place: volumeRoot(dir), Err: err}
	}
	return err
}

// createTemp creates a new temporary file beside path. It is created with
// mode 0666 less the umask, as the final file would be.
func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	for range 100 {
		name := NewTempName(filepath.Join(dir, base))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, writeError(filepath.Clean(dir), err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("create a temporary file in %s: too many name collisions", dir)
}

// IsTemp reports whether name is one of the temporary files or folders
// this package writes before renaming.
func IsTemp(name string) bool { return strings.Contains(filepath.Base(name), TempMarker) }

// stage writes data to a new temporary file beside path and syncs it; the
// caller renames it into place. It returns the temporary file's name.
func stage(path string, data []byte) (string, error) {
	dir := filepath.Dir(path)
	tmp, err := createTemp(path)
	if err != nil {
		return "", err
	}
	name := tmp.Name()
	fail := func(err error) (string, error) {
		tmp.Close()
		os.Remove(name)
		return "", writeError(dir, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(fmt.Errorf("write %s: %w", path, err))
	}
	if err := tmp.Sync(); err != nil {
		return fail(fmt.Errorf("write %s: %w", path, err))
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return "", writeError(dir, fmt.Errorf("write %s: %w", path, err))
	}
	return name, nil
}

// writeAtomic writes data to path through a synced temporary file and a
// rename, then syncs the folder. It replaces an existing file.
func writeAtomic(path string, data []byte, commit func() error) error {
	tmp, err := stage(path, data)
	if err != nil {
		return err
	}
	if commit != nil {
		if err := commit(); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	dir := filepath.Dir(path)
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return writeError(dir, fmt.Errorf("put %s in place: %w", path, err))
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// removeLeftovers removes the temporary files an interrupted write of path
// left beside it (path + TempMarker + …).
func removeLeftovers(path string, log *slog.Logger) {
	matches, _ := filepath.Glob(escapeGlob(path) + TempMarker + "*")
	for _, m := range matches {
		if err := RemoveAll(m); err != nil {
			log.Debug("could not remove a leftover of an interrupted run", "path", m, "err", err)
		} else {
			log.Debug("removed a leftover of an interrupted run", "path", m)
		}
	}
}

// removeTemp removes a temporary file or folder, reporting a failure.
func removeTemp(path string, log *slog.Logger) {
	if err := RemoveAll(path); err != nil {
		log.Debug("could not remove a temporary file", "path", path, "err", err)
	}
}

// escapeGlob quotes the pattern characters of a path for filepath.Glob.
func escapeGlob(p string) string {
	if filepath.Separator == '\\' {
		// No escaping on Windows: [ stands for itself only inside [].
		return strings.NewReplacer("[", "[[]", "*", "[*]", "?", "[?]").Replace(p)
	}
	return strings.NewReplacer(`\`, `\\`, "[", `\[`, "*", `\*`, "?", `\?`).Replace(p)
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// WriteFileAtomic writes data to path so that the file appears whole or not
// at all (a temporary file beside it, synced and renamed). An existing file
// is replaced only with force; otherwise it is an *ExistsError.
func WriteFileAtomic(path string, data []byte, force bool) error {
	return WriteFileCommit(path, data, force, nil)
}

// WriteFileCommit is WriteFileAtomic with commit called once the data is
// written and synced, before it is put in place; an error from commit (the
// custody ledger could not record the write) removes it and is returned.
func WriteFileCommit(path string, data []byte, force bool, commit func() error) error {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return &ExistsError{Path: path}
		}
	}
	return writeAtomic(path, data, commit)
}

// SyncDir makes the renames and new files in dir durable where the file
// system can (folder fsync); elsewhere it does nothing.
func SyncDir(dir string) error { return syncDir(dir) }

// NewTempName returns a name for a temporary file or folder beside path:
// path + TempMarker + 12 random hex digits.
func NewTempName(path string) string {
	var b [6]byte
	rand.Read(b[:])
	return path + TempMarker + hex.EncodeToString(b[:])
}

// RemoveLeftovers removes the temporary files and folders an interrupted
// write of path left beside it, reporting each to log (nil discards).
func RemoveLeftovers(path string, log *slog.Logger) { removeLeftovers(path, orDiscard(log)) }

// CheckWritable reports, before any slow work whose result goes to path,
// whether a file can be created in its folder: the folder exists (or the
// nearest one above it does, for a folder still to be made) and takes a new
// file. It creates and removes a temporary file there. The error names the
// drive or folder and the fix (see ReadOnlyError).
func CheckWritable(path string) error {
	dir := filepath.Dir(filepath.Clean(path))
	for {
		st, err := os.Stat(dir)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("%s is a file, not a folder; choose a folder for %s", dir, filepath.Base(path))
			}
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return fmt.Errorf("no folder of %s exists; check the drive letter or mount point", path)
		}
		dir = parent
	}
	f, err := createTemp(filepath.Join(dir, filepath.Base(path)))
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return writeError(dir, err)
	}
	return nil
}

// RemoveAll removes path and everything below it, as os.RemoveAll does,
// falling back to removing entry by entry where os.RemoveAll fails as a
// whole (wine 8 answers Go's one-call delete with "Invalid function").
func RemoveAll(path string) error {
	err := os.RemoveAll(path)
	if err == nil {
		return nil
	}
	var paths []string
	filepath.WalkDir(path, func(p string, d fs.DirEntry, werr error) error {
		if werr == nil {
			paths = append(paths, p)
		}
		return nil
	})
	for i := len(paths) - 1; i >= 0; i-- { // children before their folder
		os.Remove(paths[i])
	}
	if _, serr := os.Lstat(path); errors.Is(serr, fs.ErrNotExist) {
		return nil
	}
	return err
}
