package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
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
	Source       string  // where it came from: a file, "paste", "QR codes", the PEP, Azure
	Manifest     string  // "matches …", "none beside the file", or "" when not read from a file
	Origin       *Origin // who signed the manifest; nil without one
	File         string  // the file it was read from; "" for a paste, QR codes or a stream
	Fields       []Field

	a *courier.Artefact
	m *courier.Manifest
	// made is what the step that made the artefact knows for its manifest:
	// the stamp, and for a renewal its reason and the registration it
	// replaces. Writes start from it.
	made courier.Manifest
}

// Renewal returns why a token was made when it is a renewal or change,
// and the registration it replaces, from its manifest (or from the step
// that made it here); "" when it is a first registration.
func (v *ArtefactView) Renewal() (reason string, replaces *ReplacedRegistration) {
	if v.m != nil && v.m.Reason != "" {
		return v.m.Reason, v.m.Replaces
	}
	return v.made.Reason, v.made.Replaces
}

// Summary returns the artefact's review summary (inspect shows it).
func (v *ArtefactView) Summary() Summary {
	s := summarise(v.a, v.m)
	s.Origin = v.Origin
	return s
}

// HasManifest reports whether a manifest lay beside the file and matched.
func (v *ArtefactView) HasManifest() bool { return v.m != nil }

// SHA256Groups returns the hash in groups of four for reading aloud.
func (v *ArtefactView) SHA256Groups() string { return GroupHash(v.SHA256) }

// Text returns the artefact's canonical text.
func (v *ArtefactView) Text() string { return v.a.Text }

// newView summarises a for the GUI.
func newView(a *courier.Artefact, m *courier.Manifest, source string) *ArtefactView {
	s := summarise(a, m)
	v := &ArtefactView{Kind: ArtefactKind(a.Kind), SHA256: a.SHA256, CloudID: s.CloudID, BillingModel: s.BillingModel,
		Nodes: s.Nodes, Length: s.Length, Source: source, a: a, m: m}
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
	return s.ReadArtefact(ctx, FileSource(path), want, "import")
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
	if err == nil {
		err = s.env.checkImport(RouteFile, nil, nil)
	}
	if err := s.recordRead("import (paste)", "", a, err); err != nil {
		return nil, fmt.Errorf("pasted text: %w", err)
	}
	return newView(a, nil, "paste"), nil
}

// QRImport says how far the frames of a QR transfer have come.
type QRImport struct {
	ID      string // the AGX1 message ID, once a frame is read
	Parts   int    // parts of the message, 0 before the first frame
	Found   []int  // part numbers read
	Missing []int  // part numbers still missing
	Ignored int    // QR codes that were not AGX1 frames
	Frames  int    // AGX1 frames read, duplicates included
}

// QRIncompleteError reports QR codes read so far that do not yet hold
// every part of the message.
type QRIncompleteError struct {
	Found, Parts int
	Missing      []int
}

func (e *QRIncompleteError) Error() string {
	return fmt.Sprintf("%d of %d QR parts read, missing %s; add images or frames of the missing parts", e.Found, e.Parts, Ranges(e.Missing))
}

// maxQRInput is the largest image or frame file a QR import reads.
const maxQRInput = 64 << 20

// ImportQR reads AGX1 frames from image files (PNG or JPEG: screenshots,
// photos, page scans) and frame text files, in any order. When every part is
// in, it reassembles the artefact, checks it against want and records the
// step; otherwise it returns the progress and an error naming the missing
// parts.
func (s *Service) ImportQR(ctx context.Context, files []string, want ArtefactKind, progress func(Event)) (*ArtefactView, QRImport, error) {
	srcs := make([]Source, len(files))
	for i, f := range files {
		srcs[i] = FileSource(f)
	}
	return s.DecodeQR(ctx, srcs, want, "import (QR)", progress)
}

