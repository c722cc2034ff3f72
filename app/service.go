package app

import (
	"errors"

	"github.com/azs-courier/azs-courier/courier"
)

// Service is what the GUI calls: the same use cases as the CLI, returning
// small view types so that the GUI never handles courier, pep or azure types.
type Service struct {
	env *Env
}

// NewService returns the use cases over env.
func NewService(env *Env) *Service { return &Service{env: env} }

// Version returns the app's version string.
func (s *Service) Version() string { return s.env.Build.Version }

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
