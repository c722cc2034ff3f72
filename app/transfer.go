package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/courier/qr"
)

// ArtefactKind says which artefact a step expects.
type ArtefactKind string

// The two artefacts that cross the gap.
const (
	KindToken ArtefactKind = ArtefactKind(courier.KindToken) // registration token
	KindKey   ArtefactKind = ArtefactKind(courier.KindKey)   // activation key
)

// Title returns the kind as people say it: "registration token".
func (k ArtefactKind) Title() string { return courier.Kind(k).Title() }

// FileName returns the usual file name for the kind.
func (k ArtefactKind) FileName() string {
	if k == KindKey {
		return "activation-key.txt"
	}
	return "registration-token.txt"
}

// DefaultQRVersion is the QR version cap used for the codes the GUI shows
// and saves (reference/qr-airgap.md: dense enough for few parts, sparse
// enough for any phone or scanner).
const DefaultQRVersion = 15

// Field is one labelled value of an artefact's review.
type Field struct{ Label, Value string }

// ArtefactView is a registration token or activation key as the GUI shows
// it: its identity and decoded fields. It carries the artefact itself, so
// the GUI can pass it back to export, register or activate.
type ArtefactView struct {
	Kind         ArtefactKind
	SHA256       string
	CloudID      string
	BillingModel string
	Nodes        int
	Length       int
	Source       string // where it came from: a file, "paste", "QR codes", the PEP, Azure
	Manifest     string // "matches …", "none beside the file", or "" when not read from a file
	Fields       []Field

	a *courier.Artefact
}

// SHA256Groups returns the hash in groups of four for reading aloud.
func (v *ArtefactView) SHA256Groups() string { return GroupHash(v.SHA256) }

// Text returns the artefact's canonical text.
func (v *ArtefactView) Text() string { return v.a.Text }

// newView summarises a for the GUI.
func newView(a *courier.Artefact, m *courier.Manifest, source string) *ArtefactView {
	s := summarise(a, m)
	v := &ArtefactView{Kind: ArtefactKind(a.Kind), SHA256: a.SHA256, CloudID: s.CloudID, BillingModel: s.BillingModel,
		Nodes: s.Nodes, Length: s.Length, Source: source, a: a}
	v.Fields = append([]Field{{"Kind", a.Kind.Title()}}, s.Fields()...)
	if source != "" {
		v.Fields = append(v.Fields, Field{"Source", source})
		v.Manifest = manifestLine(m)
	}
	if v.Manifest != "" {
		v.Fields = append(v.Fields, Field{"Manifest", v.Manifest})
	}
	return v
}

// checkKind returns a *courier.MismatchError when a is not of kind want
// (any kind when want is "").
func checkKind(a *courier.Artefact, want ArtefactKind, from string) error {
	if want == "" || a.Kind == courier.Kind(want) {
		return nil
	}
	return &courier.MismatchError{What: "kind of artefact in " + from, Want: want.Title(), Got: a.Kind.Title(),
		Fix: fmt.Sprintf("this step needs the %s; check you picked the right one", want.Title())}
}

// ImportFile reads the artefact in the file at path (any encoding a user may
// bring), checks it against the manifest beside it and against want, and
// records the step in the custody ledger.
func (s *Service) ImportFile(ctx context.Context, path string, want ArtefactKind) (*ArtefactView, error) {
	a, m, err := s.env.readArtefactManifest(ctx, path, courier.Kind(want), "import")
	if err != nil {
		return nil, err
	}
	mv := m
	v := newView(a, mv, path)
	if m == nil {
		v.Manifest = "none beside the file"
		v.Fields = append(v.Fields, Field{"Manifest", v.Manifest})
	}
	return v, nil
}

// ImportText reads an artefact pasted as text and records the step.
func (s *Service) ImportText(ctx context.Context, text string, want ArtefactKind) (*ArtefactView, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a, err := courier.Parse([]byte(text))
	if err == nil {
		err = checkKind(a, want, "the pasted text")
	}
	s.recordRead("import (paste)", "", a, err)
	if err != nil {
		return nil, fmt.Errorf("pasted text: %w", err)
	}
	return newView(a, nil, "paste"), nil
}

// QRImport says how far the frames of a QR transfer have come.
type QRImport struct {
	Parts   int   // parts of the message, 0 before the first frame
	Found   []int // part numbers read
	Missing []int // part numbers still missing
	Ignored int   // QR codes that were not AGX1 frames
}

