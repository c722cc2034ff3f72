package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/courier/qr"
)

// QRSession gathers the QR codes of one artefact as a person adds images
// (screenshots, photos, page scans) and frame files over time, in any
// order. Each file is read alone first: a file that holds another message,
// the wrong kind of artefact or no code at all is turned away by itself,
// saying which file and what it holds, and the parts already accepted stay.
// Its methods must not be called concurrently.
type QRSession struct {
	svc  *Service
	want ArtefactKind
	asm  qr.Assembler
	done *ArtefactView
}

// QRFileResult says what one file added to a QRSession gave.
type QRFileResult struct {
	File    string // as given
	Parts   []int  // parts this file added
	Repeats int    // parts it held that were already in
	// Problem says why the file was turned away, or is "" when it was
	// accepted; nothing of it was kept then.
	Problem string
}

// NewQRSession starts gathering the QR codes of an artefact of kind want
// (any kind when want is "").
func (s *Service) NewQRSession(want ArtefactKind) *QRSession {
	return &QRSession{svc: s, want: want}
}

// Clear forgets every part gathered so far.
func (q *QRSession) Clear() {
	q.asm = qr.Assembler{}
	q.done = nil
}

// Status says how far the session has come.
func (q *QRSession) Status() QRImport {
	if !q.asm.Started() {
		return QRImport{}
	}
	return QRImport{ID: q.asm.ID(), Parts: q.asm.Parts(), Found: q.asm.Found(), Missing: q.asm.Missing()}
}

// Artefact returns the artefact once every part is in, or nil.
func (q *QRSession) Artefact() *ArtefactView { return q.done }

// Progress says in words how far the session has come: "3 of 6 parts so
// far; still missing 2, 5, 6".
func (q *QRSession) Progress() string {
	st := q.Status()
	switch {
	case st.Parts == 0:
		return "No QR code read yet."
	case len(st.Missing) == 0:
		return fmt.Sprintf("All %d parts read.", st.Parts)
	}
	return fmt.Sprintf("%d of %d parts so far; still missing %s.", len(st.Found), st.Parts, Ranges(st.Missing))
}

// Add reads files — images, frame files, or folders of them (the images and
// frames.txt directly inside) — and keeps the parts of the session's
// message. It returns one result a file. When the last part comes in, the
// artefact is reassembled, checked against the kind wanted and recorded in
// the custody ledger; then Artefact returns it. The error is for a
// reassembled message that fails its checks; files turned away are not
// errors.
func (q *QRSession) Add(ctx context.Context, files []string, progress func(Event)) ([]QRFileResult, error) {
	progress = orDiscard(progress)
	var expanded []string
	var results []QRFileResult
	for _, f := range files {
		st, err := os.Stat(f)
		if err == nil && st.IsDir() {
			inner, err := QRInputsIn(f)
			if err != nil {
				results = append(results, QRFileResult{File: f, Problem: OneLine(err.Error())})
			}
			expanded = append(expanded, inner...)
			continue
		}
		expanded = append(expanded, f)
	}
	for i, f := range expanded {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		if q.done != nil {
			break
		}
		progress(Event{Step: "qr", Message: "reading " + filepath.Base(f), Fraction: float64(i) / float64(len(expanded)), Level: LevelProgress})
		results = append(results, q.addFile(ctx, f))
	}
	if q.done == nil && q.asm.Complete() {
		a, err := q.reassemble()
		if rerr := q.svc.recordRead("import (QR)", "", a, err); rerr != nil {
			if err != nil { // the parts do not make a message: start again
				q.Clear()
			} // else the ledger refused: the parts stay for another try
			return results, fmt.Errorf("QR codes: %w", rerr)
		}
		q.done = newView(a, nil, fmt.Sprintf("QR codes (%d parts)", q.asm.Parts()))
	}
	return results, nil
}

