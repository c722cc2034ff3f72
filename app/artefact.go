package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/courier/qr"
)

// Source is where an artefact, a QR image or a trace is read from: a file,
// or a stream such as standard input or a paste.
type Source struct {
	Path string    // the file; ignored when R is set
	R    io.Reader // read instead of a file when set
	Name string    // how messages name R, e.g. "standard input"
}

// FileSource reads the file at path.
func FileSource(path string) Source { return Source{Path: path} }

// StreamSource reads r, named name in messages.
func StreamSource(name string, r io.Reader) Source { return Source{R: r, Name: name} }

// String names the source in messages.
func (s Source) String() string {
	if s.R != nil {
		if s.Name == "" {
			return "the input"
		}
		return s.Name
	}
	return s.Path
}

// file returns the absolute path for ledger entries, or "-" for a stream.
func (s Source) file() string {
	if s.R != nil {
		return "-"
	}
	return absPath(s.Path)
}

// importStep reports whether step brings an artefact in to act on it
// (import, register, activate), where the site policy's import rules
// apply; inspecting a file, or encoding one to send it, is not an import.
func importStep(step string) bool {
	switch step {
	case "inspect", "qr encode", stepSheet, "preflight", "verify":
		return false
	}
	return true
}

// readArtefactManifest reads the artefact from src in any encoding a user may
// bring; checks it against its manifest when one lies beside the file;
// checks that it is of kind want (any kind when want is ""); and appends a
// ledger entry for step, whatever the outcome; a read that cannot be
// recorded fails. It returns the manifest found beside the file, if any.
func (e *Env) readArtefactManifest(ctx context.Context, src Source, want courier.Kind, step string) (*courier.Artefact, *courier.Manifest, *Origin, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	var (
		a   *courier.Artefact
		m   *courier.Manifest
		err error
	)
	if src.R != nil {
		a, err = courier.Read(src.R)
		if err != nil {
			err = fmt.Errorf("%s: %w", src, err)
		}
	} else {
		a, m, err = courier.ReadFile(src.Path)
	}
	if err == nil && want != "" && a.Kind != want {
		err = &courier.MismatchError{
			What: "kind of artefact in " + src.String(),
			Want: want.Title(),
			Got:  a.Kind.Title(),
			Fix:  fmt.Sprintf("this step needs the %s; check you picked the right file", want.Title()),
		}
	}
	var origin *Origin
	if err == nil {
		origin, err = e.origin(m)
	}
	if err == nil && importStep(step) {
		err = e.checkImport(RouteFile, m, origin)
	}
	entry := courier.Entry{Step: step, File: src.file(), Outcome: outcome(err)}
	if a != nil {
		entry.Kind, entry.SHA256, entry.CloudID = a.Kind, a.SHA256, a.CloudID()
	}
	if err == nil && m != nil {
		entry.Detail = "manifest matches; " + origin.detail()
		if !origin.Trusted {
			e.warn(src.String() + ": " + origin.String())
		}
	}
	if lerr := e.record(entry); lerr != nil && err == nil {
		err = lerr
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return a, m, origin, nil
}

// ReadArtefact reads a registration token or activation key from src (any
// encoding a user may bring), checks it against the manifest beside the
// file and against want (any kind when want is ""), and records step in the
// custody ledger, whatever the outcome.
func (s *Service) ReadArtefact(ctx context.Context, src Source, want ArtefactKind, step string) (*ArtefactView, error) {
	a, m, origin, err := s.env.readArtefactManifest(ctx, src, courier.Kind(want), step)
	if err != nil {
		return nil, err
	}
	v := newView(a, m, src.String())
	if src.R == nil {
		v.File = src.Path
	}
	if origin != nil {
		v.Origin = origin
		v.Fields = append(v.Fields, Field{"Signed by", origin.String()})
	}
	if m == nil && src.R == nil {
		v.Manifest = "none beside the file"
		v.Fields = append(v.Fields, Field{"Manifest", v.Manifest})
	}
	return v, nil
}

// CheckOutput reports, before slow work (a PEP session, an Azure call)
// whose result is written to path, whether the write would fail: the file
// exists (unless force), or its folder does not take new files (a
// read-only or full drive, a folder the user may not write to). A bad
// destination costs seconds, not a ten-minute token run.
func CheckOutput(path string, force bool) error {
	if !force {
		if err := courier.CheckNew(path); err != nil {
			return err
		}
	}
	return courier.CheckWritable(path)
}

// CheckOutputDir is CheckOutput for a folder of QR codes still to be
// written: the nearest existing folder at or above dir must take new files.
func CheckOutputDir(dir string) error {
	return courier.CheckWritable(filepath.Join(dir, "frames.txt"))
}

// ManifestPath returns the path of the manifest written beside path.
func ManifestPath(path string) string { return courier.ManifestPath(path) }

// WriteRequest says where to write an artefact as a file.
type WriteRequest struct {
	Artefact *ArtefactView
	Path     string
	Purpose  string // for the manifest and the ledger
	Force    bool   // replace an existing file and manifest
	// Release marks a file that is to cross the air gap (not a copy saved
	// on the receiving side): the site policy's release rules apply, and
	// Review is recorded.
	Release bool
	Review  Review
}

// WriteArtefact writes the artefact to req.Path atomically with its
// manifest, reads it back, and records the write in the custody ledger.
func (s *Service) WriteArtefact(ctx context.Context, req WriteRequest) error {
	if req.Artefact == nil {
		return errors.New("nothing to write; make or import the artefact first")
	}
	m := req.Artefact.made
	if req.Purpose != "" {
		m.Purpose = req.Purpose
	}
	if req.Release {
		review, err := s.env.checkRelease(RouteFile, req.Review, req.Path)
		if err != nil {
			return err
		}
		m.Reviewers, m.Ticket, m.Media = review.Reviewers, review.Ticket, review.Media
	}
	return s.env.writeArtefactWith(ctx, req.Path, req.Artefact.a, m, req.Force)
}

// writeArtefactWith writes a to path atomically with its manifest (see
// courier.WriteFile) and appends a ledger entry. The manifest's stamp,
// registration and purpose come from the step that made the artefact; who,
// where, when, the app and the next step are filled in here.
func (e *Env) writeArtefactWith(ctx context.Context, path string, a *courier.Artefact, m courier.Manifest, force bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.Build.SHA256 == "" {
		e.Build.SHA256 = executableHash() // not at start-up: it reads the whole binary
	}
	m.CreatedAt, m.Machine, m.User = e.now(), e.Machine, e.User
	m.AppVersion, m.AppSHA256 = e.Build.Version, e.Build.SHA256
	if m.NextStep == "" {
		m.NextStep = nextStep(a.Kind)
	}
	id, err := e.identity()
	if err != nil {
		return err
	}
	detail := m.Purpose + Review{Reviewers: m.Reviewers, Ticket: m.Ticket, Media: m.Media}.detail()
	if d, ok := driveOf(RemovableDrives(), absPath(path)); ok && m.Media == "" {
		detail += "; on " + d.Title() // which stick, for the custody record
	}
	detail += "; signed by " + courier.GroupHex(id.Fingerprint())
	entry := courier.Entry{Step: "write", Kind: a.Kind, SHA256: a.SHA256, CloudID: a.CloudID(),
		File: absPath(path), Outcome: "ok", Detail: detail}
	return e.writeRecorded(entry, func(commit func() error) error {
		_, err := courier.WriteFile(path, a, courier.WriteOptions{Force: force, Manifest: m, Logger: e.Logger, Commit: commit, Signer: id})
		return err
	})
}

// checkLedger reports, before a step on the stamp or in Azure, whether its
// ledger entry can be written afterwards (see courier.Ledger.Check): a step
// that cannot be recorded does not start.
func (e *Env) checkLedger() error { return e.Ledger().Check() }

// recordDone records entry for a step that ran on the stamp or in Azure and
// ended with opErr. A ledger that cannot record a step that happened is an
// error saying what did happen (done, e.g. "the stamp is activated").
func (e *Env) recordDone(entry courier.Entry, opErr error, done string) error {
	if opErr != nil {
		entry.Outcome = outcome(opErr)
	}
	lerr := e.record(entry)
	switch {
	case opErr != nil && lerr != nil:
		return fmt.Errorf("%w (the custody ledger did not record the failure: %v)", opErr, lerr)
	case opErr != nil:
		return opErr
	case lerr != nil:
		return fmt.Errorf("%s, but %w", done, lerr)
	}
	return nil
}

// writeRecorded runs write, which writes files and calls commit once they
// are complete but not yet in place; commit records entry in the custody
// ledger, and a ledger that cannot record it stops the write with nothing
// put in place. A write that fails before its commit is recorded as failed
// (if the ledger can); one that fails after it gets a second entry saying
// so.
func (e *Env) writeRecorded(entry courier.Entry, write func(commit func() error) error) error {
	var ledgerErr error
	committed := false
	err := write(func() error {
		committed = true
		ledgerErr = e.record(entry)
		return ledgerErr
	})
	switch {
	case ledgerErr != nil:
		return ledgerErr
	case err != nil:
		if !committed {
			entry.Detail = ""
		} else {
			entry.Detail = "the write recorded above did not complete"
		}
		entry.Outcome = outcome(err)
		if lerr := e.record(entry); lerr != nil {
			return fmt.Errorf("%w (and %v)", err, lerr)
		}
		return err
	}
	return nil
}

// QR version caps (reference qr-frames.md, Rendering).
const (
	ScreenQRVersion = qr.ScreenVersion // on screen and in files: a laptop webcam reads it
	PaperQRVersion  = qr.PaperVersion  // the densest that fits 8 codes and their text on A4
)

// QRRequest says where and how to save an artefact as QR codes.
type QRRequest struct {
	Artefact   *ArtefactView
	Dir        string // created if missing
	MaxVersion int    // QR version cap, 1–40; 0 means ScreenQRVersion
	Sheet      bool   // also write the printable A4 sheet (PDF)
	Force      bool   // replace files of the same names
	Review     Review // recorded in the ledger; checked against the site policy
}

// QRResult lists what WriteQR wrote.
type QRResult struct {
	ID     string   // the AGX1 message ID
	Parts  int      // number of QR codes
	Frames string   // path of frames.txt
	PNGs   []string // one a part, in part order
	Sheet  string   // path of the PDF sheet, if written
}

// WriteQR saves the artefact as AGX1 QR codes in req.Dir (frames.txt, one
// PNG a part, and with Sheet the A4 PDF) and records it in the custody
// ledger.
func (s *Service) WriteQR(ctx context.Context, req QRRequest) (QRResult, error) {
	if req.Artefact == nil {
		return QRResult{}, errors.New("nothing to encode; make or import the artefact first")
	}
	a := req.Artefact.a
	maxV := req.MaxVersion
	if maxV == 0 {
		maxV = ScreenQRVersion
	}
	review, err := s.env.checkRelease(RouteQRScreen, req.Review, req.Dir)
	if err == nil && req.Sheet {
		review, err = s.env.checkRelease(RoutePaper, req.Review, req.Dir)
	}
	if err != nil {
		return QRResult{}, err
	}
	var res *qr.DirResult
	entry := courier.Entry{Step: "qr encode", Kind: a.Kind, SHA256: a.SHA256, CloudID: a.CloudID(), File: absPath(req.Dir), Outcome: "ok"}
	err = s.env.writeRecorded(entry, func(commit func() error) error {
		var err error
		res, err = qr.WriteDir(ctx, req.Dir, a, qr.DirOptions{MaxVersion: maxV, Sheet: req.Sheet, Force: req.Force, Logger: s.env.Logger,
			Commit: func(parts int, sheet bool) error {
				entry.Detail = fmt.Sprintf("%d QR part(s), version ≤ %d, sheet %t", parts, maxV, sheet) + review.detail()
				return commit()
			}})
		return err
	})
	if err != nil {
		return QRResult{}, err
	}
	return QRResult{ID: res.Frames[0].ID, Parts: len(res.Frames), Frames: res.Text, PNGs: res.PNGs, Sheet: res.Sheet}, nil
}

// nextStep says what the receiver of an artefact does with it.
func nextStep(k courier.Kind) string {
	switch k {
	case courier.KindToken:
		return "carry to the connected machine and register it in Azure (azs-courier register, or Register-AzsEnvironment)"
	case courier.KindKey:
		return "carry to the disconnected site and activate the stamp (azs-courier activate, or New-AzsActivationResource)"
	}
	return ""
}

// outcome is a ledger entry's outcome for the error a step ended with.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, context.Canceled):
		return "cancelled by the user"
	case errors.Is(err, courier.ErrIntegrity):
		return "integrity check failed: " + OneLine(err.Error())
	}
	return "failed: " + OneLine(err.Error())
}