// ImportQR reads AGX1 frames from image files (PNG or JPEG: screenshots,
// photos, page scans) and frame text files, in any order. When every part is
// in, it reassembles the artefact, checks it against want and records the
// step; otherwise it returns the progress and an error naming the missing
// parts.
func (s *Service) ImportQR(ctx context.Context, files []string, want ArtefactKind, progress func(Event)) (*ArtefactView, QRImport, error) {
	progress = orDiscard(progress)
	var sc qr.Scanner
	st := func() QRImport {
		return QRImport{Parts: sc.Assembler.Parts(), Found: sc.Assembler.Found(), Missing: sc.Assembler.Missing(), Ignored: len(sc.Ignored)}
	}
	for i, f := range files {
		data, err := readLimited(f, 64<<20)
		if err != nil {
			return nil, st(), err
		}
		progress(Event{Step: "qr", Message: "reading " + filepath.Base(f), Fraction: float64(i) / float64(len(files)), Level: LevelProgress})
		if err := sc.AddInput(ctx, filepath.Base(f), data); err != nil {
			return nil, st(), fmt.Errorf("%s: %w", f, err)
		}
	}
	if !sc.Assembler.Started() {
		return nil, st(), fmt.Errorf("no AGX1 QR code found in %d file(s); choose the QR images or a sharper scan", len(files))
	}
	msg, err := sc.Assembler.Message()
	if err != nil {
		var me *qr.MissingError
		if errors.As(err, &me) {
			return nil, st(), fmt.Errorf("%d of %d QR parts read, missing %s; add images of the missing parts", len(sc.Assembler.Found()), me.Parts, intList(me.Missing))
		}
		return nil, st(), err
	}
	a, err := courier.Parse([]byte(msg.Text))
	if err == nil {
		err = checkKind(a, want, "the QR codes")
	}
	s.recordRead("import (QR)", "", a, err)
	if err != nil {
		return nil, st(), fmt.Errorf("QR codes: %w", err)
	}
	progress(Event{Step: "qr", Message: fmt.Sprintf("all %d parts read", msg.Parts), Fraction: 1, Level: LevelProgress})
	return newView(a, nil, fmt.Sprintf("QR codes (%d parts)", msg.Parts)), st(), nil
}

func intList(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d accepted; choose the QR image or frame file itself", path, fi.Size(), limit)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b.Bytes(), nil
}

// recordRead appends a ledger entry for an artefact read other than from a
// file (paste, QR).
func (s *Service) recordRead(step, file string, a *courier.Artefact, err error) {
	e := courier.Entry{Step: step, File: file, Outcome: "ok"}
	if a != nil {
		e.Kind, e.SHA256, e.CloudID = a.Kind, a.SHA256, a.CloudID()
	}
	if err != nil {
		e.Outcome = outcome(err)
	}
	s.env.record(e)
}

// ExportRequest says where and how to write an artefact.
type ExportRequest struct {
	Artefact *ArtefactView
	Dir      string // folder (or removable drive) to write into
	FileName string // default: the kind's usual name
	QR       bool   // also save the QR codes as PNG files (and frames.txt)
	Sheet    bool   // also save the printable A4 sheet (PDF)
	Purpose  string // for the manifest and ledger
	Force    bool   // replace existing files
}

// ExportResult lists what Export wrote.
type ExportResult struct {
	File     string
	Manifest string
	QRFiles  []string
	Sheet    string
}