// addFile reads one file alone and, if it fits, adds its frames.
func (q *QRSession) addFile(ctx context.Context, f string) QRFileResult {
	res := QRFileResult{File: f}
	data, err := readQRInput(f)
	if err != nil {
		res.Problem = OneLine(err.Error())
		return res
	}
	var one qr.Scanner
	if err := one.AddInput(ctx, filepath.Base(f), data); err != nil {
		res.Problem = OneLine(err.Error())
		var ie *qr.IntegrityError
		if errors.As(err, &ie) {
			res.Problem = filepath.Base(f) + " holds codes of two different messages; add the images of one artefact at a time"
		}
		return res
	}
	if !one.Assembler.Started() {
		if len(one.Ignored) > 0 {
			res.Problem = fmt.Sprintf("%s holds %d QR code(s), none of them an AGX1 frame of AzS Courier", filepath.Base(f), len(one.Ignored))
		} else {
			res.Problem = fmt.Sprintf("%s holds no QR code that could be read; use a sharper image or a scan at 300 dpi", filepath.Base(f))
		}
		return res
	}
	frames := one.Assembler.Frames()
	what := describeMessage(one.Assembler.Kind(), one.Assembler.ID(), one.Assembler.Parts())
	if q.want != "" && one.Assembler.Kind() != qr.KindOf(courier.Kind(q.want)) {
		res.Problem = fmt.Sprintf("%s holds part %s of %s; this step needs the %s", filepath.Base(f), partList(frames), what, q.want.Title())
		return res
	}
	if q.asm.Started() && (one.Assembler.ID() != q.asm.ID() || one.Assembler.Parts() != q.asm.Parts() || one.Assembler.Kind() != q.asm.Kind()) {
		res.Problem = fmt.Sprintf("%s holds part %s of %s, not of %s read so far; Clear to start over with it",
			filepath.Base(f), partList(frames), what, describeMessage(q.asm.Kind(), q.asm.ID(), q.asm.Parts()))
		return res
	}
	for _, fr := range frames {
		added, err := q.asm.Add(fr)
		switch {
		case err != nil:
			res.Problem = filepath.Base(f) + ": " + OneLine(err.Error())
			return res
		case added:
			res.Parts = append(res.Parts, fr.Part)
		default:
			res.Repeats++
		}
	}
	return res
}

// reassemble turns the complete message into the artefact and checks it.
func (q *QRSession) reassemble() (*courier.Artefact, error) {
	msg, err := q.asm.Message()
	if err != nil {
		return nil, err
	}
	a, err := courier.Parse([]byte(msg.Text))
	if err != nil {
		return nil, fmt.Errorf("the QR codes hold a message that is no artefact: %w", err)
	}
	if got := qr.KindOf(a.Kind); got != msg.Kind {
		return a, &courier.MismatchError{What: "kind of artefact in the QR frames", Want: qr.KindName(msg.Kind), Got: a.Kind.Title(),
			Fix: "the frames are inconsistent; encode the artefact again"}
	}
	if err := checkKind(a, q.want, "the QR codes"); err != nil {
		return a, err
	}
	return a, q.svc.env.checkImport(routeQR, nil, nil)
}

func describeMessage(kind byte, id string, parts int) string {
	return fmt.Sprintf("a %s (message %s, %d parts)", qr.KindName(kind), id, parts)
}

func partList(frames []qr.Frame) string {
	ns := make([]int, len(frames))
	for i, f := range frames {
		ns[i] = f.Part
	}
	slices.Sort(ns)
	return Ranges(ns) + " of " + fmt.Sprint(frames[0].Parts)
}

// QRInputsIn returns the files of a folder that hold QR codes: images
// (.png, .jpg, .jpeg) and frames.txt, in name order — not the artefact, its
// manifest or temporary files beside them.
func QRInputsIn(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list the folder %s: %w", dir, err)
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() && isQRInputName(e.Name()) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("the folder %s holds no QR images (.png, .jpg) and no frames.txt; give the folder the codes were saved in, or the images themselves", dir)
	}
	return files, nil
}

func isQRInputName(name string) bool {
	lower := strings.ToLower(name)
	if courier.IsTemp(lower) {
		return false
	}
	switch filepath.Ext(lower) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return lower == "frames.txt"
}
