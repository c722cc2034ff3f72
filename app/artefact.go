package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/courier/qr"
)

// readArtefact reads the artefact in the file at path, or standard input for
// "-", in any encoding a user may bring; checks it against its manifest when
// one lies beside it; checks that it is of kind want (any kind when want is
// ""); and appends a ledger entry for step, whatever the outcome.
func (e *Env) readArtefact(ctx context.Context, path string, want courier.Kind, step string) (*courier.Artefact, error) {
	a, _, err := e.readArtefactManifest(ctx, path, want, step)
	return a, err
}

// readArtefactManifest is readArtefact that also returns the manifest found
// beside the file, if any.
func (e *Env) readArtefactManifest(ctx context.Context, path string, want courier.Kind, step string) (*courier.Artefact, *courier.Manifest, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var (
		a   *courier.Artefact
		m   *courier.Manifest
		err error
	)
	name := path
	if path == "-" {
		name = "standard input"
		a, err = courier.Read(e.IO.In)
		if err != nil {
			err = fmt.Errorf("standard input: %w", err)
		}
	} else {
		a, m, err = courier.ReadFile(path)
	}
	if err == nil && want != "" && a.Kind != want {
		err = &courier.MismatchError{
			What: "kind of artefact in " + name,
			Want: want.Title(),
			Got:  a.Kind.Title(),
			Fix:  fmt.Sprintf("this step needs the %s; check you picked the right file", want.Title()),
		}
	}
	entry := courier.Entry{Step: step, File: absPath(path), Outcome: "ok"}
	if a != nil {
		entry.Kind, entry.SHA256, entry.CloudID = a.Kind, a.SHA256, a.CloudID()
	}
	entry.Outcome = outcome(err)
	if err == nil && m != nil {
		entry.Detail = "manifest matches"
	}
	e.record(entry)
	if err != nil {
		return nil, nil, err
	}
	return a, m, nil
}

// writeArtefact writes a to path atomically with its manifest (see
// courier.WriteFile) and appends a ledger entry for purpose.
func (e *Env) writeArtefact(ctx context.Context, path string, a *courier.Artefact, purpose string, force bool) error {
	return e.writeArtefactWith(ctx, path, a, courier.Manifest{Purpose: purpose}, force)
}

// writeArtefactWith is writeArtefact with more manifest fields (stamp,
// registration, subscription) from the step that made the artefact. Who,
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
	purpose := m.Purpose
	_, err := courier.WriteFile(path, a, courier.WriteOptions{Force: force, Manifest: m})
	entry := courier.Entry{Step: "write", Kind: a.Kind, SHA256: a.SHA256, CloudID: a.CloudID(),
		File: absPath(path), Outcome: outcome(err), Detail: purpose}
	e.record(entry)
	return err
}

// writeQR saves a as AGX1 QR codes in dir (frames.txt and one PNG a part,
// see qr.WriteDir), appends a ledger entry, and returns the number of parts.
func (e *Env) writeQR(ctx context.Context, dir string, a *courier.Artefact, force bool) (int, error) {
	res, err := qr.WriteDir(ctx, dir, a, qr.DirOptions{Force: force})
	entry := courier.Entry{Step: "qr encode", Kind: a.Kind, SHA256: a.SHA256, CloudID: a.CloudID(),
		File: absPath(dir), Outcome: outcome(err)}
	if err == nil {
		entry.Detail = fmt.Sprintf("%d part(s)", len(res.Frames))
	}
	e.record(entry)
	if err != nil {
		return 0, err
	}
	return len(res.Frames), nil
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
	case errors.Is(err, courier.ErrIntegrity):
		return "integrity check failed: " + oneLine(err.Error())
	}
	return "failed: " + oneLine(err.Error())
}

// record appends an entry to the custody ledger. A ledger that cannot be
// written is reported as a warning: the step itself has happened.
func (e *Env) record(entry courier.Entry) {
	entry.Time = e.now()
	entry.User, entry.Machine, entry.App = e.User, e.Machine, e.Build.Version
	if _, err := e.Ledger().Append(entry); err != nil {
		fmt.Fprintf(e.IO.ErrOut, "warning: custody ledger not updated: %s\n", oneLine(err.Error()))
	}
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
