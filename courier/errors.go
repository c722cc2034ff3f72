package courier

import (
	"errors"
	"fmt"
)

var (
	// ErrIntegrity is matched (with errors.Is) by every error that reports a
	// failed integrity or identity check: a manifest whose hash differs, a
	// cloud ID that is not the expected one, a broken ledger chain.
	ErrIntegrity = errors.New("courier: integrity check failed")

	// ErrNotArtefact is matched by every error that reports input which is
	// not a usable registration token or activation key.
	ErrNotArtefact = errors.New("courier: not a registration token or activation key")
)

// InputError reports input that is not a usable artefact. Its message is one
// line: what is wrong, then what to do about it.
type InputError struct {
	Problem string // what is wrong, e.g. "the file is empty"
	Fix     string // what to do, e.g. "copy the token again from its source"
}

func (e *InputError) Error() string {
	if e.Fix == "" {
		return e.Problem
	}
	return e.Problem + "; " + e.Fix
}

// Is reports whether target is ErrNotArtefact.
func (e *InputError) Is(target error) bool { return target == ErrNotArtefact }

// MismatchError reports a value that differs from the one expected, with both
// values side by side. It matches ErrIntegrity.
type MismatchError struct {
	What string // what was compared, e.g. "cloud ID of the key against the stamp"
	Want string // the expected value
	Got  string // the value found
	Fix  string // optional advice
}

func (e *MismatchError) Error() string {
	s := fmt.Sprintf("%s differs: expected %s, found %s", e.What, e.Want, e.Got)
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	return s
}

// Is reports whether target is ErrIntegrity.
func (e *MismatchError) Is(target error) bool { return target == ErrIntegrity }