// Export writes the artefact into a folder: the file with its manifest
// (atomically, read back and re-hashed), and on request its QR codes as PNG
// files with frames.txt, and the printable A4 sheet. Each write is recorded
// in the custody ledger.
func (s *Service) Export(ctx context.Context, req ExportRequest, progress func(Event)) (ExportResult, error) {
	progress = orDiscard(progress)
	var res ExportResult
	if req.Artefact == nil {
		return res, errors.New("nothing to export; make or import the artefact first")
	}
	if req.Dir == "" {
		return res, errors.New("no folder chosen; choose a folder or removable drive")
	}
	if fi, err := os.Stat(req.Dir); err != nil || !fi.IsDir() {
		return res, fmt.Errorf("%s is not a folder that exists; choose another folder or plug the drive in", req.Dir)
	}
	a := req.Artefact.a
	name := req.FileName
	if name == "" {
		name = req.Artefact.Kind.FileName()
	}
	path := filepath.Join(req.Dir, name)
	purpose := req.Purpose
	if purpose == "" {
		purpose = a.Kind.Title() + " export"
	}
	if !req.Force {
		var ee *courier.ExistsError
		if err := courier.CheckNew(path); errors.As(err, &ee) {
			return res, fmt.Errorf("%s already exists; choose another folder or file name, or replace it", ee.Path)
		}
	}
	progress(Event{Step: "export", Message: "writing " + path, Fraction: 0.1, Level: LevelProgress})
	if err := s.env.writeArtefact(ctx, path, a, purpose, req.Force); err != nil {
		return res, err
	}
	res.File, res.Manifest = path, courier.ManifestPath(path)
	if req.QR || req.Sheet {
		frames, err := qr.Encode(a, DefaultQRVersion)
		if err != nil {
			return res, fmt.Errorf("the file is written, but the QR codes are not: %w", err)
		}
		if req.QR {
			progress(Event{Step: "export", Message: fmt.Sprintf("saving %d QR code(s)", len(frames)), Fraction: 0.5, Level: LevelProgress})
			qrDir := filepath.Join(req.Dir, strings.TrimSuffix(name, filepath.Ext(name))+"-qr")
			files, err := writeQRDir(qrDir, a, frames)
			if err != nil {
				return res, fmt.Errorf("the file is written, but the QR codes are not: %w; choose another folder", err)
			}
			res.QRFiles = files
		}
		if req.Sheet {
			progress(Event{Step: "export", Message: "writing the A4 sheet", Fraction: 0.8, Level: LevelProgress})
			var b bytes.Buffer
			if err := qr.WriteSheet(&b, frames); err != nil {
				return res, fmt.Errorf("the file is written, but the A4 sheet is not: %w", err)
			}
			sheet := strings.TrimSuffix(path, filepath.Ext(path)) + "-qr.pdf"
			if err := writeFileAtomic(sheet, b.Bytes()); err != nil {
				return res, fmt.Errorf("the file is written, but the A4 sheet is not: %w; choose another folder", err)
			}
			res.Sheet = sheet
		}
		s.env.record(courier.Entry{Step: "export QR", Kind: a.Kind, SHA256: a.SHA256, CloudID: a.CloudID(), File: absPath(req.Dir),
			Outcome: "ok", Detail: fmt.Sprintf("%d QR file(s), sheet %t", len(res.QRFiles), res.Sheet != "")})
	}
	progress(Event{Step: "export", Message: "written and read back: " + path, Fraction: 1, Level: LevelProgress})
	return res, nil
}

// writeQRDir saves frames as PNG files and frames.txt in dir, each written
// to a temporary file and renamed, and returns the PNG paths in part order.
func writeQRDir(dir string, a *courier.Artefact, frames []qr.Frame) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	var txt strings.Builder
	for _, f := range frames {
		png, err := qr.PNG(f, qr.FilePixelsPerModule)
		if err != nil {
			return nil, err
		}
		name := filepath.Join(dir, fmt.Sprintf("%s-%s-part-%d-of-%d.png", a.Kind, f.ID, f.Part, f.Parts))
		if err := writeFileAtomic(name, png); err != nil {
			return nil, err
		}
		files = append(files, name)
		txt.WriteString(f.String() + "\n")
	}
	if err := writeFileAtomic(filepath.Join(dir, "frames.txt"), []byte(txt.String())); err != nil {
		return nil, err
	}
	return files, nil
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it into place, so a pulled drive never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// QRCodes is an artefact as a loop of QR codes for the screen.
type QRCodes struct {
	seq    *qr.Sequence
	frames []qr.Frame
}

// QRCodes returns the artefact's AGX1 frames for showing on screen.
func (v *ArtefactView) QRCodes() (*QRCodes, error) {
	frames, err := qr.Encode(v.a, DefaultQRVersion)
	if err != nil {
		return nil, fmt.Errorf("make the QR codes: %w", err)
	}
	return &QRCodes{seq: qr.NewSequence(frames), frames: frames}, nil
}

// Len returns the number of codes in one loop.
func (q *QRCodes) Len() int { return q.seq.Len() }

// Image returns the code shown at tick n (any integer; it wraps around),
// as large as fits a size×size square, and its caption.
func (q *QRCodes) Image(n, size int) (image.Image, string, error) {
	f := q.seq.At(n)
	img, err := qr.Image(f, size)
	if err != nil {
		return nil, "", err
	}
	return img, qr.Caption(f), nil
}

// Text returns the frame text of the code at tick n, in groups of five for
// typing.
func (q *QRCodes) Text(n int) string { return qr.Groups(q.seq.At(n).String()) }

func orDiscard(f func(Event)) func(Event) {
	if f == nil {
		return func(Event) {}
	}
	return f
}