// DecodeQR reads AGX1 frames from inputs: image files (one code, or a page
// scan or photo with several; other QR codes are ignored), frame text files,
// and streams of typed frames. Parts may come in any order, over several
// inputs, with duplicates. When every part is in and the message checks
// out, it returns the artefact, checked against want (any kind when want is
// ""), and records step in the custody ledger. A set still missing parts is
// a *QRIncompleteError, and the QRImport says which parts are in.
func (s *Service) DecodeQR(ctx context.Context, inputs []Source, want ArtefactKind, step string, progress func(Event)) (*ArtefactView, QRImport, error) {
	progress = orDiscard(progress)
	var sc qr.Scanner
	status := func() QRImport {
		return QRImport{ID: sc.Assembler.ID(), Parts: sc.Assembler.Parts(), Found: sc.Assembler.Found(),
			Missing: sc.Assembler.Missing(), Ignored: len(sc.Ignored), Frames: sc.Frames}
	}
	a, err := decodeQRInputs(ctx, &sc, inputs, progress)
	if err == nil {
		err = checkKind(a, want, "the QR codes")
	}
	if err == nil {
		err = s.env.checkImport(routeQR, nil, nil)
	}
	entry := courier.Entry{Step: step, Outcome: outcome(err),
		Detail: fmt.Sprintf("%d input(s), %d frame(s) read", len(inputs), sc.Frames)}
	if a != nil {
		entry.Kind, entry.SHA256, entry.CloudID = a.Kind, a.SHA256, a.CloudID()
	}
	if lerr := s.env.record(entry); lerr != nil && err == nil {
		err = lerr
	}
	if err != nil {
		return nil, status(), err
	}
	progress(Event{Step: "qr", Message: fmt.Sprintf("all %d parts read", sc.Assembler.Parts()), Fraction: 1, Level: LevelProgress})
	return newView(a, nil, fmt.Sprintf("QR codes (%d parts)", sc.Assembler.Parts())), status(), nil
}

// decodeQRInputs feeds every input to sc and returns the reassembled artefact.
func decodeQRInputs(ctx context.Context, sc *qr.Scanner, inputs []Source, progress func(Event)) (*courier.Artefact, error) {
	for i, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		progress(Event{Step: "qr", Message: "reading " + filepath.Base(in.String()), Fraction: float64(i) / float64(len(inputs)), Level: LevelProgress})
		if in.R != nil {
			data, err := io.ReadAll(io.LimitReader(in.R, maxQRInput+1))
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", in, err)
			}
			if len(data) > maxQRInput {
				return nil, fmt.Errorf("%s holds more than %d MiB; type or paste only the frames", in, maxQRInput>>20)
			}
			if err := sc.AddText(in.String(), string(data)); err != nil {
				return nil, err
			}
			continue
		}
		data, err := readQRInput(in.Path)
		if err != nil {
			return nil, err
		}
		if err := sc.AddInput(ctx, in.Path, data); err != nil {
			return nil, err
		}
	}
	if !sc.Assembler.Started() {
		if len(sc.Ignored) > 0 {
			// Their content is not shown: a stray code may hold a password.
			return nil, fmt.Errorf("found %d QR code(s) but no AGX1 frame among them; give the codes azs-courier made", len(sc.Ignored))
		}
		return nil, fmt.Errorf("no QR code found in %d input(s); give sharper images, a scan at 300 dpi, or the frames.txt file", len(inputs))
	}
	msg, err := sc.Assembler.Message()
	if err != nil {
		var me *qr.MissingError
		if errors.As(err, &me) {
			return nil, &QRIncompleteError{Found: len(sc.Assembler.Found()), Parts: me.Parts, Missing: me.Missing}
		}
		return nil, err
	}
	a, err := courier.Parse([]byte(msg.Text))
	if err != nil {
		return nil, fmt.Errorf("the QR codes hold a message that is no artefact: %w", err)
	}
	if got := qr.KindOf(a.Kind); got != msg.Kind {
		return nil, &courier.MismatchError{What: "kind of artefact in the QR frames", Want: qr.KindName(msg.Kind), Got: a.Kind.Title(),
			Fix: "the frames are inconsistent; encode the artefact again"}
	}
	return a, nil
}

