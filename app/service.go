package app

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/azs-courier/azs-courier/courier"
)

// Service is what the GUI calls: the same use cases as the CLI, returning
// small view types so that the GUI never handles courier, pep or azure types.
//
// Each use case is a blocking method (ctx, request, progress) (result, error);
// the GUI runs it in a goroutine and turns the Events into widget updates.
type Service struct {
	env *Env
	// training, when set, is the simulated stamp and Azure the GUI is wired to.
	training *Training
}

// NewService returns the use cases over env.
func NewService(env *Env) *Service { return &Service{env: env} }

// Version returns the app's version string.
func (s *Service) Version() string { return s.env.Build.Version }

// Simulated returns the training simulators the service is wired to, or
// nil outside training.
func (s *Service) Simulated() *Training { return s.training }

// LedgerStatus describes the custody ledger for a status line.
type LedgerStatus struct {
	Path    string
	Entries int
	Intact  bool
	Problem string // why it is not intact, one line
}

// LedgerStatus verifies the custody ledger.
func (s *Service) LedgerStatus() LedgerStatus {
	l := s.env.Ledger()
	chk, err := l.Verify(nil)
	st := LedgerStatus{Path: l.Path(), Entries: chk.Entries, Intact: err == nil}
	if err != nil {
		st.Problem = OneLine(err.Error())
		var be *courier.BreakError
		if errors.As(err, &be) {
			st.Problem = be.Reason
		}
	}
	return st
}

// LedgerRow is one custody ledger entry as the history table shows it.
type LedgerRow struct {
	Seq     int
	Time    time.Time
	Step    string
	Kind    string
	SHA256  string
	CloudID string
	File    string
	Outcome string
	Detail  string
	User    string
	Machine string
}

// LedgerRows returns the custody ledger's entries, oldest first.
func (s *Service) LedgerRows() ([]LedgerRow, error) {
	entries, err := s.env.Ledger().Entries()
	if err != nil {
		return nil, fmt.Errorf("read the custody ledger: %w", err)
	}
	rows := make([]LedgerRow, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, LedgerRow{Seq: e.Seq, Time: e.Time, Step: e.Step, Kind: string(e.Kind), SHA256: e.SHA256,
			CloudID: e.CloudID, File: e.File, Outcome: e.Outcome, Detail: e.Detail, User: e.User, Machine: e.Machine})
	}
	return rows, nil
}

// LedgerPath returns the custody ledger's file.
func (s *Service) LedgerPath() string { return s.env.Ledger().Path() }

// LedgerCheck is a verified custody ledger.
type LedgerCheck struct {
	Path      string
	Entries   int
	Signer    string // the installation key's fingerprint in groups of four; "" when empty
	Head      string // COUNT:HASH of the last entry; "" when empty
	Recovered []int  // entries that record a torn line set aside
	TornBytes int    // a torn last line still there (the next entry sets it aside); 0 if none
}

// VerifyLedger checks the custody ledger's chain and signatures, and with
// anchor (COUNT:HASH, from LedgerAnchor) that the entry it names is still
// there. A break, a bad signature or a missing anchored entry is an error
// matching ErrIntegrity; a malformed anchor is an *InputError.
func (s *Service) VerifyLedger(anchor string) (LedgerCheck, error) {
	var a *courier.Anchor
	if anchor != "" {
		parsed, err := courier.ParseAnchor(anchor)
		if err != nil {
			return LedgerCheck{}, err
		}
		a = &parsed
	}
	l := s.env.Ledger()
	chk, err := l.Verify(a)
	out := LedgerCheck{Path: l.Path(), Entries: chk.Entries, Recovered: chk.Recovered}
	if chk.Signer != "" {
		out.Signer = courier.GroupHex(chk.Signer)
		out.Head = chk.Head.String()
	}
	if chk.Tear != nil {
		out.TornBytes = chk.Tear.Length
	}
	return out, err
}

// CheckAnchor reports whether s is an anchor as LedgerAnchor prints it.
func CheckAnchor(s string) error {
	_, err := courier.ParseAnchor(s)
	return err
}

// LedgerAnchor records in the custody ledger that its head is being shown,
// and returns that entry's anchor, COUNT:HASH, to write down or print: a
// later VerifyLedger with it finds a ledger cut short or replaced.
func (s *Service) LedgerAnchor() (string, error) {
	if _, err := s.env.Ledger().Verify(nil); err != nil {
		return "", err
	}
	e, err := s.env.recordEntry(courier.Entry{Step: "anchor", Outcome: "ok", Detail: "the ledger's head was shown, to be written down or printed"})
	if err != nil {
		return "", err
	}
	return courier.Anchor{Count: e.Seq, Hash: e.Hash}.String(), nil
}

// LedgerFormat is a format the custody ledger can be exported in.
type LedgerFormat string

