package courier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Read reads an artefact from r (a paste, standard input). It refuses more
// than MaxSize bytes without keeping them.
func Read(r io.Reader) (*Artefact, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read artefact: %w", err)
	}
	if len(data) > MaxSize {
		return nil, &InputError{
			Problem: "the input is larger than the 1 MiB an artefact can be",
			Fix:     "give the token or key file itself, not an archive, image or log",
		}
	}
	return Parse(data)
}

// ReadFile reads the artefact in the file at path and, when a manifest lies
// beside it, checks the artefact against the manifest. A file larger than
// MaxSize is refused before it is read. The returned manifest is nil when
// there is none; a mismatch is a *MismatchError (ErrIntegrity).
func ReadFile(path string) (*Artefact, *Manifest, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Size() > MaxSize {
		return nil, nil, fmt.Errorf("%s: %w", path, tooLargeError(st.Size()))
	}
	a, err := Read(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := ReadManifest(path)
	if err != nil {
		return nil, nil, err
	}
	if m != nil {
		if err := m.Check(a); err != nil {
			return nil, nil, err
		}
	}
	return a, m, nil
}

// WriteOptions control WriteFile.
type WriteOptions struct {
	// Force allows replacing an existing file and manifest.
	Force bool
	// Manifest supplies the descriptive fields of the manifest (Machine, User,
	// AppVersion, Purpose, CreatedAt). The rest is filled from the artefact.
	Manifest Manifest
}

// ExistsError reports that WriteFile would replace a file.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already exists; choose another name, or pass --force to replace it", e.Path)
}

// CheckNew returns an *ExistsError when WriteFile(path) without Force would
// be refused: the file or its manifest already exists. Commands call it
// before slow work (a PEP session, an Azure call) whose result they write.
func CheckNew(path string) error {
	for _, p := range []string{path, ManifestPath(path)} {
		if _, err := os.Lstat(p); err == nil {
			return &ExistsError{Path: p}
		}
	}
	return nil
}

// WriteFile writes the artefact's canonical text to path and its manifest to
// ManifestPath(path). Each file is written to a temporary file in the same
// folder, synced, renamed into place and the folder synced, so a crash or a
// pulled drive leaves either the old state or the new, never a partial file.
// The artefact is then read back and hashed again before WriteFile reports
// success. Existing files are replaced only with opts.Force.
func WriteFile(path string, a *Artefact, opts WriteOptions) (*Manifest, error) {
	mpath := ManifestPath(path)
	if !opts.Force {
		if err := CheckNew(path); err != nil {
			return nil, err
		}
	}
	m := opts.Manifest
	m.Format = ManifestFormat
	m.File = filepath.Base(path)
	m.Kind = a.Kind
	m.SHA256 = a.SHA256
	m.Length = len(a.Text)
	m.CloudID = a.CloudID()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	m.CreatedAt = m.CreatedAt.UTC().Truncate(time.Second)
	mdata, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	mdata = append(mdata, '\n')

	if err := writeAtomic(path, []byte(a.Text)); err != nil {
		return nil, err
	}
	if err := writeAtomic(mpath, mdata); err != nil {
		os.Remove(path)
		return nil, err
	}
	if err := verifyWritten(path, a); err != nil {
		os.Remove(path)
		os.Remove(mpath)
		return nil, err
	}
	return &m, nil
}

// verifyWritten reads the file back and checks its hash.
func verifyWritten(path string, a *Artefact) error {
	back, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read back %s: %w", path, err)
	}
	if got := Hash(string(back)); got != a.SHA256 || !bytes.Equal(back, []byte(a.Text)) {
		return &MismatchError{
			What: fmt.Sprintf("SHA-256 of %s read back after writing", path),
			Want: a.SHA256,
			Got:  got,
			Fix:  "the drive did not keep what was written: use another drive or folder",
		}
	}
	return nil
}
