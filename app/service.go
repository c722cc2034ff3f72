package app

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
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
	n, err := l.Verify()
	st := LedgerStatus{Path: l.Path(), Entries: n, Intact: err == nil}
	if err != nil {
		st.Problem = oneLine(err.Error())
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
			CloudID: e.CloudID, File: e.File, Outcome: e.Outcome, Detail: e.Detail, User: e.User})
	}
	return rows, nil
}

// ErrorView is an error as the GUI shows it: the one-line reason, the fix,
// and the chain of causes for the expandable details.
type ErrorView struct {
	Reason    string
	Fix       string
	Details   string
	Integrity bool // an integrity or identity check failed (exit status 3 in the CLI)
}

// Explain splits err into what the GUI shows. Messages follow the
// "problem; fix" form of the CLI; the fix is the part after the last "; ".
func Explain(err error) ErrorView {
	if err == nil {
		return ErrorView{}
	}
	msg := oneLine(err.Error())
	v := ErrorView{Reason: msg, Integrity: errors.Is(err, courier.ErrIntegrity)}
	if i := strings.LastIndex(msg, "; "); i > 0 {
		v.Reason, v.Fix = msg[:i], msg[i+2:]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", msg)
	for e, i := errors.Unwrap(err), 1; e != nil; e, i = errors.Unwrap(e), i+1 {
		fmt.Fprintf(&b, "cause %d (%T): %s\n", i, e, oneLine(e.Error()))
	}
	v.Details = strings.TrimSpace(b.String())
	return v
}

// ExportLedger verifies the custody ledger and writes it as CSV into dir,
// named custody-ledger-<time>.csv, and returns the file's path.
func (s *Service) ExportLedger(dir string) (string, error) {
	entries, err := s.env.Ledger().Entries()
	if err != nil {
		return "", fmt.Errorf("read the custody ledger: %w", err)
	}
	if _, err := courier.VerifyEntries(entries); err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := writeLedgerCSV(&b, entries); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "custody-ledger-"+s.env.now().UTC().Format("20060102-150405")+".csv")
	if err := writeExport(path, b.Bytes(), false); err != nil {
		return "", fmt.Errorf("%w; choose another folder", err)
	}
	return path, nil
}

// Drive is a place to write artefacts to: a removable drive or the training
// drive folder.
type Drive struct {
	Path  string
	Label string
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