// Ledger export formats.
const (
	LedgerCSV   LedgerFormat = "csv"   // one row an entry, with a header row
	LedgerJSONL LedgerFormat = "jsonl" // one JSON object an entry, a line each
)

// LedgerData returns the custody ledger in format. With verify, the chain
// is checked first and a break is returned instead of the data.
func (s *Service) LedgerData(format LedgerFormat, verify bool) ([]byte, error) {
	if verify {
		if _, err := s.env.Ledger().Verify(nil); err != nil {
			return nil, err
		}
	}
	entries, err := s.env.Ledger().Entries()
	if err != nil {
		return nil, fmt.Errorf("read the custody ledger: %w", err)
	}
	var b bytes.Buffer
	switch format {
	case LedgerCSV:
		err = writeLedgerCSV(&b, entries)
	case LedgerJSONL:
		err = writeJSONLines(&b, entries)
	default:
		return nil, fmt.Errorf("ledger format %q is not csv or jsonl", format)
	}
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteLedgerExport writes data (from LedgerData) to path atomically,
// replacing an existing file only with force.
func (s *Service) WriteLedgerExport(path string, data []byte, force bool) error {
	if err := courier.WriteFileAtomic(path, data, force); err != nil {
		var ee *courier.ExistsError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s already exists; choose another name, or pass --force to replace it", path)
		}
		return err
	}
	return nil
}

// ExportLedger verifies the custody ledger and writes it as CSV into dir,
// named custody-ledger-<time>.csv, and returns the file's path.
func (s *Service) ExportLedger(dir string) (string, error) {
	data, err := s.LedgerData(LedgerCSV, true)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "custody-ledger-"+s.env.now().UTC().Format("20060102-150405")+".csv")
	if err := courier.WriteFileAtomic(path, data, false); err != nil {
		return "", fmt.Errorf("%w; choose another folder", err)
	}
	return path, nil
}

func writeJSONLines(w io.Writer, entries []courier.Entry) error {
	enc := json.NewEncoder(w)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}

// writeLedgerCSV writes entries as CSV that Excel opens as it should on
// Windows: UTF-8 with a byte-order mark (else Excel reads the ANSI code
// page), CRLF line ends, and every cell made safe (see csvCell).
func writeLedgerCSV(w io.Writer, entries []courier.Entry) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cw.Write([]string{"seq", "time_utc", "step", "kind", "sha256", "cloud_id", "file", "outcome", "detail", "user", "machine", "app", "prev", "hash", "signer", "sig"})
	for _, e := range entries {
		row := []string{strconv.Itoa(e.Seq), e.Time.UTC().Format(time.RFC3339), e.Step, string(e.Kind), e.SHA256,
			e.CloudID, e.File, e.Outcome, e.Detail, e.User, e.Machine, e.App, e.Prev, e.Hash, e.Signer, e.Sig}
		for i := range row {
			row[i] = csvCell(row[i])
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// csvCell makes a cell safe to open in a spreadsheet: one that begins with
// =, +, -, @ (or a tab or carriage return, which Excel skips before them)
// would be run as a formula, so it is prefixed with ' as OWASP advises; and
// control characters, which a spreadsheet shows as boxes or line breaks
// inside a cell, are escaped as \xNN (a backslash as \\).
func csvCell(s string) string {
	var b strings.Builder
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		b.WriteByte('\'')
	}
	for _, r := range s {
		switch {
		case r == '\\' && strings.ContainsFunc(s, isControl):
			b.WriteString(`\\`)
		case isControl(r):
			fmt.Fprintf(&b, `\x%02X`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// Drive is a place to write artefacts to: a removable drive or the training
// drive folder.
type Drive struct {
	Path  string
	Label string // as Explorer shows it: "BACKUP (E:)"
	// Serial is the volume serial number ("1A2B-3C4D") where the system
	// reports one; it identifies the medium for the custody record.
	Serial string
}

// Title names the drive for a list of places: its label and, where known,
// its serial number, which tells two sticks of the same name apart
// ("KEYS (F:) · serial 1A2B-3C4D").
func (d Drive) Title() string {
	if d.Serial == "" {
		return d.Label
	}
	return d.Label + " · serial " + d.Serial
}

// driveOf returns the drive of ds that holds path, which is absolute.
func driveOf(ds []Drive, path string) (Drive, bool) {
	for _, d := range ds {
		rel, err := filepath.Rel(d.Path, path)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return d, true
		}
	}
	return Drive{}, false
}

// Drives lists the removable drives (USB sticks, SD cards) mounted now; in
// training, the training drive folder comes first.
func (s *Service) Drives() []Drive {
	var ds []Drive
	if s.training != nil {
		ds = append(ds, Drive{Path: s.training.Drive, Label: "Training drive (temporary folder)"})
	}
	return append(ds, RemovableDrives()...)
}
