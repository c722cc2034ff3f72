package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/azs-courier/azs-courier/courier"
	"github.com/azs-courier/azs-courier/courier/custody"
)

// CustodySheetResult is a custody sheet written.
type CustodySheetResult struct {
	Path         string
	ReleaseEntry string // COUNT:HASH of the release's ledger entry printed on it
}

// CustodySheet writes the custody sheet of the artefact file at path (which
// must have its manifest beside it) as a one-page PDF to out: what it is,
// who signed and reviewed its release, the release's ledger entry, the
// manifest as a QR code, and lines to sign. Both the reading and the
// writing are recorded in the custody ledger.
func (s *Service) CustodySheet(ctx context.Context, path, out string, force bool) (CustodySheetResult, error) {
	v, err := s.ReadArtefact(ctx, FileSource(path), "", stepSheet)
	if err != nil {
		return CustodySheetResult{}, err
	}
	m := v.m
	if m == nil {
		return CustodySheetResult{}, fmt.Errorf("%s has no manifest beside it, and the custody sheet shows the manifest; write the file with azs-courier first (token --out, activation-key --out, inspect --write-canonical)", path)
	}
	manifest, err := courier.ReadRegular(courier.ManifestPath(path), courier.MaxManifestSize)
	if err != nil {
		return CustodySheetResult{}, err
	}
	release, err := s.releaseEntry(v.SHA256, absPath(path))
	if err != nil {
		return CustodySheetResult{}, err
	}
	signer := "unsigned"
	if v.Origin != nil && v.Origin.Signed {
		signer = v.Origin.Fingerprint
		if v.Origin.Name != "" {
			signer += " (" + v.Origin.Name + ")"
		}
	}
	sheet := custody.Sheet{Kind: v.Kind.Title(), File: m.File, StampName: Printable(m.StampName), CloudID: v.CloudID,
		RegistrationName: Printable(firstNonEmpty(m.RegistrationName, v.Summary().RegistrationName)), SHA256: v.SHA256, Signer: signer,
		Reviewers: printableAll(m.Reviewers), Ticket: Printable(m.Ticket), Media: Printable(m.Media), CreatedAt: m.CreatedAt,
		Anchor: release, Manifest: string(bytes.TrimSpace(manifest)), Printed: s.env.now()}
	var pdf bytes.Buffer
	if err := custody.Write(&pdf, sheet); err != nil {
		return CustodySheetResult{}, err
	}
	entry := courier.Entry{Step: stepSheet, Kind: courier.Kind(v.Kind), SHA256: v.SHA256, CloudID: v.CloudID, File: absPath(out), Outcome: "ok",
		Detail: "release entry " + orNone(release)}
	err = s.env.writeRecorded(entry, func(commit func() error) error {
		return courier.WriteFileCommit(out, pdf.Bytes(), force, commit)
	})
	var ee *courier.ExistsError
	if errors.As(err, &ee) {
		return CustodySheetResult{}, fmt.Errorf("%s already exists; choose another name, or replace it (--force)", out)
	}
	if err != nil {
		return CustodySheetResult{}, err
	}
	return CustodySheetResult{Path: out, ReleaseEntry: release}, nil
}

// stepSheet is the ledger step of reading a file for its custody sheet.
const stepSheet = "custody sheet"

// releaseEntry returns the anchor (COUNT:HASH) of the latest ledger entry
// that wrote the artefact with hash sha, preferring one that wrote file;
// "" when this installation did not write it.
func (s *Service) releaseEntry(sha, file string) (string, error) {
	entries, err := s.env.Ledger().Entries()
	if err != nil {
		return "", err
	}
	found := ""
	for _, e := range entries {
		if e.Step != "write" || e.Outcome != "ok" || !strings.EqualFold(e.SHA256, sha) {
			continue
		}
		if found == "" || e.File == file {
			found = courier.Anchor{Count: e.Seq, Hash: e.Hash}.String()
		}
	}
	return found, nil
}

// ReceiveRequest records that an artefact arrived.
type ReceiveRequest struct {
	Path         string
	Carrier      string // who carried it across
	ReleaseEntry string // the release's ledger entry from the custody sheet (COUNT:HASH), if at hand
}

// Receive reads the artefact file at req.Path as an import (the site
// policy's import rules apply) and records in the custody ledger that it
// was received, carried by req.Carrier, with the release it pairs with:
// who signed it and when, the release's ledger entry from the sheet, and
// that entry itself when this installation released it.
func (s *Service) Receive(ctx context.Context, req ReceiveRequest) (*ArtefactView, error) {
	carrier := strings.TrimSpace(req.Carrier)
	if carrier == "" {
		return nil, errors.New("name who carried it (--carrier NAME)")
	}
	if req.ReleaseEntry != "" {
		if err := CheckAnchor(req.ReleaseEntry); err != nil {
			return nil, err
		}
	}
	v, err := s.ReadArtefact(ctx, FileSource(req.Path), "", "import")
	if err != nil {
		return nil, err
	}
	detail := []string{"carried by " + carrier}
	if m := v.m; m != nil {
		by := "unsigned"
		if v.Origin != nil && v.Origin.Signed {
			by = "signed by " + v.Origin.Fingerprint
		}
		detail = append(detail, fmt.Sprintf("released %s (%s)", FormatTime(m.CreatedAt), by))
	}
	if req.ReleaseEntry != "" {
		detail = append(detail, "release entry "+req.ReleaseEntry+" on the custody sheet")
	}
	if own, err := s.releaseEntry(v.SHA256, ""); err == nil && own != "" {
		detail = append(detail, "pairs with this ledger's release entry "+own)
	}
	err = s.env.record(courier.Entry{Step: "received", Kind: courier.Kind(v.Kind), SHA256: v.SHA256, CloudID: v.CloudID,
		File: absPath(req.Path), Outcome: "ok", Detail: strings.Join(detail, "; ")})
	if err != nil {
		return nil, err
	}
	return v, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func printableAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Printable(s)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none (not released by this installation)"
	}
	return s
}