// record appends an entry to the custody ledger (see recordEntry).
func (e *Env) record(entry courier.Entry) error {
	_, err := e.recordEntry(entry)
	return err
}

// recordEntry appends entry to the custody ledger with the time, user,
// machine and app version, and returns it as written. A failure is a
// *courier.LedgerError, and fails the step it was to record: nothing
// happens unrecorded.
func (e *Env) recordEntry(entry courier.Entry) (courier.Entry, error) {
	entry.Time = e.now()
	entry.User, entry.Machine, entry.App = e.User, e.Machine, e.Build.Version
	return e.Ledger().Append(entry)
}

func absPath(p string) string {
	if p == "-" || p == "" {
		return p
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// ExistingFile describes a file an export would replace, for the question
// the GUI asks first: what it is, when it was written, its SHA-256.
type ExistingFile struct {
	Path    string
	What    string    // "registration token", "activation key", or "a file that is no token or key"
	Written time.Time // from its manifest, else the file's modification time
	SHA256  string    // of the artefact, or "" for another file
}

// Existing returns what lies at path, or false when nothing does.
func Existing(path string) (ExistingFile, bool) {
	st, err := os.Lstat(path)
	if err != nil {
		return ExistingFile{}, false
	}
	e := ExistingFile{Path: path, What: "a file that is no token or key", Written: st.ModTime()}
	if a, m, err := courier.ReadFile(path); err == nil {
		e.What, e.SHA256 = a.Kind.Title(), a.SHA256
		if m != nil && !m.CreatedAt.IsZero() {
			e.Written = m.CreatedAt
		}
	} else if errors.Is(err, courier.ErrIntegrity) {
		e.What = "an artefact that no longer matches its manifest"
	}
	return e, true
}