// readQRInput reads an image or frame file, refusing folders, special files
// and files larger than maxQRInput before reading them.
func readQRInput(path string) ([]byte, error) {
	data, err := courier.ReadRegular(path, maxQRInput)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// Ranges writes part numbers as ranges: "1–3, 5, 7–9".
func Ranges(ns []int) string {
	var parts []string
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, fmt.Sprint(ns[i]))
		case j == i+1:
			parts = append(parts, fmt.Sprint(ns[i]), fmt.Sprint(ns[j]))
		default:
			parts = append(parts, fmt.Sprintf("%d–%d", ns[i], ns[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// recordRead appends a ledger entry for an artefact read other than from a
// file (paste, QR) that ended with err, and returns err, or the ledger's
// error when a read that worked cannot be recorded.
func (s *Service) recordRead(step, file string, a *courier.Artefact, err error) error {
	e := courier.Entry{Step: step, File: file, Outcome: outcome(err)}
	if a != nil {
		e.Kind, e.SHA256, e.CloudID = a.Kind, a.SHA256, a.CloudID()
	}
	if lerr := s.env.record(e); lerr != nil && err == nil {
		return lerr
	}
	return err
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
	Review   Review // recorded in the manifest and ledger; checked against the site policy
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
		if req.Artefact.made.Purpose != "" {
			purpose = req.Artefact.made.Purpose
		}
	}
	if !req.Force {
		var ee *courier.ExistsError
		if err := courier.CheckNew(path); errors.As(err, &ee) {
			return res, fmt.Errorf("%s already exists; choose another folder or file name, or replace it", ee.Path)
		}
	}
	review, err := s.env.checkRelease(RouteFile, req.Review, path)
	if err == nil && req.QR {
		_, err = s.env.checkRelease(RouteQRScreen, req.Review, path)
	}
	if err == nil && req.Sheet {
		_, err = s.env.checkRelease(RoutePaper, req.Review, path)
	}
	if err != nil {
		return res, err
	}
	progress(Event{Step: "export", Message: "writing " + path, Fraction: 0.1, Level: LevelProgress})
	m := req.Artefact.made
	m.Purpose, m.Reviewers, m.Ticket, m.Media = purpose, review.Reviewers, review.Ticket, review.Media
	if err := s.env.writeArtefactWith(ctx, path, a, m, req.Force); err != nil {
		return res, err
	}
	res.File, res.Manifest = path, courier.ManifestPath(path)
	if req.QR {
		progress(Event{Step: "export", Message: "saving the QR codes", Fraction: 0.5, Level: LevelProgress})
		qrDir := filepath.Join(req.Dir, strings.TrimSuffix(name, filepath.Ext(name))+"-qr")
		qres, err := s.WriteQR(ctx, QRRequest{Artefact: req.Artefact, Dir: qrDir, Force: req.Force, Review: review})
		if err != nil {
			return res, fmt.Errorf("the file is written, but the QR codes are not: %w", err)
		}
		res.QRFiles = qres.PNGs
	}
	if req.Sheet {
		progress(Event{Step: "export", Message: "writing the A4 sheet", Fraction: 0.8, Level: LevelProgress})
		frames, err := qr.Encode(a, DefaultQRVersion)
		if err != nil {
			return res, fmt.Errorf("the file is written, but the A4 sheet is not: %w", err)
		}
		var b bytes.Buffer
		if err := qr.WriteSheet(&b, frames, qr.SheetHeader{CloudID: a.CloudID(), SHA256: a.SHA256, Created: s.env.now()}); err != nil {
			return res, fmt.Errorf("the file is written, but the A4 sheet is not: %w", err)
		}
		sheet := strings.TrimSuffix(path, filepath.Ext(path)) + "-qr.pdf"
		entry := courier.Entry{Step: "export sheet", Kind: a.Kind, SHA256: a.SHA256, CloudID: a.CloudID(), File: absPath(sheet), Outcome: "ok",
			Detail: strings.TrimPrefix(review.detail(), "; ")}
		err = s.env.writeRecorded(entry, func(commit func() error) error {
			return courier.WriteFileCommit(sheet, b.Bytes(), req.Force, commit)
		})
		if err != nil {
			return res, fmt.Errorf("the file is written, but the A4 sheet is not: %w", err)
		}
		res.Sheet = sheet
	}
	progress(Event{Step: "export", Message: "written and read back: " + path, Fraction: 1, Level: LevelProgress})
	return res, nil
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
