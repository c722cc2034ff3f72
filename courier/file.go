package courier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
		if isManifest(path) {
			// A manifest picked by mistake: say so, and name its artefact.
			art := strings.TrimSuffix(path, ManifestSuffix)
			return nil, nil, &InputError{
				Problem: fmt.Sprintf("%s is the manifest of %s, not the token or key itself", filepath.Base(path), filepath.Base(art)),
				Fix:     "open " + filepath.Base(art) + " beside it",
			}
		}
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

// isManifest reports whether the file at path is a manifest of ours: its
// name ends in ManifestSuffix, or it holds a manifest's JSON.
func isManifest(path string) bool {
	if strings.HasSuffix(strings.ToLower(path), ManifestSuffix) {
		return true
	}
	data, err := ReadRegular(path, 64<<10)
	if err != nil {
		return false
	}
	var m struct {
		Format string `json:"format"`
	}
	return json.Unmarshal(data, &m) == nil && strings.HasPrefix(m.Format, "azs-courier/manifest/")
}

// WriteOptions control WriteFile.
type WriteOptions struct {
	// Force allows replacing an existing file and manifest.
	Force bool
	// Manifest supplies the descriptive fields of the manifest (Machine, User,
	// AppVersion, Purpose, CreatedAt). The rest is filled from the artefact.
	Manifest Manifest
	// Logger receives what is worth showing with --verbose (leftovers of an
	// interrupted run removed, temporary files that could not be); nil
	// discards it.
	Logger *slog.Logger
	// Commit, when set, is called once both files are written, synced and
	// read back, before either is put in place: an error from it (the
	// custody ledger could not record the write) removes them and is
	// returned, so the old files stay and nothing new appears unrecorded.
	Commit func() error
	// Signer, when set, signs the manifest (see Manifest.Sign).
	Signer *Identity
}

// ExistsError reports that WriteFile would replace a file.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already exists; choose another name, or pass --force to replace it", e.Path)
}

// CheckNew returns an *ExistsError when WriteFile(path) without Force would
// be refused: the file already exists, or its manifest does with it. A
// manifest alone is what an interrupted write leaves (the manifest is put
// in place just before its artefact): it does not count, and WriteFile
// replaces it. Commands call CheckNew before slow work (a PEP session, an
// Azure call) whose result they write.
func CheckNew(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return &ExistsError{Path: path}
	}
	return nil
}

// WriteFile writes the artefact's canonical text to path and its manifest to
// ManifestPath(path). Both are written to temporary files in the same
// folder and synced first; then the manifest is renamed into place, then
// the artefact, and the folder is synced. A crash or a pulled drive
// therefore never leaves an artefact without its manifest or a partial
// file: at worst a manifest alone, which the next write replaces, and
// temporary files, which it removes. The artefact is read back and hashed
// again before it is put in place, and opts.Commit is called then.
// Existing files are replaced only with opts.Force.
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
	if opts.Signer != nil {
		if err := m.Sign(opts.Signer); err != nil {
			return nil, err
		}
	}
	mdata, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	mdata = append(mdata, '\n')

	log := orDiscard(opts.Logger)
	removeLeftovers(path, log)
	removeLeftovers(mpath, log)
	tmpM, err := stage(mpath, mdata)
	if err != nil {
		return nil, err
	}
	tmpA, err := stage(path, []byte(a.Text))
	if err != nil {
		removeTemp(tmpM, log)
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := verifyWritten(tmpA, a); err != nil {
		removeTemp(tmpM, log)
		removeTemp(tmpA, log)
		return nil, err
	}
	if opts.Commit != nil {
		if err := opts.Commit(); err != nil {
			removeTemp(tmpM, log)
			removeTemp(tmpA, log)
			return nil, err
		}
	}
	if err := os.Rename(tmpM, mpath); err != nil {
		removeTemp(tmpM, log)
		removeTemp(tmpA, log)
		return nil, writeError(dir, fmt.Errorf("put %s in place: %w", mpath, err))
	}
	if err := os.Rename(tmpA, path); err != nil {
		removeTemp(tmpA, log)
		os.Remove(mpath)
		return nil, writeError(dir, fmt.Errorf("put %s in place: %w", path, err))
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return &m, nil
}

// verifyWritten reads the staged file tmp back and checks its hash.
func verifyWritten(tmp string, a *Artefact) error {
	back, err := os.ReadFile(tmp)
	if err != nil {
		return fmt.Errorf("read back %s: %w", tmp, err)
	}
	if got := Hash(string(back)); got != a.SHA256 || !bytes.Equal(back, []byte(a.Text)) {
		return &MismatchError{
			What: fmt.Sprintf("SHA-256 of %s read back after writing", strings.SplitN(tmp, TempMarker, 2)[0]),
			Want: a.SHA256,
			Got:  got,
			Fix:  "the drive did not keep what was written: use another drive or folder",
		}
	}
	return nil
}
